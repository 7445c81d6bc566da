//! Judging findings: which VEX statement applies to which finding, what is
//! left open, and whether anything open is above a maximum severity.
//!
//! A statement applies to a finding when it names the finding's
//! vulnerability (by id or alias, on either side) and one of its products
//! is the artifact (a digest it carries: a `pkg:oci/...@sha256:...` purl or
//! `hashes`) with the finding's package among its subcomponents (or no
//! subcomponents: the whole artifact), or is the finding's package itself
//! (purls compared without qualifiers; a versionless purl matches every
//! version). Of the statements that apply, the newest wins (statements
//! without a time count as oldest; on a tie the later one). It suppresses
//! the finding only when it says `fixed`, or `not_affected` with a
//! justification; `under_investigation` and `affected` suppress nothing.

use crate::digest::{DigestSet, elide_middle};
use crate::dsse::Envelope;
use crate::predicate::vulns::{Finding, Severity, VULNS_V0_2, VulnerabilityReport};
use crate::report::{Check, Report};
use crate::trust::TrustAnchors;
use crate::verify::{Expectation, verify_attestation};

use super::vex::{OPENVEX_V0_2_0, VexDocument, VexProduct, VexStatement};

/// How findings are judged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SeverityRule {
    /// The highest severity allowed.
    pub max: Severity,
    /// What a finding with no severity stated counts as; `None` (the
    /// default) counts it as above any maximum.
    pub unknown_as: Option<Severity>,
    /// Vulnerability ids refused whatever their severity or VEX.
    pub deny: Vec<String>,
}

impl SeverityRule {
    /// Nothing above `max`; unknown severity counts as too high; no deny list.
    pub fn new(max: Severity) -> Self {
        Self {
            max,
            unknown_as: None,
            deny: Vec::new(),
        }
    }
}

/// A finding and the VEX statement that decided it, if any.
#[derive(Debug, Clone, Copy)]
pub struct Judged<'a> {
    /// The finding.
    pub finding: &'a Finding,
    /// The newest applicable statement.
    pub statement: Option<&'a VexStatement>,
}

impl Judged<'_> {
    /// Whether the statement suppresses the finding.
    pub fn suppressed(&self) -> bool {
        self.statement.is_some_and(VexStatement::suppresses)
    }
}

/// `pkg:type/namespace/name@version` without qualifiers or subpath, and
/// the version part.
fn purl_parts(purl: &str) -> Option<(String, Option<&str>)> {
    let body = purl.strip_prefix("pkg:")?;
    let body = body.split(['?', '#']).next().unwrap_or(body);
    let (name, version) = match body.rsplit_once('@') {
        Some((n, v)) if !n.is_empty() => (n, Some(v)),
        _ => (body, None),
    };
    Some((name.to_ascii_lowercase(), version))
}

/// Whether two purls name the same package (a missing version matches any).
pub fn purl_matches(statement_purl: &str, finding_purl: &str) -> bool {
    match (purl_parts(statement_purl), purl_parts(finding_purl)) {
        (Some((a, va)), Some((b, vb))) => a == b && (va.is_none() || va == vb),
        _ => false,
    }
}

/// The digests a product names: a purl version `sha256:HEX` (or
/// `sha256%3AHEX`), and `hashes`.
fn product_digests(p: &VexProduct) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for purl in [Some(p.id.as_str()), p.purl()].into_iter().flatten() {
        if let Some((_, Some(version))) = purl_parts(purl) {
            let v = version.replace("%3A", ":").replace("%3a", ":");
            if let Some((alg, hex)) = v.split_once(':') {
                out.push((alg.to_ascii_lowercase(), hex.to_ascii_lowercase()));
            }
        }
    }
    for (alg, hex) in &p.hashes {
        out.push((
            alg.replace('-', "").to_ascii_lowercase(),
            hex.to_ascii_lowercase(),
        ));
    }
    out
}

/// Whether a product is the artifact (one of its digests is the artifact's).
pub fn product_is_artifact(p: &VexProduct, artifact: &DigestSet) -> bool {
    product_digests(p)
        .iter()
        .any(|(alg, hex)| artifact.get(alg).is_some_and(|have| have == hex))
}

/// Whether `statement` applies to `finding` in `artifact`.
pub fn applies(statement: &VexStatement, finding: &Finding, artifact: &DigestSet) -> bool {
    let id = finding.id().unwrap_or_default();
    let aliases = finding.aliases();
    let names = statement.names(id)
        || aliases.iter().any(|a| statement.names(a))
        || aliases.contains(&statement.vulnerability.as_str());
    if !names {
        return false;
    }
    let purl = finding.annotation("purl");
    statement.products.iter().any(|p| {
        let whole = product_is_artifact(p, artifact)
            && (p.subcomponents.is_empty()
                || purl.is_some_and(|f| p.subcomponents.iter().any(|s| purl_matches(s, f))));
        let package = purl.is_some_and(|f| p.purl().is_some_and(|s| purl_matches(s, f)));
        whole || package
    })
}

/// Each finding with the newest VEX statement (across `vex`) that applies.
pub fn apply_vex<'a>(
    report: &'a VulnerabilityReport,
    vex: &'a [VexDocument],
    artifact: &DigestSet,
) -> Vec<Judged<'a>> {
    report
        .scanner
        .result
        .iter()
        .map(|finding| {
            let mut best: Option<&VexStatement> = None;
            for s in vex.iter().flat_map(VexDocument::statements) {
                if applies(s, finding, artifact) && best.is_none_or(|b| s.timestamp >= b.timestamp)
                {
                    best = Some(s);
                }
            }
            Judged {
                finding,
                statement: best,
            }
        })
        .collect()
}

fn list(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
    let more = ids.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The named checks on a report's findings after VEX: `severity` (no open
/// finding above `rule.max`; the ids in its reason) and, with a deny list,
/// `deny-list`.
pub fn judge(
    report: &VulnerabilityReport,
    vex: &[VexDocument],
    artifact: &DigestSet,
    rule: &SeverityRule,
) -> Vec<Check> {
    let judged = apply_vex(report, vex, artifact);
    let mut over = Vec::new();
    let mut suppressed = Vec::new();
    for j in &judged {
        let id = elide_middle(j.finding.id().unwrap_or("(no id)"), 80);
        let severity = j.finding.max_severity().or(rule.unknown_as);
        if severity.is_some_and(|s| s <= rule.max) {
            continue;
        }
        let label = match j.finding.max_severity() {
            Some(s) => format!("{id} ({s:?})"),
            None => format!("{id} (unknown severity)"),
        };
        if j.suppressed() {
            let s = j.statement.map(|s| s.status.as_str()).unwrap_or_default();
            suppressed.push(format!("{label}: {s}"));
        } else {
            over.push(label);
        }
    }
    let mut checks = Vec::new();
    let tail = if suppressed.is_empty() {
        String::new()
    } else {
        format!("; suppressed by VEX: {}", list(&suppressed))
    };
    checks.push(if over.is_empty() {
        Check::pass(
            "severity",
            format!(
                "{} finding(s), none open above {:?}{tail}",
                judged.len(),
                rule.max
            ),
        )
    } else {
        Check::fail(
            "severity",
            format!(
                "{} finding(s) above {:?}: {}{tail}",
                over.len(),
                rule.max,
                list(&over)
            ),
        )
    });
    if !rule.deny.is_empty() {
        let denied: Vec<String> = judged
            .iter()
            .filter(|j| {
                rule.deny.iter().any(|d| {
                    j.finding.id() == Some(d.as_str()) || j.finding.aliases().contains(&d.as_str())
                })
            })
            .map(|j| elide_middle(j.finding.id().unwrap_or("(no id)"), 80))
            .collect();
        checks.push(if denied.is_empty() {
            Check::pass("deny-list", format!("none of {} found", list(&rule.deny)))
        } else {
            Check::fail("deny-list", format!("deny-listed: {}", list(&denied)))
        });
    }
    checks
}

/// `verifier vulns`: verifies a signed vulns v0.2 statement about
/// `artifact` with the `keys` anchors, each VEX envelope (OpenVEX predicate about the
/// artifact) with its own keys, and judges the findings. Checks: the
/// vulns envelope's (`vulns:` prefixed), `vex[i]` per VEX envelope (a VEX
/// that does not verify fails the report and suppresses nothing), then
/// [`judge`]'s.
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::dsse::Envelope;
/// use custodia::evidence::judge::{SeverityRule, verify_vulns};
/// use custodia::keys::{KeyAlgorithm, PrivateKey};
/// use custodia::trust::TrustAnchors;
/// use custodia::predicate::vulns::{Severity, VulnerabilityReport};
/// use custodia::resource::ResourceDescriptor;
/// use custodia::statement::{Statement, PAYLOAD_TYPE};
/// let artifact = DigestSet::of_bytes(b"app");
/// let scanner = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let report = VulnerabilityReport::new("pkg:github/aquasecurity/trivy", &[("CVE-2021-44228", "CRITICAL")]);
/// let st = Statement::new(vec![ResourceDescriptor::new("app", artifact.clone())], &report)?;
/// let env = Envelope::sign(PAYLOAD_TYPE, st.to_json()?, &scanner)?;
/// let keys: TrustAnchors = [scanner.public_key().clone()].into_iter().collect();
/// let out = verify_vulns(&env, &keys, &[], &artifact, &SeverityRule::new(Severity::High));
/// assert!(!out.verified());
/// assert_eq!(out.first_failure().unwrap().name, "severity");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn verify_vulns(
    envelope: &Envelope,
    keys: &TrustAnchors,
    vex: &[(Envelope, TrustAnchors)],
    artifact: &DigestSet,
    rule: &SeverityRule,
) -> Report {
    let mut report = Report::new();
    let verified = verify_attestation(
        envelope,
        keys,
        &Expectation::new(VULNS_V0_2, artifact.clone()),
    );
    for c in verified.report().checks() {
        report.push(Check {
            name: format!("vulns:{}", c.name),
            ..c.clone()
        });
    }
    let Some(statement) = verified.statement() else {
        return report;
    };
    let vulns = match VulnerabilityReport::from_statement(statement) {
        Ok(v) => v,
        Err(e) => {
            report.push(Check::fail("vulns:predicate", e.to_string()));
            return report;
        }
    };
    let mut documents = Vec::new();
    for (i, (env, vex_keys)) in vex.iter().enumerate() {
        let name = format!("vex[{i}]");
        let opened = verify_attestation(
            env,
            vex_keys,
            &Expectation::new(OPENVEX_V0_2_0, artifact.clone()),
        );
        let Some(st) = opened.statement() else {
            let why = opened
                .report()
                .first_failure()
                .map(|c| format!("{}: {}", c.name, c.reason))
                .unwrap_or_default();
            report.push(Check::fail(name, format!("not applied: {why}")));
            continue;
        };
        match VexDocument::from_statement(st) {
            Ok(doc) => {
                report.push(Check::pass(
                    name,
                    format!(
                        "{} statement(s) from {}",
                        doc.statements().len(),
                        elide_middle(doc.author().unwrap_or("(no author)"), 80)
                    ),
                ));
                documents.push(doc);
            }
            Err(e) => report.push(Check::fail(name, format!("not applied: {e}"))),
        }
    }
    for c in judge(&vulns, &documents, artifact, rule) {
        report.push(c);
    }
    report
}
