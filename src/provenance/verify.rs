//! Verifying provenance the way SLSA v1.0 "Verifying artifacts" tells
//! consumers to: a trusted signer, the right statement and predicate type,
//! the artifact among the subjects, then the expectations on builder,
//! source, ref and build type.

use std::collections::BTreeMap;

use serde_json::Value;

use super::matching::{
    SourceMismatch, SourcePlace, match_builder, match_source, match_versioned_ref, source_places,
};
use crate::digest::{DigestSet, elide_middle};
use crate::dsse::Envelope;
use crate::predicate::slsa_provenance::{
    PROVENANCE_V0_1, PROVENANCE_V0_2, PROVENANCE_V1, ProvenanceClaims,
};
use crate::report::{Check, Report};
use crate::statement::Statement;
use crate::trust::{Anchor, TrustAnchors};
use crate::verify::{check_predicate_type, check_subject, open_anchored};

/// Which ref the build must have come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefExpectation {
    /// `refs/heads/<branch>`.
    Branch(String),
    /// Exactly `refs/tags/<tag>`.
    Tag(String),
    /// A semantic-version tag that `vX`, `vX.Y` or `vX.Y.Z[-pre]` names, as
    /// slsa-verifier's `--source-versioned-tag`: `v1.2` accepts `v1.2.0`
    /// and `v1.2.7`, not `v1.3.0`; `v1.4.2` accepts `v1.4.2+build`, not
    /// `v1.4.2-rc1` or `v01.04.002`.
    VersionedTag(String),
    /// Exactly this full ref.
    Exact(String),
}

/// What provenance must say for an artifact to be accepted.
///
/// Trusted builder ids are required: a builder id with `@` must match
/// exactly; one without matches that builder at any version *tag*
/// (`https://github.com/org/builder.yml` accepts
/// `https://github.com/org/builder.yml@refs/tags/v2.1.0`, not
/// `...@refs/heads/main`). Source URIs, builder ids and tags are parsed
/// (see [`parse_uri`](super::parse_uri)): every place the provenance names
/// its source must name the expected repository over `git+https` (unless
/// [`ProvenanceExpectation::allow_source_scheme`] allows another), and the
/// refs they give must agree.
///
/// ```
/// use custodia::provenance::{BuildContext, SourceRef, ProvenanceExpectation, RefExpectation, verify_provenance};
/// use custodia::digest::DigestSet;
/// use custodia::dsse::Envelope;
/// use custodia::keys::{PrivateKey, KeyAlgorithm};
/// use custodia::statement::PAYLOAD_TYPE;
/// use custodia::time::Timestamp;
///
/// let artifact = DigestSet::of_bytes(b"app");
/// let mut source = SourceRef::new("https://github.com/acme/app");
/// source.git_ref = Some("refs/tags/v1.4.2".into());
/// let statement = BuildContext::new("https://ci.acme.dev/builder@v3")
///     .with_source(source)
///     .with_subject("app", artifact.clone())
///     .with_times(Timestamp::from_unix(0), Timestamp::from_unix(60))
///     .to_statement()?;
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json()?, &key)?;
/// let mut keys = custodia::trust::TrustAnchors::new();
/// keys.push(custodia::trust::Anchor::key("ci", key.public_key().clone()).with_roles(["builder"]))?;
///
/// let expect = ProvenanceExpectation::new(artifact, ["https://ci.acme.dev/builder"], "github.com/acme/app")
///     .with_ref(RefExpectation::VersionedTag("v1.4".into()));
/// let verified = verify_provenance(&envelope, &keys, &expect);
/// assert!(verified.report().verified(), "{}", verified.report());
/// assert_eq!(verified.signed_by()[0].identity(), "ci");
///
/// let wrong = expect.clone().with_ref(RefExpectation::Branch("main".into()));
/// let failed = verify_provenance(&envelope, &keys, &wrong);
/// assert_eq!(failed.report().first_failure().unwrap().name, "source-ref");
/// assert!(failed.signed_by().is_empty());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProvenanceExpectation {
    artifact: DigestSet,
    trusted_builders: Vec<String>,
    source_repository: String,
    refs: Vec<RefExpectation>,
    subject_name: Option<String>,
    build_type: Option<String>,
    inputs: BTreeMap<String, Value>,
    source_schemes: Vec<String>,
    threshold: usize,
}

impl ProvenanceExpectation {
    /// The artifact's digests, the builder ids trusted to build it, and the
    /// source repository it must come from (`github.com/org/repo`, or a URI
    /// such as `https://github.com/org/repo`; a trailing `.git` is ignored).
    pub fn new<I, S>(artifact: DigestSet, trusted_builders: I, source_repository: &str) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            artifact,
            trusted_builders: trusted_builders.into_iter().map(Into::into).collect(),
            source_repository: source_repository.to_owned(),
            refs: Vec::new(),
            subject_name: None,
            build_type: None,
            inputs: BTreeMap::new(),
            source_schemes: vec!["git+https".to_owned(), "https".to_owned()],
            threshold: 1,
        }
    }

    /// Also accepts sources over this scheme (`git+ssh`, `git+http`);
    /// only `git+https` (and plain `https`, which Google Cloud Build
    /// writes) is accepted otherwise.
    pub fn allow_source_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.source_schemes.push(scheme.into().to_ascii_lowercase());
        self
    }

    /// Requires the build to come from this ref. Calling it again adds
    /// another requirement (all must hold, each is its own `source-ref`
    /// check).
    pub fn with_ref(mut self, expected: RefExpectation) -> Self {
        self.refs.push(expected);
        self
    }

    /// Requires the subject that matches the artifact to have this name
    /// (e.g. the purl `pkg:npm/sigstore@2.3.1` npm provenance uses).
    pub fn with_subject_name(mut self, name: impl Into<String>) -> Self {
        self.subject_name = Some(name.into());
        self
    }

    /// Requires this build type.
    pub fn with_build_type(mut self, build_type: impl Into<String>) -> Self {
        self.build_type = Some(build_type.into());
        self
    }

    /// Requires a workflow input to be this string (slsa-verifier's
    /// `--build-workflow-input`): `true` matches the input `"true"`, not
    /// the boolean `true`.
    pub fn with_input(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inputs.insert(name.into(), Value::String(value.into()));
        self
    }

    /// Requires a workflow input to be exactly this JSON value (type and
    /// value: the boolean `true` is not the string `"true"`).
    pub fn with_input_value(mut self, name: impl Into<String>, value: Value) -> Self {
        self.inputs.insert(name.into(), value);
        self
    }

    /// Requires `threshold` distinct trusted signers (at least 1).
    pub fn with_threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold.max(1);
        self
    }

    /// The artifact's digests.
    #[cfg_attr(not(feature = "sigstore"), allow(dead_code))]
    pub(crate) fn artifact(&self) -> &DigestSet {
        &self.artifact
    }
}

/// The outcome of provenance verification: the report, and the claims only
/// when every check passed.
#[derive(Debug, Clone)]
pub struct VerifiedProvenance {
    report: Report,
    claims: Option<ProvenanceClaims>,
    signed_by: Vec<Anchor>,
}

impl VerifiedProvenance {
    /// A result from checks made elsewhere (a Sigstore bundle); the claims
    /// and signers are kept only when the report verified.
    pub(crate) fn from_parts(
        report: Report,
        claims: Option<ProvenanceClaims>,
        signed_by: Vec<Anchor>,
    ) -> Self {
        let verified = report.verified();
        Self {
            claims: claims.filter(|_| verified),
            signed_by: if verified { signed_by } else { Vec::new() },
            report,
        }
    }

    /// The trust anchors whose signatures counted (identity and roles);
    /// empty unless verified, and for a statement checked without its
    /// signature ([`verify_provenance_statement`]).
    pub fn signed_by(&self) -> &[Anchor] {
        &self.signed_by
    }

    /// All checks, in order.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The verified claims.
    pub fn claims(&self) -> Option<&ProvenanceClaims> {
        self.claims.as_ref()
    }
}

/// Verifies a signed provenance envelope. Checks, in order: `signature[i]`
/// and `threshold`, `payload-type`, `statement`, `predicate-type`,
/// `predicate`, `subject`, `builder-id`, `source-repository`, then
/// `source-ref`, `build-type` and `input:<name>` when expected.
pub fn verify_provenance(
    envelope: &Envelope,
    anchors: &TrustAnchors,
    expected: &ProvenanceExpectation,
) -> VerifiedProvenance {
    let mut report = Report::new();
    match open_anchored(envelope, anchors, expected.threshold, &mut report) {
        Some((statement, signed_by)) => {
            let claims = check_claims(&statement, expected, &mut report);
            VerifiedProvenance::from_parts(report, claims, signed_by)
        }
        None => VerifiedProvenance::from_parts(report, None, Vec::new()),
    }
}

/// Verifies many provenance envelopes in parallel (rayon's global pool),
/// each against its own expectation; results are in input order and equal
/// to calling [`verify_provenance`] on each.
///
/// ```
/// # use custodia::provenance::*;
/// # use custodia::{digest::DigestSet, dsse::Envelope, keys::*, statement::PAYLOAD_TYPE, time::Timestamp};
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let keys: custodia::trust::TrustAnchors = [key.public_key().clone()].into_iter().collect();
/// let mut jobs = Vec::new();
/// for i in 0..4u8 {
///     let artifact = DigestSet::of_bytes(&[i]);
///     let st = BuildContext::new("https://ci.acme.dev/b")
///         .with_source(SourceRef::new("https://github.com/acme/app"))
///         .with_subject("a", artifact.clone())
///         .with_times(Timestamp::from_unix(0), Timestamp::from_unix(1))
///         .to_statement()?;
///     let env = Envelope::sign(PAYLOAD_TYPE, st.to_json()?, &key)?;
///     jobs.push((env, ProvenanceExpectation::new(artifact, ["https://ci.acme.dev/b"], "github.com/acme/app")));
/// }
/// let refs: Vec<_> = jobs.iter().map(|(e, x)| (e, x)).collect();
/// let results = verify_provenance_batch(&refs, &keys);
/// assert!(results.iter().all(|r| r.report().verified()));
/// # Ok::<(), custodia::Error>(())
/// ```
#[cfg(feature = "rayon")]
pub fn verify_provenance_batch(
    jobs: &[(&Envelope, &ProvenanceExpectation)],
    anchors: &TrustAnchors,
) -> Vec<VerifiedProvenance> {
    use rayon::prelude::*;
    jobs.par_iter()
        .map(|(envelope, expected)| verify_provenance(envelope, anchors, expected))
        .collect()
}

/// The statement checks of [`verify_provenance`], for a statement whose
/// signature was checked elsewhere (a Sigstore bundle, an OCI referrer).
/// The report has no signature checks, so it says nothing about who signed.
pub fn verify_provenance_statement(
    statement: &Statement,
    expected: &ProvenanceExpectation,
) -> VerifiedProvenance {
    let mut report = Report::new();
    let claims = check_claims(statement, expected, &mut report);
    VerifiedProvenance::from_parts(report, claims, Vec::new())
}

fn check_claims(
    statement: &Statement,
    expected: &ProvenanceExpectation,
    report: &mut Report,
) -> Option<ProvenanceClaims> {
    if !check_predicate_type(
        statement,
        &[PROVENANCE_V1, PROVENANCE_V0_2, PROVENANCE_V0_1],
        report,
    ) {
        return None;
    }
    let claims = match ProvenanceClaims::from_statement(statement) {
        Ok(c) => {
            report.push(Check::pass(
                "predicate",
                format!("SLSA provenance {} parsed", c.version),
            ));
            c
        }
        Err(e) => {
            report.push(Check::fail("predicate", e.to_string()));
            return None;
        }
    };
    check_subject(statement, &expected.artifact, report);
    check_builder(&claims, &expected.trusted_builders, report);
    match statement.predicate_value() {
        Ok(predicate) => check_source(
            &source_places(statement.predicate_type(), &predicate),
            expected,
            report,
        ),
        Err(e) => report.push(Check::fail("source-repository", e.to_string())),
    }
    if let Some(name) = &expected.subject_name {
        check_subject_name(statement, &expected.artifact, name, report);
    }
    for git_ref in &expected.refs {
        check_ref(&claims, git_ref, report);
    }
    if let Some(build_type) = &expected.build_type {
        report.push(if &claims.build_type == build_type {
            Check::pass("build-type", build_type)
        } else {
            Check::fail(
                "build-type",
                format!(
                    "expected `{build_type}`, provenance has `{}`",
                    claims.build_type
                ),
            )
        });
    }
    for (name, want) in &expected.inputs {
        let check = format!("input:{name}");
        let found = claims.inputs.as_ref().and_then(|i| i.get(name));
        report.push(match found {
            Some(v) if v == want => Check::pass(check, input_text(v)),
            Some(v) => Check::fail(
                check,
                format!(
                    "expected {}, provenance has {}",
                    input_text(want),
                    input_text(v)
                ),
            ),
            None => Check::fail(
                check,
                format!(
                    "expected {}, provenance records no such input",
                    input_text(want)
                ),
            ),
        });
    }
    Some(claims)
}

/// A workflow input for people: a string as `text`, anything else with
/// its JSON type (the string `true` and the boolean `true` differ).
fn input_text(v: &Value) -> String {
    use crate::digest::shorten;
    match v {
        Value::String(s) => format!("`{}`", shorten(s)),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::Null => "`null`".to_owned(),
        other => format!("the JSON `{}`", shorten(&other.to_string())),
    }
}

fn check_subject_name(
    statement: &Statement,
    artifact: &DigestSet,
    name: &str,
    report: &mut Report,
) {
    let found = statement
        .subject_matching(artifact)
        .ok()
        .and_then(|s| s.name.as_deref());
    report.push(match found {
        Some(n) if n == name => Check::pass("subject-name", format!("`{n}`")),
        Some(n) => Check::fail(
            "subject-name",
            format!(
                "expected `{name}`, the artifact's subject is named `{}`",
                elide_middle(n, 400)
            ),
        ),
        None => Check::fail(
            "subject-name",
            format!("expected `{name}`, no named subject identifies the artifact"),
        ),
    });
}

fn check_builder(claims: &ProvenanceClaims, trusted: &[String], report: &mut Report) {
    let id = &claims.builder_id;
    report.push(if trusted.is_empty() {
        Check::fail("builder-id", "no trusted builder ids were given")
    } else if let Some(pattern) = trusted.iter().find(|p| match_builder(p, id).is_ok()) {
        Check::pass("builder-id", format!("`{id}` is trusted (`{pattern}`)"))
    } else {
        // The closest reason: the first pattern of the same builder, else
        // the first pattern.
        let reason = trusted
            .iter()
            .filter_map(|p| match_builder(p, id).err())
            .min_by_key(|e| matches!(e, super::matching::BuilderMismatch::Name))
            .map(|e| e.to_string())
            .unwrap_or_default();
        Check::fail(
            "builder-id",
            format!(
                "`{}` is not a trusted builder: {reason} (trusted: `{}`)",
                elide_middle(id, 400),
                trusted.join("`, `")
            ),
        )
    });
}

fn check_source(places: &[SourcePlace], expected: &ProvenanceExpectation, report: &mut Report) {
    match match_source(
        places,
        &expected.source_repository,
        &expected.source_schemes,
    ) {
        Ok(summary) => report.push(Check::pass("source-repository", summary)),
        Err(SourceMismatch::Refs { summary, reason }) => {
            report.push(Check::pass("source-repository", summary));
            report.push(Check::fail("source-consistency", reason));
        }
        Err(SourceMismatch::Repository(reason)) => {
            report.push(Check::fail("source-repository", reason));
        }
    }
}

fn check_ref(claims: &ProvenanceClaims, expected: &RefExpectation, report: &mut Report) {
    let found = claims.source.as_ref().and_then(|s| s.git_ref.as_deref());
    let (ok, wanted) = match expected {
        RefExpectation::Branch(b) => {
            let want = format!("refs/heads/{b}");
            (found == Some(want.as_str()), format!("branch `{b}`"))
        }
        RefExpectation::Tag(t) => {
            let want = format!("refs/tags/{t}");
            (found == Some(want.as_str()), format!("tag `{t}`"))
        }
        RefExpectation::VersionedTag(t) => {
            let outcome = found.map(|r| match_versioned_ref(t, r));
            let why = match outcome {
                Some(Err(e)) => format!(" ({e})"),
                _ => String::new(),
            };
            (
                outcome.is_some_and(|o| o.is_ok()),
                format!("a tag within `{t}`{why}"),
            )
        }
        RefExpectation::Exact(r) => (found == Some(r.as_str()), format!("ref `{r}`")),
    };
    report.push(match (ok, found) {
        (true, Some(r)) => Check::pass("source-ref", format!("`{r}`")),
        (_, Some(r)) => Check::fail(
            "source-ref",
            format!("expected {wanted}, provenance records `{r}`"),
        ),
        (_, None) => Check::fail(
            "source-ref",
            format!("expected {wanted}, provenance records no ref"),
        ),
    });
}
