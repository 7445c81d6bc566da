//! Properties of the evidence readers: generated JUnit documents (nested
//! suites, every outcome, retries, names needing escapes) read back to
//! exactly the cases written (and to the same counts when plain passes are
//! only counted); every strict prefix of a real file is
//! refused (a truncated upload never passes as a smaller report);
//! arbitrary bytes never panic a reader; CVSS v3 base scores stay in range
//! and never fall when an impact rises.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use custodia::evidence::junit::{CaseOutcome, JunitReport, KeepCases};
use custodia::evidence::scan::{SarifLog, ScanReport};
use custodia::evidence::vex::VexDocument;
use custodia::predicate::vulns::cvss3_base_score;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    class: String,
    name: String,
    outcome: CaseOutcome,
    retries: u32,
}

#[derive(Debug, Clone)]
enum Node {
    Case(Case),
    Suite(Vec<Node>),
}

fn outcome() -> impl Strategy<Value = CaseOutcome> {
    prop_oneof![
        Just(CaseOutcome::Passed),
        Just(CaseOutcome::Failed),
        Just(CaseOutcome::Error),
        Just(CaseOutcome::Skipped)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        "[a-z][a-z0-9_.:<>&\"' ]{0,12}",
        "[a-z][a-z0-9_<>&\"' \\[\\]]{0,12}",
        outcome(),
        0u32..3,
    )
        .prop_map(|(class, name, outcome, retries)| Case {
            class,
            name,
            outcome,
            retries,
        })
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = case().prop_map(Node::Case);
    leaf.prop_recursive(3, 40, 6, |inner| {
        prop::collection::vec(inner, 0..6).prop_map(Node::Suite)
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn write(node: &Node, out: &mut String, cases: &mut Vec<Case>) {
    match node {
        Node::Case(c) => {
            cases.push(c.clone());
            out.push_str(&format!(
                "<testcase classname=\"{}\" name=\"{}\">",
                escape(&c.class),
                escape(&c.name)
            ));
            for i in 0..c.retries {
                let tag = ["flakyFailure", "rerunFailure", "flakyError"][i as usize % 3];
                out.push_str(&format!(
                    "<{tag} message=\"attempt {i}\"><![CDATA[<boom>]]></{tag}>"
                ));
            }
            match c.outcome {
                CaseOutcome::Passed => out.push_str("<system-out>ok &amp; done</system-out>"),
                CaseOutcome::Failed => {
                    out.push_str("<failure message=\"a &lt; b\">trace</failure>")
                }
                CaseOutcome::Error => out.push_str("<error type=\"E\"/>"),
                CaseOutcome::Skipped => out.push_str("<skipped/>"),
                _ => unreachable!(),
            }
            out.push_str("</testcase>\n");
        }
        Node::Suite(children) => {
            out.push_str("<testsuite name=\"s\" tests=\"999\">\n");
            for c in children {
                write(c, out, cases);
            }
            out.push_str("</testsuite>\n");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn generated_junit_reads_back_exactly(children in prop::collection::vec(node(), 0..8)) {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<!-- generated -->\n<testsuites>\n<testsuite name=\"root\">\n");
        let mut cases = Vec::new();
        for c in &children {
            write(c, &mut xml, &mut cases);
        }
        xml.push_str("</testsuite>\n</testsuites>\n");
        let run = JunitReport::from_slice(xml.as_bytes()).unwrap();
        prop_assert_eq!(run.cases().len(), cases.len());
        for (got, want) in run.cases().iter().zip(&cases) {
            prop_assert_eq!(&got.id, &format!("{}::{}", want.class, want.name));
            prop_assert_eq!(got.outcome, want.outcome);
            prop_assert_eq!(got.retries, want.retries);
        }
        let c = run.counts();
        prop_assert_eq!(c.tests, cases.len() as u64);
        prop_assert_eq!(c.tests, c.passed + c.failures + c.errors + c.skipped);
        prop_assert_eq!(c.flaky, cases.iter().filter(|k| k.outcome == CaseOutcome::Passed && k.retries > 0).count() as u64);
        // Counting without naming plain passes: the same counts, and
        // exactly the other cases named, in order.
        let counted = JunitReport::from_reader_keeping(xml.as_bytes(), KeepCases::not_passed()).unwrap();
        prop_assert_eq!(counted.counts(), c);
        prop_assert_eq!(counted.source(), run.source());
        let notable: Vec<_> = run.cases().iter().filter(|k| k.outcome != CaseOutcome::Passed || k.is_flaky()).collect();
        prop_assert_eq!(counted.cases().iter().collect::<Vec<_>>(), notable);
        prop_assert_eq!(counted.cases_not_kept() + counted.cases().len() as u64, c.tests);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let all = JunitReport::from_slice(&bytes);
        let counted = JunitReport::from_reader_keeping(&bytes[..], KeepCases::not_passed());
        prop_assert_eq!(all.is_ok(), counted.is_ok());
        let _ = ScanReport::from_slice(&bytes, None);
        let _ = SarifLog::from_slice(&bytes);
        let _ = VexDocument::from_slice(&bytes, None);
    }

    #[test]
    fn cvss3_scores_are_in_range_and_monotonic(
        av in 0usize..4, ac in 0usize..2, pr in 0usize..3, ui in 0usize..2, s in 0usize..2,
        c in 0usize..3, i in 0usize..3, a in 0usize..3,
    ) {
        let v = |c: usize| format!(
            "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
            ["P", "L", "A", "N"][av], ["H", "L"][ac], ["H", "L", "N"][pr], ["R", "N"][ui],
            ["U", "C"][s], ["N", "L", "H"][c], ["N", "L", "H"][i], ["N", "L", "H"][a]);
        let score = cvss3_base_score(&v(c)).unwrap();
        prop_assert!((0.0..=10.0).contains(&score));
        prop_assert!(((score * 10.0).round() - score * 10.0).abs() < 1e-9, "one decimal: {}", score);
        if c < 2 {
            prop_assert!(cvss3_base_score(&v(c + 1)).unwrap() >= score);
        }
    }
}

#[test]
fn every_strict_prefix_of_a_real_file_is_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/evidence");
    let junit = std::fs::read(dir.join("junit/phpunit/phpunit.xml")).unwrap();
    let trimmed = junit.trim_ascii_end();
    for cut in 0..trimmed.len() {
        for keep in [KeepCases::All, KeepCases::not_passed()] {
            assert!(
                JunitReport::from_reader_keeping(&trimmed[..cut], keep).is_err(),
                "a {cut}-byte prefix of phpunit.xml was accepted ({keep:?})"
            );
        }
    }
    for (file, read) in [
        ("vuln-scan/grype/ghsa-test.json", 0),
        ("sarif/govulncheck/issue_15033_sarif.json", 1),
        ("vex/csaf/csaf-relationships.json", 2),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let trimmed = bytes.trim_ascii_end();
        for cut in (0..trimmed.len()).step_by(7) {
            let prefix = &trimmed[..cut];
            let accepted = match read {
                0 => ScanReport::from_slice(prefix, None).is_ok(),
                1 => SarifLog::from_slice(prefix).is_ok(),
                _ => VexDocument::from_slice(prefix, None).is_ok(),
            };
            assert!(!accepted, "a {cut}-byte prefix of {file} was accepted");
        }
    }
}
