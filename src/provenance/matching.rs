//! Provenance matching, parsed rather than pattern-matched: source URIs
//! (scheme, host, path, ref), builder ids (name and version) and version
//! tags (Go's `golang.org/x/mod/semver`, which slsa-verifier uses).
//!
//! The rules are in [`parse_uri`]'s documentation.

use std::fmt;

/// A parsed git source or builder URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUri {
    /// The scheme, lowercased (`git+https`, `https`).
    pub scheme: String,
    /// The host (with `:port` if given), lowercased.
    pub host: String,
    /// The path without leading or trailing `/` and without a trailing `.git`.
    pub path: String,
    /// What follows the first `@` after the host (a git ref, a builder
    /// version), if any.
    pub version: Option<String>,
}

impl ParsedUri {
    /// `host/path`: what two URIs must share to name one repository.
    pub fn location(&self) -> String {
        format!("{}/{}", self.host, self.path)
    }
}

/// Why a URI was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// No `scheme://`.
    #[error("no scheme")]
    NoScheme,
    /// `user@` before the host: the host is what follows it.
    #[error("user info before the host")]
    UserInfo,
    /// An empty host or one with characters a DNS name does not have.
    #[error("bad host")]
    BadHost,
    /// An empty path, an empty, `.` or `..` segment, or a character that
    /// could hide one (`%`, `\`).
    #[error("bad path")]
    BadPath,
    /// `@` with nothing after it.
    #[error("empty version or ref after `@`")]
    EmptyVersion,
    /// A query, fragment, space or control character.
    #[error("query, fragment, space or control character")]
    BadCharacter,
}

/// Parses `scheme://host/path[@version]`. The rules custodia's provenance
/// matching follows:
///
/// | input | rule |
/// | --- | --- |
/// | source URI | `scheme://host/path[@ref]`; scheme `git+https` (or `https`, as Google Cloud Build writes) unless the caller allows another; no user info; a host of letters, digits, `-` and `.`, and an optional numeric port; path segments non-empty and never `.` or `..`; no `%`, `\`, `?`, `#`, spaces or controls; a trailing `.git` or `/` is ignored |
/// | expected source (`github.com/o/r`) | as slsa-verifier's `NormalizeGitURI`: no scheme means `git+https://`, `https://…` means `git+https://…` |
/// | builder id | `scheme://host/path[@version]` with the same host and path rules; a trusted id with a version matches that version (or `refs/tags/<it>`, as slsa-verifier); one without matches the unversioned id or a version **tag** (`vX[.Y[.Z]]` semver, optionally under `refs/tags/`), never a branch, an empty version or a path |
/// | versioned tag | slsa-verifier's `VerifyVersionedTag`: expected `vX`, `vX.Y` or `vX.Y.Z[-pre][+build]`; the tag's major (and minor, and patch with pre-release, when given) must equal; build metadata is ignored; leading zeros, `v1.2-rc` and non-`v` tags are not semver |
///
/// ```
/// use custodia::provenance::parse_uri;
/// let u = parse_uri("git+https://github.com/acme/app.git@refs/tags/v1.2.3")?;
/// assert_eq!((u.scheme.as_str(), u.location().as_str()), ("git+https", "github.com/acme/app"));
/// assert_eq!(u.version.as_deref(), Some("refs/tags/v1.2.3"));
/// // The host of `https://ci.acme.dev@evil.example/b` is evil.example: refused.
/// assert!(parse_uri("https://ci.acme.dev@evil.example/b").is_err());
/// assert!(parse_uri("https://ci.acme.dev/linux@v2/../../evil").is_ok()); // a version, see builder_id_matches
/// assert!(parse_uri("https://ci.acme.dev/a/../evil").is_err());
/// # Ok::<(), custodia::provenance::UriError>(())
/// ```
pub fn parse_uri(uri: &str) -> Result<ParsedUri, UriError> {
    if uri
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '?' || c == '#')
    {
        return Err(UriError::BadCharacter);
    }
    let (scheme, rest) = uri.split_once("://").ok_or(UriError::NoScheme)?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(UriError::NoScheme);
    }
    let (authority, after) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(UriError::UserInfo);
    }
    let (host, port) = authority.split_once(':').unwrap_or((authority, "1"));
    if host.is_empty()
        || host.starts_with(['.', '-'])
        || host.ends_with(['.', '-'])
        || host.contains("..")
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        || port.is_empty()
        || !port.chars().all(|c| c.is_ascii_digit())
    {
        return Err(UriError::BadHost);
    }
    let (path, version) = match after.split_once('@') {
        Some((_, "")) => return Err(UriError::EmptyVersion),
        Some((p, v)) => (p, Some(v.to_owned())),
        None => (after, None),
    };
    let path = path.strip_suffix('/').unwrap_or(path);
    let path = path.strip_suffix(".git").unwrap_or(path);
    if path.is_empty()
        || path.contains(['%', '\\'])
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(UriError::BadPath);
    }
    Ok(ParsedUri {
        scheme: scheme.to_ascii_lowercase(),
        host: authority.to_ascii_lowercase(),
        path: path.to_owned(),
        version,
    })
}

/// One place where a provenance names its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourcePlace {
    /// Where: `resolvedDependencies[0].uri`, `externalParameters.workflow`, ...
    pub(crate) place: String,
    /// The URI as written (GitHub's `workflow.repository` given `git+`).
    pub(crate) uri: String,
    /// A ref given beside the URI (`workflow.ref`).
    pub(crate) git_ref: Option<String>,
}

/// Every place a provenance predicate names its source:
/// v1: the first `git+` resolved dependency, `externalParameters.workflow`
/// (`repository`, `ref`), `externalParameters.source` and
/// `externalParameters.buildConfigSource` (a URI, or `uri`/`repository` and
/// `ref`); v0.2: `invocation.configSource.uri` and `materials[0].uri`;
/// v0.1: the recipe's material (else the first).
pub(crate) fn source_places(
    predicate_type: &str,
    predicate: &serde_json::Value,
) -> Vec<SourcePlace> {
    use serde_json::Value;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    let mut push = |place: String, uri: Option<String>, git_ref: Option<String>| {
        if let Some(uri) = uri {
            out.push(SourcePlace {
                place,
                uri,
                git_ref,
            });
        }
    };
    match predicate_type {
        crate::predicate::slsa_provenance::PROVENANCE_V1 => {
            let deps = predicate
                .pointer("/buildDefinition/resolvedDependencies")
                .and_then(Value::as_array);
            if let Some((i, uri)) = deps.into_iter().flatten().enumerate().find_map(|(i, d)| {
                d.get("uri")
                    .and_then(Value::as_str)
                    .filter(|u| u.starts_with("git+"))
                    .map(|u| (i, u.to_owned()))
            }) {
                push(format!("resolvedDependencies[{i}].uri"), Some(uri), None);
            }
            let ext = predicate.pointer("/buildDefinition/externalParameters");
            for key in ["workflow", "source", "buildConfigSource"] {
                let Some(v) = ext.and_then(|e| e.get(key)) else {
                    continue;
                };
                let place = format!("externalParameters.{key}");
                match v {
                    Value::String(uri) => push(place, Some(uri.clone()), None),
                    Value::Object(o) => {
                        let uri = text(o.get("repository").or_else(|| o.get("uri")));
                        // GitHub writes `https://github.com/o/r` here.
                        let uri = uri.map(|u| {
                            if key == "workflow" {
                                normalize_git_uri(&u)
                            } else {
                                u
                            }
                        });
                        push(place, uri, text(o.get("ref")));
                    }
                    _ => {}
                }
            }
        }
        crate::predicate::slsa_provenance::PROVENANCE_V0_2 => {
            let config =
                text(predicate.pointer("/invocation/configSource/uri")).filter(|u| !u.is_empty());
            push("invocation.configSource.uri".into(), config, None);
            push(
                "materials[0].uri".into(),
                text(predicate.pointer("/materials/0/uri")),
                None,
            );
        }
        _ => {
            let index = predicate
                .pointer("/recipe/definedInMaterial")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let uri = text(predicate.pointer(&format!("/materials/{index}/uri")))
                .or_else(|| text(predicate.pointer("/materials/0/uri")));
            push(format!("materials[{index}].uri"), uri, None);
        }
    }
    out
}

/// Why the places naming a source do not name the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceMismatch {
    /// A place names another repository, over a scheme not allowed, or not
    /// as a valid URI; or none names a source; or the expectation is bad.
    Repository(String),
    /// Every place names the repository, but their refs disagree.
    Refs {
        /// What did match.
        summary: String,
        /// Which refs disagree.
        reason: String,
    },
}

/// Every place must name the `expected` repository (normalized as
/// slsa-verifier's `--source-uri`) over one of `schemes`, and the refs the
/// places give must agree. Ok: a summary of what matched.
pub(crate) fn match_source(
    places: &[SourcePlace],
    expected: &str,
    schemes: &[String],
) -> Result<String, SourceMismatch> {
    use crate::digest::shorten;
    let want = match parse_uri(&normalize_git_uri(expected)) {
        Ok(w) if w.version.is_none() => w,
        Ok(w) => {
            let found: Vec<String> = places
                .iter()
                .map(|p| format!("`{}`", shorten(&p.uri)))
                .collect();
            return Err(SourceMismatch::Repository(format!(
                "expected `{}@{}`, a repository with a ref (expect refs with a branch, tag \
                 or versioned tag); provenance names {}",
                w.location(),
                shorten(w.version.as_deref().unwrap_or_default()),
                if found.is_empty() {
                    "no source".to_owned()
                } else {
                    found.join(", ")
                }
            )));
        }
        Err(_) => {
            return Err(SourceMismatch::Repository(format!(
                "the expected source `{}` is not a repository URI",
                shorten(expected)
            )));
        }
    };
    if places.is_empty() {
        return Err(SourceMismatch::Repository(format!(
            "expected `{}`, provenance names no source",
            want.location()
        )));
    }
    let mut refs: Vec<(&str, String)> = Vec::new();
    for place in places {
        let shown = shorten(&place.uri);
        let found = match parse_uri(&place.uri) {
            Err(e) => Err(format!("`{shown}` is not a valid source URI ({e})")),
            Ok(found) if found.location() != want.location() => Err(format!(
                "expected `{}`, it names `{shown}`",
                want.location()
            )),
            Ok(found) if !schemes.contains(&found.scheme) => Err(format!(
                "`{shown}` is fetched over `{}`, expected `{}`",
                found.scheme,
                schemes.join("` or `")
            )),
            Ok(found) => Ok(found),
        };
        let found = found
            .map_err(|problem| SourceMismatch::Repository(format!("{}: {problem}", place.place)))?;
        refs.extend(
            found
                .version
                .into_iter()
                .chain(place.git_ref.clone())
                .map(|r| (place.place.as_str(), r)),
        );
    }
    let names: Vec<&str> = places.iter().map(|p| p.place.as_str()).collect();
    let summary = format!("`{}` ({})", want.location(), names.join(", "));
    if let Some(((first_place, first), (other_place, other))) = refs
        .first()
        .and_then(|f| refs.iter().find(|r| r.1 != f.1).map(|o| (f, o)))
    {
        return Err(SourceMismatch::Refs {
            summary,
            reason: format!(
                "{first_place} gives ref `{}`, {other_place} gives `{}`",
                shorten(first),
                shorten(other)
            ),
        });
    }
    Ok(summary)
}

/// slsa-verifier's `NormalizeGitURI`: `github.com/o/r` and
/// `https://github.com/o/r` become `git+https://github.com/o/r`.
pub fn normalize_git_uri(uri: &str) -> String {
    if uri.starts_with("git+") {
        uri.to_owned()
    } else if uri.contains("://") {
        format!("git+{uri}")
    } else {
        format!("git+https://{uri}")
    }
}

/// Whether a builder `id` is trusted by `pattern` (see [`parse_uri`]): both parse; the names (scheme, host, path) are equal; a
/// versioned pattern needs that version (or `refs/tags/<version>`), an
/// unversioned one accepts no version or a version tag.
///
/// ```
/// use custodia::provenance::builder_id_matches;
/// let p = "https://github.com/org/b/.github/workflows/b.yml";
/// assert!(builder_id_matches(p, &format!("{p}@refs/tags/v2.1.0")));
/// assert!(!builder_id_matches(p, &format!("{p}@refs/heads/evil-branch")));
/// assert!(!builder_id_matches(p, &format!("{p}@")));
/// assert!(!builder_id_matches("https://ci.acme.dev/linux", "https://ci.acme.dev/linux@v2/../../evil"));
/// assert!(!builder_id_matches("https://ci.acme.dev", "https://ci.acme.dev@evil.example/b"));
/// ```
pub fn builder_id_matches(pattern: &str, id: &str) -> bool {
    match_builder(pattern, id).is_ok()
}

/// Why a builder id is not trusted by a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BuilderMismatch {
    Pattern(UriError),
    Id(UriError),
    Name,
    Version,
    NotATag,
}

impl fmt::Display for BuilderMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pattern(e) => write!(f, "the trusted id is not a valid URI ({e})"),
            Self::Id(e) => write!(f, "not a valid builder URI ({e})"),
            Self::Name => f.write_str("another builder"),
            Self::Version => f.write_str("another version"),
            Self::NotATag => f.write_str("its version is not a version tag"),
        }
    }
}

pub(crate) fn match_builder(pattern: &str, id: &str) -> Result<(), BuilderMismatch> {
    let want = parse_uri(pattern).map_err(BuilderMismatch::Pattern)?;
    let got = parse_uri(id).map_err(BuilderMismatch::Id)?;
    if (&want.scheme, &want.host, &want.path) != (&got.scheme, &got.host, &got.path) {
        return Err(BuilderMismatch::Name);
    }
    match (&want.version, &got.version) {
        (Some(w), Some(g)) if w == g || g.strip_prefix("refs/tags/") == Some(w.as_str()) => Ok(()),
        (Some(_), _) => Err(BuilderMismatch::Version),
        (None, None) => Ok(()),
        (None, Some(g)) if is_version_tag(g.strip_prefix("refs/tags/").unwrap_or(g)) => Ok(()),
        (None, Some(_)) => Err(BuilderMismatch::NotATag),
    }
}

/// `vX`, `vX.Y` or `vX.Y.Z[-pre]` (semver, no build metadata).
fn is_version_tag(tag: &str) -> bool {
    semver::parse(tag).is_some_and(|p| p.build.is_empty())
}

/// Why a versioned tag does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagMismatch {
    /// The expected version is not semver.
    ExpectedNotSemver,
    /// The ref is not a tag (`refs/tags/…`).
    NotATag,
    /// The tag is not semver.
    TagNotSemver,
    /// A version component differs.
    Differs,
}

impl fmt::Display for TagMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ExpectedNotSemver => "the expected version is not semver (vX, vX.Y or vX.Y.Z)",
            Self::NotATag => "not a tag ref",
            Self::TagNotSemver => "the tag is not semver",
            Self::Differs => "another version",
        })
    }
}

/// slsa-verifier's `VerifyVersionedTag` on a full ref.
pub(crate) fn match_versioned_ref(expected: &str, git_ref: &str) -> Result<(), TagMismatch> {
    let tag = git_ref
        .strip_prefix("refs/tags/")
        .filter(|t| !t.is_empty())
        .ok_or(TagMismatch::NotATag)?;
    match_versioned_tag(expected, tag)
}

/// slsa-verifier's `VerifyVersionedTag`, except that the pre-release is
/// compared whole (upstream compares only up to its first `.`).
pub(crate) fn match_versioned_tag(expected: &str, tag: &str) -> Result<(), TagMismatch> {
    let want = semver::parse(expected).ok_or(TagMismatch::ExpectedNotSemver)?;
    let got = semver::parse(tag).ok_or(TagMismatch::TagNotSemver)?;
    let same = want.major == got.major
        && want
            .minor
            .is_none_or(|m| Some(m) == got.minor.or(Some("0")))
        && want.patch.is_none_or(|p| {
            Some(p) == got.patch.or(Some("0")) && want.prerelease == got.prerelease
        });
    if same {
        Ok(())
    } else {
        Err(TagMismatch::Differs)
    }
}

/// `v1`/`v1.2`/`v1.2.3`: whether `tag` is within `pattern` (see
/// [`parse_uri`]).
///
/// ```
/// use custodia::provenance::versioned_tag_matches;
/// assert!(versioned_tag_matches("v1.4", "v1.4.9"));
/// assert!(!versioned_tag_matches("v1.4.2", "v1.4.2-rc1"));
/// assert!(!versioned_tag_matches("v1.4.2", "v01.04.002"));
/// assert!(versioned_tag_matches("v1.4.2", "v1.4.2+build.7"));
/// ```
pub fn versioned_tag_matches(pattern: &str, tag: &str) -> bool {
    match_versioned_tag(pattern, tag).is_ok()
}

/// Go's `golang.org/x/mod/semver` syntax.
pub(crate) mod semver {
    /// A parsed version; `minor`/`patch` are None in the `vX`/`vX.Y`
    /// shorthands (which take no pre-release or build).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Parsed<'a> {
        pub(crate) major: &'a str,
        pub(crate) minor: Option<&'a str>,
        pub(crate) patch: Option<&'a str>,
        pub(crate) prerelease: &'a str,
        pub(crate) build: &'a str,
    }

    fn number(s: &str) -> Option<(&str, &str)> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, rest) = s.split_at(end);
        (!n.is_empty() && (n == "0" || !n.starts_with('0'))).then_some((n, rest))
    }

    fn identifiers(s: &str, numeric_rule: bool) -> bool {
        s.split('.').all(|id| {
            !id.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !(numeric_rule
                    && id.len() > 1
                    && id.starts_with('0')
                    && id.chars().all(|c| c.is_ascii_digit()))
        })
    }

    pub(crate) fn parse(v: &str) -> Option<Parsed<'_>> {
        let (major, rest) = number(v.strip_prefix('v')?)?;
        let mut p = Parsed {
            major,
            minor: None,
            patch: None,
            prerelease: "",
            build: "",
        };
        if rest.is_empty() {
            return Some(p);
        }
        let (minor, rest) = number(rest.strip_prefix('.')?)?;
        p.minor = Some(minor);
        if rest.is_empty() {
            return Some(p);
        }
        let (patch, rest) = number(rest.strip_prefix('.')?)?;
        p.patch = Some(patch);
        let (rest, build) = match rest.split_once('+') {
            Some((r, b)) if identifiers(b, false) => (r, b),
            Some(_) => return None,
            None => (rest, ""),
        };
        p.build = build;
        if rest.is_empty() {
            return Some(p);
        }
        let pre = rest.strip_prefix('-')?;
        identifiers(pre, true).then_some(Parsed {
            prerelease: pre,
            ..p
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_semver_syntax() {
        for ok in [
            "v1",
            "v1.2",
            "v1.2.3",
            "v1.2.3-rc.1",
            "v1.2.3+meta",
            "v0.0.0-0",
            "v1.2.3-x-y",
        ] {
            assert!(semver::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "1.2.3",
            "v01",
            "v1.02",
            "v1.2.03",
            "v1.2-rc",
            "v1+b",
            "v1.2.3-",
            "v1.2.3-01",
            "v1.2.3+",
            "v1.2.3-a..b",
            "vslsa1",
            "v",
            "",
        ] {
            assert!(semver::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn git_uris() {
        let ok = parse_uri("git+https://GitHub.com/acme/app/@refs/heads/main").unwrap();
        assert_eq!(ok.location(), "github.com/acme/app");
        for bad in [
            "github.com/acme/app",
            "git+https://x@github.com/acme/app",
            "git+https:///acme/app",
            "git+https://github.com/",
            "git+https://github.com/acme//app",
            "git+https://github.com/acme/%2e%2e/app",
            "git+https://github.com/acme/app@",
            "git+https://github.com/acme/app?x=1",
            "git+https://github.com:/acme/app",
            "git+https://github.com:x/acme/app",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
    }
}
