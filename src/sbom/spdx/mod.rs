//! SPDX 2.3 JSON writer and SPDX 2.2 / 2.3 JSON reader for the [`Sbom`](super::Sbom)
//! model.
//!
//! The format is written and read with serde types of our own. The
//! `spdx-rs` crate (0.5.5) is not used: it defaults to SPDX 2.2, and its
//! types combine `#[serde(flatten)]` with `deny_unknown_fields`, which serde
//! does not support together (unknown fields are not reliably rejected, and
//! valid documents with fields it does not model fail to parse).
//!
//! # Writing ([`to_json`])
//!
//! * `documentNamespace` is `https://spdx.custodia.dev/NAME-VERSION-UUID`
//!   with the root's name and version and [`Sbom::content_uuid`](super::Sbom::content_uuid), so the
//!   same content gives the same namespace; `created` is the SBOM's
//!   timestamp in whole seconds (`YYYY-MM-DDThh:mm:ssZ`: spdx-tools rejects
//!   fractional seconds); the creator is `Tool: custodia-VERSION`.
//! * One package per component, the root first (`primaryPackagePurpose`
//!   `APPLICATION`), then the others sorted by bom-ref (`LIBRARY`). SPDX ids
//!   are the bom-ref when that is a valid SPDX id already (so ids read
//!   from SPDX survive the next write), else `SPDXRef-Package-NAME-VERSION`,
//!   every character outside `[A-Za-z0-9.-]` replaced by `-`; a clash gets a suffix from the
//!   bom-ref's hash.
//! * `downloadLocation`: the crates.io download URL for crates.io
//!   packages, `git+URL@REV` for git sources, `NOASSERTION` otherwise.
//!   `sourceInfo` records the model's source exactly (`source: registry
//!   URL`, `source: git URL#REV`, `source: path`), so it survives a round
//!   trip.
//! * `licenseDeclared` is the license expression
//!   ([`LicenseExpression::to_listed`]), ids in the SPDX list's spelling
//!   (the list of the `spdx` crate); an id that is not on the SPDX license
//!   list becomes `LicenseRef-ID`, declared in `hasExtractedLicensingInfos`
//!   (so validators accept it); an expression the list cannot express
//!   (`+` or an exception off the list, `DocumentRef-`) is written as
//!   `NOASSERTION`. `licenseConcluded` and `copyrightText` are
//!   `NOASSERTION`: custodia does not analyse the sources.
//! * `supplier`: `Person: NAME (EMAIL)` from `NAME <EMAIL>`, `Person: TEXT`
//!   otherwise, `NOASSERTION` when unknown.
//! * Checksums: `SHA256` / `SHA384` / `SHA512`. The purl is an external
//!   reference of category `PACKAGE-MANAGER` (the SPDX 2.3 JSON schema's
//!   spelling; 2.2 wrote `PACKAGE_MANAGER`, which the reader also takes).
//! * Relationships: `SPDXRef-DOCUMENT DESCRIBES` the root, then one per
//!   dependency edge `A -> B`, chosen by B's scope: `A DEPENDS_ON B`
//!   (required), `B OPTIONAL_DEPENDENCY_OF A` (optional), `B
//!   DEV_DEPENDENCY_OF A` (excluded: build- or dev-only; SPDX has no single
//!   type for "not delivered", and the reader maps `DEV_`, `BUILD_` and
//!   `TEST_DEPENDENCY_OF` back to excluded). Edges naming a bom-ref that is
//!   not in the SBOM are skipped ([`Sbom::validate`](super::Sbom::validate) rejects such models).
//!
//! # Reading ([`from_json`])
//!
//! SPDX 2.2 and 2.3 JSON, UTF-8 (a UTF-8 byte order mark is skipped) or
//! UTF-16 with a byte order mark (decoded first, as spdx-tools does when
//! told the encoding). Fields the model uses are checked strictly, with the
//! JSON path in the error: `spdxVersion`, `dataLicense`, the document's
//! `SPDXID`, `creationInfo.created` (exactly `YYYY-MM-DDThh:mm:ssZ`),
//! every element id (an [`SpdxId`]: `SPDXRef-[A-Za-z0-9.-]+`, unique), every
//! relationship (known type for the version, ids that exist), checksums
//! (lowercase hex of the algorithm's length), license expressions (SPDX
//! expression syntax, parsed into [`LicenseExpression`]; ids are not
//! checked against the license list), purls (parsed into
//! [`crate::sbom::Purl`]),
//! `packageVerificationCode` only with `filesAnalyzed` true. Other fields
//! are ignored.
//!
//! The root is the package the document `DESCRIBES` (relationship,
//! `DESCRIBED_BY` or the 2.2 `documentDescribes` list), or the only
//! package; when several packages (or none) are described, a root named
//! after the document (bom-ref `SPDXRef-DOCUMENT`) depends on each
//! described package. A component's bom-ref is its purl (first `purl`
//! external reference), else `NAME@VERSION`; when two packages would share
//! one, their SPDX ids are used. Edges come from `DEPENDS_ON`, `CONTAINS`,
//! `DYNAMIC_LINK`, `STATIC_LINK` and the `*_DEPENDENCY_OF` /
//! `CONTAINED_BY` types between packages (others are ignored); a
//! component whose incoming edges are all `OPTIONAL_DEPENDENCY_OF` is
//! optional, all `DEV_` / `BUILD_` / `TEST_DEPENDENCY_OF` excluded. The
//! license is `licenseDeclared`, else `licenseConcluded` (`NOASSERTION`
//! and `NONE` mean none); hashes are the SHA-256/384/512 checksums.
//!
//! What a round trip loses: the scope of a component no edge points to,
//! the supplier's kind (`Organization` reads back as plain text, `(...)`
//! as `<...>`), license ids not on the SPDX list (read back as
//! `LicenseRef-ID`), unparsable license expressions (`NOASSERTION`), and
//! sub-second timestamps.

mod id;
mod reader;
mod writer;

use std::collections::BTreeSet;

pub use id::{SpdxId, SpdxIdError};
pub use reader::from_json;
pub use writer::to_json;

use super::{Component, LicenseExpression, SourceKind};
use crate::digest::DigestAlgorithm;
use crate::error::{Error, SbomError};

const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
pub(super) const NOASSERTION: &str = "NOASSERTION";
const CRATES_IO_DOWNLOAD: &str = "https://crates.io/api/v1/crates/";
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];
const SOURCE_PREFIX: &str = "source: ";

fn spdx_algorithm(a: DigestAlgorithm) -> &'static str {
    match a {
        DigestAlgorithm::Sha256 => "SHA256",
        DigestAlgorithm::Sha384 => "SHA384",
        DigestAlgorithm::Sha512 => "SHA512",
    }
}

/// Unique SPDX ids, in the order of `all`.
///
/// A bom-ref that already is a valid SPDX id (what the reader assigns when
/// purls or NAME@VERSION clash) is kept, so ids settle after one round
/// trip; the others are `SPDXRef-Package-NAME-VERSION`, with a suffix from
/// the bom-ref's hash (then a counter) when that is taken. Names and
/// versions count up to 1,000 characters each, so every id fits
/// [`SpdxId`]'s bound.
pub(super) fn assign_ids(all: &[&Component]) -> Result<Vec<SpdxId>, Error> {
    let mut used: BTreeSet<SpdxId> = BTreeSet::from([SpdxId::document()]);
    // First pass: bom-refs that are SPDX ids already, first come first kept.
    let kept: Vec<Option<SpdxId>> = all
        .iter()
        .map(|c| {
            SpdxId::parse(c.bom_ref.as_str())
                .ok()
                .filter(|id| used.insert(id.clone()))
        })
        .collect();
    let mut ids = Vec::with_capacity(all.len());
    for (c, kept) in all.iter().zip(kept) {
        if let Some(id) = kept {
            ids.push(id);
            continue;
        }
        let mut base = format!("SPDXRef-Package-{}", sanitize_id(&c.name));
        if !c.version.is_empty() {
            base.push('-');
            base.push_str(&sanitize_id(&c.version));
        }
        let mut id = base.clone();
        if used.contains(id.as_str()) {
            let hash = DigestAlgorithm::Sha256
                .hash(c.bom_ref.as_str().as_bytes())
                .hex();
            base = format!("{base}-{}", hash.get(..12).unwrap_or(&hash));
            id = base.clone();
            let mut n = 2u64;
            while used.contains(id.as_str()) {
                id = format!("{base}-{n}");
                n += 1;
            }
        }
        let id = SpdxId::parse(&id).map_err(|e| SbomError::Serialize {
            document: "SPDX",
            reason: format!("no SPDX id for `{}`: {e}", c.bom_ref),
        })?;
        used.insert(id.clone());
        ids.push(id);
    }
    Ok(ids)
}

fn sanitize_id(s: &str) -> String {
    s.chars()
        .take(1000)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(super) fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn download_location(c: &Component) -> String {
    match &c.source {
        SourceKind::Registry(r)
            if CRATES_IO.contains(&r.as_str()) && is_url_path_safe(&c.name, &c.version) =>
        {
            format!("{CRATES_IO_DOWNLOAD}{}/{}/download", c.name, c.version)
        }
        SourceKind::Git { url, revision } if is_plain_url(url) => {
            let url = url.strip_prefix("git+").unwrap_or(url);
            match revision {
                Some(r) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    format!("git+{url}@{r}")
                }
                _ => format!("git+{url}"),
            }
        }
        _ => NOASSERTION.to_owned(),
    }
}

fn is_url_path_safe(name: &str, version: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'))
    };
    ok(name) && ok(version)
}

/// A URL shaped the way SPDX download locations need: a known scheme, a
/// host with a top-level domain, no spaces, no fragment.
fn is_plain_url(url: &str) -> bool {
    let url = url.strip_prefix("git+").unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "https" | "http" | "ssh" | "git") {
        return false;
    }
    if url
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b == b'#' || b < 0x20)
    {
        return false;
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or_default();
    let Some((_, tld)) = host.rsplit_once('.') else {
        return false;
    };
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && (2..=5).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

pub(super) fn write_source(source: &SourceKind) -> Option<String> {
    match source {
        SourceKind::Registry(r) => Some(format!("{SOURCE_PREFIX}registry {r}")),
        SourceKind::Git { url, revision } => Some(match revision {
            Some(r) => format!("{SOURCE_PREFIX}git {url}#{r}"),
            None => format!("{SOURCE_PREFIX}git {url}"),
        }),
        SourceKind::Path => Some(format!("{SOURCE_PREFIX}path")),
        SourceKind::Unknown => None,
    }
}

pub(super) fn read_source(source_info: Option<&str>, download_location: &str) -> SourceKind {
    if let Some(rest) = source_info.and_then(|s| s.strip_prefix(SOURCE_PREFIX)) {
        if let Some(r) = rest.strip_prefix("registry ") {
            return SourceKind::Registry(r.to_owned());
        }
        if let Some(g) = rest.strip_prefix("git ") {
            let (url, revision) = match g.rsplit_once('#') {
                Some((u, r)) => (u.to_owned(), Some(r.to_owned())),
                None => (g.to_owned(), None),
            };
            return SourceKind::Git { url, revision };
        }
        if rest == "path" {
            return SourceKind::Path;
        }
    }
    if download_location.starts_with(CRATES_IO_DOWNLOAD) {
        return SourceKind::Registry(CRATES_IO[0].to_owned());
    }
    if let Some(rest) = download_location.strip_prefix("git+") {
        // `URL@REV`: the revision follows the last `@` in the path (an `@`
        // before the path is user info).
        let after_scheme = rest.find("://").map_or(0, |i| i + 3);
        let path_start = rest
            .get(after_scheme..)
            .and_then(|r| r.find('/'))
            .map_or(rest.len(), |i| after_scheme + i);
        return match rest.rsplit_once('@') {
            Some((url, rev)) if url.len() > path_start && !rev.contains('/') => SourceKind::Git {
                url: url.to_owned(),
                revision: Some(rev.to_owned()),
            },
            _ => SourceKind::Git {
                url: rest.to_owned(),
                revision: None,
            },
        };
    }
    SourceKind::Unknown
}

pub(super) fn write_supplier(s: &str) -> String {
    let s = s.trim();
    if let Some(body) = s.strip_suffix('>') {
        if let Some((name, email)) = body.rsplit_once('<') {
            if !email.contains(['(', ')', '<']) {
                return format!("Person: {} ({email})", name.trim_end());
            }
        }
    }
    format!("Person: {s}")
}

pub(super) fn read_supplier(s: &str) -> Option<String> {
    let body = s
        .strip_prefix("Person:")
        .or_else(|| s.strip_prefix("Organization:"))?
        .trim();
    if let Some(inner) = body.strip_suffix(')') {
        if let Some((name, email)) = inner.rsplit_once('(') {
            let (name, email) = (name.trim_end(), email.trim());
            return Some(if email.is_empty() {
                name.to_owned()
            } else {
                format!("{name} <{email}>")
            });
        }
    }
    (!body.is_empty()).then(|| body.to_owned())
}

/// The `licenseDeclared` value for a model license: the expression in the
/// SPDX list's spelling, its `LicenseRef-`s added to `refs`; `None`
/// (NOASSERTION) when it cannot be written with the list
/// ([`LicenseExpression::to_listed`]).
pub(super) fn write_license(
    expr: &LicenseExpression,
    refs: &mut BTreeSet<String>,
) -> Option<String> {
    let (listed, new_refs) = expr.to_listed().ok()?;
    refs.extend(new_refs);
    Some(listed.to_string())
}

fn is_idstring_plus(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}
