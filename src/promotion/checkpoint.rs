//! Checkpoints: an environment's length and head, signed, so that a
//! verifier can tell it is not being shown an older or shorter history.
//!
//! A hash chain proves the order of the records it holds, not that none
//! were removed from its end: deleting the newest k records (envelopes,
//! links and head hint) of an environment leaves a shorter chain that
//! validates. What detects that is a checkpoint from outside the store:
//!
//! * the verifier's own last accepted checkpoint (kept in a state file, as
//!   TUF keeps trusted metadata): every later history must extend it;
//! * a checkpoint cosigned by an independent witness key (policy role
//!   `witness`), published where the store's writer cannot reach it.
//!
//! The note follows C2SP's signed-note layout: the body
//!
//! ```text
//! custodia.dev/promotion/<environment>
//! <number of records>
//! <head record's SHA-256 hex, or "genesis">
//! ```
//!
//! then a blank line and one line per signature, `— <name>
//! <base64(key hash || signature)>`, where the key hash is the first four
//! bytes of SHA-256(name, "\n", key id) and the signature is over the body.

use std::collections::BTreeSet;

use crate::digest::{Digest, DigestAlgorithm};
use crate::encoding::{base64_decode, base64_encode, decode_lower_hex};
use crate::error::{CheckpointError, Error};
use crate::keys::{KeyId, Signer};
use crate::policy::ActivePolicy;
use crate::report::Check;

use super::VerifiedHistory;

/// The most bytes a checkpoint note may have.
pub const MAX_CHECKPOINT_BYTES: usize = 16 * 1024;
/// The most signature lines a checkpoint note may have.
const MAX_SIGNATURES: usize = 32;
/// The policy role whose keys cosign checkpoints as witnesses.
pub const WITNESS_ROLE: &str = "witness";
const ORIGIN_PREFIX: &str = "custodia.dev/promotion/";

/// An environment's length and head at some point.
///
/// ```
/// use custodia::promotion::Checkpoint;
/// let cp = Checkpoint::new("prod", 0, None);
/// assert_eq!(cp.body(), "custodia.dev/promotion/prod\n0\ngenesis\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The environment.
    pub environment: String,
    /// How many records its history had.
    pub length: u64,
    /// The newest of them (`None` for an empty history).
    pub head: Option<Digest>,
}

impl Checkpoint {
    /// A checkpoint.
    pub fn new(environment: impl Into<String>, length: u64, head: Option<Digest>) -> Self {
        Self {
            environment: environment.into(),
            length,
            head,
        }
    }

    /// The checkpoint of a verified environment (`None` when `history` did
    /// not verify it).
    pub fn of(history: &VerifiedHistory, environment: &str) -> Option<Self> {
        let env = history.environment(environment).filter(|e| e.verified())?;
        Some(Self::new(
            environment,
            env.len() as u64,
            env.last().map(|r| r.digest()),
        ))
    }

    /// The note body that signatures cover.
    pub fn body(&self) -> String {
        format!(
            "{ORIGIN_PREFIX}{}\n{}\n{}\n",
            self.environment,
            self.length,
            self.head.as_ref().map_or("genesis".to_owned(), Digest::hex)
        )
    }

    /// One `checkpoint` check: `history` extends this checkpoint (the
    /// record at position `length - 1` of the environment is `head`).
    /// Fails when the environment is shorter (truncated, or an older copy
    /// of the store) or holds another record there (rewritten).
    pub fn check(&self, history: &VerifiedHistory) -> Check {
        let env = &self.environment;
        let Some(records) = history.environment(env).filter(|e| e.verified()) else {
            return Check::fail(
                "checkpoint",
                format!("`{env}` has no verified history to compare with its checkpoint"),
            );
        };
        let now = records.len() as u64;
        if now < self.length {
            return Check::fail(
                "checkpoint",
                format!(
                    "`{env}` has {now} record(s), but a checkpoint showed {} (head {}): records were removed from its end, or this is an older copy of the store",
                    self.length,
                    self.head
                        .as_ref()
                        .map_or("genesis".to_owned(), ToString::to_string)
                ),
            );
        }
        let at = usize::try_from(self.length)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| records.get(i))
            .map(|r| r.digest());
        if at.as_ref() != self.head.as_ref() {
            return Check::fail(
                "checkpoint",
                format!(
                    "`{env}` holds {} at position {}, where a checkpoint showed {}: its history was rewritten",
                    at.as_ref()
                        .map_or("nothing".to_owned(), ToString::to_string),
                    self.length,
                    self.head
                        .as_ref()
                        .map_or("genesis".to_owned(), ToString::to_string)
                ),
            );
        }
        Check::pass(
            "checkpoint",
            format!(
                "`{env}` ({now} record(s)) extends the checkpoint at {} record(s)",
                self.length
            ),
        )
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NoteSignature {
    name: String,
    key_hash: [u8; 4],
    signature: Vec<u8>,
}

/// A checkpoint with its signature lines.
///
/// ```
/// use custodia::keys::{KeyAlgorithm, PrivateKey};
/// use custodia::promotion::{Checkpoint, SignedCheckpoint};
/// let witness = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let mut note = SignedCheckpoint::new(Checkpoint::new("prod", 0, None));
/// note.sign("witness-a", &witness)?;
/// let text = note.to_note();
/// assert_eq!(SignedCheckpoint::from_note(text.as_bytes())?, note);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    signatures: Vec<NoteSignature>,
}

fn key_hash(name: &str, key: &KeyId) -> [u8; 4] {
    let digest = DigestAlgorithm::Sha256.hash(format!("{name}\n{key}").as_bytes());
    let bytes = decode_lower_hex(&digest.hex()).unwrap_or_default();
    let mut out = [0u8; 4];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b;
    }
    out
}

impl SignedCheckpoint {
    /// A checkpoint with no signatures yet.
    pub fn new(checkpoint: Checkpoint) -> Self {
        Self {
            checkpoint,
            signatures: Vec::new(),
        }
    }

    /// The checkpoint (unverified until [`verify`](Self::verify)).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Adds a signature by `signer`, named `name` (its identity in the
    /// policy).
    pub fn sign(&mut self, name: &str, signer: &dyn Signer) -> Result<(), Error> {
        if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
            return Err(CheckpointError::Malformed {
                line: 0,
                what: "a signer name is non-empty, without spaces or `+`",
            }
            .into());
        }
        let key_hash = key_hash(name, signer.key_id());
        if self
            .signatures
            .iter()
            .any(|s| s.name == name && s.key_hash == key_hash)
        {
            return Err(CheckpointError::DuplicateSignature(name.to_owned()).into());
        }
        let signature = signer.sign(self.checkpoint.body().as_bytes())?;
        self.signatures.push(NoteSignature {
            name: name.to_owned(),
            key_hash,
            signature,
        });
        Ok(())
    }

    /// The note: body, blank line, signature lines.
    pub fn to_note(&self) -> String {
        let mut out = self.checkpoint.body();
        out.push('\n');
        for s in &self.signatures {
            let mut blob = s.key_hash.to_vec();
            blob.extend_from_slice(&s.signature);
            out.push_str(&format!("\u{2014} {} {}\n", s.name, base64_encode(&blob)));
        }
        out
    }

    /// Reads a note strictly: size bounded, UTF-8 text, the three body
    /// lines, a blank line, 1 to 32 signature lines, nothing else.
    pub fn from_note(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_CHECKPOINT_BYTES {
            return Err(CheckpointError::TooLarge(bytes.len()).into());
        }
        let text = std::str::from_utf8(bytes).map_err(|e| CheckpointError::NotText {
            line: bytes
                .get(..e.valid_up_to())
                .map_or(1, |b| b.iter().filter(|c| **c == b'\n').count() + 1),
        })?;
        let malformed = |line: usize, what: &'static str| -> Error {
            CheckpointError::Malformed { line, what }.into()
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(text.lines().count().max(1), "a note ends with a newline"))?;
        let mut lines = body.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        for (i, line) in body.split('\n').enumerate() {
            if line.chars().any(char::is_control) {
                return Err(CheckpointError::NotText { line: i + 1 }.into());
            }
        }
        let mut next = |what: &'static str| lines.next().ok_or_else(|| malformed(0, what));
        let (n, origin) = next("an origin line")?;
        let environment = origin
            .strip_prefix(ORIGIN_PREFIX)
            .filter(|e| super::store::check_environment(e).is_ok())
            .ok_or_else(|| malformed(n, "custodia.dev/promotion/<environment>"))?;
        let (n, length) = next("a length line")?;
        let length: u64 = if length == "0" || (!length.starts_with('0') && !length.is_empty()) {
            length
                .parse()
                .map_err(|_| malformed(n, "a length in decimal"))?
        } else {
            return Err(malformed(n, "a length in decimal, no leading zeros"));
        };
        let (n, head) = next("a head line")?;
        let head = match head {
            "genesis" if length == 0 => None,
            _ if length == 0 => return Err(malformed(n, "`genesis` for an empty history")),
            hex => Some(
                Digest::from_hex(DigestAlgorithm::Sha256, hex)
                    .map_err(|_| malformed(n, "the head's SHA-256 in lower-case hex"))?,
            ),
        };
        let (n, blank) = next("a blank line after the body")?;
        if !blank.is_empty() {
            return Err(malformed(n, "a blank line after the body"));
        }
        let mut signatures = Vec::new();
        let mut seen = BTreeSet::new();
        for (n, line) in lines {
            if signatures.len() == MAX_SIGNATURES {
                return Err(malformed(n, "at most 32 signature lines"));
            }
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| malformed(n, "a signature line `— <name> <base64>`"))?;
            let (name, blob) = rest
                .split_once(' ')
                .filter(|(name, blob)| !name.is_empty() && !blob.contains(' '))
                .ok_or_else(|| malformed(n, "a signature line `— <name> <base64>`"))?;
            let blob = base64_decode(blob).map_err(|_| malformed(n, "standard base64"))?;
            let (hash, signature) = blob
                .split_first_chunk::<4>()
                .filter(|(_, sig)| !sig.is_empty())
                .ok_or_else(|| malformed(n, "a key hash and a signature"))?;
            if !seen.insert((name.to_owned(), *hash)) {
                return Err(CheckpointError::DuplicateSignature(name.to_owned()).into());
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_hash: *hash,
                signature: signature.to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(malformed(0, "at least one signature line"));
        }
        Ok(Self {
            checkpoint: Checkpoint::new(environment, length, head),
            signatures,
        })
    }

    /// Verifies the signatures against the policy's keys with `role`: at
    /// least `threshold` distinct keys, each named as the policy names its
    /// identity, must have signed the body. Lines by unknown keys are
    /// ignored (as signed notes allow); one key signing twice is refused.
    /// Returns one `checkpoint-signature` check.
    pub fn verify(&self, policy: &ActivePolicy, role: &str, threshold: usize) -> Check {
        let body = self.checkpoint.body();
        let mut signers = BTreeSet::new();
        for s in &self.signatures {
            for key in policy.keys_with_role(role).iter() {
                let id = key.key_id();
                if policy.identity_of(id) != Some(s.name.as_str())
                    || key_hash(&s.name, id) != s.key_hash
                {
                    continue;
                }
                if key.verify(body.as_bytes(), &s.signature).is_ok() && !signers.insert(id.clone())
                {
                    return Check::fail(
                        "checkpoint-signature",
                        format!("`{}` signed the checkpoint twice", s.name),
                    );
                }
            }
        }
        let threshold = threshold.max(1);
        if signers.len() >= threshold {
            Check::pass(
                "checkpoint-signature",
                format!(
                    "checkpoint of `{}` at {} record(s) signed by {} `{role}` key(s)",
                    self.checkpoint.environment,
                    self.checkpoint.length,
                    signers.len()
                ),
            )
        } else {
            Check::fail(
                "checkpoint-signature",
                format!(
                    "checkpoint of `{}` signed by {} `{role}` key(s) of the policy, {threshold} required",
                    self.checkpoint.environment,
                    signers.len()
                ),
            )
        }
    }
}

/// What a verifier keeps between runs: the last checkpoint it accepted per
/// environment (its own file, trusted as TUF trusts its metadata). A later
/// history must extend each of them.
///
/// ```
/// use custodia::promotion::{Checkpoint, TrustedState};
/// let mut state = TrustedState::default();
/// state.keep(Checkpoint::new("prod", 0, None));
/// let again = TrustedState::from_json(&state.to_json()?)?;
/// assert_eq!(again, state);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedState {
    checkpoints: Vec<Checkpoint>,
    /// Verified incidents seen so far (incident records are not
    /// hash-linked, so a deleted one is found only this way).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    incidents: Vec<Digest>,
}

impl TrustedState {
    /// Reads a state file (strict JSON, at most 1 MiB).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > 1024 * 1024 {
            return Err(CheckpointError::TooLarge(bytes.len()).into());
        }
        let state: Self = crate::json::from_slice(bytes, "checkpoint state")?;
        let mut seen = BTreeSet::new();
        for c in &state.checkpoints {
            super::store::check_environment(&c.environment)?;
            if !seen.insert(c.environment.as_str()) {
                return Err(CheckpointError::DuplicateSignature(c.environment.clone()).into());
            }
        }
        Ok(state)
    }

    /// The state as JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec_pretty(self).map_err(|e| {
            crate::error::StoreError::Invalid(format!("serializing checkpoint state: {e}")).into()
        })
    }

    /// The kept checkpoints.
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    /// Keeps `checkpoint` as its environment's latest.
    pub fn keep(&mut self, checkpoint: Checkpoint) {
        self.checkpoints
            .retain(|c| c.environment != checkpoint.environment);
        self.checkpoints.push(checkpoint);
        self.checkpoints
            .sort_by(|a, b| a.environment.cmp(&b.environment));
    }

    /// Keeps the checkpoint of every verified environment of `history`.
    pub fn advance(&mut self, history: &VerifiedHistory) {
        let names: Vec<String> = history
            .environments()
            .filter(|(_, e)| e.verified())
            .map(|(n, _)| n.to_owned())
            .collect();
        for name in names {
            if let Some(c) = Checkpoint::of(history, &name) {
                self.keep(c);
            }
        }
        let mut incidents: Vec<Digest> =
            history.all_incidents().map(|i| i.digest.clone()).collect();
        incidents.extend(self.incidents.iter().cloned());
        incidents.sort();
        incidents.dedup();
        self.incidents = incidents;
    }
}

/// Checks a history against checkpoints from outside the store: those a
/// verifier kept (`kept`, trusted as they are) and witness-cosigned notes
/// (`witnessed`, each verified against the policy's `witness` keys first).
/// One check per checkpoint, for the environments `history` holds.
pub fn check_checkpoints(
    history: &VerifiedHistory,
    policy: &ActivePolicy,
    kept: &TrustedState,
    witnessed: &[SignedCheckpoint],
) -> crate::report::Report {
    let mut report = crate::report::Report::new();
    for c in kept.checkpoints() {
        if history.environment(&c.environment).is_some() {
            report.push(c.check(history));
        }
    }
    let known: BTreeSet<&Digest> = history.all_incidents().map(|i| &i.digest).collect();
    let gone: Vec<String> = kept
        .incidents
        .iter()
        .filter(|d| !known.contains(d))
        .map(ToString::to_string)
        .collect();
    if !kept.incidents.is_empty() {
        report.push(if gone.is_empty() {
            Check::pass(
                "incidents-kept",
                format!(
                    "all {} incident(s) seen before are still there",
                    kept.incidents.len()
                ),
            )
        } else {
            Check::fail(
                "incidents-kept",
                format!(
                    "{} incident(s) seen before are gone or no longer verify: {}",
                    gone.len(),
                    gone.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        });
    }
    for w in witnessed {
        let signed = w.verify(policy, WITNESS_ROLE, 1);
        let ok = signed.passed;
        report.push(signed);
        if ok {
            report.push(w.checkpoint().check(history));
        }
    }
    report
}

/// What a witness does: validates `environment` and, when it verifies,
/// cosigns its checkpoint with `signer`, which must hold the `witness`
/// role in the policy (named by its identity there). `Err` is the report
/// that says why not.
pub fn witness(
    store: &dyn super::Store,
    policy: &ActivePolicy,
    environment: &str,
    signer: &dyn Signer,
    options: &super::ValidationOptions,
) -> Result<SignedCheckpoint, crate::report::Report> {
    let refuse = |name: &str, reason: String| {
        let mut report = crate::report::Report::new();
        report.push(Check::fail(name, reason));
        report
    };
    let name = policy
        .keys_with_role(WITNESS_ROLE)
        .get(signer.key_id())
        .and_then(|_| policy.identity_of(signer.key_id()))
        .ok_or_else(|| {
            refuse(
                "witness",
                format!(
                    "key {} has no `{WITNESS_ROLE}` role in the policy",
                    signer.key_id().short()
                ),
            )
        })?
        .to_owned();
    let validation = super::validate(store, policy, &[environment], options);
    let history = validation.history();
    let checkpoint = Checkpoint::of(history, environment).ok_or_else(|| {
        validation
            .report(environment)
            .cloned()
            .unwrap_or_else(|| refuse("history", format!("`{environment}` was not validated")))
    })?;
    let mut note = SignedCheckpoint::new(checkpoint);
    note.sign(&name, signer)
        .map_err(|e| refuse("witness", e.to_string()))?;
    Ok(note)
}
