//! Evaluating one environment's gate against a set of evidence envelopes.

use std::collections::BTreeSet;

use crate::digest::{Digest, DigestSet, elide_middle};
use crate::dsse::{Envelope, SignatureChecks};
use crate::error::Error;
use crate::keys::{KeyId, KeySet, PublicKey};
use crate::predicate::approval::{APPROVAL_V1, Approval};
use crate::predicate::promotion::{Evidence, PromotionKind};
use crate::predicate::slsa_provenance::ProvenanceClaims;
use crate::predicate::test_result::TestResult;
use crate::provenance::builder_id_matches;
use crate::report::{Check, Report};
use crate::statement::Statement;
use crate::time::Timestamp;
use crate::trust::{Anchor, TrustAnchors};

use super::{ApprovalRule, Conditions, Environment, Policy, Requirement};

/// A policy whose trust anchors (keys and keyless signers, with their
/// roles) are parsed and indexed, ready to gate promotions. Made by
/// [`Policy::activate`].
#[derive(Debug, Clone)]
pub struct ActivePolicy {
    policy: Policy,
    digest: Digest,
    anchors: TrustAnchors,
}

impl Policy {
    /// Validates the policy and parses its trust anchors once.
    pub fn activate(self) -> Result<ActivePolicy, Error> {
        self.validate()?;
        let anchors = self.trust_anchors()?;
        Ok(ActivePolicy {
            digest: self.digest()?,
            policy: self,
            anchors,
        })
    }

    /// The policy's trust anchors: each key and keyless signer with its
    /// identity and roles, and the pinned Sigstore trusted root. The same
    /// value verifies envelopes, bundles and OCI attachments outside a
    /// gate.
    ///
    /// ```
    /// use custodia::keys::{KeyAlgorithm, PrivateKey};
    /// use custodia::policy::Policy;
    /// let ci = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
    /// let json = serde_json::json!({"version": 1,
    ///     "keys": [{"identity": "ci", "roles": ["builder"], "publicKey": ci.public_key().to_pem()}],
    ///     "environments": [{"name": "dev"}], "promotions": []});
    /// let anchors = Policy::from_json(json.to_string().as_bytes())?.trust_anchors()?;
    /// let anchor = anchors.by_key(ci.key_id()).unwrap();
    /// assert_eq!((anchor.identity(), anchor.roles()), ("ci", &["builder".to_owned()][..]));
    /// assert_eq!(anchors.keys_with_role("builder").len(), 1);
    /// # Ok::<(), custodia::Error>(())
    /// ```
    pub fn trust_anchors(&self) -> Result<TrustAnchors, Error> {
        let mut anchors = TrustAnchors::new();
        for key in &self.keys {
            let public = PublicKey::from_pem(&key.public_key)?;
            anchors
                .push(Anchor::key(key.identity.clone(), public).with_roles(key.roles.clone()))?;
        }
        #[cfg(not(feature = "sigstore"))]
        if !self.keyless_signers.is_empty() {
            return Err(crate::error::PolicyError::Invalid(
                "keyless signers need custodia's `sigstore` feature".to_owned(),
            )
            .into());
        }
        #[cfg(feature = "sigstore")]
        {
            for signer in &self.keyless_signers {
                let certificate = crate::trust::IdentityPolicy::keyless(
                    signer.certificate_identity.clone(),
                    signer.certificate_oidc_issuer.clone(),
                );
                anchors.push(
                    Anchor::keyless(signer.identity.clone(), certificate)
                        .with_roles(signer.roles.clone()),
                )?;
            }
            if let Some(root) = &self.sigstore_trusted_root {
                let bytes = serde_json::to_vec(root).map_err(|e| {
                    crate::error::PolicyError::Invalid(format!("sigstoreTrustedRoot: {e}"))
                })?;
                anchors = anchors.with_sigstore_root(crate::trust::TrustedRoot::from_json(&bytes)?);
            }
        }
        Ok(anchors)
    }
}

impl ActivePolicy {
    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// SHA-256 of its canonical JSON.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Its trust anchors ([`Policy::trust_anchors`]).
    pub fn trust_anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// Keys with `role` (empty if none).
    pub fn keys_with_role(&self, role: &str) -> &KeySet {
        self.anchors.keys_with_role(role)
    }

    /// Every key the policy lists, whatever its roles.
    pub(crate) fn all_keys(&self) -> &KeySet {
        self.anchors.keys()
    }

    /// The identity holding a key.
    pub fn identity_of(&self, id: &KeyId) -> Option<&str> {
        self.anchors.by_key(id).map(Anchor::identity)
    }
}

/// An envelope offered as evidence, with the digest it is stored under.
#[derive(Debug, Clone)]
pub struct EvidenceEnvelope {
    digest: Digest,
    envelope: Envelope,
    /// When the evidence is a Sigstore bundle: the bundle (`envelope` is
    /// the DSSE envelope inside it).
    #[cfg(feature = "sigstore")]
    bundle: Option<Box<crate::bundle::Bundle>>,
    /// The predicate type the payload claims, unauthenticated: used only to
    /// pick which envelopes to verify for a requirement.
    claimed_type: Option<String>,
    /// The signature checks made so far: a gate verifies one envelope for
    /// a requirement's role and again with every policy key (separation of
    /// duties), and each public-key operation is done once.
    checks: SignatureChecks,
    /// The payload parsed as a statement (unauthenticated: used only
    /// after its signatures verify), or why it is not one.
    statement: Result<Statement, String>,
}

impl EvidenceEnvelope {
    /// Evidence stored under `digest`.
    pub fn new(digest: Digest, envelope: Envelope) -> Self {
        #[derive(serde::Deserialize)]
        struct Peek {
            #[serde(rename = "predicateType")]
            predicate_type: String,
        }
        // Evidence is offered to be used: its statement is read now, in
        // the one pass that also gives the claimed type; a payload that is
        // no valid statement may still claim one.
        let statement = Statement::from_json(envelope.payload()).map_err(|e| e.to_string());
        let claimed_type = match &statement {
            Ok(st) => Some(st.predicate_type().to_owned()),
            Err(_) => serde_json::from_slice::<Peek>(envelope.payload())
                .ok()
                .map(|p| p.predicate_type),
        };
        Self {
            digest,
            envelope,
            claimed_type,
            checks: SignatureChecks::default(),
            statement,
            #[cfg(feature = "sigstore")]
            bundle: None,
        }
    }

    /// Evidence that is a Sigstore bundle (an attestation: a DSSE envelope
    /// signed by a keyless signer's certificate), stored under `digest`.
    /// A message-signature bundle carries no statement and is refused.
    #[cfg(feature = "sigstore")]
    pub fn from_bundle(digest: Digest, bundle: crate::bundle::Bundle) -> Result<Self, Error> {
        let Some(envelope) = bundle.envelope().cloned() else {
            return Err(crate::error::PolicyError::Invalid(
                "a Sigstore bundle offered as evidence must hold a DSSE envelope (an attestation), not a message signature".to_owned(),
            )
            .into());
        };
        let mut evidence = Self::new(digest, envelope);
        evidence.bundle = Some(Box::new(bundle));
        Ok(evidence)
    }

    /// Parses stored evidence bytes: a DSSE envelope, or (feature
    /// `sigstore`) a Sigstore bundle holding one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let digest = crate::digest::DigestAlgorithm::Sha256.hash(bytes);
        match Envelope::from_json(bytes) {
            Ok(envelope) => Ok(Self::new(digest, envelope)),
            #[cfg(feature = "sigstore")]
            Err(dsse_error) => {
                if !looks_like_bundle(bytes) {
                    return Err(dsse_error);
                }
                Self::from_bundle(digest, crate::bundle::Bundle::from_json(bytes)?)
            }
            #[cfg(not(feature = "sigstore"))]
            Err(e) => Err(e),
        }
    }

    /// The digest it is stored under.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The statement, if any signer the policy lists (any role: a key, or
    /// a keyless signer for a bundle about `artifact`) signed it.
    pub(crate) fn statement_signed_by_policy(
        &self,
        policy: &ActivePolicy,
        artifact: &DigestSet,
    ) -> Option<&Statement> {
        #[cfg(feature = "sigstore")]
        if let Some(bundle) = &self.bundle {
            return self
                .open_bundle(bundle, policy.trust_anchors(), 1, artifact)
                .ok()
                .map(|(statement, _)| statement);
        }
        let _ = artifact;
        let verified = self
            .envelope
            .verify_remembering(policy.all_keys(), 1, &self.checks)
            .ok()?;
        if !verified.verified() || !crate::statement::is_payload_type(self.envelope.payload_type())
        {
            return None;
        }
        self.statement().ok()
    }

    /// The statement and every identity the policy knows (any role; a key
    /// without an identity by its key id) whose signature on it verifies,
    /// or None when none does. A Sigstore bundle is opened for every
    /// keyless role (about `artifact`).
    pub(super) fn signed_by_any(
        &self,
        policy: &ActivePolicy,
        artifact: &DigestSet,
    ) -> Option<(&Statement, BTreeSet<String>)> {
        #[cfg(feature = "sigstore")]
        if let Some(bundle) = &self.bundle {
            return self
                .open_bundle(bundle, policy.trust_anchors(), 1, artifact)
                .ok();
        }
        let _ = artifact;
        let verified = self
            .envelope
            .verify_remembering(policy.all_keys(), 1, &self.checks)
            .ok()?;
        let identities: BTreeSet<String> = verified
            .accepted_keys()
            .into_iter()
            .chain(verified.duplicates())
            .map(|id| policy.identity_of(id).unwrap_or(id.as_str()).to_owned())
            .collect();
        if identities.is_empty() || self.envelope.payload_type() != crate::statement::PAYLOAD_TYPE {
            return None;
        }
        Some((self.statement().ok()?, identities))
    }

    /// The payload parsed as an in-toto statement. Unauthenticated: only
    /// the callers that verified the signatures first use it.
    fn statement(&self) -> Result<&Statement, String> {
        self.statement.as_ref().map_err(Clone::clone)
    }

    /// Whether the payload claims `predicate_type` (unauthenticated: only
    /// to pick which envelopes are worth verifying).
    pub(crate) fn claims(&self, predicate_type: &str) -> bool {
        self.claimed_type.as_deref() == Some(predicate_type)
    }

    /// Verifies the signatures once and parses the statement: the statement
    /// and the identities (with `role`) who signed, or why not. A bundle is
    /// verified offline against the policy's trusted root for each keyless
    /// signer with `role` (its certificate chain, log entry, signing time,
    /// identity and issuer, signature, and that it is about `artifact`).
    pub(crate) fn open(
        &self,
        policy: &ActivePolicy,
        role: &str,
        threshold: usize,
        artifact: &DigestSet,
    ) -> Result<(&Statement, BTreeSet<String>), String> {
        #[cfg(feature = "sigstore")]
        if let Some(bundle) = &self.bundle {
            let anchors = policy.trust_anchors().with_role(role);
            if anchors.keyless_anchors().next().is_none() {
                return Err(format!(
                    "the policy has no keyless signer with role `{role}`"
                ));
            }
            if threshold > 1 {
                return Err(format!(
                    "a Sigstore bundle carries one signature; role `{role}` needs {threshold}"
                ));
            }
            return self.open_bundle(bundle, &anchors, threshold, artifact);
        }
        let _ = artifact;
        let keys = policy.keys_with_role(role);
        let verification = self
            .envelope
            .verify_remembering(keys, threshold, &self.checks)
            .map_err(|e| e.to_string())?;
        if !verification.verified() {
            let report = verification.report();
            let why = report
                .first_failure()
                .map(|c| format!("{}: {}", c.name, c.reason))
                .unwrap_or_default();
            return Err(why);
        }
        if !crate::statement::is_payload_type(self.envelope.payload_type()) {
            return Err(format!(
                "payload type `{}` is not an in-toto statement",
                elide_middle(self.envelope.payload_type(), 80)
            ));
        }
        let statement = self.statement()?;
        let identities = verification
            .accepted_keys()
            .into_iter()
            .map(|id| policy.identity_of(id).unwrap_or(id.as_str()).to_owned())
            .collect();
        Ok((statement, identities))
    }
}

#[cfg(feature = "sigstore")]
impl EvidenceEnvelope {
    /// Verifies the bundle offline against `anchors` (the policy's, or one
    /// role's): its certificate names a keyless anchor, it verifies against
    /// their trusted root, and it is about `artifact`. The statement and
    /// the identities of every anchor the certificate matches.
    fn open_bundle(
        &self,
        bundle: &crate::bundle::Bundle,
        anchors: &TrustAnchors,
        threshold: usize,
        artifact: &DigestSet,
    ) -> Result<(&Statement, BTreeSet<String>), String> {
        if threshold > 1 {
            return Err(format!(
                "a Sigstore bundle carries one signature; {threshold} are needed"
            ));
        }
        if anchors.sigstore_root().is_none() {
            return Err("the policy has no sigstoreTrustedRoot for Sigstore bundles".to_owned());
        }
        let expectation = crate::verify::Expectation::new(
            self.claimed_type.clone().unwrap_or_default(),
            artifact.clone(),
        );
        let verified = crate::bundle::verify_attestation(bundle, anchors, &expectation);
        // The bundle's statement is this envelope's payload, parsed by the
        // same reader: the cached parse is returned.
        match verified.statement() {
            Some(_) => Ok((
                self.statement()?,
                verified
                    .signed_by()
                    .iter()
                    .map(|a| a.identity().to_owned())
                    .collect(),
            )),
            None => {
                let tried = anchors
                    .keyless_anchors()
                    .map(|(a, _)| a.identity())
                    .collect::<Vec<_>>()
                    .join(" or ");
                Err(verified
                    .report()
                    .first_failure()
                    .map(|c| format!("as {tried}: {}: {}", c.name, c.reason))
                    .unwrap_or_default())
            }
        }
    }
}

/// Whether `bytes` claim to be a Sigstore bundle (a top-level
/// `mediaType` naming one): then the bundle parser's error is the useful one.
#[cfg(feature = "sigstore")]
fn looks_like_bundle(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "mediaType")]
        media_type: String,
    }
    serde_json::from_slice::<Peek>(bytes).is_ok_and(|p| {
        p.media_type
            .starts_with("application/vnd.dev.sigstore.bundle")
    })
}

/// What is being promoted, where, when and by whose change.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateRequest {
    /// The artifact's digests.
    pub artifact: DigestSet,
    /// Source environment (`None` when entering the first environment).
    pub from: Option<String>,
    /// Target environment.
    pub to: String,
    /// Promotion, rollback or emergency.
    pub kind: PromotionKind,
    /// When.
    pub time: Timestamp,
    /// The change's author (for separation of duties).
    pub author: Option<String>,
    /// Why (required for emergencies).
    pub reason: Option<String>,
    /// When the artifact entered its first environment (from its verified
    /// source path): approvals dated before it are refused.
    pub entered: Option<Timestamp>,
}

impl GateRequest {
    /// A normal promotion request.
    pub fn new(artifact: DigestSet, from: Option<&str>, to: &str, time: Timestamp) -> Self {
        Self {
            artifact,
            from: from.map(str::to_owned),
            to: to.to_owned(),
            kind: PromotionKind::Promotion,
            time,
            author: None,
            reason: None,
            entered: None,
        }
    }
}

/// The result of a gate: the report, and the evidence that satisfied it.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    /// Every check, in order.
    pub report: Report,
    /// The envelopes that satisfied requirements and approvals.
    pub evidence: Vec<Evidence>,
}

/// Evaluates `to`'s gate. Checks, in order: `environment`, `edge`,
/// `requires[i]` per required attestation, `approvals`, `freeze`, and
/// `emergency` for emergency promotions (always shown, so an emergency is
/// flagged in every report).
///
/// ```
/// use custodia::policy::{Policy, GateRequest, evaluate_gate};
/// use custodia::digest::DigestSet;
/// use custodia::time::Timestamp;
/// let policy = Policy::from_json(br#"{"version":1,"keys":[],
///   "environments":[{"name":"dev"},{"name":"prod"}],"promotions":[{"from":"dev","to":"prod"}]}"#)?
///   .activate()?;
/// let skip = GateRequest::new(DigestSet::of_bytes(b"a"), None, "prod", Timestamp::from_unix(0));
/// let outcome = evaluate_gate(&policy, &skip, &[]);
/// assert_eq!(outcome.report.first_failure().unwrap().name, "edge");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn evaluate_gate(
    policy: &ActivePolicy,
    request: &GateRequest,
    evidence: &[EvidenceEnvelope],
) -> GateOutcome {
    let mut report = Report::new();
    let mut used = Vec::new();
    let Some(env) = policy.policy.environment(&request.to) else {
        report.push(Check::fail(
            "environment",
            format!(
                "the policy has no environment `{}`",
                elide_middle(&request.to, 80)
            ),
        ));
        return GateOutcome {
            report,
            evidence: used,
        };
    };
    report.push(Check::pass("environment", &env.name));
    check_edge(&policy.policy, request, &mut report);

    // Separation of duties: everyone who signed provenance for this
    // artifact among the evidence, not only the envelope a requirement used.
    let mut builders = super::duties::builder_identities(policy, &request.artifact, evidence);
    for (i, requirement) in env.requires.iter().enumerate() {
        let name = format!("requires[{i}]");
        let mut details = Vec::new();
        match satisfy(policy, requirement, request, evidence, &mut details) {
            Ok(satisfied) => {
                if requirement
                    .predicate_type
                    .starts_with("https://slsa.dev/provenance/")
                {
                    builders.extend(satisfied.identities.iter().cloned());
                }
                report.push(Check::pass(
                    name.clone(),
                    format!(
                        "{} signed by {} ({}), envelope {}",
                        requirement.predicate_type,
                        satisfied
                            .identities
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", "),
                        requirement.signer_role,
                        satisfied.evidence.digest
                    ),
                ));
                used.push(satisfied.evidence);
                used.extend(satisfied.source_vsa);
            }
            Err(reason) => report.push(Check::fail(name.clone(), reason)),
        }
        for c in details {
            report.push(Check {
                name: format!("{name}.{}", c.name),
                ..c
            });
        }
    }
    check_approvals(
        policy,
        env,
        request,
        evidence,
        &builders,
        &mut report,
        &mut used,
    );
    check_freeze(env, request, &mut report);
    if request.kind == PromotionKind::Emergency {
        report.push(match (&env.emergency, request.reason.as_deref()) {
            (None, _) => Check::fail(
                "emergency",
                format!("environment `{}` has no emergency path", env.name),
            ),
            (Some(_), reason) if !reason.is_some_and(crate::report::has_visible_text) => {
                Check::fail("emergency", "an emergency promotion needs a reason")
            }
            (Some(_), reason) => Check::pass(
                "emergency",
                format!(
                    "EMERGENCY promotion (reduced gate): {}",
                    elide_middle(reason.unwrap_or_default(), 400)
                ),
            ),
        });
    }
    GateOutcome {
        report,
        evidence: used,
    }
}

fn check_edge(policy: &Policy, request: &GateRequest, report: &mut Report) {
    let to = &request.to;
    report.push(match (request.kind, request.from.as_deref()) {
        (PromotionKind::Rollback, Some(from)) if from == to => {
            Check::pass("edge", format!("rollback within `{to}`"))
        }
        (PromotionKind::Rollback, _) => {
            Check::fail("edge", format!("a rollback stays in `{to}`: from must be `{to}`"))
        }
        (_, None) if policy.entry_environments().contains(&to.as_str()) => {
            Check::pass("edge", format!("`{to}` is where built artifacts enter"))
        }
        (_, None) => Check::fail(
            "edge",
            format!(
                "`{to}` is not an entry environment (entries: {}): an artifact must be promoted into it",
                policy.entry_environments().join(", ")
            ),
        ),
        (_, Some(from)) if policy.edge_allowed(from, to) => {
            Check::pass("edge", format!("{from} -> {to} is allowed"))
        }
        (_, Some(from)) => {
            let allowed: Vec<String> = policy
                .promotions
                .iter()
                .filter(|e| e.to == *to)
                .map(|e| format!("{} -> {}", e.from, e.to))
                .collect();
            Check::fail(
                "edge",
                format!(
                    "{from} -> {to} is not an allowed promotion (into `{to}`: {})",
                    if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
                ),
            )
        }
    });
}

struct Satisfied {
    evidence: Evidence,
    /// The Source VSA a `sourceVsa` condition was met with.
    source_vsa: Option<Evidence>,
    identities: BTreeSet<String>,
}

/// Finds an evidence envelope that satisfies `requirement`, or says why none does.
fn satisfy(
    policy: &ActivePolicy,
    requirement: &Requirement,
    request: &GateRequest,
    evidence: &[EvidenceEnvelope],
    details: &mut Vec<Check>,
) -> Result<Satisfied, String> {
    let signers = policy
        .trust_anchors()
        .count_with_role(&requirement.signer_role);
    if signers < requirement.threshold {
        return Err(format!(
            "the policy has {signers} key(s) or keyless signer(s) with role `{}`, {} required",
            requirement.signer_role, requirement.threshold
        ));
    }
    let mut reasons = Vec::new();
    for ev in evidence {
        if !ev.claims(&requirement.predicate_type) {
            continue;
        }
        let (statement, identities) = match ev.open(
            policy,
            &requirement.signer_role,
            requirement.threshold,
            &request.artifact,
        ) {
            Ok(opened) => opened,
            Err(why) => {
                reasons.push(format!(
                    "{}: not signed by {} key(s) with role `{}` ({why})",
                    ev.digest, requirement.threshold, requirement.signer_role
                ));
                continue;
            }
        };
        if let Err(e) = statement.subject_matching(&request.artifact) {
            let first = e.first().map(ToString::to_string).unwrap_or_default();
            reasons.push(format!("{}: about another artifact ({first})", ev.digest));
            continue;
        }
        if let Err(why) = check_conditions(statement, &requirement.conditions) {
            reasons.push(format!("{}: {why}", ev.digest));
            continue;
        }
        if requirement.conditions.has_evidence_conditions() {
            *details = super::evidence_conditions::evaluate(
                policy,
                requirement,
                request,
                evidence,
                statement,
            );
            if let Some(failed) = details.iter().find(|c| !c.passed) {
                reasons.push(format!("{}: {}", ev.digest, failed.reason));
                continue;
            }
        }
        let mut source_vsa = None;
        if let Some(rule) = &requirement.conditions.source_vsa {
            match super::source_track::satisfy(policy, statement, rule, evidence) {
                Ok(vsa) => source_vsa = Some(vsa),
                Err(why) => {
                    reasons.push(format!("{}: {why}", ev.digest));
                    continue;
                }
            }
        }
        return Ok(Satisfied {
            source_vsa,
            evidence: Evidence {
                digest: ev.digest.clone(),
                predicate_type: requirement.predicate_type.clone(),
            },
            identities,
        });
    }
    if reasons.is_empty() {
        Err(format!(
            "no {} attestation about this artifact was given (signed by role `{}`)",
            requirement.predicate_type, requirement.signer_role
        ))
    } else {
        Err(reasons.join("; "))
    }
}

fn check_conditions(statement: &Statement, c: &Conditions) -> Result<(), String> {
    if !c.builder_ids.is_empty() || c.source_repository.is_some() {
        let claims = ProvenanceClaims::from_statement(statement).map_err(|e| e.to_string())?;
        if !c.builder_ids.is_empty()
            && !c
                .builder_ids
                .iter()
                .any(|p| builder_id_matches(p, &claims.builder_id))
        {
            return Err(format!(
                "builder `{}` is not one of {}",
                elide_middle(&claims.builder_id, 400),
                c.builder_ids.join(", ")
            ));
        }
        if let Some(want) = &c.source_repository {
            // Parsed, as provenance verification does (#14): git+https, and
            // every place the provenance names its source agrees.
            use crate::provenance::matching::{SourceMismatch, match_source, source_places};
            let predicate = statement.predicate_value().map_err(|e| e.to_string())?;
            let places = source_places(statement.predicate_type(), &predicate);
            match match_source(&places, want, &["git+https".to_owned(), "https".to_owned()]) {
                Ok(_) => {}
                Err(SourceMismatch::Repository(why) | SourceMismatch::Refs { reason: why, .. }) => {
                    return Err(format!("source: {why}"));
                }
            }
        }
    }
    if let Some(want) = c.test_result {
        let result: TestResult = statement.predicate_as().map_err(|e| e.to_string())?;
        if result.result != want {
            return Err(format!(
                "test result is {:?} ({} failed: {}), {want:?} required",
                result.result,
                result.failed_tests.len(),
                result
                    .failed_tests
                    .iter()
                    .take(5)
                    .map(|t| elide_middle(t, 80))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check_approvals(
    policy: &ActivePolicy,
    env: &Environment,
    request: &GateRequest,
    evidence: &[EvidenceEnvelope],
    builders: &BTreeSet<String>,
    report: &mut Report,
    used: &mut Vec<Evidence>,
) {
    let Some(rule) = &env.approvals else {
        return;
    };
    let required = match (request.kind, &env.emergency) {
        (PromotionKind::Emergency, Some(e)) => e.approvals,
        _ => rule.count,
    };
    let has_signers = policy.trust_anchors().count_with_role(&rule.role) > 0;
    let mut approvers = BTreeSet::new();
    let mut refused = Vec::new();
    for ev in evidence {
        if !ev.claims(APPROVAL_V1) || !has_signers {
            continue;
        }
        let Ok((statement, identities)) = ev.open(policy, &rule.role, 1, &request.artifact) else {
            refused.push(format!(
                "{}: not signed by a key with role `{}`",
                ev.digest, rule.role
            ));
            continue;
        };
        let approval: Approval = match statement.predicate_as() {
            Ok(a) => a,
            Err(e) => {
                refused.push(format!("{}: {e}", ev.digest));
                continue;
            }
        };
        if approval.environment != request.to {
            refused.push(format!(
                "{}: approves `{}`, not `{}`",
                ev.digest, approval.environment, request.to
            ));
            continue;
        }
        if statement.subject_matching(&request.artifact).is_err() {
            refused.push(format!("{}: approves another artifact", ev.digest));
            continue;
        }
        if let Err(why) = approval_in_window(&approval, rule, request) {
            refused.push(format!("{}: {why}", ev.digest));
            continue;
        }
        let mut counted = false;
        for identity in identities {
            if rule.distinct_from_author && request.author.as_deref() == Some(identity.as_str()) {
                refused.push(format!("{identity} is the change's author"));
            } else if rule.distinct_from_builder && builders.contains(&identity) {
                refused.push(format!("{identity} signed the build"));
            } else if approvers.insert(identity) {
                counted = true;
            }
        }
        if counted {
            used.push(Evidence {
                digest: ev.digest.clone(),
                predicate_type: APPROVAL_V1.to_owned(),
            });
        }
    }
    let names = approvers.iter().cloned().collect::<Vec<_>>().join(", ");
    let detail = if refused.is_empty() {
        String::new()
    } else {
        format!("; not counted: {}", refused.join("; "))
    };
    report.push(if approvers.len() >= required {
        Check::pass(
            "approvals",
            format!(
                "{} of {required} distinct approver(s): {names}{detail}",
                approvers.len()
            ),
        )
    } else {
        Check::fail(
            "approvals",
            format!(
                "{} of {required} distinct approver(s) with role `{}`{}{detail}",
                approvers.len(),
                rule.role,
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" ({names})")
                }
            ),
        )
    });
}

/// An approval counts only when dated within its window: not after the
/// promotion, not before the artifact entered the pipeline, and not older
/// than the rule's `maxAgeSeconds`.
fn approval_in_window(
    approval: &Approval,
    rule: &ApprovalRule,
    request: &GateRequest,
) -> Result<(), String> {
    let at = approval.approved_at;
    if at > request.time {
        return Err(format!(
            "dated {at}, after the promotion ({})",
            request.time
        ));
    }
    if let Some(entered) = request.entered {
        if at < entered {
            return Err(format!(
                "dated {at}, before the artifact entered the pipeline ({entered})"
            ));
        }
    }
    if let Some(max) = rule.max_age_seconds {
        if at.seconds_until(&request.time) > max {
            return Err(format!(
                "dated {at}, older than the {max} s the policy allows before the promotion"
            ));
        }
    }
    Ok(())
}

fn check_freeze(env: &Environment, request: &GateRequest, report: &mut Report) {
    let t = request.time;
    let Some(window) = env
        .freeze_windows
        .iter()
        .find(|w| w.start <= t && t < w.end)
    else {
        if !env.freeze_windows.is_empty() {
            report.push(Check::pass(
                "freeze",
                format!("{t} is outside every freeze window"),
            ));
        }
        return;
    };
    let emergency_ok = request.kind == PromotionKind::Emergency
        && env
            .emergency
            .as_ref()
            .is_some_and(|e| e.allow_during_freeze);
    let rollback = request.kind == PromotionKind::Rollback;
    let what = format!(
        "{t} is inside the freeze `{}` ({} to {})",
        window.reason, window.start, window.end
    );
    report.push(if emergency_ok {
        Check::pass(
            "freeze",
            format!("{what}: overridden by the emergency path"),
        )
    } else if rollback {
        Check::pass(
            "freeze",
            format!("{what}: rollbacks restore service and may enter"),
        )
    } else {
        Check::fail(
            "freeze",
            format!("{what}: only emergency promotions may enter"),
        )
    });
}
