//! One call that binds signature, payload type, statement, predicate type
//! and subject digest.
//!
//! A caller cannot check a signature and forget the subject: an
//! [`Expectation`] is built from the predicate type and the artifact's
//! digests, and [`verify_attestation`] runs every check in order, stopping
//! before parsing a payload that no trusted key signed.

use crate::digest::DigestSet;
use crate::dsse::{Envelope, SignatureVerification};
use crate::keys::KeySet;
use crate::report::{Check, Report};
use crate::statement::{PAYLOAD_TYPE, Statement};
use crate::trust::{Anchor, TrustAnchors};

/// What an attestation must say, and who must have signed it.
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::dsse::Envelope;
/// use custodia::keys::{PrivateKey, KeyAlgorithm};
/// use custodia::resource::ResourceDescriptor;
/// use custodia::statement::{Statement, PAYLOAD_TYPE};
/// use custodia::trust::{Anchor, TrustAnchors};
/// use custodia::verify::{verify_attestation, Expectation};
///
/// let artifact = b"the release tarball";
/// let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
/// let st = Statement::new_untyped(
///     vec![ResourceDescriptor::new("app.tgz", DigestSet::of_bytes(artifact))],
///     "https://example.com/tested/v1",
///     serde_json::json!({"passed": true}),
/// )?;
/// let env = Envelope::sign(PAYLOAD_TYPE, st.to_json()?, &key)?;
///
/// let mut anchors = TrustAnchors::new();
/// anchors.push(Anchor::key("ci", key.public_key().clone()).with_roles(["tester"]))?;
/// let expect = Expectation::new("https://example.com/tested/v1", DigestSet::of_bytes(artifact));
/// let verified = verify_attestation(&env, &anchors, &expect);
/// assert!(verified.report().verified(), "{}", verified.report());
/// assert!(verified.statement().is_some());
/// assert_eq!(verified.signed_by()[0].identity(), "ci");
///
/// // The same envelope does not vouch for a rebuilt artifact.
/// let rebuilt = Expectation::new("https://example.com/tested/v1", DigestSet::of_bytes(b"rebuilt"));
/// let failed = verify_attestation(&env, &anchors, &rebuilt);
/// assert_eq!(failed.report().first_failure().unwrap().name, "subject");
/// assert!(failed.statement().is_none());
/// assert!(failed.signed_by().is_empty());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Expectation {
    predicate_type: String,
    artifact: DigestSet,
    threshold: usize,
}

impl Expectation {
    /// Expect a statement of `predicate_type` about the artifact with these
    /// digests, signed by at least one trusted key.
    ///
    /// With the artifact at hand, pass [`DigestSet::of_artifact`] (or
    /// [`crate::digest::hash_path_complete`]): every strong digest a
    /// subject lists is then computed and must agree, so a subject
    /// `{sha256: right, sha512: wrong}` fails. A digest known alone (a
    /// `--digest sha256:…`) establishes only that a subject lists that
    /// digest; the subject's other digests are not checked, because
    /// custodia has no bytes to check them against.
    pub fn new(predicate_type: impl Into<String>, artifact: DigestSet) -> Self {
        Self {
            predicate_type: predicate_type.into(),
            artifact,
            threshold: 1,
        }
    }

    /// The expected predicate type.
    #[cfg_attr(not(feature = "sigstore"), allow(dead_code))]
    pub(crate) fn predicate_type(&self) -> &str {
        &self.predicate_type
    }

    /// The artifact's digests.
    #[cfg_attr(not(feature = "sigstore"), allow(dead_code))]
    pub(crate) fn artifact(&self) -> &DigestSet {
        &self.artifact
    }

    /// Require `threshold` distinct trusted keys (at least 1).
    pub fn with_threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold.max(1);
        self
    }
}

/// The outcome of [`verify_attestation`]: the report, and the statement
/// only when every check passed.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    report: Report,
    statement: Option<Statement>,
    signed_by: Vec<Anchor>,
}

impl VerifiedAttestation {
    /// A result from checks made elsewhere (a Sigstore bundle); the
    /// statement and signers are kept only when the report verified.
    #[cfg_attr(not(feature = "sigstore"), allow(dead_code))]
    pub(crate) fn from_parts(
        report: Report,
        statement: Option<Statement>,
        signed_by: Vec<Anchor>,
    ) -> Self {
        let verified = report.verified();
        Self {
            statement: statement.filter(|_| verified),
            signed_by: if verified { signed_by } else { Vec::new() },
            report,
        }
    }

    /// The trust anchors whose signatures counted (identity and roles),
    /// in signature order; empty unless verified.
    pub fn signed_by(&self) -> &[Anchor] {
        &self.signed_by
    }

    /// All checks, in order.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The statement, present only when verified.
    pub fn statement(&self) -> Option<&Statement> {
        self.statement.as_ref()
    }

    /// The statement when verified, otherwise the report.
    pub fn into_result(self) -> Result<Statement, Report> {
        match self.statement {
            Some(st) if self.report.verified() => Ok(st),
            _ => Err(self.report),
        }
    }
}

/// Checks, in order: `signature` threshold by the anchors' keys,
/// `payload-type`, `statement` (parses and is valid), `predicate-type`,
/// `subject` (a subject identifies the artifact: all shared algorithms
/// agree, one is strong). The result names the anchors that signed
/// ([`VerifiedAttestation::signed_by`]); to require a role, pass
/// [`TrustAnchors::with_role`].
pub fn verify_attestation(
    envelope: &Envelope,
    anchors: &TrustAnchors,
    expected: &Expectation,
) -> VerifiedAttestation {
    let mut report = Report::new();
    let Some((statement, signed_by)) =
        open_anchored(envelope, anchors, expected.threshold, &mut report)
    else {
        return VerifiedAttestation::from_parts(report, None, Vec::new());
    };
    check_predicate_type(&statement, &[expected.predicate_type.as_str()], &mut report);
    check_subject(&statement, &expected.artifact, &mut report);
    VerifiedAttestation::from_parts(report, Some(statement), signed_by)
}

/// [`open_envelope`] against trust anchors: the statement and the anchors
/// that signed, only when every check passed.
pub(crate) fn open_anchored(
    envelope: &Envelope,
    anchors: &TrustAnchors,
    threshold: usize,
    report: &mut Report,
) -> Option<(Statement, Vec<Anchor>)> {
    let (statement, signatures) = open_verified(envelope, anchors.keys(), threshold, report)?;
    Some((statement, anchors.signers(&signatures)))
}

/// The statement of an envelope that `threshold` of `keys` signed, as
/// [`open_envelope`] decides, without writing a report.
pub(crate) fn open_statement(
    envelope: &Envelope,
    keys: &KeySet,
    threshold: usize,
) -> Option<Statement> {
    envelope
        .verify(keys, threshold)
        .ok()
        .filter(SignatureVerification::verified)
        .filter(|_| crate::statement::is_payload_type(envelope.payload_type()))
        .and_then(|_| Statement::from_json(envelope.payload()).ok())
}

/// [`open_envelope`] for callers that need the report only when opening
/// fails: an envelope that opens builds no report (no check text is
/// written); one that does not is opened again with the report kept.
pub(crate) fn open_envelope_quietly(
    envelope: &Envelope,
    keys: &KeySet,
    threshold: usize,
) -> Result<Statement, Report> {
    if let Some(statement) = open_statement(envelope, keys, threshold) {
        return Ok(statement);
    }
    let mut report = Report::new();
    match open_envelope(envelope, keys, threshold, &mut report) {
        Some(statement) => Ok(statement),
        None => Err(report),
    }
}

/// Signature threshold, payload type and statement parsing: the checks
/// every attestation verification starts with. Returns the statement only
/// when all of them passed; the payload of an envelope that no trusted key
/// signed is never parsed. (Promotion chains call it with a role's keys.)
pub(crate) fn open_envelope(
    envelope: &Envelope,
    keys: &KeySet,
    threshold: usize,
    report: &mut Report,
) -> Option<Statement> {
    open_verified(envelope, keys, threshold, report).map(|(statement, _)| statement)
}

fn open_verified(
    envelope: &Envelope,
    keys: &KeySet,
    threshold: usize,
    report: &mut Report,
) -> Option<(Statement, SignatureVerification)> {
    let signatures = match envelope.verify(keys, threshold) {
        Ok(sigs) => {
            let verified = sigs.verified();
            report.extend(sigs.report());
            if !verified {
                return None;
            }
            sigs
        }
        Err(e) => {
            report.push(Check::fail("threshold", e.to_string()));
            return None;
        }
    };

    // in-toto 1.2: `application/vnd.in-toto.<predicate>+json` too, never
    // trusted for the predicate type (the statement's is checked).
    if crate::statement::is_payload_type(envelope.payload_type()) {
        report.push(Check::pass("payload-type", envelope.payload_type()));
    } else {
        report.push(Check::fail(
            "payload-type",
            format!(
                "expected `{PAYLOAD_TYPE}` or `application/vnd.in-toto.<predicate>+json`, found `{}`",
                crate::digest::shorten(envelope.payload_type())
            ),
        ));
        return None;
    }

    match Statement::from_json(envelope.payload()) {
        Ok(st) => {
            report.push(Check::pass(
                "statement",
                format!(
                    "{} with {} subject(s)",
                    st.statement_type().uri(),
                    st.subject().len()
                ),
            ));
            Some((st, signatures))
        }
        Err(e) => {
            report.push(Check::fail("statement", e.to_string()));
            None
        }
    }
}

/// `predicate-type`: the statement's type is one of `accepted`.
pub(crate) fn check_predicate_type(
    statement: &Statement,
    accepted: &[&str],
    report: &mut Report,
) -> bool {
    let found = statement.predicate_type();
    if accepted.contains(&found) {
        report.push(Check::pass("predicate-type", found));
        true
    } else {
        report.push(Check::fail(
            "predicate-type",
            format!(
                "expected `{}`, found `{}`",
                accepted.join("` or `"),
                crate::digest::shorten(found)
            ),
        ));
        false
    }
}

/// `subject`: some subject identifies the artifact.
pub(crate) fn check_subject(statement: &Statement, artifact: &DigestSet, report: &mut Report) {
    match statement.subject_matching(artifact) {
        Ok(subject) => report.push(Check::pass(
            "subject",
            format!(
                "artifact matches subject `{}`",
                subject
                    .name
                    .as_deref()
                    .or(subject.uri.as_deref())
                    .unwrap_or("(unnamed)")
            ),
        )),
        Err(reasons) => {
            const SHOWN: usize = 3;
            let mut detail = reasons
                .iter()
                .take(SHOWN)
                .enumerate()
                .map(|(i, r)| format!("subject[{i}]: {r}"))
                .collect::<Vec<_>>()
                .join("; ");
            if reasons.len() > SHOWN {
                detail.push_str(&format!("; and {} more", reasons.len() - SHOWN));
            }
            report.push(Check::fail(
                "subject",
                format!("no subject identifies the artifact ({detail})"),
            ));
        }
    }
}
