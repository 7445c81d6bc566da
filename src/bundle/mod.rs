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
//! | `identity` / `issuer` | the certificate's SAN and OIDC issuer match a keyless [`crate::trust::Anchor`]'s [`IdentityPolicy`] (keyless) |
//! | `signature` | the signature over the DSSE PAE or the artifact digest verifies with the certificate's key (or a key anchor's) |
//! | `tlog-body` | the log entry's body is this bundle's signature, key and content |
//! | `payload-type`, `statement`, `predicate-type`, `subject` | as [`crate::verify::verify_attestation`] (DSSE bundles) |
//! | `predicate`, `builder-id`, `source-repository`, ... | as [`crate::provenance::verify_provenance`] ([`verify_provenance`]) |
//! | `artifact` | the artifact is what the message signature signed (message-signature bundles) |
//!
//! A failed check ends the report: later checks did not run. The
//! cryptographic steps (chain, logs, timestamps, signature, body match) are
//! done by the `sigstore-verify` crate (sigstore-rust; it passes the
//! sigstore-conformance suite); custodia parses the bundle itself, finds
//! the signer among the caller's [`TrustAnchors`] (a keyless anchor by the
//! certificate's identity and issuer, a key anchor by its key), checks the
//! payload and the artifact binding, and names each outcome. Nothing is
//! fetched: the trusted root is the one the anchors carry
//! ([`TrustAnchors::with_sigstore_root`]).
//!
//! ```no_run
//! use custodia::bundle::{Bundle, IdentityPolicy, TrustedRoot, verify_attestation};
//! use custodia::digest::DigestSet;
//! use custodia::trust::TrustAnchors;
//! use custodia::verify::Expectation;
//!
//! let root = TrustedRoot::from_json(&std::fs::read("trusted_root.json")?)?;
//! let bundle = Bundle::from_json(&std::fs::read("app.intoto.sigstore.json")?)?;
//! let anchors = TrustAnchors::keyless(root, IdentityPolicy::keyless(
//!     "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
//!     "https://token.actions.githubusercontent.com",
//! ));
//! let expect = Expectation::new(
//!     "https://slsa.dev/provenance/v1",
//!     DigestSet::of_bytes(&std::fs::read("app.tar.gz")?),
//! );
//! let verified = verify_attestation(&bundle, &anchors, &expect);
//! println!("{}", verified.report());
//! let statement = verified.into_result(); // Ok(Statement) only when verified
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod wire;
mod x509;

pub use crate::trust::{
    CLIENT_TRUST_CONFIG_V0_1, CertificateMatch, IdentityPolicy, MAX_TRUSTED_ROOT_BYTES, TrustedRoot,
};
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
use crate::trust::{Anchor, TrustAnchors, clip};
use crate::verify::{Expectation, VerifiedAttestation, check_predicate_type, check_subject};

/// The outcome of [`verify_artifact`]: the report, and for a DSSE bundle
/// the statement, present only when every check passed.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    report: Report,
    statement: Option<Statement>,
    signed_by: Vec<Anchor>,
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

    /// The anchors the signer is (every keyless anchor the certificate
    /// matches, or the key anchor); empty unless verified.
    pub fn signed_by(&self) -> &[Anchor] {
        &self.signed_by
    }
}

/// What [`run`] found: the report, the statement (when the binding asks
/// for one) and the anchors that signed.
struct Outcome {
    report: Report,
    statement: Option<Statement>,
    signed_by: Vec<Anchor>,
}

impl Outcome {
    fn failed(mut report: Report, name: &str, reason: String) -> Self {
        report.push(Check::fail(name, reason));
        Self {
            report,
            statement: None,
            signed_by: Vec::new(),
        }
    }
}

/// Verifies an attestation bundle (DSSE) for an artifact: signature and
/// signer (chain, logs, time, identity), then payload type, statement,
/// predicate type and subject in one call, as
/// [`crate::verify::verify_attestation`] does for a bare envelope. A
/// message-signature bundle fails (`payload-type`): it carries no statement.
pub fn verify_attestation(
    bundle: &Bundle,
    anchors: &TrustAnchors,
    expected: &Expectation,
) -> VerifiedAttestation {
    let out = run(
        bundle,
        anchors,
        expected.artifact(),
        Binding::Attestation(expected.predicate_type()),
    );
    VerifiedAttestation::from_parts(out.report, out.statement, out.signed_by)
}

/// Verifies a provenance bundle (SLSA v1, v0.2, v0.1 in DSSE): signer,
/// signature, logs and time as [`verify_attestation`], then the claims as
/// [`crate::provenance::verify_provenance`] does for a bare envelope
/// (`predicate-type`, `predicate`, `subject`, `builder-id`,
/// `source-repository`, ...). The expectation's threshold does not apply:
/// a bundle has one signer.
pub fn verify_provenance(
    bundle: &Bundle,
    anchors: &TrustAnchors,
    expected: &ProvenanceExpectation,
) -> VerifiedProvenance {
    let Outcome {
        mut report,
        statement,
        signed_by,
    } = run(bundle, anchors, expected.artifact(), Binding::Deferred);
    let Some(statement) = statement else {
        return VerifiedProvenance::from_parts(report, None, Vec::new());
    };
    let claims = verify_provenance_statement(&statement, expected);
    report.extend(claims.report().clone());
    VerifiedProvenance::from_parts(report, claims.claims().cloned(), signed_by)
}

/// Verifies a bundle for an artifact (its digests), whatever it signs: a
/// message signature must be over the artifact; a DSSE statement must name
/// it as a subject (any predicate type; use [`verify_attestation`] to bind
/// one).
pub fn verify_artifact(
    bundle: &Bundle,
    anchors: &TrustAnchors,
    artifact: &DigestSet,
) -> VerifiedBundle {
    let out = run(bundle, anchors, artifact, Binding::Artifact);
    let verified = out.report.verified();
    VerifiedBundle {
        report: out.report,
        statement: out.statement.filter(|_| verified),
        signed_by: if verified { out.signed_by } else { Vec::new() },
    }
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
    anchors: &TrustAnchors,
    artifact: &DigestSet,
    binding: Binding<'_>,
) -> Outcome {
    let mut report = Report::new();
    report.push(Check::pass("bundle", bundle.summary()));

    // The anchors must include the kind of signer the bundle has.
    let keyless = matches!(bundle.material(), VerificationMaterial::Certificates(_));
    let keys: Vec<&Anchor> = anchors
        .iter()
        .filter(|a| a.public_key().is_some())
        .collect();
    if !keyless && keys.is_empty() {
        return Outcome::failed(
            report,
            "certificate-chain",
            "the bundle has no certificate (a public-key bundle) and no key is trusted: verify it with the signer's key".into(),
        );
    }
    if keyless && anchors.keyless_anchors().next().is_none() {
        return Outcome::failed(
            report,
            "signature",
            "a keyless bundle (it carries a certificate) and no keyless signer is trusted: verify it with a certificate identity and issuer, not a key".into(),
        );
    }
    let Some(root) = anchors.sigstore_root() else {
        return Outcome::failed(
            report,
            if keyless {
                "certificate-chain"
            } else {
                "transparency-log"
            },
            "the trust anchors carry no Sigstore trusted root to verify the bundle against".into(),
        );
    };
    if let VerificationMaterial::Certificates(certs) = bundle.material() {
        if let Err(reason) = chain_order(certs) {
            return Outcome::failed(report, "certificate-chain", reason);
        }
    }
    if !matches!(binding, Binding::Artifact) && bundle.envelope().is_none() {
        return Outcome::failed(
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
                return Outcome::failed(
                    report,
                    "artifact",
                    format!(
                        "the bundle signs a {algorithm} digest; no {algorithm} digest of the artifact was given"
                    ),
                );
            };
            if let Some(claimed) = digest {
                if claimed != &given {
                    return Outcome::failed(
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
                return Outcome::failed(
                    report,
                    "statement",
                    "the payload is not an in-toto statement with a sha256, sha384 or sha512 subject digest".into(),
                );
            }
        },
    };
    let Some(sig_artifact) = to_artifact(&signed_digest) else {
        return Outcome::failed(report, "artifact", "unusable digest".into());
    };

    let (result, signed_by) = if keyless {
        let any = VerificationPolicy::any_identity();
        match root.verifier.verify(sig_artifact, &bundle.inner, &any) {
            Ok(result) => (result, Vec::new()),
            Err(e) => return Outcome::failed(report, failed_check(&e), e.to_string()),
        }
    } else {
        // Each trusted key in turn: the bundle's key hint never picks one.
        let mut first_error = None;
        let mut found = None;
        for anchor in &keys {
            let Some(key) = anchor.public_key() else {
                continue;
            };
            let policy =
                PublicKeyVerificationPolicy::new(DerPublicKey::new(key.spki_der().to_vec()));
            match root
                .verifier
                .verify(sig_artifact.clone(), &bundle.inner, &policy)
            {
                Ok(result) => {
                    found = Some((result, vec![(*anchor).clone()]));
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (found, first_error) {
            (Some(found), _) => found,
            (None, Some(e)) => {
                let tried = if keys.len() > 1 {
                    format!(
                        " (and with none of the other {} trusted keys)",
                        keys.len() - 1
                    )
                } else {
                    String::new()
                };
                return Outcome::failed(report, failed_check(&e), format!("{e}{tried}"));
            }
            // `keys` is not empty (checked above).
            (None, None) => {
                return Outcome::failed(report, "signature", "no trusted key".into());
            }
        }
    };
    passed_crypto(bundle, keyless, &result, &mut report);

    let signed_by = if keyless {
        let Some(identity) = result.identity().map(|s| s.as_str().to_owned()) else {
            return Outcome::failed(report, "identity", "the certificate has no identity".into());
        };
        let Some(issuer) = result.issuer().map(str::to_owned) else {
            return Outcome::failed(report, "issuer", "the certificate has no issuer".into());
        };
        match identify(anchors, &identity, &issuer) {
            Ok(matched) => {
                let names = matched
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                report.push(Check::pass(
                    "identity",
                    format!("`{}`, trusted as {names}", clip(&identity)),
                ));
                report.push(Check::pass("issuer", format!("`{}`", clip(&issuer))));
                matched
            }
            Err((identity_matched, name, reason)) => {
                if identity_matched {
                    report.push(Check::pass("identity", format!("`{}`", clip(&identity))));
                }
                return Outcome::failed(report, name, reason);
            }
        }
    } else {
        signed_by
    };

    passed_signature(bundle, signed_by.first().filter(|_| !keyless), &mut report);

    let (report, statement) = match bundle.content() {
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
                return Outcome::failed(
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
                Err(e) => return Outcome::failed(report, "statement", e.to_string()),
            };
            match binding {
                Binding::Deferred => (report, Some(statement)),
                Binding::Attestation(pt) => {
                    if check_predicate_type(&statement, &[pt], &mut report) {
                        check_subject(&statement, artifact, &mut report);
                    }
                    let statement = report.verified().then_some(statement);
                    (report, statement)
                }
                Binding::Artifact => {
                    check_subject(&statement, artifact, &mut report);
                    let statement = report.verified().then_some(statement);
                    (report, statement)
                }
            }
        }
    };
    Outcome {
        report,
        statement,
        signed_by,
    }
}

/// The keyless anchors a verified certificate's identity and issuer
/// match, or the failed check's name and reason (and whether some anchor's
/// identity matched, so `identity` passed and `issuer` failed).
fn identify(
    anchors: &TrustAnchors,
    identity: &str,
    issuer: &str,
) -> Result<Vec<Anchor>, (bool, &'static str, String)> {
    let matched: Vec<Anchor> = anchors.by_certificate(identity, issuer).cloned().collect();
    if !matched.is_empty() {
        return Ok(matched);
    }
    let expected =
        |by_identity: bool, check: fn(&IdentityPolicy, &str) -> (bool, String), found: &str| {
            let mut seen = Vec::new();
            for (_, c) in anchors.keyless_anchors() {
                if by_identity && !c.check_identity(identity).0 {
                    continue;
                }
                let (_, want) = check(c, found);
                if !seen.contains(&want) {
                    seen.push(want);
                }
            }
            seen.join(" or ")
        };
    if anchors
        .keyless_anchors()
        .any(|(_, c)| c.check_identity(identity).0)
    {
        Err((
            true,
            "issuer",
            format!(
                "expected {}, the certificate has `{}`",
                expected(true, IdentityPolicy::check_issuer, issuer),
                clip(issuer)
            ),
        ))
    } else {
        Err((
            false,
            "identity",
            format!(
                "expected {}, the certificate has `{}`",
                expected(false, IdentityPolicy::check_identity, identity),
                clip(identity)
            ),
        ))
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
fn passed_crypto(bundle: &Bundle, keyless: bool, result: &VerificationResult, report: &mut Report) {
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
    if keyless {
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
fn passed_signature(bundle: &Bundle, key: Option<&Anchor>, report: &mut Report) {
    let over = if bundle.envelope().is_some() {
        "the DSSE PAE"
    } else {
        "the artifact digest"
    };
    let by = match key.and_then(|a| a.key_id().map(|id| (a, id))) {
        Some((anchor, id)) => format!("trusted key {} ({anchor})", id.short()),
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
