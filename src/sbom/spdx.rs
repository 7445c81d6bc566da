//! SPDX 2.3 JSON writer and SPDX 2.2 / 2.3 JSON reader for the [`Sbom`]
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
//!   with the root's name and version and [`Sbom::content_uuid`], so the
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
//! * `licenseDeclared` is the license expression, ids in the SPDX list's
//!   spelling (the deprecated Cargo `/` separator becomes `OR`); an id of
//!   valid shape that is not on the SPDX license list becomes
//!   `LicenseRef-ID`, declared in `hasExtractedLicensingInfos` (so
//!   validators accept it); an expression that does not parse is written
//!   as `NOASSERTION`. `licenseConcluded` and `copyrightText` are
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
//!   not in the SBOM are skipped ([`Sbom::validate`] rejects such models).
//!
//! # Reading ([`from_json`])
//!
//! SPDX 2.2 and 2.3 JSON, UTF-8 (a UTF-8 byte order mark is skipped) or
//! UTF-16 with a byte order mark (decoded first, as spdx-tools does when
//! told the encoding). Fields the model uses are checked strictly, with the
//! JSON path in the error: `spdxVersion`, `dataLicense`, the document's
//! `SPDXID`, `creationInfo.created` (exactly `YYYY-MM-DDThh:mm:ssZ`),
//! every element id (charset `SPDXRef-[A-Za-z0-9.-]+`, unique), every
//! relationship (known type for the version, ids that exist), checksums
//! (lowercase hex of the algorithm's length), license expressions (SPDX
//! expression syntax; ids are not checked against the license list),
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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Component, Sbom, Scope, SourceKind};
use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, SbomError};
use crate::time::Timestamp;

const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
pub(super) const NOASSERTION: &str = "NOASSERTION";
const CRATES_IO_DOWNLOAD: &str = "https://crates.io/api/v1/crates/";
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];
const SOURCE_PREFIX: &str = "source: ";

// ---------------------------------------------------------------- writer

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentOut {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfoOut,
    packages: Vec<PackageOut>,
    relationships: Vec<RelationshipOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedOut>,
}

#[derive(Serialize)]
struct CreationInfoOut {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageOut {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<ChecksumOut>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRefOut>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChecksumOut {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRefOut {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipOut {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedOut {
    license_id: String,
    extracted_text: String,
    name: String,
}

/// Writes `sbom` as an SPDX 2.3 JSON document (pretty-printed, ending in a
/// newline). The same model gives the same bytes, whatever the order of
/// its components.
///
/// ```
/// use custodia::sbom::{Component, Sbom, spdx};
/// use custodia::time::Timestamp;
/// let root = Component::new("app", "1.0.0").with_purl("pkg:cargo/app@1.0.0");
/// let mut sbom = Sbom::new(root, Timestamp::from_unix(1_700_000_000));
/// let mut log = Component::new("log", "0.4.21").with_purl("pkg:cargo/log@0.4.21");
/// log.license = Some("MIT OR Apache-2.0".to_owned());
/// sbom.add(log);
/// sbom.depends("pkg:cargo/app@1.0.0", "pkg:cargo/log@0.4.21");
///
/// let json = spdx::to_json(&sbom);
/// let text = String::from_utf8(json.clone()).unwrap();
/// assert!(text.contains(r#""spdxVersion": "SPDX-2.3""#));
/// assert!(text.contains(r#""created": "2023-11-14T22:13:20Z""#));
/// assert_eq!(spdx::from_json(&json)?, sbom);
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn to_json(sbom: &Sbom) -> Vec<u8> {
    let all: Vec<&Component> = std::iter::once(&sbom.root)
        .chain(sbom.sorted_components())
        .collect();
    let ids = assign_ids(&all);
    let id_of: BTreeMap<&str, &str> = all
        .iter()
        .zip(&ids)
        .map(|(c, id)| (c.bom_ref.as_str(), id.as_str()))
        .collect();
    let scope_of: BTreeMap<&str, Scope> =
        all.iter().map(|c| (c.bom_ref.as_str(), c.scope)).collect();

    let mut license_refs = BTreeSet::new();
    let packages = all
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (c, id))| package_out(c, id, i == 0, &mut license_refs))
        .collect();

    let root_id = ids.first().cloned().unwrap_or_default();
    let mut relationships = vec![RelationshipOut {
        spdx_element_id: DOCUMENT_ID.to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root_id,
    }];
    for (from, tos) in &sbom.dependencies {
        let Some(from_id) = id_of.get(from.as_str()) else {
            continue;
        };
        for to in tos {
            let (Some(to_id), Some(scope)) = (id_of.get(to.as_str()), scope_of.get(to.as_str()))
            else {
                continue;
            };
            let (a, kind, b) = match scope {
                Scope::Required => (from_id, "DEPENDS_ON", to_id),
                Scope::Optional => (to_id, "OPTIONAL_DEPENDENCY_OF", from_id),
                Scope::Excluded => (to_id, "DEV_DEPENDENCY_OF", from_id),
            };
            relationships.push(RelationshipOut {
                spdx_element_id: (*a).to_owned(),
                relationship_type: kind,
                related_spdx_element: (*b).to_owned(),
            });
        }
    }

    let doc = DocumentOut {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: sbom.root.name.clone(),
        document_namespace: format!(
            "https://spdx.custodia.dev/{}-{}-{}",
            uri_encode(&sbom.root.name),
            uri_encode(&sbom.root.version),
            sbom.content_uuid()
        ),
        creation_info: CreationInfoOut {
            // Whole seconds: SPDX's format has no fractional part.
            created: Timestamp::from_unix(sbom.timestamp.unix()).to_string(),
            creators: vec![format!("Tool: custodia-{}", env!("CARGO_PKG_VERSION"))],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: license_refs
            .into_iter()
            .map(|id: String| {
                let name = id.strip_prefix("LicenseRef-").unwrap_or(&id).to_owned();
                ExtractedOut {
                    extracted_text: format!(
                        "The license `{name}`, as named in the package metadata. It is not on \
                         the SPDX license list and its text is not known to custodia."
                    ),
                    license_id: id,
                    name,
                }
            })
            .collect(),
    };
    // Serializing strings, booleans and vectors cannot fail.
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

fn package_out(
    c: &Component,
    id: &str,
    is_root: bool,
    license_refs: &mut BTreeSet<String>,
) -> PackageOut {
    let checksums = c
        .hashes
        .iter()
        .map(|d| ChecksumOut {
            algorithm: spdx_algorithm(d.algorithm()),
            checksum_value: d.hex(),
        })
        .collect();
    let license_declared = c
        .license
        .as_deref()
        .and_then(|l| write_license(l, license_refs))
        .unwrap_or_else(|| NOASSERTION.to_owned());
    PackageOut {
        spdx_id: id.to_owned(),
        name: c.name.clone(),
        version_info: (!c.version.is_empty()).then(|| c.version.clone()),
        supplier: c
            .supplier
            .as_deref()
            .map_or_else(|| NOASSERTION.to_owned(), write_supplier),
        download_location: download_location(c),
        files_analyzed: false,
        checksums,
        license_concluded: NOASSERTION,
        license_declared,
        copyright_text: NOASSERTION,
        description: c.description.clone(),
        source_info: write_source(&c.source),
        // Only what is shaped like a purl is written as one (the reader and
        // spdx-tools refuse anything else); other identifiers are dropped.
        external_refs: c
            .purl
            .iter()
            .filter(|p| p.starts_with("pkg:") && !p.contains(char::is_whitespace))
            .map(|p| ExternalRefOut {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p.clone(),
            })
            .collect(),
        primary_package_purpose: if is_root { "APPLICATION" } else { "LIBRARY" },
    }
}

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
/// the bom-ref's hash (then a counter) when that is taken.
pub(super) fn assign_ids(all: &[&Component]) -> Vec<String> {
    let mut used: BTreeSet<String> = BTreeSet::from([DOCUMENT_ID.to_owned()]);
    // First pass: bom-refs that are SPDX ids already, first come first kept.
    let kept: Vec<bool> = all
        .iter()
        .map(|c| {
            c.bom_ref.strip_prefix("SPDXRef-").is_some_and(is_idstring)
                && used.insert(c.bom_ref.clone())
        })
        .collect();
    let mut ids = Vec::with_capacity(all.len());
    for (c, kept) in all.iter().zip(kept) {
        if kept {
            ids.push(c.bom_ref.clone());
            continue;
        }
        let mut base = format!("SPDXRef-Package-{}", sanitize_id(&c.name));
        if !c.version.is_empty() {
            base.push('-');
            base.push_str(&sanitize_id(&c.version));
        }
        let mut id = base.clone();
        if used.contains(&id) {
            let hash = DigestAlgorithm::Sha256.hash(c.bom_ref.as_bytes()).hex();
            base = format!("{base}-{}", hash.get(..12).unwrap_or(&hash));
            id = base.clone();
            let mut n = 2u64;
            while used.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
        }
        used.insert(id.clone());
        ids.push(id);
    }
    ids
}

fn sanitize_id(s: &str) -> String {
    s.chars()
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

fn write_supplier(s: &str) -> String {
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

fn read_supplier(s: &str) -> Option<String> {
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

// ---------------------------------------------------- license expressions

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    And,
    Or,
    With,
    Word(&'a str),
}

fn word(w: &str) -> Token<'_> {
    match w {
        _ if w.eq_ignore_ascii_case("AND") => Token::And,
        _ if w.eq_ignore_ascii_case("OR") => Token::Or,
        _ if w.eq_ignore_ascii_case("WITH") => Token::With,
        _ => Token::Word(w),
    }
}

fn tokenize(expr: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in expr.char_indices() {
        if ch == '(' || ch == ')' || ch.is_whitespace() {
            if let Some(w) = start.take().and_then(|s| expr.get(s..i)) {
                tokens.push(word(w));
            }
            match ch {
                '(' => tokens.push(Token::Open),
                ')' => tokens.push(Token::Close),
                _ => {}
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(w) = start.and_then(|s| expr.get(s..)) {
        tokens.push(word(w));
    }
    tokens
}

/// What a license id in an expression turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Reading: only the expression's syntax is checked.
    Syntax,
    /// Writing: ids are looked up in the SPDX license list.
    Write,
}

struct LicenseParser<'a, 'b> {
    tokens: &'b [Token<'a>],
    pos: usize,
    mode: Mode,
    out: Vec<String>,
    refs: BTreeSet<String>,
}

impl<'a> LicenseParser<'a, '_> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// expression := term ((AND | OR) term)*
    fn expression(&mut self, depth: usize) -> Result<(), String> {
        if depth > 64 {
            return Err("nested too deeply".to_owned());
        }
        self.term(depth)?;
        while let Some(op @ (Token::And | Token::Or)) = self.peek().cloned() {
            self.pos += 1;
            self.out
                .push(if op == Token::And { "AND" } else { "OR" }.to_owned());
            self.term(depth)?;
        }
        Ok(())
    }

    /// term := "(" expression ")" | simple [WITH exception]
    fn term(&mut self, depth: usize) -> Result<(), String> {
        match self.next() {
            Some(Token::Open) => {
                self.out.push("(".to_owned());
                self.expression(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => {
                        self.out.push(")".to_owned());
                        Ok(())
                    }
                    _ => Err("unbalanced parentheses".to_owned()),
                }
            }
            Some(Token::Word(w)) => {
                let simple = self.simple(w)?;
                self.out.push(simple);
                if self.peek() == Some(&Token::With) {
                    self.pos += 1;
                    let Some(Token::Word(e)) = self.next() else {
                        return Err("WITH needs an exception id".to_owned());
                    };
                    if !is_idstring(e) {
                        return Err(format!("`{e}` is not an exception id"));
                    }
                    let e = match self.mode {
                        Mode::Syntax => e.to_owned(),
                        Mode::Write => lookup(EXCEPTION_IDS, e)
                            .ok_or_else(|| format!("`{e}` is not on the SPDX exception list"))?
                            .to_owned(),
                    };
                    self.out.push("WITH".to_owned());
                    self.out.push(e);
                }
                Ok(())
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("expression ends early".to_owned()),
        }
    }

    /// simple := idstring ["+"] | LicenseRef-idstring
    ///         | DocumentRef-idstring:LicenseRef-idstring
    fn simple(&mut self, w: &str) -> Result<String, String> {
        if let Some((doc, lic)) = w.split_once(':') {
            let ok = doc
                .strip_prefix("DocumentRef-")
                .is_some_and(is_idstring_plus)
                && lic.strip_prefix("LicenseRef-").is_some_and(is_idstring);
            return match (ok, self.mode) {
                (true, Mode::Syntax) => Ok(w.to_owned()),
                // An external reference needs a declared external document.
                (true, Mode::Write) => Err(format!("`{w}` names another document")),
                (false, _) => Err(format!("`{w}` is not a license reference")),
            };
        }
        if let Some(id) = w.strip_prefix("LicenseRef-") {
            if !is_idstring(id) {
                return Err(format!("`{w}` is not a license reference"));
            }
            if self.mode == Mode::Write {
                self.refs.insert(w.to_owned());
            }
            return Ok(w.to_owned());
        }
        let (id, plus) = match w.strip_suffix('+') {
            Some(id) => (id, "+"),
            None => (w, ""),
        };
        if !is_idstring(id) {
            return Err(format!("`{w}` is not a license id"));
        }
        match self.mode {
            Mode::Syntax => Ok(w.to_owned()),
            Mode::Write => match lookup(LICENSE_IDS, id) {
                Some(known) => Ok(format!("{known}{plus}")),
                None if plus.is_empty() => {
                    let r = format!("LicenseRef-{id}");
                    self.refs.insert(r.clone());
                    Ok(r)
                }
                None => Err(format!("`{w}`: `+` needs a listed license")),
            },
        }
    }
}

fn is_idstring(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn is_idstring_plus(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

fn lookup(list: &'static [&'static str], id: &str) -> Option<&'static str> {
    let key = |s: &str| {
        s.bytes()
            .map(|b| b.to_ascii_lowercase())
            .collect::<Vec<u8>>()
    };
    let needle = key(id);
    list.binary_search_by(|probe| key(probe).cmp(&needle))
        .ok()
        .and_then(|i| list.get(i).copied())
}

/// Parses `expr`; returns the normalized expression and the license refs.
pub(super) fn parse_license(expr: &str, mode: Mode) -> Result<(String, BTreeSet<String>), String> {
    let tokens = tokenize(expr);
    if tokens.is_empty() {
        return Err("empty license expression".to_owned());
    }
    let mut p = LicenseParser {
        tokens: &tokens,
        pos: 0,
        mode,
        out: Vec::new(),
        refs: BTreeSet::new(),
    };
    p.expression(0)?;
    if p.pos != tokens.len() {
        return Err("unexpected text after the expression".to_owned());
    }
    let mut text = String::new();
    for t in &p.out {
        if !text.is_empty() && !text.ends_with('(') && t != ")" {
            text.push(' ');
        }
        text.push_str(t);
    }
    Ok((text, p.refs))
}

/// The `licenseDeclared` value for a model license, or `None` for
/// NOASSERTION.
pub(super) fn write_license(expr: &str, refs: &mut BTreeSet<String>) -> Option<String> {
    let parsed = parse_license(expr, Mode::Write).or_else(|e| {
        // Cargo's deprecated `MIT/Apache-2.0` means `MIT OR Apache-2.0`.
        if expr.contains('/') {
            parse_license(&expr.replace('/', " OR "), Mode::Write)
        } else {
            Err(e)
        }
    });
    let (text, new_refs) = parsed.ok()?;
    refs.extend(new_refs);
    Some(text)
}

// ---------------------------------------------------------------- reader

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocumentIn {
    spdx_version: String,
    data_license: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    document_namespace: String,
    creation_info: CreationInfoIn,
    #[serde(default)]
    external_document_refs: Option<Vec<ExternalDocumentRefIn>>,
    #[serde(default)]
    document_describes: Option<Vec<String>>,
    #[serde(default)]
    packages: Option<Vec<PackageIn>>,
    #[serde(default)]
    files: Option<Vec<ElementIn>>,
    #[serde(default)]
    snippets: Option<Vec<ElementIn>>,
    #[serde(default)]
    relationships: Option<Vec<RelationshipIn>>,
}

#[derive(Deserialize)]
struct CreationInfoIn {
    created: String,
    creators: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalDocumentRefIn {
    external_document_id: String,
}

#[derive(Deserialize)]
struct ElementIn {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(default)]
    checksums: Option<Vec<ChecksumIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageIn {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(default)]
    version_info: Option<String>,
    download_location: String,
    #[serde(default)]
    files_analyzed: Option<bool>,
    #[serde(default)]
    package_verification_code: Option<serde_json::Value>,
    #[serde(default)]
    checksums: Option<Vec<ChecksumIn>>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    supplier: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    source_info: Option<String>,
    #[serde(default)]
    external_refs: Option<Vec<ExternalRefIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChecksumIn {
    algorithm: String,
    checksum_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRefIn {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipIn {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

/// Relationship types of SPDX 2.3 (JSON schema); `true` when 2.2 has it too.
const RELATIONSHIP_TYPES: &[(&str, bool)] = &[
    ("AMENDS", false),
    ("ANCESTOR_OF", true),
    ("BUILD_DEPENDENCY_OF", true),
    ("BUILD_TOOL_OF", true),
    ("CONTAINED_BY", true),
    ("CONTAINS", true),
    ("COPY_OF", true),
    ("DATA_FILE_OF", true),
    ("DEPENDENCY_MANIFEST_OF", true),
    ("DEPENDENCY_OF", true),
    ("DEPENDS_ON", true),
    ("DESCENDANT_OF", true),
    ("DESCRIBED_BY", true),
    ("DESCRIBES", true),
    ("DEV_DEPENDENCY_OF", true),
    ("DEV_TOOL_OF", true),
    ("DISTRIBUTION_ARTIFACT", true),
    ("DOCUMENTATION_OF", true),
    ("DYNAMIC_LINK", true),
    ("EXAMPLE_OF", true),
    ("EXPANDED_FROM_ARCHIVE", true),
    ("FILE_ADDED", true),
    ("FILE_DELETED", true),
    ("FILE_MODIFIED", true),
    ("GENERATED_FROM", true),
    ("GENERATES", true),
    ("HAS_PREREQUISITE", true),
    ("METAFILE_OF", true),
    ("OPTIONAL_COMPONENT_OF", true),
    ("OPTIONAL_DEPENDENCY_OF", true),
    ("OTHER", true),
    ("PACKAGE_OF", true),
    ("PATCH_APPLIED", true),
    ("PATCH_FOR", true),
    ("PREREQUISITE_FOR", true),
    ("PROVIDED_DEPENDENCY_OF", true),
    ("REQUIREMENT_DESCRIPTION_FOR", false),
    ("RUNTIME_DEPENDENCY_OF", true),
    ("SPECIFICATION_FOR", false),
    ("STATIC_LINK", true),
    ("TEST_CASE_OF", true),
    ("TEST_DEPENDENCY_OF", true),
    ("TEST_OF", true),
    ("TEST_TOOL_OF", true),
    ("VARIANT_OF", true),
];

/// Checksum algorithms and their lengths in hex digits (min, max), as the
/// SPDX spec and spdx-tools define them.
const CHECKSUM_LENGTHS: &[(&str, usize, usize)] = &[
    ("ADLER32", 8, 8),
    ("BLAKE2b-256", 64, 64),
    ("BLAKE2b-384", 96, 96),
    ("BLAKE2b-512", 128, 128),
    ("BLAKE3", 64, usize::MAX),
    ("MD2", 32, 32),
    ("MD4", 32, 32),
    ("MD5", 32, 32),
    ("MD6", 0, 128),
    ("SHA1", 40, 40),
    ("SHA224", 56, 56),
    ("SHA256", 64, 64),
    ("SHA3-256", 64, 64),
    ("SHA3-384", 96, 96),
    ("SHA3-512", 128, 128),
    ("SHA384", 96, 96),
    ("SHA512", 128, 128),
];

const REFERENCE_CATEGORIES: &[&str] = &[
    "OTHER",
    "PERSISTENT-ID",
    "PERSISTENT_ID",
    "SECURITY",
    "PACKAGE-MANAGER",
    "PACKAGE_MANAGER",
];

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    SbomError::Invalid {
        document: "SPDX",
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

/// Decodes UTF-16 (with a byte order mark) to UTF-8 and drops a UTF-8 byte
/// order mark; other input is returned as is.
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Error> {
    let utf16 = |rest: &[u8], big_endian: bool| -> Result<Vec<u8>, Error> {
        if rest.len() % 2 != 0 {
            return Err(invalid("", "UTF-16 input has an odd number of bytes"));
        }
        let units = rest.chunks_exact(2).map(|p| match p {
            [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
            [a, b] => u16::from_le_bytes([*a, *b]),
            _ => 0,
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(String::into_bytes)
            .map_err(|e| invalid("", format!("invalid UTF-16: {e}")))
    };
    match bytes {
        [0xff, 0xfe, rest @ ..] => Ok(utf16(rest, false)?.into()),
        [0xfe, 0xff, rest @ ..] => Ok(utf16(rest, true)?.into()),
        [0xef, 0xbb, 0xbf, rest @ ..] => Ok(rest.into()),
        _ => Ok(bytes.into()),
    }
}

fn check_element_id(id: &str, path: &str) -> Result<(), Error> {
    match id.strip_prefix("SPDXRef-") {
        Some(rest) if is_idstring(rest) => Ok(()),
        _ => Err(invalid(
            path,
            format!(
                "`{}` is not an SPDX id (SPDXRef- followed by letters, digits, `.` and `-`)",
                crate::digest::shorten(id)
            ),
        )),
    }
}

fn check_checksums(checksums: &[ChecksumIn], path: &str) -> Result<Vec<Digest>, Error> {
    let mut digests = Vec::new();
    for (i, c) in checksums.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Some((_, min, max)) = CHECKSUM_LENGTHS
            .iter()
            .find(|(name, _, _)| *name == c.algorithm)
        else {
            return Err(invalid(
                format!("{path}.algorithm"),
                format!(
                    "`{}` is not an SPDX checksum algorithm",
                    crate::digest::shorten(&c.algorithm)
                ),
            ));
        };
        let v = &c.checksum_value;
        if v.len() < *min
            || v.len() > *max
            || !v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let length = if min == max {
                min.to_string()
            } else if *max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(invalid(
                format!("{path}.checksumValue"),
                format!(
                    "{} needs {length} lowercase hex digits, found `{}` ({} characters)",
                    c.algorithm,
                    crate::digest::shorten(v),
                    v.len()
                ),
            ));
        }
        let algorithm = match c.algorithm.as_str() {
            "SHA256" => DigestAlgorithm::Sha256,
            "SHA384" => DigestAlgorithm::Sha384,
            "SHA512" => DigestAlgorithm::Sha512,
            _ => continue,
        };
        digests.push(
            Digest::from_hex(algorithm, v)
                .map_err(|e| invalid(format!("{path}.checksumValue"), e.to_string()))?,
        );
    }
    Ok(digests)
}

fn read_license(value: Option<&str>, path: &str) -> Result<Option<String>, Error> {
    match value {
        None | Some("NOASSERTION" | "NONE") => Ok(None),
        Some(expr) => {
            parse_license(expr, Mode::Syntax).map_err(|reason| {
                invalid(
                    path,
                    format!(
                        "`{}` is not an SPDX license expression: {reason}",
                        crate::digest::shorten(expr)
                    ),
                )
            })?;
            Ok(Some(expr.to_owned()))
        }
    }
}

/// Which way an edge goes and what it says about the target's scope.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Required,
    Optional,
    Excluded,
}

/// For a relationship type: (edge from the element to the related one?,
/// kind), or `None` when it is not a dependency.
fn edge_kind(relationship_type: &str) -> Option<(bool, EdgeKind)> {
    Some(match relationship_type {
        "DEPENDS_ON" | "CONTAINS" | "DYNAMIC_LINK" | "STATIC_LINK" => (true, EdgeKind::Required),
        "DEPENDENCY_OF" | "CONTAINED_BY" | "RUNTIME_DEPENDENCY_OF" | "PROVIDED_DEPENDENCY_OF" => {
            (false, EdgeKind::Required)
        }
        "OPTIONAL_DEPENDENCY_OF" => (false, EdgeKind::Optional),
        "DEV_DEPENDENCY_OF" | "BUILD_DEPENDENCY_OF" | "TEST_DEPENDENCY_OF" => {
            (false, EdgeKind::Excluded)
        }
        _ => return None,
    })
}

/// Reads an SPDX 2.2 or 2.3 JSON document into the model.
///
/// ```
/// use custodia::sbom::spdx;
/// let doc = br#"{
///   "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
///   "name": "app", "documentNamespace": "https://example.com/app-1",
///   "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: x"]},
///   "packages": [
///     {"SPDXID": "SPDXRef-app", "name": "app", "versionInfo": "1.0", "downloadLocation": "NOASSERTION"},
///     {"SPDXID": "SPDXRef-log", "name": "log", "versionInfo": "0.4.21",
///      "downloadLocation": "https://crates.io/api/v1/crates/log/0.4.21/download",
///      "licenseDeclared": "MIT OR Apache-2.0",
///      "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
///                        "referenceLocator": "pkg:cargo/log@0.4.21"}]}
///   ],
///   "relationships": [
///     {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-app"},
///     {"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-log"}
///   ]
/// }"#;
/// let sbom = spdx::from_json(doc)?;
/// assert_eq!(sbom.root.name, "app");
/// let log = sbom.component("pkg:cargo/log@0.4.21").unwrap();
/// assert_eq!(log.license.as_deref(), Some("MIT OR Apache-2.0"));
/// assert!(sbom.dependencies["app@1.0"].contains("pkg:cargo/log@0.4.21"));
///
/// let bad = String::from_utf8_lossy(doc).replace("SPDXRef-log", "SPDXRef-log_1");
/// let err = spdx::from_json(bad.as_bytes()).unwrap_err().to_string();
/// assert!(err.contains("packages[1].SPDXID"), "{err}");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn from_json(bytes: &[u8]) -> Result<Sbom, Error> {
    let bytes = decode(bytes)?;
    let doc: DocumentIn = crate::json::from_slice(&bytes, "SPDX document")?;

    let is_22 = match doc.spdx_version.as_str() {
        "SPDX-2.3" => false,
        "SPDX-2.2" => true,
        other => {
            return Err(invalid(
                "spdxVersion",
                format!(
                    "`{}` is not SPDX-2.2 or SPDX-2.3",
                    crate::digest::shorten(other)
                ),
            ));
        }
    };
    if doc.data_license != "CC0-1.0" {
        return Err(invalid("dataLicense", "must be `CC0-1.0`"));
    }
    if doc.spdx_id != DOCUMENT_ID {
        return Err(invalid(
            "SPDXID",
            "the document's id must be `SPDXRef-DOCUMENT`",
        ));
    }
    if doc.name.is_empty() {
        return Err(invalid("name", "the document needs a name"));
    }
    if doc.document_namespace.is_empty() || doc.document_namespace.contains('#') {
        return Err(invalid(
            "documentNamespace",
            "must be a URI without a fragment (`#`)",
        ));
    }
    let timestamp = read_created(&doc.creation_info.created)?;
    if doc.creation_info.creators.is_empty() {
        return Err(invalid(
            "creationInfo.creators",
            "at least one creator is required",
        ));
    }

    // External documents, then element ids: charset and uniqueness.
    let mut external_docs = BTreeSet::new();
    for (i, r) in doc.external_document_refs.iter().flatten().enumerate() {
        let ok = r
            .external_document_id
            .strip_prefix("DocumentRef-")
            .is_some_and(is_idstring_plus);
        if !ok || !external_docs.insert(r.external_document_id.as_str()) {
            return Err(invalid(
                format!("externalDocumentRefs[{i}].externalDocumentId"),
                format!(
                    "`{}` is not a unique DocumentRef- id",
                    crate::digest::shorten(&r.external_document_id)
                ),
            ));
        }
    }
    let mut elements: BTreeSet<&str> = BTreeSet::from([DOCUMENT_ID]);
    let packages = doc.packages.as_deref().unwrap_or_default();
    let mut element_ids: Vec<(String, &str)> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("packages[{i}].SPDXID"), p.spdx_id.as_str()))
        .collect();
    for (field, list) in [("files", &doc.files), ("snippets", &doc.snippets)] {
        for (i, e) in list.iter().flatten().enumerate() {
            element_ids.push((format!("{field}[{i}].SPDXID"), e.spdx_id.as_str()));
            if let Some(c) = &e.checksums {
                check_checksums(c, &format!("{field}[{i}].checksums"))?;
            }
        }
    }
    for (path, id) in &element_ids {
        check_element_id(id, path)?;
        if !elements.insert(id) {
            return Err(invalid(
                path.as_str(),
                format!("`{}` is used twice", crate::digest::shorten(id)),
            ));
        }
    }
    let element_exists = |id: &str| -> bool {
        match id.split_once(':') {
            Some((d, e)) => external_docs.contains(d) && check_element_id(e, "").is_ok(),
            None => elements.contains(id),
        }
    };

    // Packages -> components.
    let mut components = Vec::with_capacity(packages.len());
    for (i, p) in packages.iter().enumerate() {
        components.push(read_package(p, &format!("packages[{i}]"))?);
    }
    // bom-refs: purl or name@version, the SPDX id where those clash.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &components {
        *counts.entry(c.bom_ref.clone()).or_default() += 1;
    }
    for (c, p) in components.iter_mut().zip(packages) {
        if counts.get(&c.bom_ref).copied().unwrap_or(0) > 1 || c.bom_ref == DOCUMENT_ID {
            c.bom_ref = p.spdx_id.clone();
        }
    }
    let ref_of: BTreeMap<&str, String> = packages
        .iter()
        .zip(&components)
        .map(|(p, c)| (p.spdx_id.as_str(), c.bom_ref.clone()))
        .collect();
    if ref_of.len() != components.len()
        || ref_of.values().collect::<BTreeSet<_>>().len() != components.len()
    {
        return Err(invalid("packages", "package identifiers clash"));
    }

    // Relationships.
    let mut described: Vec<&str> = Vec::new();
    for (i, d) in doc.document_describes.iter().flatten().enumerate() {
        if !elements.contains(d.as_str()) || d == DOCUMENT_ID {
            return Err(invalid(
                format!("documentDescribes[{i}]"),
                format!("`{}` names no element", crate::digest::shorten(d)),
            ));
        }
        described.push(d);
    }
    let mut edges: Vec<(String, String, EdgeKind)> = Vec::new();
    for (i, r) in doc.relationships.iter().flatten().enumerate() {
        let path = format!("relationships[{i}]");
        let known = RELATIONSHIP_TYPES
            .iter()
            .find(|(t, _)| *t == r.relationship_type);
        match known {
            None => {
                return Err(invalid(
                    format!("{path}.relationshipType"),
                    format!(
                        "`{}` is not an SPDX relationship type",
                        crate::digest::shorten(&r.relationship_type)
                    ),
                ));
            }
            Some((_, false)) if is_22 => {
                return Err(invalid(
                    format!("{path}.relationshipType"),
                    format!("`{}` is not in SPDX 2.2", r.relationship_type),
                ));
            }
            Some(_) => {}
        }
        if !element_exists(&r.spdx_element_id) {
            return Err(invalid(
                format!("{path}.spdxElementId"),
                format!(
                    "`{}` names no element of this document",
                    crate::digest::shorten(&r.spdx_element_id)
                ),
            ));
        }
        let related = r.related_spdx_element.as_str();
        if !matches!(related, "NONE" | "NOASSERTION") && !element_exists(related) {
            return Err(invalid(
                format!("{path}.relatedSpdxElement"),
                format!(
                    "`{}` names no element of this document",
                    crate::digest::shorten(related)
                ),
            ));
        }
        let (a, b) = (r.spdx_element_id.as_str(), related);
        match r.relationship_type.as_str() {
            "DESCRIBES" if a == DOCUMENT_ID => described.push(b),
            "DESCRIBED_BY" if b == DOCUMENT_ID => described.push(a),
            t => {
                if let (Some((forward, kind)), Some(ra), Some(rb)) =
                    (edge_kind(t), ref_of.get(a), ref_of.get(b))
                {
                    let (from, to) = if forward { (ra, rb) } else { (rb, ra) };
                    edges.push((from.clone(), to.clone(), kind));
                }
            }
        }
    }

    // The root.
    let mut described_packages: Vec<&str> = described
        .iter()
        .copied()
        .filter(|d| ref_of.contains_key(d))
        .collect();
    described_packages.sort_unstable();
    described_packages.dedup();
    let root_index = match described_packages.as_slice() {
        [one] => packages.iter().position(|p| p.spdx_id == *one),
        [] if packages.len() == 1 => Some(0),
        _ => None,
    };
    let (root, rest, synthetic) = match root_index {
        Some(i) => {
            let mut rest = components;
            let root = rest.remove(i.min(rest.len().saturating_sub(1)));
            (root, rest, false)
        }
        None => {
            let mut root = Component::new(doc.name.clone(), "");
            root.bom_ref = DOCUMENT_ID.to_owned();
            (root, components, true)
        }
    };
    let mut sbom = Sbom::new(root, timestamp);
    sbom.components = rest;
    if synthetic {
        for d in &described_packages {
            if let Some(r) = ref_of.get(d) {
                sbom.depends(DOCUMENT_ID, r);
            }
        }
    }
    let mut incoming: BTreeMap<String, BTreeSet<u8>> = BTreeMap::new();
    for (from, to, kind) in &edges {
        sbom.depends(from, to);
        let k = match kind {
            EdgeKind::Required => 0,
            EdgeKind::Optional => 1,
            EdgeKind::Excluded => 2,
        };
        incoming.entry(to.clone()).or_default().insert(k);
    }
    for c in &mut sbom.components {
        let kinds = incoming.get(&c.bom_ref);
        c.scope = match kinds.map(|k| k.iter().copied().collect::<Vec<u8>>()) {
            Some(k) if k == [1] => Scope::Optional,
            Some(k) if k == [2] => Scope::Excluded,
            _ => Scope::Required,
        };
    }
    sbom.validate()?;
    Ok(sbom)
}

fn read_created(created: &str) -> Result<Timestamp, Error> {
    let shape_ok = created.len() == 20
        && created.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(invalid(
            "creationInfo.created",
            format!(
                "`{}` is not YYYY-MM-DDThh:mm:ssZ (UTC, no fractional seconds)",
                crate::digest::shorten(created)
            ),
        ));
    }
    created
        .parse()
        .map_err(|e: Error| invalid("creationInfo.created", e.to_string()))
}

fn read_package(p: &PackageIn, path: &str) -> Result<Component, Error> {
    if p.name.is_empty() {
        return Err(invalid(format!("{path}.name"), "a package needs a name"));
    }
    if p.download_location.is_empty() {
        return Err(invalid(
            format!("{path}.downloadLocation"),
            "must be a location, NONE or NOASSERTION",
        ));
    }
    if p.package_verification_code.is_some() && p.files_analyzed == Some(false) {
        return Err(invalid(
            format!("{path}.packageVerificationCode"),
            "must be absent when filesAnalyzed is false",
        ));
    }
    let hashes = match &p.checksums {
        Some(c) => check_checksums(c, &format!("{path}.checksums"))?,
        None => Vec::new(),
    };
    let declared = read_license(
        p.license_declared.as_deref(),
        &format!("{path}.licenseDeclared"),
    )?;
    let concluded = read_license(
        p.license_concluded.as_deref(),
        &format!("{path}.licenseConcluded"),
    )?;
    let mut purl = None;
    for (j, r) in p.external_refs.iter().flatten().enumerate() {
        let rpath = format!("{path}.externalRefs[{j}]");
        if !REFERENCE_CATEGORIES.contains(&r.reference_category.as_str()) {
            return Err(invalid(
                format!("{rpath}.referenceCategory"),
                format!(
                    "`{}` is not an SPDX reference category",
                    crate::digest::shorten(&r.reference_category)
                ),
            ));
        }
        if r.reference_locator.is_empty() || r.reference_locator.contains(char::is_whitespace) {
            return Err(invalid(
                format!("{rpath}.referenceLocator"),
                "must be non-empty and without spaces",
            ));
        }
        if r.reference_type == "purl" && purl.is_none() {
            if !r.reference_locator.starts_with("pkg:") {
                return Err(invalid(
                    format!("{rpath}.referenceLocator"),
                    format!(
                        "`{}` is not a purl",
                        crate::digest::shorten(&r.reference_locator)
                    ),
                ));
            }
            purl = Some(r.reference_locator.clone());
        }
    }
    let version = p.version_info.clone().unwrap_or_default();
    let mut c = Component::new(p.name.clone(), version);
    if let Some(purl) = purl {
        c = c.with_purl(purl);
    }
    c.supplier = p.supplier.as_deref().and_then(read_supplier);
    c.license = declared.or(concluded);
    c.hashes = hashes;
    c.source = read_source(p.source_info.as_deref(), &p.download_location);
    c.description = p.description.clone();
    Ok(c)
}

// ------------------------------------------------------- SPDX license list

// Generated from the SPDX license list that spdx-tools 0.8.5 validates
// against (license-expression 30.4.4): ids without `+`, and no `LicenseRef-`.
/// SPDX license ids (687), sorted by lowercase.
const LICENSE_IDS: &[&str] = &[
    "0BSD",
    "3D-Slicer-1.0",
    "AAL",
    "Abstyles",
    "AdaCore-doc",
    "Adobe-2006",
    "Adobe-Display-PostScript",
    "Adobe-Glyph",
    "Adobe-Utopia",
    "ADSL",
    "AFL-1.1",
    "AFL-1.2",
    "AFL-2.0",
    "AFL-2.1",
    "AFL-3.0",
    "Afmparse",
    "AGPL-1.0",
    "AGPL-1.0-only",
    "AGPL-1.0-or-later",
    "AGPL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Aladdin",
    "AMD-newlib",
    "AMDPLPA",
    "AML",
    "AML-glslang",
    "AMPAS",
    "ANTLR-PD",
    "ANTLR-PD-fallback",
    "any-OSI",
    "any-OSI-perl-modules",
    "Apache-1.0",
    "Apache-1.1",
    "Apache-2.0",
    "APAFML",
    "APL-1.0",
    "App-s2p",
    "APSL-1.0",
    "APSL-1.1",
    "APSL-1.2",
    "APSL-2.0",
    "Arphic-1999",
    "Artistic-1.0",
    "Artistic-1.0-cl8",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "Artistic-dist",
    "Aspell-RU",
    "ASWF-Digital-Assets-1.0",
    "ASWF-Digital-Assets-1.1",
    "Baekmuk",
    "Bahyph",
    "Barr",
    "bcrypt-Solar-Designer",
    "Beerware",
    "Bitstream-Charter",
    "Bitstream-Vera",
    "BitTorrent-1.0",
    "BitTorrent-1.1",
    "blessing",
    "BlueOak-1.0.0",
    "Boehm-GC",
    "Boehm-GC-without-fee",
    "Borceux",
    "Brian-Gladman-2-Clause",
    "Brian-Gladman-3-Clause",
    "BSD-1-Clause",
    "BSD-2",
    "BSD-2-Clause",
    "BSD-2-Clause-Darwin",
    "BSD-2-Clause-first-lines",
    "BSD-2-Clause-FreeBSD",
    "BSD-2-Clause-NetBSD",
    "BSD-2-Clause-Patent",
    "BSD-2-Clause-pkgconf-disclaimer",
    "BSD-2-Clause-Views",
    "BSD-3-Clause",
    "BSD-3-Clause-acpica",
    "BSD-3-Clause-Attribution",
    "BSD-3-Clause-Clear",
    "BSD-3-Clause-flex",
    "BSD-3-Clause-HP",
    "BSD-3-Clause-LBNL",
    "BSD-3-Clause-Modification",
    "BSD-3-Clause-No-Military-License",
    "BSD-3-Clause-No-Nuclear-License",
    "BSD-3-Clause-No-Nuclear-License-2014",
    "BSD-3-Clause-No-Nuclear-Warranty",
    "BSD-3-Clause-Open-MPI",
    "BSD-3-Clause-Sun",
    "BSD-4-Clause",
    "BSD-4-Clause-Shortened",
    "BSD-4-Clause-UC",
    "BSD-4.3RENO",
    "BSD-4.3TAHOE",
    "BSD-Advertising-Acknowledgement",
    "BSD-Attribution-HPND-disclaimer",
    "BSD-Inferno-Nettverk",
    "BSD-Protection",
    "BSD-Source-beginning-file",
    "BSD-Source-Code",
    "BSD-Systemics",
    "BSD-Systemics-W3Works",
    "BSL-1.0",
    "BUSL-1.1",
    "bzip2-1.0.5",
    "bzip2-1.0.6",
    "C-UDA-1.0",
    "CAL-1.0",
    "CAL-1.0-Combined-Work-Exception",
    "Caldera",
    "Caldera-no-preamble",
    "Catharon",
    "CATOSL-1.1",
    "CC-BY-1.0",
    "CC-BY-2.0",
    "CC-BY-2.5",
    "CC-BY-2.5-AU",
    "CC-BY-3.0",
    "CC-BY-3.0-AT",
    "CC-BY-3.0-AU",
    "CC-BY-3.0-DE",
    "CC-BY-3.0-IGO",
    "CC-BY-3.0-NL",
    "CC-BY-3.0-US",
    "CC-BY-4.0",
    "CC-BY-NC-1.0",
    "CC-BY-NC-2.0",
    "CC-BY-NC-2.5",
    "CC-BY-NC-3.0",
    "CC-BY-NC-3.0-DE",
    "CC-BY-NC-4.0",
    "CC-BY-NC-ND-1.0",
    "CC-BY-NC-ND-2.0",
    "CC-BY-NC-ND-2.5",
    "CC-BY-NC-ND-3.0",
    "CC-BY-NC-ND-3.0-DE",
    "CC-BY-NC-ND-3.0-IGO",
    "CC-BY-NC-ND-4.0",
    "CC-BY-NC-SA-1.0",
    "CC-BY-NC-SA-2.0",
    "CC-BY-NC-SA-2.0-DE",
    "CC-BY-NC-SA-2.0-FR",
    "CC-BY-NC-SA-2.0-UK",
    "CC-BY-NC-SA-2.5",
    "CC-BY-NC-SA-3.0",
    "CC-BY-NC-SA-3.0-DE",
    "CC-BY-NC-SA-3.0-IGO",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-1.0",
    "CC-BY-ND-2.0",
    "CC-BY-ND-2.5",
    "CC-BY-ND-3.0",
    "CC-BY-ND-3.0-DE",
    "CC-BY-ND-4.0",
    "CC-BY-SA-1.0",
    "CC-BY-SA-2.0",
    "CC-BY-SA-2.0-UK",
    "CC-BY-SA-2.1-JP",
    "CC-BY-SA-2.5",
    "CC-BY-SA-3.0",
    "CC-BY-SA-3.0-AT",
    "CC-BY-SA-3.0-DE",
    "CC-BY-SA-3.0-IGO",
    "CC-BY-SA-4.0",
    "CC-PDDC",
    "CC-PDM-1.0",
    "CC-SA-1.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CDL-1.0",
    "CDLA-Permissive-1.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
    "CECILL-1.0",
    "CECILL-1.1",
    "CECILL-2.0",
    "CECILL-2.1",
    "CECILL-B",
    "CECILL-C",
    "CERN-OHL-1.1",
    "CERN-OHL-1.2",
    "CERN-OHL-P-2.0",
    "CERN-OHL-S-2.0",
    "CERN-OHL-W-2.0",
    "CFITSIO",
    "check-cvs",
    "checkmk",
    "ClArtistic",
    "Clips",
    "CMU-Mach",
    "CMU-Mach-nodoc",
    "CNRI-Jython",
    "CNRI-Python",
    "CNRI-Python-GPL-Compatible",
    "COIL-1.0",
    "Community-Spec-1.0",
    "Condor-1.1",
    "copyleft-next-0.3.0",
    "copyleft-next-0.3.1",
    "Cornell-Lossless-JPEG",
    "CPAL-1.0",
    "CPL-1.0",
    "CPOL-1.02",
    "Cronyx",
    "Crossword",
    "CryptoSwift",
    "CrystalStacker",
    "CUA-OPL-1.0",
    "Cube",
    "curl",
    "cve-tou",
    "D-FSL-1.0",
    "DEC-3-Clause",
    "diffmark",
    "DL-DE-BY-2.0",
    "DL-DE-ZERO-2.0",
    "DOC",
    "DocBook-DTD",
    "DocBook-Schema",
    "DocBook-Stylesheet",
    "DocBook-XML",
    "Dotseqn",
    "DRL-1.0",
    "DRL-1.1",
    "DSDP",
    "dtoa",
    "dvipdfm",
    "ECL-1.0",
    "ECL-2.0",
    "EFL-1.0",
    "EFL-2.0",
    "eGenix",
    "Elastic-2.0",
    "Entessa",
    "EPICS",
    "EPL-1.0",
    "EPL-2.0",
    "ErlPL-1.1",
    "etalab-2.0",
    "EUDatagrid",
    "EUPL-1.0",
    "EUPL-1.1",
    "EUPL-1.2",
    "Eurosym",
    "Fair",
    "FBM",
    "FDK-AAC",
    "Ferguson-Twofish",
    "Frameworx-1.0",
    "FreeBSD-DOC",
    "FreeImage",
    "FSFAP",
    "FSFAP-no-warranty-disclaimer",
    "FSFUL",
    "FSFULLR",
    "FSFULLRSD",
    "FSFULLRWD",
    "FSL-1.1-ALv2",
    "FSL-1.1-MIT",
    "FTL",
    "Furuseth",
    "fwlw",
    "Game-Programming-Gems",
    "GCR-docs",
    "GD",
    "generic-xts",
    "GFDL-1.1",
    "GFDL-1.1-invariants-only",
    "GFDL-1.1-invariants-or-later",
    "GFDL-1.1-no-invariants-only",
    "GFDL-1.1-no-invariants-or-later",
    "GFDL-1.1-only",
    "GFDL-1.1-or-later",
    "GFDL-1.2",
    "GFDL-1.2-invariants-only",
    "GFDL-1.2-invariants-or-later",
    "GFDL-1.2-no-invariants-only",
    "GFDL-1.2-no-invariants-or-later",
    "GFDL-1.2-only",
    "GFDL-1.2-or-later",
    "GFDL-1.3",
    "GFDL-1.3-invariants-only",
    "GFDL-1.3-invariants-or-later",
    "GFDL-1.3-no-invariants-only",
    "GFDL-1.3-no-invariants-or-later",
    "GFDL-1.3-only",
    "GFDL-1.3-or-later",
    "Giftware",
    "GL2PS",
    "Glide",
    "Glulxe",
    "GLWTPL",
    "gnuplot",
    "GPL",
    "GPL-1.0",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "Graphics-Gems",
    "gSOAP-1.3b",
    "gtkbook",
    "Gutmann",
    "HaskellReport",
    "HDF5",
    "hdparm",
    "HIDAPI",
    "Hippocratic-2.1",
    "HP-1986",
    "HP-1989",
    "HPND",
    "HPND-DEC",
    "HPND-doc",
    "HPND-doc-sell",
    "HPND-export-US",
    "HPND-export-US-acknowledgement",
    "HPND-export-US-modify",
    "HPND-export2-US",
    "HPND-Fenneberg-Livingston",
    "HPND-INRIA-IMAG",
    "HPND-Intel",
    "HPND-Kevlin-Henney",
    "HPND-Markus-Kuhn",
    "HPND-merchantability-variant",
    "HPND-MIT-disclaimer",
    "HPND-Netrek",
    "HPND-Pbmplus",
    "HPND-sell-MIT-disclaimer-xserver",
    "HPND-sell-regexpr",
    "HPND-sell-variant",
    "HPND-sell-variant-MIT-disclaimer",
    "HPND-sell-variant-MIT-disclaimer-rev",
    "HPND-UC",
    "HPND-UC-export-US",
    "HTMLTIDY",
    "IBM-pibs",
    "ICU",
    "IEC-Code-Components-EULA",
    "IJG",
    "IJG-short",
    "ImageMagick",
    "iMatix",
    "Imlib2",
    "Info-ZIP",
    "Inner-Net-2.0",
    "InnoSetup",
    "Intel",
    "Intel-ACPI",
    "Interbase-1.0",
    "IPA",
    "IPL-1.0",
    "ISC",
    "ISC-Veillard",
    "Jam",
    "JasPer-2.0",
    "jove",
    "JPL-image",
    "JPNIC",
    "JSON",
    "Kastrup",
    "Kazlib",
    "Knuth-CTAN",
    "LAL-1.2",
    "LAL-1.3",
    "Latex2e",
    "Latex2e-translated-notice",
    "Leptonica",
    "LGPL-2.0",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "LGPLLR",
    "Libpng",
    "libpng-1.6.35",
    "libpng-2.0",
    "libselinux-1.0",
    "libtiff",
    "libutil-David-Nugent",
    "LiLiQ-P-1.1",
    "LiLiQ-R-1.1",
    "LiLiQ-Rplus-1.1",
    "Linux-man-pages-1-para",
    "Linux-man-pages-copyleft",
    "Linux-man-pages-copyleft-2-para",
    "Linux-man-pages-copyleft-var",
    "Linux-OpenIB",
    "LOOP",
    "LPD-document",
    "LPL-1.0",
    "LPL-1.02",
    "LPPL-1.0",
    "LPPL-1.1",
    "LPPL-1.2",
    "LPPL-1.3a",
    "LPPL-1.3c",
    "lsof",
    "Lucida-Bitmap-Fonts",
    "LZMA-SDK-9.11-to-9.20",
    "LZMA-SDK-9.22",
    "Mackerras-3-Clause",
    "Mackerras-3-Clause-acknowledgment",
    "magaz",
    "mailprio",
    "MakeIndex",
    "man2html",
    "Martin-Birgmeier",
    "McPhee-slideshow",
    "metamail",
    "Minpack",
    "MIPS",
    "MirOS",
    "MIT",
    "MIT-0",
    "MIT-advertising",
    "MIT-Click",
    "MIT-CMU",
    "MIT-enna",
    "MIT-feh",
    "MIT-Festival",
    "MIT-Khronos-old",
    "MIT-Modern-Variant",
    "MIT-open-group",
    "MIT-testregex",
    "MIT-Wu",
    "MITNFA",
    "MMIXware",
    "Motosoto",
    "MPEG-SSG",
    "mpi-permissive",
    "mpich2",
    "MPL-1.0",
    "MPL-1.1",
    "MPL-2.0",
    "mplus",
    "MS-LPL",
    "MS-PL",
    "MS-RL",
    "MTLL",
    "MulanPSL-1.0",
    "MulanPSL-2.0",
    "Multics",
    "Mup",
    "NAIST-2003",
    "NASA-1.3",
    "Naumen",
    "NBPL-1.0",
    "NCBI-PD",
    "NCGL-UK-2.0",
    "NCL",
    "NCSA",
    "Net-SNMP",
    "NetCDF",
    "Newsletr",
    "NGPL",
    "ngrep",
    "NICTA-1.0",
    "NIST-PD",
    "NIST-PD-fallback",
    "NIST-Software",
    "NLOD-1.0",
    "NLOD-2.0",
    "NLPL",
    "Nokia",
    "NOSL",
    "Noweb",
    "NPL-1.0",
    "NPL-1.1",
    "NPOSL-3.0",
    "NRL",
    "NTIA-PD",
    "NTP",
    "NTP-0",
    "Nunit",
    "O-UDA-1.0",
    "OAR",
    "OCCT-PL",
    "OCLC-2.0",
    "ODbL-1.0",
    "ODC-By-1.0",
    "OFFIS",
    "OFL-1.0",
    "OFL-1.0-no-RFN",
    "OFL-1.0-RFN",
    "OFL-1.1",
    "OFL-1.1-no-RFN",
    "OFL-1.1-RFN",
    "OGC-1.0",
    "OGDL-Taiwan-1.0",
    "OGL-Canada-2.0",
    "OGL-UK-1.0",
    "OGL-UK-2.0",
    "OGL-UK-3.0",
    "OGTSL",
    "OLDAP-1.1",
    "OLDAP-1.2",
    "OLDAP-1.3",
    "OLDAP-1.4",
    "OLDAP-2.0",
    "OLDAP-2.0.1",
    "OLDAP-2.1",
    "OLDAP-2.2",
    "OLDAP-2.2.1",
    "OLDAP-2.2.2",
    "OLDAP-2.3",
    "OLDAP-2.4",
    "OLDAP-2.5",
    "OLDAP-2.6",
    "OLDAP-2.7",
    "OLDAP-2.8",
    "OLFL-1.3",
    "OML",
    "OpenPBS-2.3",
    "OpenSSL",
    "OpenSSL-standalone",
    "OpenVision",
    "OPL-1.0",
    "OPL-UK-3.0",
    "OPUBL-1.0",
    "OSET-PL-2.1",
    "OSL-1.0",
    "OSL-1.1",
    "OSL-2.0",
    "OSL-2.1",
    "OSL-3.0",
    "PADL",
    "Parity-6.0.0",
    "Parity-7.0.0",
    "PDDL-1.0",
    "PHP-3.0",
    "PHP-3.01",
    "Pixar",
    "pkgconf",
    "Plexus",
    "pnmstitch",
    "PolyForm-Noncommercial-1.0.0",
    "PolyForm-Small-Business-1.0.0",
    "PostgreSQL",
    "PPL",
    "PSF-2.0",
    "psfrag",
    "psutils",
    "Python-2.0",
    "Python-2.0.1",
    "python-ldap",
    "Qhull",
    "QPL-1.0",
    "QPL-1.0-INRIA-2004",
    "radvd",
    "Rdisc",
    "RHeCos-1.1",
    "RPL-1.1",
    "RPL-1.5",
    "RPSL-1.0",
    "RSA-MD",
    "RSCPL",
    "Ruby",
    "Ruby-pty",
    "SAX-PD",
    "SAX-PD-2.0",
    "Saxpath",
    "SCEA",
    "SchemeReport",
    "Sendmail",
    "Sendmail-8.23",
    "Sendmail-Open-Source-1.1",
    "SGI-B-1.0",
    "SGI-B-1.1",
    "SGI-B-2.0",
    "SGI-OpenGL",
    "SGP4",
    "SHL-0.5",
    "SHL-0.51",
    "SimPL-2.0",
    "SISSL",
    "SISSL-1.2",
    "SL",
    "Sleepycat",
    "SMAIL-GPL",
    "SMLNJ",
    "SMPPL",
    "SNIA",
    "snprintf",
    "SOFA",
    "softSurfer",
    "Soundex",
    "Spencer-86",
    "Spencer-94",
    "Spencer-99",
    "SPL-1.0",
    "ssh-keyscan",
    "SSH-OpenSSH",
    "SSH-short",
    "SSLeay-standalone",
    "SSPL-1.0",
    "StandardML-NJ",
    "SugarCRM-1.1.3",
    "SUL-1.0",
    "Sun-PPP",
    "Sun-PPP-2000",
    "SunPro",
    "SWL",
    "swrule",
    "Symlinks",
    "TAPR-OHL-1.0",
    "TCL",
    "TCP-wrappers",
    "TermReadKey",
    "TGPPL-1.0",
    "ThirdEye",
    "threeparttable",
    "TMate",
    "TORQUE-1.1",
    "TOSL",
    "TPDL",
    "TPL-1.0",
    "TrustedQSL",
    "TTWL",
    "TTYP0",
    "TU-Berlin-1.0",
    "TU-Berlin-2.0",
    "Ubuntu-font-1.0",
    "UCAR",
    "UCL-1.0",
    "ulem",
    "UMich-Merit",
    "Unicode-3.0",
    "Unicode-DFS-2015",
    "Unicode-DFS-2016",
    "Unicode-TOU",
    "UnixCrypt",
    "Unlicense",
    "Unlicense-libtelnet",
    "Unlicense-libwhirlpool",
    "UPL-1.0",
    "URT-RLE",
    "Verbatim-man-pages",
    "Vim",
    "VOSTROM",
    "VSL-1.0",
    "W3C",
    "W3C-19980720",
    "W3C-20150513",
    "w3m",
    "Watcom-1.0",
    "Widget-Workshop",
    "Wsuipa",
    "WTFPL",
    "wwl",
    "wxWindows",
    "X11",
    "X11-distribute-modifications-variant",
    "X11-swapped",
    "Xdebug-1.03",
    "Xerox",
    "Xfig",
    "XFree86-1.1",
    "xinetd",
    "xkeyboard-config-Zinoviev",
    "xlock",
    "Xnet",
    "xpp",
    "XSkat",
    "xzoom",
    "YPL-1.0",
    "YPL-1.1",
    "Zed",
    "Zeeff",
    "Zend-2.0",
    "Zimbra-1.3",
    "Zimbra-1.4",
    "Zlib",
    "zlib-acknowledgement",
    "ZPL-1.1",
    "ZPL-2.0",
    "ZPL-2.1",
];

/// SPDX license exception ids (88), sorted by lowercase.
const EXCEPTION_IDS: &[&str] = &[
    "389-exception",
    "Assembly-exception",
    "Asterisk-exception",
    "Asterisk-linking-protocols-exception",
    "Autoconf-exception-2.0",
    "Autoconf-exception-3.0",
    "Autoconf-exception-generic",
    "Autoconf-exception-generic-3.0",
    "Autoconf-exception-macro",
    "Bison-exception-1.24",
    "Bison-exception-2.2",
    "Bootloader-exception",
    "CGAL-linking-exception",
    "Classpath-exception-2.0",
    "CLISP-exception-2.0",
    "cryptsetup-OpenSSL-exception",
    "Digia-Qt-LGPL-exception-1.1",
    "DigiRule-FOSS-exception",
    "eCos-2.0",
    "eCos-exception-2.0",
    "erlang-otp-linking-exception",
    "Fawkes-Runtime-exception",
    "FLTK-exception",
    "fmt-exception",
    "Font-exception-2.0",
    "freertos-exception-2.0",
    "GCC-exception-2.0",
    "GCC-exception-2.0-note",
    "GCC-exception-3.1",
    "Gmsh-exception",
    "GNAT-exception",
    "GNOME-examples-exception",
    "GNU-compiler-exception",
    "gnu-javamail-exception",
    "GPL-2.0-with-autoconf-exception",
    "GPL-2.0-with-classpath-exception",
    "GPL-2.0-with-font-exception",
    "GPL-2.0-with-GCC-exception",
    "GPL-3.0-389-ds-base-exception",
    "GPL-3.0-interface-exception",
    "GPL-3.0-linking-exception",
    "GPL-3.0-linking-source-exception",
    "GPL-3.0-with-autoconf-exception",
    "GPL-3.0-with-GCC-exception",
    "GPL-CC-1.0",
    "GStreamer-exception-2005",
    "GStreamer-exception-2008",
    "harbour-exception",
    "i2p-gpl-java-exception",
    "Independent-modules-exception",
    "KiCad-libraries-exception",
    "LGPL-3.0-linking-exception",
    "libpri-OpenH323-exception",
    "Libtool-exception",
    "Linux-syscall-note",
    "LLGPL",
    "LLVM-exception",
    "LZMA-exception",
    "mif-exception",
    "MPL-2.0-no-copyleft-exception",
    "mxml-exception",
    "Nokia-Qt-exception-1.1",
    "OCaml-LGPL-linking-exception",
    "OCCT-exception-1.0",
    "OpenJDK-assembly-exception-1.0",
    "openvpn-openssl-exception",
    "PCRE2-exception",
    "polyparse-exception",
    "PS-or-PDF-font-exception-20170817",
    "QPL-1.0-INRIA-2004-exception",
    "Qt-GPL-exception-1.0",
    "Qt-LGPL-exception-1.1",
    "Qwt-exception-1.0",
    "romic-exception",
    "RRDtool-FLOSS-exception-2.0",
    "SANE-exception",
    "SHL-2.0",
    "SHL-2.1",
    "stunnel-exception",
    "SWI-exception",
    "Swift-exception",
    "Texinfo-exception",
    "u-boot-exception-2.0",
    "UBDL-exception",
    "Universal-FOSS-exception-1.0",
    "vsftpd-openssl-exception",
    "WxWindows-exception-3.1",
    "x11vnc-openssl-exception",
];
