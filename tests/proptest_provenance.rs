//! Property tests: SLSA provenance made from any build context round-trips
//! through JSON byte for byte, and its claims read back what went in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use custodia::digest::DigestSet;
use custodia::predicate::slsa_provenance::{Provenance, ProvenanceClaims};
use custodia::provenance::{BuildContext, SourceRef};
use custodia::statement::Statement;
use custodia::time::Timestamp;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // Printable and a few awkward characters (quotes, backslash, unicode).
    "[a-zA-Z0-9 ./:@_\\-\"\\\\é]{0,24}"
}

fn context() -> impl Strategy<Value = BuildContext> {
    (
        "[a-z]{1,8}",
        proptest::collection::vec(
            (text(), proptest::collection::vec(any::<u8>(), 0..32)),
            1..4,
        ),
        proptest::option::of((
            "[a-z]{1,8}",
            proptest::option::of("refs/(heads|tags)/[a-z0-9.]{1,8}"),
            proptest::option::of("[0-9a-f]{40}"),
        )),
        proptest::option::of(text()),
        0i64..4_000_000_000,
        0i64..100_000,
        proptest::collection::btree_map("[a-z]{1,6}", text(), 0..4),
    )
        .prop_map(
            |(builder, subjects, source, invocation, start, duration, inputs)| {
                let mut ctx = BuildContext::new(format!("https://ci.example/{builder}@v1"))
                    .with_times(
                        Timestamp::from_unix(start),
                        Timestamp::from_unix(start + duration),
                    );
                for (name, bytes) in subjects {
                    ctx = ctx.with_subject(name, DigestSet::of_bytes(&bytes));
                }
                if let Some((repo, git_ref, commit)) = source {
                    let mut s = SourceRef::new(format!("https://git.example/{repo}"));
                    s.git_ref = git_ref;
                    s.commit = commit;
                    ctx = ctx.with_source(s);
                }
                ctx.invocation_id = invocation;
                if !inputs.is_empty() {
                    ctx.external_parameters
                        .insert("inputs".into(), serde_json::to_value(inputs).unwrap());
                }
                ctx
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn provenance_round_trips_byte_for_byte(ctx in context()) {
        let statement = ctx.to_statement().unwrap();
        let bytes = statement.to_json().unwrap();
        let parsed = Statement::from_json(&bytes).unwrap();
        prop_assert_eq!(&parsed, &statement);
        prop_assert_eq!(parsed.to_json().unwrap(), bytes.clone());
        let typed: Provenance = parsed.predicate_as().unwrap();
        let again: Provenance = serde_json::from_slice(&serde_json::to_vec(&typed).unwrap()).unwrap();
        prop_assert_eq!(&again, &typed);
        prop_assert_eq!(Statement::new(parsed.subject().to_vec(), &typed).unwrap().to_json().unwrap(), bytes);
    }

    #[test]
    fn claims_read_back_the_context(ctx in context()) {
        let claims = ProvenanceClaims::from_statement(&ctx.to_statement().unwrap()).unwrap();
        prop_assert_eq!(&claims.builder_id, &ctx.builder_id);
        prop_assert_eq!(claims.started_on, ctx.started_on);
        prop_assert_eq!(claims.finished_on, ctx.finished_on);
        prop_assert_eq!(&claims.invocation_id, &ctx.invocation_id);
        match (&claims.source, &ctx.source) {
            (Some(c), Some(s)) => {
                prop_assert_eq!(&c.git_ref, &s.git_ref);
                prop_assert_eq!(c.digest.get("gitCommit"), s.commit.as_deref());
                prop_assert_eq!(&c.repository, &s.repository.replace("https://", ""));
            }
            (None, None) => {}
            other => prop_assert!(false, "source mismatch {:?}", other),
        }
    }

    #[test]
    fn arbitrary_predicates_never_panic(value in any::<Vec<u8>>()) {
        if let Ok(st) = Statement::from_json(&value) {
            let _ = ProvenanceClaims::from_statement(&st);
        }
        let _ = serde_json::from_slice::<Provenance>(&value);
    }
}
