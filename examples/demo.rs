//! The main job: build once, promote everywhere, on embedded defaults.
//!
//! ```text
//! cargo run --example demo -- [--out DIR] [--keep-private-keys]
//! ```
//!
//! It builds an artifact once, attests it (provenance, tests, vulnerability
//! scan, approvals) with one key per role, promotes that exact digest
//! dev -> staging -> prod through the policy's gates, validates every
//! environment's hash-linked history, shows what the rules catch (a rebuilt
//! artifact, unsigned evidence, an author approving their own change, a
//! tampered record), then ships a second release, records an incident,
//! rolls back to the last known-good digest and prints DORA metrics.
//!
//! Everything goes under `--out DIR` (default: a new temp dir):
//! `policy.json`, `store/` (the envelope store with the chain), `artifact`
//! (what runs in prod at the end), `keys/` (public keys; private keys only
//! with `--keep-private-keys`). Check it afterwards with
//! `cargo run --example verifier -- chain --policy DIR/policy.json --dir DIR/store`.
//!
//! Exit code 0 when every rule held, 1 if one did not, 2 on an I/O error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use custodia::digest::{Digest, DigestSet, hash_file};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::policy::{ActivePolicy, GateRequest, Policy};
use custodia::predicate::approval::Approval;
use custodia::predicate::promotion::Incident;
use custodia::predicate::sbom::{SbomFormat, sbom_statement};
use custodia::predicate::test_result::TestResult;
use custodia::predicate::vulns::VulnerabilityReport;
use custodia::promotion::{
    AdmissionRequest, DirStore, DoraTargets, PromotionError, PromotionRequest, Store,
    ValidationOptions, admit, dora, history, promote, record_incident, rollback, validate,
    validate_chain,
};
use custodia::provenance::{BuildContext, SourceRef};
use custodia::report::Report;
use custodia::resource::ResourceDescriptor;
use custodia::sbom::Sbom;
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::cyclonedx::{self, CycloneDxVersion};
use custodia::sbom::spdx;
use custodia::statement::{PAYLOAD_TYPE, Predicate, Statement};
use custodia::time::Timestamp;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const BUILDER_ID: &str = "https://ci.acme.example/builders/release@v3";
const SOURCE: &str = "https://github.com/acme/shop";
/// 2024-03-04 09:00 UTC, a Monday: the demo's clock starts here.
const T0: i64 = 1_709_542_800;
const HOUR: i64 = 3600;

/// The shop's (small) lock file and manifest: the SBOM's input.
const DEMO_LOCK: &str = r#"version = 4

[[package]]
name = "shop"
version = "@VERSION@"
dependencies = ["itoa", "serde", "serde_json"]

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"

[[package]]
name = "serde"
version = "1.0.203"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "7253ab4de971e72fb7be983802300c30b5a7f0c2e56fab8abfc6a214307c0094"

[[package]]
name = "serde_json"
version = "1.0.117"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "455182ea6142b14f93f4bc5320a2b31c1f266b66a4a5c858b013302a5d8cbfc3"
dependencies = ["itoa", "serde"]
"#;
const DEMO_MANIFEST: &str =
    "[package]\nname = \"shop\"\nversion = \"@VERSION@\"\nlicense = \"MIT OR Apache-2.0\"\n";

#[derive(Parser)]
#[command(
    about = "End-to-end demo: build once, promote everywhere, catch what must not pass, roll back, DORA"
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

/// The people and systems of the demo, one key each.
struct Team {
    ci: PrivateKey,
    tests: PrivateKey,
    scanner: PrivateKey,
    alice: PrivateKey,
    bob: PrivateKey,
    carol: PrivateKey,
    deployer: PrivateKey,
}

impl Team {
    fn new() -> Result<Self> {
        let k = |a| PrivateKey::generate(a);
        Ok(Self {
            ci: k(KeyAlgorithm::Ed25519)?,
            tests: k(KeyAlgorithm::Ed25519)?,
            scanner: k(KeyAlgorithm::EcdsaP256)?,
            alice: k(KeyAlgorithm::Ed25519)?,
            bob: k(KeyAlgorithm::EcdsaP256)?,
            carol: k(KeyAlgorithm::Ed25519)?,
            deployer: k(KeyAlgorithm::Ed25519)?,
        })
    }

    fn members(&self) -> [(&'static str, &'static [&'static str], &PrivateKey); 7] {
        [
            ("ci", &["builder"], &self.ci),
            ("test-runner", &["tester"], &self.tests),
            ("scanner", &["scanner"], &self.scanner),
            ("alice", &["approver"], &self.alice),
            ("bob", &["approver"], &self.bob),
            ("carol", &["approver"], &self.carol),
            ("deployer", &["promoter", "operator"], &self.deployer),
        ]
    }
}

/// The policy the demo ships: dev -> staging -> prod, stricter at each step.
fn policy_json(team: &Team) -> serde_json::Value {
    let keys: Vec<_> = team
        .members()
        .iter()
        .map(|(identity, roles, key)| {
            serde_json::json!({"identity": identity, "roles": roles, "publicKey": key.public_key().to_pem()})
        })
        .collect();
    let provenance = serde_json::json!({"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
        "conditions": {"builderIds": ["https://ci.acme.example/builders/release"], "sourceRepository": "github.com/acme/shop"}});
    let tests = serde_json::json!({"predicateType": "https://in-toto.io/attestation/test-result/v0.1",
        "signerRole": "tester", "conditions": {"minTestsRun": 10}});
    let scan = serde_json::json!({"predicateType": "https://in-toto.io/attestation/vulns/v0.2",
        "signerRole": "scanner", "conditions": {"maxSeverity": "medium"}});
    let sbom =
        serde_json::json!({"predicateType": "https://cyclonedx.org/bom", "signerRole": "builder"});
    serde_json::json!({
        "version": 1,
        "keys": keys,
        "environments": [
            {"name": "dev", "requires": [provenance]},
            {"name": "staging", "requires": [provenance, tests, sbom]},
            {"name": "prod", "requires": [provenance, tests, sbom, scan],
             "approvals": {"count": 2, "role": "approver"},
             "freezeWindows": [{"start": "2024-12-20T00:00:00Z", "end": "2025-01-06T00:00:00Z", "reason": "year-end freeze"}],
             "emergency": {"approvals": 1}}
        ],
        "promotions": [{"from": "dev", "to": "staging"}, {"from": "staging", "to": "prod"}]
    })
}

/// Files a build produced besides its artifact, by name and digest.
type Byproducts = Vec<(&'static str, DigestSet)>;

struct Demo<'a> {
    team: &'a Team,
    policy: &'a ActivePolicy,
    store: &'a dyn Store,
    ok: bool,
}

impl Demo<'_> {
    fn attest<P: Predicate>(
        &self,
        artifact: &DigestSet,
        predicate: &P,
        key: &PrivateKey,
    ) -> Result<Digest> {
        let st = Statement::new(
            vec![ResourceDescriptor::new("shop.tar.gz", artifact.clone())],
            predicate,
        )?;
        Ok(self
            .store
            .put(&Envelope::sign(PAYLOAD_TYPE, st.to_json()?, key)?.to_json()?)?)
    }

    fn provenance(
        &self,
        artifact: &DigestSet,
        at: i64,
        byproducts: &[(&str, DigestSet)],
    ) -> Result<Digest> {
        let mut build = BuildContext::new(BUILDER_ID)
            .with_source(SourceRef::new(SOURCE).with_git_ref("refs/heads/main"))
            .with_subject("shop.tar.gz", artifact.clone())
            .with_times(Timestamp::from_unix(at), Timestamp::from_unix(at + 300));
        for (name, digest) in byproducts {
            build = build.with_byproduct(*name, digest.clone());
        }
        let st = build.to_statement()?;
        Ok(self
            .store
            .put(&Envelope::sign(PAYLOAD_TYPE, st.to_json()?, &self.team.ci)?.to_json()?)?)
    }

    /// The build's SBOM (from the embedded Cargo.lock) as signed CycloneDX
    /// and SPDX attestations about the artifact; also the two documents'
    /// digests, which the provenance lists as byproducts.
    fn sboms(
        &self,
        artifact: &DigestSet,
        version: &str,
        at: i64,
    ) -> Result<(Digest, Sbom, Byproducts)> {
        let lock = DEMO_LOCK.replace("@VERSION@", version);
        let manifest = DEMO_MANIFEST.replace("@VERSION@", version);
        let model = from_cargo(
            &CargoInput::new(&lock).with_manifest(&manifest),
            Timestamp::from_unix(at),
        )?;
        let subject = vec![ResourceDescriptor::new("shop.tar.gz", artifact.clone())];
        let mut cdx = None;
        let mut documents = Vec::new();
        for (format, file, document) in [
            (
                SbomFormat::CycloneDx,
                "sbom.cdx.json",
                cyclonedx::to_json(&model, CycloneDxVersion::V1_6)?,
            ),
            (SbomFormat::Spdx, "sbom.spdx.json", spdx::to_json(&model)?),
        ] {
            documents.push((file, DigestSet::of_bytes(&document)));
            let st = sbom_statement(subject.clone(), format, &document)?;
            let digest = self
                .store
                .put(&Envelope::sign(PAYLOAD_TYPE, st.to_json()?, &self.team.ci)?.to_json()?)?;
            if format == SbomFormat::CycloneDx {
                cdx = Some(digest);
            }
        }
        Ok((cdx.ok_or("no CycloneDX SBOM")?, model, documents))
    }

    fn request(
        &self,
        artifact: &DigestSet,
        from: Option<&str>,
        to: &str,
        at: i64,
        evidence: Vec<Digest>,
    ) -> PromotionRequest {
        let mut gate = GateRequest::new(artifact.clone(), from, to, Timestamp::from_unix(at));
        gate.author = Some("carol".into());
        let mut req = PromotionRequest::new(gate, evidence);
        req.commit_time = Some(Timestamp::from_unix(at - 2 * HOUR));
        req
    }

    /// Must succeed: prints the record, or the report and marks failure.
    fn promote(&mut self, what: &str, req: &PromotionRequest) -> Option<Digest> {
        match promote(self.store, self.policy, req, &self.team.deployer) {
            Ok(p) => {
                println!("   {what:<28} record {}", short(&p.record));
                Some(p.record)
            }
            Err(e) => {
                println!("   {what:<28} UNEXPECTEDLY REFUSED: {e}");
                self.ok = false;
                None
            }
        }
    }

    /// Must be refused: prints the failing check.
    fn refuse(&mut self, what: &str, req: &PromotionRequest) {
        match promote(self.store, self.policy, req, &self.team.deployer) {
            Err(PromotionError::Refused(report)) => {
                if let Some(c) = report.first_failure() {
                    println!("   refused   {what}\n             {}: {}", c.name, c.reason);
                }
            }
            Err(e) => {
                println!("   ERROR     {what}: {e}");
                self.ok = false;
            }
            Ok(p) => {
                println!(
                    "   ACCEPTED  {what} as {}  <-- this must not happen",
                    p.record
                );
                self.ok = false;
            }
        }
    }

    /// Ships one release dev -> staging -> prod starting at `at`.
    fn ship(
        &mut self,
        artifact: &DigestSet,
        version: &str,
        at: i64,
        show: bool,
    ) -> Result<Option<Digest>> {
        let (sbom, _, documents) = self.sboms(artifact, version, at - HOUR)?;
        let prov = self.provenance(artifact, at - HOUR, &documents)?;
        let dev = self.promote(
            "build -> dev",
            &self.request(artifact, None, "dev", at, vec![prov.clone()]),
        );
        let tests = self.attest(artifact, &junit_tests(at)?, &self.team.tests)?;
        let staging = self.promote(
            "dev -> staging",
            &self.request(
                artifact,
                Some("dev"),
                "staging",
                at + HOUR,
                vec![prov.clone(), tests.clone(), sbom.clone()],
            ),
        );
        let scan = self.attest(
            artifact,
            &VulnerabilityReport::new(
                "pkg:github/aquasecurity/trivy",
                &[("CVE-2024-24786", "medium")],
            ),
            &self.team.scanner,
        )?;
        let approvals = [&self.team.alice, &self.team.bob]
            .into_iter()
            .map(|k| {
                self.attest(
                    artifact,
                    &Approval::new("prod", Timestamp::from_unix(at + 2 * HOUR)),
                    k,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let req = self.request(
            artifact,
            Some("staging"),
            "prod",
            at + 3 * HOUR,
            [vec![prov, tests, sbom, scan], approvals].concat(),
        );
        if show {
            if let Ok(p) = promote(self.store, self.policy, &req, &self.team.deployer) {
                println!(
                    "   staging -> prod              record {}",
                    short(&p.record)
                );
                show_report(&p.report);
                return Ok(Some(p.record));
            }
        }
        let prod = self.promote("staging -> prod", &req);
        let _ = (dev, staging);
        Ok(prod)
    }
}

fn short(d: &Digest) -> String {
    format!("sha256:{}", d.hex().get(..12).unwrap_or_default())
}

fn step(title: &str, text: &str) {
    println!("\n{title}\n   {text}\n");
}

fn show_report(report: &Report) {
    for c in report.checks() {
        let mark = if c.passed { "PASS" } else { "FAIL" };
        let reason = if c.reason.len() > 110 {
            format!("{}...", c.reason.get(..107).unwrap_or_default())
        } else {
            c.reason.clone()
        };
        println!("     {mark}  {}: {reason}", c.name);
    }
}

fn run(args: &Args) -> Result<bool> {
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("custodia-demo-")
            .tempdir()?
            .keep(),
    };
    std::fs::create_dir_all(out.join("keys"))?;
    println!("custodia demo: writing to {}", out.display());

    step(
        "1. One team, one key per role",
        "Builder (ci), tester, scanner, three approvers (alice, bob, carol, who also writes the code) \
         and the deployer that signs promotion records. The policy names each key's identity and roles.",
    );
    let team = Team::new()?;
    for (identity, roles, key) in team.members() {
        std::fs::write(
            out.join(format!("keys/{identity}.pub")),
            key.public_key().to_pem(),
        )?;
        if args.keep_private_keys {
            std::fs::write(
                out.join(format!("keys/{identity}.key")),
                key.to_pem().as_str(),
            )?;
        }
        println!(
            "   {identity:<12} {:<11} {} {}",
            roles.join(","),
            key.algorithm(),
            key.key_id().short()
        );
    }
    let policy_bytes = serde_json::to_vec_pretty(&policy_json(&team))?;
    std::fs::write(out.join("policy.json"), &policy_bytes)?;
    let policy = Policy::from_json(&policy_bytes)?.activate()?;
    println!(
        "   policy       {} ({})",
        out.join("policy.json").display(),
        short(policy.digest())
    );

    step(
        "2. Build once",
        "CI builds release 1.0 exactly once, with its SBOM (CycloneDX 1.6 and SPDX 2.3, from Cargo.lock). \
         From here on the artifact *is* its SHA-256 digest; every attestation and every promotion \
         names those bytes, never a file name or a tag.",
    );
    let v1_bytes = release(1);
    std::fs::write(out.join("artifact"), &v1_bytes)?;
    let v1 = hash_file(
        custodia::digest::DigestAlgorithm::Sha256,
        out.join("artifact"),
    )?
    .to_set();
    println!("   shop 1.0     {}", v1.shown());

    let store = DirStore::open(out.join("store"))?;
    let mut demo = Demo {
        team: &team,
        policy: &policy,
        store: &store,
        ok: true,
    };
    // The SBOM, as a person would read it, next to the artifact.
    let lock = DEMO_LOCK.replace("@VERSION@", "1.0.0");
    let manifest = DEMO_MANIFEST.replace("@VERSION@", "1.0.0");
    let model = from_cargo(
        &CargoInput::new(&lock).with_manifest(&manifest),
        Timestamp::from_unix(T0 - HOUR),
    )?;
    std::fs::write(
        out.join("sbom.cdx.json"),
        cyclonedx::to_json(&model, CycloneDxVersion::V1_6)?,
    )?;
    std::fs::write(out.join("sbom.spdx.json"), spdx::to_json(&model)?)?;
    println!(
        "   SBOM         {} components (sbom.cdx.json, sbom.spdx.json; signed copies go into the store)",
        model.components.len() + 1
    );

    step(
        "3. Promote the same digest dev -> staging -> prod",
        "Each gate checks the policy: signed SLSA provenance from the trusted builder for dev; plus passed \
         tests and a signed SBOM for staging; plus a vulnerability scan (nothing above medium) and two approvers who are \
         neither the author nor the builder for prod. Each promotion is a signed record linked to the \
         previous one in its environment and to the record that brought the digest into the source.",
    );
    demo.ship(&v1, "1.0.0", T0, true)?;

    step(
        "4. Validate every environment's history",
        "Every record is re-read from the content-addressed store, its signature and links checked, \
         and its gate re-evaluated with the evidence it names.",
    );
    for env in ["dev", "staging", "prod"] {
        let report = validate_chain(&store, &policy, env);
        println!(
            "   {env:<8} {} ({} record(s))",
            if report.verified() {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            },
            history(&store, env)?.len()
        );
        demo.ok &= report.verified();
    }

    step(
        "5. What the rules catch",
        "Each of these must be refused or detected, with a reason a person can act on.",
    );
    let rebuilt = DigestSet::of_bytes(&[v1_bytes.clone(), b"rebuilt".to_vec()].concat());
    let prov = demo.provenance(&rebuilt, T0, &[])?;
    let tests = demo.attest(&rebuilt, &junit_tests(T0)?, &team.tests)?;
    demo.refuse(
        "a rebuild of 1.0 promoted to staging",
        &demo.request(
            &rebuilt,
            Some("dev"),
            "staging",
            T0 + 5 * HOUR,
            vec![prov, tests],
        ),
    );
    let unsigned = {
        let st = BuildContext::new(BUILDER_ID)
            .with_source(SourceRef::new(SOURCE))
            .with_subject("shop.tar.gz", rebuilt.clone())
            .with_times(Timestamp::from_unix(T0), Timestamp::from_unix(T0))
            .to_statement()?;
        store.put(&Envelope::unsigned(PAYLOAD_TYPE, st.to_json()?).to_json()?)?
    };
    demo.refuse(
        "an artifact with unsigned provenance",
        &demo.request(&rebuilt, None, "dev", T0 + 5 * HOUR, vec![unsigned]),
    );
    let v2 = DigestSet::of_bytes(&release(2));
    let prov2 = demo.provenance(&v2, T0 + 23 * HOUR, &[])?;
    demo.promote(
        "1.1 build -> dev",
        &demo.request(&v2, None, "dev", T0 + 24 * HOUR, vec![prov2.clone()]),
    );
    let tests2 = demo.attest(&v2, &junit_tests(T0)?, &team.tests)?;
    let (sbom2, _, _) = demo.sboms(&v2, "1.1.0", T0 + 23 * HOUR)?;
    demo.promote(
        "1.1 dev -> staging",
        &demo.request(
            &v2,
            Some("dev"),
            "staging",
            T0 + 25 * HOUR,
            vec![prov2.clone(), tests2.clone(), sbom2.clone()],
        ),
    );
    let scan2 = demo.attest(
        &v2,
        &VulnerabilityReport::new("pkg:github/aquasecurity/trivy", &[]),
        &team.scanner,
    )?;
    let by_carol = demo.attest(
        &v2,
        &Approval::new("prod", Timestamp::from_unix(T0 + 26 * HOUR)),
        &team.carol,
    )?;
    let by_alice = demo.attest(
        &v2,
        &Approval::new("prod", Timestamp::from_unix(T0 + 26 * HOUR)),
        &team.alice,
    )?;
    let base = vec![prov2, tests2, sbom2, scan2];
    demo.refuse(
        "1.1 to prod approved by its own author",
        &demo.request(
            &v2,
            Some("staging"),
            "prod",
            T0 + 27 * HOUR,
            [base.clone(), vec![by_carol, by_alice.clone()]].concat(),
        ),
    );
    tamper_check(&mut demo, &out)?;

    step(
        "6. Ship 1.1, an incident, and a rollback",
        "With a second approver 1.1 reaches prod. It fails there; the incident is recorded, the rollback \
         target is the last known-good digest (1.0), and the rollback is a promotion of that digest: \
         no rebuild.",
    );
    let by_bob = demo.attest(
        &v2,
        &Approval::new("prod", Timestamp::from_unix(T0 + 26 * HOUR)),
        &team.bob,
    )?;
    let prod2 = demo.promote(
        "1.1 staging -> prod",
        &demo.request(
            &v2,
            Some("staging"),
            "prod",
            T0 + 27 * HOUR,
            [base, vec![by_alice, by_bob]].concat(),
        ),
    );
    let mut incident = Incident::new(
        "prod",
        Timestamp::from_unix(T0 + 28 * HOUR),
        "checkout 5xx rate above 2 %",
    );
    incident.promotion = prod2;
    incident.resolved = Some(Timestamp::from_unix(T0 + 28 * HOUR + 25 * 60));
    let incident_digest = record_incident(&store, &v2, &incident, &team.deployer)?;
    println!(
        "   incident                     record {}",
        short(&incident_digest)
    );
    match rollback(
        &store,
        &policy,
        "prod",
        Timestamp::from_unix(T0 + 28 * HOUR + 20 * 60),
        "checkout 5xx",
        &team.deployer,
    ) {
        Ok(p) => {
            let back_to = history(&store, "prod")?
                .last()
                .map(|e| e.artifact.clone())
                .unwrap_or_default();
            let is_v1 = back_to == v1;
            println!(
                "   rollback to 1.0              record {} ({})",
                short(&p.record),
                if is_v1 {
                    "prod runs 1.0 again"
                } else {
                    "WRONG TARGET"
                }
            );
            demo.ok &= is_v1;
        }
        Err(e) => {
            println!("   rollback FAILED: {e}");
            demo.ok = false;
        }
    }
    // One validation; every decision below reads only what it accepted.
    let validation = validate(&store, &policy, &["prod"], &ValidationOptions::default());
    println!(
        "   prod history {}",
        if validation.verified() {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        }
    );
    demo.ok &= validation.verified();
    let verified = validation.history();

    step(
        "7. Deploy: may this digest run in prod now?",
        "The deploy step asks the library (as `verifier admit` does): only the current head of a \
         verified history, whose path back to its build validates and that no open incident names.",
    );
    let now = Timestamp::from_unix(T0 + 29 * HOUR);
    for (name, artifact, expected) in [("1.0", &v1, true), ("1.1", &v2, false)] {
        let decision = admit(
            verified,
            &AdmissionRequest::new("prod", artifact.clone(), now),
        );
        let why = match decision.report.first_failure() {
            Some(c) => format!("refused: {}: {}", c.name, c.reason),
            None => "allowed".to_owned(),
        };
        println!("   admit {name} to prod          {why}");
        demo.ok &= decision.allowed == expected;
    }

    step(
        "8. DORA metrics, from the verified records",
        "Computed from the validated promotion and incident records over the demo's two days.",
    );
    let mut targets = DoraTargets::default();
    targets.max_lead_time_seconds = Some(24 * HOUR);
    targets.max_change_failure_rate = Some(0.10);
    targets.max_time_to_restore_seconds = Some(30 * 60);
    let Some(m) = dora(
        verified,
        "prod",
        Timestamp::from_unix(T0),
        Timestamp::from_unix(T0 + 48 * HOUR),
        &targets,
    ) else {
        return Err("prod's history does not validate: no DORA metrics".into());
    };
    println!(
        "   deployments to prod   {} ({:.1} per day)",
        m.deployments, m.deployments_per_day
    );
    for c in m.report.checks() {
        println!(
            "   {:<21} {} {}",
            c.name,
            c.reason,
            if c.passed { "" } else { "  <- misses target" }
        );
    }

    println!(
        "\nCheck the files yourself (every chain, every stored envelope, and the artifact, SBOMs \
         and keys beside them):\n   cargo run --example verifier -- chain --policy {} --dir {} \\\n       \
         --file {} --file {} --file {} --file {}",
        out.join("policy.json").display(),
        out.join("store").display(),
        out.join("artifact").display(),
        out.join("sbom.cdx.json").display(),
        out.join("sbom.spdx.json").display(),
        out.join("keys").display()
    );
    println!(
        "\n{}",
        if demo.ok {
            "demo: all rules held"
        } else {
            "demo: FAILED"
        }
    );
    Ok(demo.ok)
}

/// Alters one byte of the latest prod record in a copy of the store and
/// shows that validation names it; the real store stays intact.
fn tamper_check(demo: &mut Demo<'_>, out: &Path) -> Result<()> {
    let copy = tempfile::tempdir()?;
    copy_dir(&out.join("store"), copy.path())?;
    let scratch = DirStore::open(copy.path())?;
    let head = history(&scratch, "prod")?
        .last()
        .map(|e| e.digest.clone())
        .ok_or("prod has no record")?;
    let path = scratch.envelope_path(&head);
    let mut bytes = std::fs::read(&path)?;
    let middle = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(middle) {
        *b ^= 0x01;
    }
    std::fs::write(&path, bytes)?;
    let report = validate_chain(&scratch, demo.policy, "prod");
    match report.first_failure() {
        Some(c) => println!(
            "   detected  a prod record altered on disk (in a copy)\n             {}: {}",
            c.name, c.reason
        ),
        None => {
            println!("   MISSED    a prod record altered on disk  <-- this must not happen");
            demo.ok = false;
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn release(n: u8) -> Vec<u8> {
    let mut bytes = format!("acme shop release 1.{}\n", n - 1).into_bytes();
    bytes.extend(
        (0u32..8192)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(u32::from(n)) >> 24) as u8),
    );
    bytes
}

/// The test gate's evidence: a real JUnit report (pytest's, from the
/// conformance set: 14 cases, 4 skipped, none failed), converted as
/// `attest test-result` does, never a hand-written predicate.
fn junit_tests(at: i64) -> Result<TestResult> {
    const JUNIT: &[u8] =
        include_bytes!("../tests/conformance/evidence/junit/pytest/junit.gloo.elastic.xml");
    let run = custodia::evidence::junit::JunitReport::from_slice(JUNIT)?;
    Ok(custodia::evidence::convert::test_result(
        &[("junit.xml", &run)],
        Some(Timestamp::from_unix(at)),
    ))
}
