//! The main job: an end-to-end walk through custodia's foundation on
//! embedded defaults. It builds an artifact once, identifies it by digest,
//! states facts about it, signs them with two distinct keys, verifies
//! everything in one call, then shows what the rules catch.
//!
//! ```text
//! cargo run --example demo -- [--out DIR] [--keep-private-keys]
//! ```
//!
//! Exit code 0 when every step behaved as custodia promises (good evidence
//! verified, every bad case rejected), 1 otherwise, 2 on an I/O error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::Parser;
use custodia::digest::{DigestAlgorithm, DigestSet, hash_file};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey};
use custodia::report::Report;
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::verify::{Expectation, verify_attestation};

/// The demo's predicate type (a build record, signed by builder and tester).
const PREDICATE_TYPE: &str = "https://custodia.dev/attestation/demo/v1";

#[derive(Parser)]
#[command(
    about = "End-to-end demo: build once, identify by digest, sign, verify, reject tampering"
)]
struct Args {
    /// Directory for everything the demo writes (default: a new temp dir).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the private keys (PKCS#8 PEM) under OUT/keys.
    #[arg(long)]
    keep_private_keys: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("demo: a rule did not behave as expected (see above)");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool, Box<dyn std::error::Error>> {
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("custodia-demo-")
            .tempdir()?
            .keep(),
    };
    std::fs::create_dir_all(out.join("keys"))?;
    println!("custodia demo: writing to {}\n", out.display());

    step(
        "1. Build once",
        "CI builds the artifact exactly once. From here on, the artifact *is* its digest: \
         every later step names these bytes by SHA-256, never by file name or tag.",
    );
    let artifact = out.join("artifact");
    std::fs::write(&artifact, demo_artifact())?;
    let digest = hash_file(DigestAlgorithm::Sha256, &artifact)?;
    println!(
        "   artifact  {}\n   digest    {digest}\n",
        artifact.display()
    );

    step(
        "2. Two identities",
        "The builder signs what it built and the tester co-signs after testing. \
         Keys are standard PEM (PKCS#8 / SubjectPublicKeyInfo); a key's id is the SHA-256 \
         of its public key.",
    );
    let builder = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
    let tester = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
    for (name, key) in [("builder", &builder), ("tester", &tester)] {
        write(
            &out.join(format!("keys/{name}.pub")),
            key.public_key().to_pem(),
        )?;
        if args.keep_private_keys {
            write(&out.join(format!("keys/{name}.key")), key.to_pem().as_str())?;
        }
        println!("   {name:<8} {} {}", key.algorithm(), key.key_id().short());
    }
    println!();

    step(
        "3. State a fact about those bytes, and sign it",
        "An in-toto Statement v1 names the artifact by digest and carries a predicate. \
         It is wrapped in a DSSE envelope; both keys sign the same pre-authenticated bytes.",
    );
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new("artifact", digest.to_set())],
        PREDICATE_TYPE,
        serde_json::json!({
            "builder": "https://custodia.dev/demo-builder",
            "tests": {"passed": 42, "failed": 0}
        }),
    )?;
    let mut envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json(), &builder)?;
    envelope.add_signature(&tester)?;
    let envelope_path = out.join("build.dsse.json");
    std::fs::write(&envelope_path, envelope.to_json())?;
    println!("   envelope  {}\n", envelope_path.display());

    let trusted: KeySet = [builder.public_key().clone(), tester.public_key().clone()]
        .into_iter()
        .collect();
    let expect = Expectation::new(PREDICATE_TYPE, digest.to_set()).with_threshold(2);

    step(
        "4. Verify: one call binds signatures, payload type, predicate type and subject",
        "A consumer gets a report of named checks, never a bare yes/no.",
    );
    let wire = std::fs::read(&envelope_path)?;
    let good = verify_attestation(&Envelope::from_json(&wire)?, &trusted, &expect);
    show(good.report());
    let mut all_ok = good.report().verified();

    step(
        "5. What the rules catch",
        "Each case below must be rejected, with a reason a person can act on.",
    );
    let rebuilt = DigestSet::of_bytes(&[demo_artifact(), b"rebuilt".to_vec()].concat());
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
    // Edit the signed payload but keep the original signatures.
    let original: serde_json::Value = serde_json::from_slice(&wire)?;
    let tampered = serde_json::json!({
        "payloadType": envelope.payload_type(),
        "payload": BASE64.encode(
            String::from_utf8_lossy(envelope.payload()).replace("\"passed\":42", "\"passed\":43")
        ),
        "signatures": original.get("signatures").cloned().unwrap_or_default(),
    });
    // custodia refuses to sign twice with one key, so forge the envelope:
    // the builder's signature copied under the tester's key id.
    let mut twice: serde_json::Value = serde_json::from_slice(&wire)?;
    if let Some(signatures) = twice.get_mut("signatures").and_then(|s| s.as_array_mut()) {
        if let Some(first) = signatures.first().cloned() {
            signatures.truncate(1);
            let mut copy = first;
            if let Some(fields) = copy.as_object_mut() {
                fields.insert("keyid".into(), tester.key_id().to_string().into());
            }
            signatures.push(copy);
        }
    }
    let twice = Envelope::from_json(&serde_json::to_vec(&twice)?)?;
    let cases: Vec<(&str, Envelope, Expectation)> = vec![
        (
            "a rebuilt artifact (different bytes, same name)",
            envelope.clone(),
            Expectation::new(PREDICATE_TYPE, rebuilt).with_threshold(2),
        ),
        (
            "an unsigned envelope",
            Envelope::unsigned(PAYLOAD_TYPE, statement.to_json()),
            expect.clone(),
        ),
        (
            "a payload edited after signing",
            Envelope::from_json(&serde_json::to_vec(&tampered)?)?,
            expect.clone(),
        ),
        (
            "a signature by a key nobody trusts",
            Envelope::sign(PAYLOAD_TYPE, statement.to_json(), &stranger)?,
            expect.clone(),
        ),
        (
            "the builder signing twice to fake a second approval",
            twice,
            expect.clone(),
        ),
        (
            "the right envelope checked for another predicate type",
            envelope.clone(),
            Expectation::new("https://slsa.dev/provenance/v1", digest.to_set()).with_threshold(2),
        ),
    ];
    for (what, env, expectation) in cases {
        let result = verify_attestation(&env, &trusted, &expectation);
        let report = result.report();
        match report.first_failure() {
            Some(check) if !report.verified() => {
                println!(
                    "   rejected  {what}\n             {}: {}",
                    check.name, check.reason
                );
            }
            _ => {
                println!("   ACCEPTED  {what}  <-- this must not happen");
                all_ok = false;
            }
        }
    }
    println!(
        "\nThe files are in {}: check them with\n   cargo run --example verifier -- envelope --in {} --key {} --key {} --threshold 2",
        out.display(),
        envelope_path.display(),
        out.join("keys/builder.pub").display(),
        out.join("keys/tester.pub").display()
    );
    println!(
        "\n{}",
        if all_ok {
            "demo: all rules held"
        } else {
            "demo: FAILED"
        }
    );
    Ok(all_ok)
}

fn step(title: &str, text: &str) {
    println!("{title}\n   {text}\n");
}

fn show(report: &Report) {
    for line in report.to_string().lines() {
        println!("   {line}");
    }
    println!();
}

fn write(path: &Path, text: impl AsRef<str>) -> std::io::Result<()> {
    std::fs::write(path, text.as_ref())
}

fn demo_artifact() -> Vec<u8> {
    let mut bytes = b"custodia demo artifact 1.0\n".to_vec();
    bytes.extend((0u32..4096).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    bytes
}
