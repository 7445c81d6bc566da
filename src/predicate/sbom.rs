//! SBOMs as in-toto predicates: a CycloneDX BOM
//! (`https://cyclonedx.org/bom`), an SPDX 2 document
//! (`https://spdx.dev/Document`) or an SPDX 3 JSON-LD document
//! (`https://spdx.dev/Document/v3`) is the predicate of a statement whose
//! subject is the artifact, so it is signed and promoted with it.

use crate::error::{Error, SbomError, StatementError};
use crate::resource::ResourceDescriptor;
use crate::statement::Statement;

/// Predicate type of CycloneDX BOMs.
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";
/// Predicate type of SPDX 2 documents.
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";
/// Predicate type of SPDX 3 documents (JSON-LD).
pub const SPDX_DOCUMENT_V3: &str = "https://spdx.dev/Document/v3";

/// Which SBOM format a predicate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SbomFormat {
    /// CycloneDX JSON (any version).
    CycloneDx,
    /// SPDX JSON (2.2 or 2.3).
    Spdx,
    /// SPDX 3 JSON-LD.
    Spdx3,
}

impl SbomFormat {
    /// The predicate type URI.
    pub const fn predicate_type(self) -> &'static str {
        match self {
            Self::CycloneDx => CYCLONEDX_BOM,
            Self::Spdx => SPDX_DOCUMENT,
            Self::Spdx3 => SPDX_DOCUMENT_V3,
        }
    }

    /// The format a predicate type names, if it is an SBOM one.
    pub fn from_predicate_type(predicate_type: &str) -> Option<Self> {
        match predicate_type {
            CYCLONEDX_BOM => Some(Self::CycloneDx),
            SPDX_DOCUMENT => Some(Self::Spdx),
            SPDX_DOCUMENT_V3 => Some(Self::Spdx3),
            _ => None,
        }
    }
}

/// A statement whose predicate is the SBOM `document` (JSON bytes, as a
/// writer produced them) about `subject`. The document must be a JSON
/// object of the format named (`bomFormat: CycloneDX`, an `spdxVersion`,
/// or the SPDX 3 JSON-LD `@context`).
///
/// ```
/// use custodia::predicate::sbom::{sbom_statement, SbomFormat};
/// use custodia::resource::ResourceDescriptor;
/// use custodia::digest::DigestSet;
/// let bom = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}"#;
/// let subject = ResourceDescriptor::new("app", DigestSet::of_bytes(b"app"));
/// let st = sbom_statement(vec![subject], SbomFormat::CycloneDx, bom)?;
/// assert_eq!(st.predicate_type(), "https://cyclonedx.org/bom");
/// assert!(sbom_statement(vec![], SbomFormat::Spdx, bom).is_err());
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn sbom_statement(
    subject: Vec<ResourceDescriptor>,
    format: SbomFormat,
    document: &[u8],
) -> Result<Statement, Error> {
    let value: serde_json::Value = crate::json::from_slice(document, "SBOM document")?;
    check_format(&value, format)?;
    Statement::new_untyped(subject, format.predicate_type(), value)
}

/// The SBOM document a statement carries, as JSON bytes (the predicate's
/// text, as signed), after checking that the predicate type and the
/// document's format agree.
pub fn sbom_document(statement: &Statement) -> Result<(SbomFormat, Vec<u8>), Error> {
    let format = SbomFormat::from_predicate_type(statement.predicate_type()).ok_or_else(|| {
        StatementError::PredicateTypeMismatch {
            expected: format!("{CYCLONEDX_BOM}, {SPDX_DOCUMENT} or {SPDX_DOCUMENT_V3}"),
            found: crate::digest::shorten(statement.predicate_type()),
        }
    })?;
    check_format(&statement.predicate_value()?, format)?;
    Ok((format, statement.predicate().get().as_bytes().to_vec()))
}

fn check_format(value: &serde_json::Value, format: SbomFormat) -> Result<(), Error> {
    let ok = match format {
        SbomFormat::CycloneDx => {
            value.get("bomFormat").and_then(|v| v.as_str()) == Some("CycloneDX")
        }
        SbomFormat::Spdx => value
            .get("spdxVersion")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.starts_with("SPDX-2.")),
        SbomFormat::Spdx3 => {
            let context = value.get("@context");
            let first = context.and_then(|c| c.as_array().and_then(|a| a.first()).or(Some(c)));
            first.and_then(|v| v.as_str()) == Some(crate::sbom::spdx3::CONTEXT)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(SbomError::Invalid {
            document: match format {
                SbomFormat::CycloneDx => "CycloneDX",
                SbomFormat::Spdx => "SPDX",
                SbomFormat::Spdx3 => "SPDX 3",
            },
            path: String::new(),
            reason: "the predicate is not a document of this format".to_owned(),
        }
        .into())
    }
}
