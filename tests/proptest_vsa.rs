//! Property tests: any VSA made from a report round-trips through JSON byte
//! for byte, and its result follows the report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use custodia::digest::DigestSet;
use custodia::predicate::vsa::{
    InputAttestation, Policy, VerificationResult, VerificationSummary, VsaInputs,
};
use custodia::report::{Check, Report};
use custodia::resource::ResourceDescriptor;
use custodia::statement::Statement;
use custodia::time::Timestamp;
use proptest::prelude::*;

fn inputs() -> impl Strategy<Value = (VsaInputs, Vec<bool>)> {
    (
        "[a-z]{1,10}",
        "[a-z0-9./-]{1,20}",
        proptest::collection::vec(any::<Vec<u8>>(), 0..4),
        proptest::option::of(0u8..=3),
        proptest::collection::btree_map("SLSA_BUILD_LEVEL_[0-3]", 0u64..50, 0..3),
        0i64..4_000_000_000,
        proptest::collection::vec(any::<bool>(), 1..6),
    )
        .prop_map(
            |(verifier, resource, attestations, level, deps, time, checks)| {
                let mut inputs = VsaInputs::new(
                    format!("https://verifier.example/{verifier}"),
                    format!("https://artifacts.example/{resource}"),
                    Policy::new("https://policies.example/prod")
                        .with_digest(DigestSet::of_bytes(resource.as_bytes())),
                )
                .with_time(Timestamp::from_unix(time));
                for bytes in attestations {
                    inputs = inputs.with_input_attestation(InputAttestation::from_digest(
                        DigestSet::of_bytes(&bytes),
                    ));
                }
                if let Some(l) = level {
                    inputs = inputs.with_verified_levels([format!("SLSA_BUILD_LEVEL_{l}")]);
                }
                for (level, count) in deps {
                    inputs = inputs.with_dependency_level(level, count);
                }
                (inputs, checks)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn vsa_round_trips_and_follows_the_report((inputs, checks) in inputs()) {
        let mut report = Report::new();
        for (i, passed) in checks.iter().enumerate() {
            report.push(if *passed { Check::pass(format!("c{i}"), "ok") } else { Check::fail(format!("c{i}"), "no") });
        }
        let vsa = VerificationSummary::from_report(&report, &inputs).unwrap();
        let want = if report.verified() { VerificationResult::Passed } else { VerificationResult::Failed };
        prop_assert_eq!(vsa.verification_result, want);
        let json = serde_json::to_vec(&vsa).unwrap();
        let back: VerificationSummary = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&back, &vsa);
        prop_assert_eq!(serde_json::to_vec(&back).unwrap(), json);
        let st = Statement::new(vec![ResourceDescriptor::new("a", DigestSet::of_bytes(b"a"))], &vsa).unwrap();
        let parsed = Statement::from_json(&st.to_json().unwrap()).unwrap();
        prop_assert_eq!(parsed.to_json().unwrap(), st.to_json().unwrap());
        prop_assert_eq!(parsed.predicate_as::<VerificationSummary>().unwrap(), vsa);
    }
}
