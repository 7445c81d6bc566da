//! Structured verification results: a [`Report`] of named [`Check`]s.
//!
//! Every verification in custodia returns a report, never a bare bool, so a
//! CI plugin can show a person which check failed and why. The JSON form is
//! `{"verified": bool, "checks": [{"name", "passed", "reason"}]}`.

use std::fmt;

use serde::Serialize;

use crate::render::one_line;

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    /// Stable, kebab-case name (`signature`, `predicate-type`, ...).
    pub name: String,
    /// Whether the check passed.
    pub passed: bool,
    /// What was found, or what was wrong and what was expected.
    pub reason: String,
    /// What the check is about, as data (a record of an environment, a
    /// digest), when it is about one thing: callers never parse it out of
    /// `name` or `reason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<CheckSubject>,
}

/// What a [`Check`] is about.
///
/// ```
/// use custodia::report::{Check, CheckSubject};
/// let check = Check::fail("record[3]", "not signed").about(CheckSubject::record("prod", 3, None));
/// assert_eq!(check.subject.unwrap().record, Some(3));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CheckSubject {
    /// The environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The record's position in the environment's chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<usize>,
    /// A digest: the record's envelope, a file's content, an artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl CheckSubject {
    /// Record `index` of `environment` (and its envelope digest).
    pub fn record(
        environment: impl Into<String>,
        index: usize,
        digest: Option<&crate::digest::Digest>,
    ) -> Self {
        Self {
            environment: Some(environment.into()),
            record: Some(index),
            digest: digest.map(ToString::to_string),
        }
    }

    /// An environment as a whole.
    pub fn environment(environment: impl Into<String>) -> Self {
        Self {
            environment: Some(environment.into()),
            ..Self::default()
        }
    }
}

impl Check {
    /// A passed check.
    pub fn pass(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed: true,
            reason: reason.into(),
            subject: None,
        }
    }

    /// A failed check.
    pub fn fail(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed: false,
            reason: reason.into(),
            subject: None,
        }
    }

    /// The same check, about `subject`.
    pub fn about(mut self, subject: CheckSubject) -> Self {
        self.subject = Some(subject);
        self
    }
}

/// An ordered list of checks. Verified only when it has at least one check
/// and every check passed: an empty report never verifies.
///
/// ```
/// use custodia::report::{Check, Report};
/// let mut report = Report::new();
/// assert!(!report.verified());
/// report.push(Check::pass("signature", "1 of 1 trusted keys"));
/// assert!(report.verified());
/// report.push(Check::fail("subject", "sha256 differs"));
/// assert!(!report.verified());
/// assert_eq!(report.first_failure().unwrap().name, "subject");
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["verified"], false);
/// // Text from documents cannot forge report lines.
/// report.push(Check::fail("payload-type", "x\nPASS  forged: yes"));
/// assert_eq!(report.to_string().lines().count(), 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    checks: Vec<Check>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a check.
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// Appends all checks of another report.
    pub fn extend(&mut self, other: Report) {
        self.checks.extend(other.checks);
    }

    /// The checks, in the order they ran.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Whether there is at least one check and all passed.
    pub fn verified(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.passed)
    }
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            verified: bool,
            checks: &'a [Check],
        }
        Out {
            verified: self.verified(),
            checks: &self.checks,
        }
        .serialize(s)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Report {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Report".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        /// A report of named checks, as its JSON form shows it.
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Report {
            /// At least one check ran and every check passed.
            verified: bool,
            /// The checks, in the order they ran.
            checks: Vec<Check>,
        }
        <Report as schemars::JsonSchema>::json_schema(generator)
    }
}

/// The JSON Schema of a [`Report`]'s JSON form, as published in
/// `report.schema.json`. The outputs of `verifier envelope`, `provenance`,
/// `bundle`, `oci`, `vulns`, `admit` and `dora` are reports with more
/// members beside `verified` and `checks`; `verifier chain`'s is an
/// [`Audit`](crate::promotion::Audit) (`audit.schema.json`).
#[cfg(feature = "schema")]
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Report);
    schema.insert("title".into(), "custodia verification report".into());
    serde_json::to_value(schema).unwrap_or_else(|e| {
        // A schema is plain maps of strings: serializing it cannot fail.
        serde_json::json!({ "description": format!("schema unavailable: {e}") })
    })
}

/// Whether `text` has a visible character (not only white space, control
/// or format characters).
pub(crate) fn has_visible_text(text: &str) -> bool {
    text.chars().any(|c| {
        !c.is_whitespace()
            && !c.is_control()
            && !matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{00ad}' | '\u{034f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}')
    })
}

impl fmt::Display for Report {
    /// One line per check: `PASS name: reason`, then the verdict.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            writeln!(f, "{mark}  {}: {}", one_line(&c.name), one_line(&c.reason))?;
        }
        write!(
            f,
            "{}",
            if self.verified() {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            }
        )
    }
}
