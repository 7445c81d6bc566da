//! Sigstore bundles (v0.1, v0.2, v0.3), verified offline against a trusted
//! root the caller pins (feature `sigstore`).
//!
//! A bundle carries a signature (over a DSSE envelope or an artifact
//! digest), who signed (a short-lived Fulcio certificate, or a hint naming a
//! key), and proof of when (Rekor transparency log entries: a signed entry
//! timestamp, an inclusion proof with a signed checkpoint; RFC 3161
//! timestamps). [`verify_attestation`], [`verify_provenance`] and
//! [`verify_artifact`] check all of it and return a [`Report`] of named
//! checks, in order:
//!
//! | check | what passed means |
//! | --- | --- |
//! | `bundle` | the bundle parsed (strict JSON, known media type) |
//! | `certificate-chain` | the signing certificate chains to a Fulcio CA of the trusted root, valid at the signing time, with a valid SCT (keyless) |
//! | `transparency-log` | each Rekor entry's inclusion proof and checkpoint (signed by a trusted log key) and/or signed entry timestamp verify |
//! | `signing-time` | the signing time is proven by the log (integrated time under a SET) or by trusted RFC 3161 timestamps |
//! | `identity` / `issuer` | the certificate's SAN and OIDC issuer match the [`IdentityPolicy`] (keyless) |
//! | `signature` | the signature over the DSSE PAE or the artifact digest verifies with the certificate's (or the caller's) key |
//! | `tlog-body` | the log entry's body is this bundle's signature, key and content |
//! | `payload-type`, `statement`, `predicate-type`, `subject` | as [`crate::verify::verify_attestation`] (DSSE bundles) |
//! | `predicate`, `builder-id`, `source-repository`, ... | as [`crate::provenance::verify_provenance`] ([`verify_provenance`]) |
//! | `artifact` | the artifact is what the message signature signed (message-signature bundles) |
//!
//! A failed check ends the report: later checks did not run. The
//! cryptographic steps (chain, logs, timestamps, signature, body match) are
//! done by the `sigstore-verify` crate (sigstore-rust; it passes the
//! sigstore-conformance suite); custodia parses the bundle itself, checks
//! the identity policy, the payload and the artifact binding, and names
//! each outcome. Nothing is fetched: the trusted root is the caller's.
//!
//! ```no_run
//! use custodia::bundle::{Bundle, IdentityPolicy, TrustedRoot, verify_attestation};
//! use custodia::digest::DigestSet;
//! use custodia::verify::Expectation;
//!
//! let root = TrustedRoot::from_json(&std::fs::read("trusted_root.json")?)?;
//! let bundle = Bundle::from_json(&std::fs::read("app.intoto.sigstore.json")?)?;
//! let policy = IdentityPolicy::keyless(
//!     "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
//!     "https://token.actions.githubusercontent.com",
//! );
//! let expect = Expectation::new(
//!     "https://slsa.dev/provenance/v1",
//!     DigestSet::of_bytes(&std::fs::read("app.tar.gz")?),
//! );
//! let verified = verify_attestation(&bundle, &root, &policy, &expect);
//! println!("{}", verified.report());
//! let statement = verified.into_result(); // Ok(Statement) only when verified
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod policy;
mod trust;
mod wire;
mod x509;

pub use policy::{CertificateMatch, IdentityPolicy};
pub use trust::{CLIENT_TRUST_CONFIG_V0_1, MAX_TRUSTED_ROOT_BYTES, TrustedRoot};
pub use wire::{
    Bundle, BundleVersion, Content, MAX_BUNDLE_BYTES, MAX_LIST, MAX_TLOG_ENTRIES, TlogEntry,
    VerificationMaterial,
};

use sigstore_verify::types::{Artifact, ArtifactDigest, DerPublicKey, HashAlgorithm};
use sigstore_verify::{
    CertificateError, PublicKeyVerificationPolicy, TimestampError, TransparencyLogError,
    VerificationPolicy, VerificationResult,
};

use crate::digest::{Digest, DigestAlgorithm, DigestSet};
use crate::provenance::{ProvenanceExpectation, VerifiedProvenance, verify_provenance_statement};
use crate::report::{Check, Report};
use crate::statement::{PAYLOAD_TYPE, Statement};
use crate::verify::{Expectation, VerifiedAttestation, check_predicate_type, check_subject};

/// The outcome of [`verify_artifact`]: the report, and for a DSSE bundle
/// the statement, present only when every check passed.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    report: Report,
    statement: Option<Statement>,
}

impl VerifiedBundle {
    /// All checks, in order.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The verified statement (DSSE bundles only).
    pub fn statement(&self) -> Option<&Statement> {
        self.statement.as_ref()
    }
}

/// Verifies an attestation bundle (DSSE) for an artifact: signature and
/// signer (chain, logs, time, identity), then payload type, statement,
/// predicate type and subject in one call, as
/// [`crate::verify::verify_attestation`] does for a bare envelope. A
/// message-signature bundle fails (`payload-type`): it carries no statement.
pub fn verify_attestation(
    bundle: &Bundle,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
    expected: &Expectation,
) -> VerifiedAttestation {
    let (report, statement) = run(
        bundle,
        root,
        policy,
        expected.artifact(),
        Binding::Attestation(expected.predicate_type()),
    );
    VerifiedAttestation::from_parts(report, statement)
}

/// Verifies a provenance bundle (SLSA v1, v0.2, v0.1 in DSSE): signer,
/// signature, logs and time as [`verify_attestation`], then the claims as
/// [`crate::provenance::verify_provenance`] does for a bare envelope
/// (`predicate-type`, `predicate`, `subject`, `builder-id`,
/// `source-repository`, ...). The expectation's threshold does not apply:
/// a bundle has one signer.
pub fn verify_provenance(
    bundle: &Bundle,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
    expected: &ProvenanceExpectation,
) -> VerifiedProvenance {
    let (mut report, statement) = run(bundle, root, policy, expected.artifact(), Binding::Deferred);
    let Some(statement) = statement else {
        return VerifiedProvenance::from_parts(report, None);
    };
    let claims = verify_provenance_statement(&statement, expected);
    report.extend(claims.report().clone());
    VerifiedProvenance::from_parts(report, claims.claims().cloned())
}

/// Verifies a bundle for an artifact (its digests), whatever it signs: a
/// message signature must be over the artifact; a DSSE statement must name
/// it as a subject (any predicate type; use [`verify_attestation`] to bind
/// one).
pub fn verify_artifact(
    bundle: &Bundle,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
    artifact: &DigestSet,
) -> VerifiedBundle {
    let (report, statement) = run(bundle, root, policy, artifact, Binding::Artifact);
    VerifiedBundle { report, statement }
}

fn sigstore_algorithm(a: DigestAlgorithm) -> HashAlgorithm {
    match a {
        DigestAlgorithm::Sha256 => HashAlgorithm::Sha2256,
        DigestAlgorithm::Sha384 => HashAlgorithm::Sha2384,
        DigestAlgorithm::Sha512 => HashAlgorithm::Sha2512,
    }
}

fn to_artifact(d: &Digest) -> Option<Artifact<'static>> {
    ArtifactDigest::new(sigstore_algorithm(d.algorithm()), d.as_bytes().to_vec())
        .ok()
        .map(Artifact::from_digest)
}

/// The first subject digest of a DSSE payload (sha256, else sha512, else
/// sha384), read loosely: the verifier wants one to bind; custodia binds
/// the caller's artifact itself, with its own subject rules, once the
/// signature has verified.
fn binding_digest(payload: &[u8]) -> Option<Digest> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let subjects = v.get("subject")?.as_array()?;
    for alg in [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha384,
    ] {
        for s in subjects {
            if let Some(hex) = s
                .get("digest")
                .and_then(|d| d.get(alg.name()))
                .and_then(serde_json::Value::as_str)
            {
                if let Ok(d) = Digest::from_hex(alg, hex) {
                    return Some(d);
                }
            }
        }
    }
    None
}

/// Identities and issuers are shown whole up to 256 bytes (workflow URIs
/// with their ref are longer than `digest::shorten`'s 80).
pub(crate) fn clip(s: &str) -> String {
    crate::digest::shorten_to(s, 256)
}

fn short_hex(d: &Digest) -> String {
    format!("{}:{}", d.algorithm(), d.hex())
}

/// What the content must be bound to after the signature checks.
#[derive(Clone, Copy)]
enum Binding<'a> {
    /// The artifact: a message signature over it, or a statement naming it.
    Artifact,
    /// A statement of this predicate type naming the artifact.
    Attestation(&'a str),
    /// A statement, returned for the caller to check (its subject too).
    Deferred,
}

fn run(
    bundle: &Bundle,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
    artifact: &DigestSet,
    binding: Binding<'_>,
) -> (Report, Option<Statement>) {
    let mut report = Report::new();
    report.push(Check::pass("bundle", bundle.summary()));
    let fail = |mut report: Report, name: &str, reason: String| {
        report.push(Check::fail(name, reason));
        (report, None)
    };

    // The kind of signer the policy wants must be the kind the bundle has.
    let keyless = matches!(bundle.material(), VerificationMaterial::Certificates(_));
    match (policy.key(), keyless) {
        (None, false) => {
            return fail(
                report,
                "certificate-chain",
                "the bundle has no certificate (a public-key bundle): verify it with the signer's key".into(),
            );
        }
        (Some(_), true) => {
            return fail(
                report,
                "signature",
                "a keyless bundle (it carries a certificate): verify it with a certificate identity and issuer, not a key".into(),
            );
        }
        _ => {}
    }
    if let VerificationMaterial::Certificates(certs) = bundle.material() {
        if let Err(reason) = chain_order(certs) {
            return fail(report, "certificate-chain", reason);
        }
    }
    if !matches!(binding, Binding::Artifact) && bundle.envelope().is_none() {
        return fail(
            report,
            "payload-type",
            "a message-signature bundle carries no in-toto statement".into(),
        );
    }

    // What the verifier binds the signature to.
    let signed_digest = match bundle.content() {
        Content::MessageSignature { digest, .. } => {
            let algorithm = digest
                .as_ref()
                .map_or(DigestAlgorithm::Sha256, Digest::algorithm);
            let Some(given) = artifact.digest(algorithm) else {
                return fail(
                    report,
                    "artifact",
                    format!(
                        "the bundle signs a {algorithm} digest; no {algorithm} digest of the artifact was given"
                    ),
                );
            };
            if let Some(claimed) = digest {
                if claimed != &given {
                    return fail(
                        report,
                        "artifact",
                        format!(
                            "the artifact is {}, the bundle's message digest is {}",
                            short_hex(&given),
                            short_hex(claimed)
                        ),
                    );
                }
            }
            given
        }
        Content::Dsse(envelope) => match binding_digest(envelope.payload()) {
            Some(d) => d,
            None => {
                return fail(
                    report,
                    "statement",
                    "the payload is not an in-toto statement with a sha256, sha384 or sha512 subject digest".into(),
                );
            }
        },
    };
    let Some(sig_artifact) = to_artifact(&signed_digest) else {
        return fail(report, "artifact", "unusable digest".into());
    };

    let outcome = match policy.key() {
        Some(key) => root.verifier.verify(
            sig_artifact,
            &bundle.inner,
            &PublicKeyVerificationPolicy::new(DerPublicKey::new(key.spki_der().to_vec())),
        ),
        None => root.verifier.verify(
            sig_artifact,
            &bundle.inner,
            &VerificationPolicy::any_identity(),
        ),
    };
    let result = match outcome {
        Ok(r) => r,
        Err(e) => {
            let name = failed_check(&e);
            return fail(report, name, e.to_string());
        }
    };
    passed_crypto(bundle, policy, &result, &mut report);

    if policy.key().is_none() {
        for (name, found, check) in [
            (
                "identity",
                result.identity().map(|s| s.as_str().to_owned()),
                IdentityPolicy::check_identity
                    as fn(&IdentityPolicy, &str) -> Option<(bool, String)>,
            ),
            (
                "issuer",
                result.issuer().map(str::to_owned),
                IdentityPolicy::check_issuer,
            ),
        ] {
            let Some(found) = found else {
                return fail(report, name, format!("the certificate has no {name}"));
            };
            match check(policy, &found) {
                Some((true, _)) => {
                    report.push(Check::pass(name, format!("`{}`", clip(&found))));
                }
                Some((false, expected)) => {
                    return fail(
                        report,
                        name,
                        format!(
                            "expected {expected}, the certificate has `{}`",
                            clip(&found)
                        ),
                    );
                }
                None => {}
            }
        }
    }

    passed_signature(bundle, policy, &mut report);

    match bundle.content() {
        Content::MessageSignature { .. } => {
            report.push(Check::pass(
                "artifact",
                format!(
                    "the signature is over the artifact's {}",
                    short_hex(&signed_digest)
                ),
            ));
            (report, None)
        }
        Content::Dsse(envelope) => {
            if crate::statement::is_payload_type(envelope.payload_type()) {
                report.push(Check::pass("payload-type", envelope.payload_type()));
            } else {
                return fail(
                    report,
                    "payload-type",
                    format!(
                        "expected `{PAYLOAD_TYPE}` or `application/vnd.in-toto.<predicate>+json`, found `{}`",
                        crate::digest::shorten(envelope.payload_type())
                    ),
                );
            }
            let statement = match Statement::from_json(envelope.payload()) {
                Ok(st) => {
                    report.push(Check::pass(
                        "statement",
                        format!(
                            "{} with {} subject(s)",
                            st.statement_type().uri(),
                            st.subject().len()
                        ),
                    ));
                    st
                }
                Err(e) => return fail(report, "statement", e.to_string()),
            };
            match binding {
                Binding::Deferred => return (report, Some(statement)),
                Binding::Attestation(pt) => {
                    if !check_predicate_type(&statement, &[pt], &mut report) {
                        return (report, None);
                    }
                }
                Binding::Artifact => {}
            }
            check_subject(&statement, artifact, &mut report);
            let statement = report.verified().then_some(statement);
            (report, statement)
        }
    }
}

/// Certificate parsing for the `x509` fuzz target: one certificate, then
/// the input split at each of its first bytes as a two-certificate chain.
pub(crate) fn fuzz_x509(data: &[u8]) -> bool {
    let one = x509::parse(data).is_ok();
    let split = usize::from(data.first().copied().unwrap_or(0)).min(data.len());
    let (a, b) = data.split_at(split);
    let _ = chain_order(&[a.to_vec(), b.to_vec()]);
    one
}

/// A bundle's chain is ordered leaf first, each certificate issued by the
/// next; only the last may be self-signed (a root, which is ignored: trust
/// anchors come from the trusted root only). Real v0.1 bundles carry the
/// whole chain, root last; a root elsewhere is refused.
fn chain_order(certs: &[Vec<u8>]) -> Result<(), String> {
    let infos = certs
        .iter()
        .enumerate()
        .map(|(i, der)| {
            x509::parse(der).map_err(|e| format!("certificate [{i}] is not DER X.509: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, pair) in infos.windows(2).enumerate() {
        if let [cert, next] = pair {
            if cert.self_signed {
                return Err(format!(
                    "certificate [{i}] is self-signed but not last: a bundle's chain is leaf first, root (if any) last"
                ));
            }
            if cert.issuer != next.subject {
                return Err(format!(
                    "certificate [{i}] was not issued by certificate [{}]: the chain is out of order",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

/// The chain, log and time checks the verifier's success stands for, with
/// what it found.
fn passed_crypto(
    bundle: &Bundle,
    policy: &IdentityPolicy,
    result: &VerificationResult,
    report: &mut Report,
) {
    let times = result
        .verified_timestamps()
        .iter()
        .map(|t| crate::time::Timestamp::from_unix(t.as_second()).to_string())
        .collect::<Vec<_>>();
    let at = if times.is_empty() {
        String::new()
    } else {
        format!(" at {}", times.join(", "))
    };
    if policy.key().is_none() {
        report.push(Check::pass(
            "certificate-chain",
            format!(
                "chains to a trusted Fulcio CA, valid{at}{}",
                if result.sct_verified() {
                    "; SCT verified"
                } else {
                    ""
                }
            ),
        ));
    }
    let entries = bundle
        .tlog_entries()
        .iter()
        .map(|e| {
            let mut proof = Vec::new();
            if e.proof_tree_size.is_some() {
                proof.push(if e.has_checkpoint {
                    "inclusion proof + signed checkpoint"
                } else {
                    "inclusion proof"
                });
            }
            if e.has_inclusion_promise {
                proof.push("signed entry timestamp");
            }
            format!("log index {}: {}", e.log_index, proof.join(" + "))
        })
        .collect::<Vec<_>>();
    report.push(Check::pass(
        "transparency-log",
        if entries.is_empty() {
            "no transparency log entry (time from RFC 3161 timestamps)".to_owned()
        } else {
            format!(
                "verified against a trusted log key ({})",
                entries.join("; ")
            )
        },
    ));
    let mut sources = Vec::new();
    if let Some(t) = result.integrated_time() {
        sources.push(format!(
            "log integrated time {}",
            crate::time::Timestamp::from_unix(t.as_second())
        ));
    }
    if bundle.rfc3161_timestamps() > 0 {
        sources.push(format!(
            "{} RFC 3161 timestamp(s)",
            bundle.rfc3161_timestamps()
        ));
    }
    report.push(Check::pass(
        "signing-time",
        format!("verified times{at} ({})", sources.join(", ")),
    ));
}

/// The signature and log-body checks the verifier's success stands for.
fn passed_signature(bundle: &Bundle, policy: &IdentityPolicy, report: &mut Report) {
    let over = if bundle.envelope().is_some() {
        "the DSSE PAE"
    } else {
        "the artifact digest"
    };
    let by = match policy.key() {
        Some(k) => format!("the caller's key {}", k.key_id().short()),
        None => "the certificate's key".to_owned(),
    };
    report.push(Check::pass("signature", format!("over {over}, by {by}")));
    report.push(Check::pass(
        "tlog-body",
        "each log entry's body is this bundle's signature, signer and content",
    ));
}

/// Which named check a verifier error stands for.
fn failed_check(e: &sigstore_verify::Error) -> &'static str {
    use sigstore_verify::Error as E;
    use sigstore_verify::bundle::Error as B;
    match e {
        E::Certificate(
            CertificateError::Malformed(_)
            | CertificateError::ChainInvalid(_)
            | CertificateError::NoValidAuthority { .. }
            | CertificateError::NotYetValid { .. }
            | CertificateError::Expired { .. }
            | CertificateError::Sct(_),
        ) => "certificate-chain",
        E::TransparencyLog(
            TransparencyLogError::EntryMismatch(_) | TransparencyLogError::MalformedEntry(_),
        ) => "tlog-body",
        E::TransparencyLog(TransparencyLogError::IntegratedTime(_)) => "signing-time",
        E::TransparencyLog(_) => "transparency-log",
        E::Timestamp(
            TimestampError::Invalid(_)
            | TimestampError::OutsideAuthorityValidity { .. }
            | TimestampError::NoVerifiedTimestamp(_),
        ) => "signing-time",
        E::IdentityMismatch { .. } => "identity",
        E::IssuerMismatch { .. } => "issuer",
        E::SignatureInvalid(_) | E::Crypto(_) => "signature",
        // The artifact (message signatures) and the subject (DSSE) were
        // bound before the call: what is left to differ is the log entry.
        E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) => "tlog-body",
        E::Bundle(B::MissingSigningTimeEvidence | B::MissingTimestamp) => "signing-time",
        E::Bundle(
            B::MissingInclusionPromise(_)
            | B::MissingInclusionProof(_)
            | B::MissingCheckpoint
            | B::LogIndexOutOfRange { .. }
            | B::CheckpointRootMismatch,
        ) => "transparency-log",
        _ => "bundle",
    }
}
