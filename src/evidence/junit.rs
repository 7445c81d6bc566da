//! JUnit XML, as cargo-nextest, pytest, Maven Surefire, Jest, go test (via
//! go-junit-report) and PHPUnit write it.
//!
//! Counting rules (the same for every dialect): a test is a `<testcase>`
//! element anywhere under the root (nested suites included, their count
//! attributes never added on top of their parent's); it failed if it has a
//! `<failure>` child, errored if `<error>`, was skipped if `<skipped>`, and
//! passed otherwise. Retry children (`<flakyFailure>`, `<flakyError>`,
//! `<rerunFailure>`, `<rerunError>`, as nextest and Surefire write them)
//! add no tests and do not by themselves fail a case: a case with only
//! flaky children passed on a retry (it is *flaky*); one with `<failure>`
//! and reruns failed every attempt and is one failed test.
//!
//! The reader is a streaming pull parser (quick-xml) over any
//! [`std::io::Read`]: memory is bounded by the largest single element or
//! text node plus the case names kept, never by the file. By default every
//! case is kept ([`KeepCases::All`]); [`KeepCases::NotPassed`] keeps only
//! the failed, errored, skipped and flaky ones (at most a limit of them)
//! and counts plain passes without naming them, so a report of any size is
//! read in memory bounded by that limit. Nesting depth is
//! limited, entities other than XML's predefined ones are refused (no
//! DTD expansion), and anything after the root element other than
//! whitespace, comments and processing instructions is an error.

use std::io::{BufRead, BufReader, Read};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::{HashingReader, Source};
use crate::error::{Error, EvidenceError};

const FORMAT: &str = "JUnit XML";

/// Deepest element nesting accepted (suites in suites in ...).
pub const MAX_DEPTH: usize = 256;

/// Largest single XML event (a start tag, a text node such as
/// `<system-out>`), in bytes.
pub const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// How many cases [`KeepCases::not_passed`] keeps.
pub const DEFAULT_KEEP_LIMIT: usize = 10_000;

/// Which test cases a read keeps as [`TestCase`]s. The counts
/// ([`JunitReport::counts`]) always cover every case, whatever is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepCases {
    /// Every case, in document order (memory grows with the case names).
    #[default]
    All,
    /// Only cases that did not simply pass (failed, errored, skipped, or
    /// flaky: passed after retries), the first `limit` of them in document
    /// order; plain passes are counted, not named.
    NotPassed {
        /// Most cases kept.
        limit: usize,
    },
}

impl KeepCases {
    /// [`KeepCases::NotPassed`] with [`DEFAULT_KEEP_LIMIT`].
    pub const fn not_passed() -> Self {
        Self::NotPassed {
            limit: DEFAULT_KEEP_LIMIT,
        }
    }
}

/// How one test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaseOutcome {
    /// No `<failure>`, `<error>` or `<skipped>` child.
    Passed,
    /// A `<failure>` child: an assertion failed.
    Failed,
    /// An `<error>` child: the test could not run to an assertion.
    Error,
    /// A `<skipped>` child: not run.
    Skipped,
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// `<classname>::<name>` (`::<name>` when there is no classname).
    pub id: String,
    /// How it ended.
    pub outcome: CaseOutcome,
    /// Retry children (`flakyFailure`, `flakyError`, `rerunFailure`,
    /// `rerunError`): earlier attempts.
    pub retries: u32,
}

impl TestCase {
    /// Passed after failing at least once.
    pub fn is_flaky(&self) -> bool {
        self.outcome == CaseOutcome::Passed && self.retries > 0
    }
}

/// Counts of test cases by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestCounts {
    /// `<testcase>` elements.
    pub tests: u64,
    /// Cases with `<failure>`.
    pub failures: u64,
    /// Cases with `<error>`.
    pub errors: u64,
    /// Cases with `<skipped>`.
    pub skipped: u64,
    /// The rest.
    pub passed: u64,
    /// Passed cases that needed retries.
    pub flaky: u64,
}

impl TestCounts {
    /// Tests that ran: every case but the skipped ones.
    pub fn run(&self) -> u64 {
        self.tests.saturating_sub(self.skipped)
    }
}

/// The count attributes on the root element, exactly as written (absent
/// attributes are `None`); for comparison only, never trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeclaredCounts {
    /// `tests`.
    pub tests: Option<u64>,
    /// `failures`.
    pub failures: Option<u64>,
    /// `errors`.
    pub errors: Option<u64>,
    /// `skipped`.
    pub skipped: Option<u64>,
}

/// A JUnit XML report, read.
///
/// ```
/// use custodia::evidence::junit::{JunitReport, CaseOutcome};
/// // nextest: a flaky test that passed on its second attempt is one passed test.
/// let xml = br#"<testsuites tests="1"><testsuite name="p">
///   <testcase classname="p::m" name="t"><flakyFailure message="boom"/></testcase>
/// </testsuite></testsuites>"#;
/// let run = JunitReport::from_slice(xml)?;
/// assert_eq!(run.counts().passed, 1);
/// assert!(run.cases()[0].is_flaky());
/// assert_eq!(run.cases()[0].outcome, CaseOutcome::Passed);
/// assert_eq!(run.declared().tests, Some(1));
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitReport {
    source: Source,
    root: String,
    declared: DeclaredCounts,
    counts: TestCounts,
    suites: u64,
    nested_suites: bool,
    cases: Vec<TestCase>,
    not_kept: u64,
}

impl JunitReport {
    /// Reads a report from bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_reader(bytes)
    }

    /// Reads a report as a stream, keeping every case; the [`Source`]
    /// digest covers every byte of `reader`.
    pub fn from_reader<R: Read>(reader: R) -> Result<Self, Error> {
        Self::from_reader_keeping(reader, KeepCases::All)
    }

    /// Reads a report as a stream, keeping the cases `keep` says (the
    /// counts and the digest cover everything read either way).
    ///
    /// ```
    /// use custodia::evidence::junit::{JunitReport, KeepCases};
    /// let xml = br#"<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase>
    ///   <testcase name="c"/></testsuite>"#;
    /// let run = JunitReport::from_reader_keeping(&xml[..], KeepCases::not_passed())?;
    /// assert_eq!((run.counts().tests, run.counts().passed), (3, 2));
    /// assert_eq!(run.cases().len(), 1); // only the failure is named
    /// assert_eq!(run.cases()[0].id, "::b");
    /// assert_eq!(run.cases_not_kept(), 2);
    /// # Ok::<(), custodia::Error>(())
    /// ```
    pub fn from_reader_keeping<R: Read>(reader: R, keep: KeepCases) -> Result<Self, Error> {
        let mut hashing = HashingReader::new(reader);
        let mut parsed = parse(BufReader::with_capacity(64 * 1024, &mut hashing), keep)?;
        parsed.source = hashing.finish().map_err(|e| EvidenceError::Io {
            format: FORMAT,
            reason: e.to_string(),
        })?;
        Ok(parsed)
    }

    /// The input's digest and size.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// `testsuites` or `testsuite`.
    pub fn root_element(&self) -> &str {
        &self.root
    }

    /// The root's count attributes as written.
    pub fn declared(&self) -> DeclaredCounts {
        self.declared
    }

    /// Counts by outcome.
    pub fn counts(&self) -> TestCounts {
        self.counts
    }

    /// Number of `<testsuite>` elements.
    pub fn suites(&self) -> u64 {
        self.suites
    }

    /// Whether a `<testsuite>` holds another.
    pub fn has_nested_suites(&self) -> bool {
        self.nested_suites
    }

    /// The cases kept (every case unless read with
    /// [`KeepCases::NotPassed`]), in document order.
    pub fn cases(&self) -> &[TestCase] {
        &self.cases
    }

    /// The cases kept, taken out of the report.
    pub fn into_cases(self) -> Vec<TestCase> {
        self.cases
    }

    /// Cases counted but not kept in [`cases`](Self::cases).
    pub fn cases_not_kept(&self) -> u64 {
        self.not_kept
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    Suites,
    Suite,
    Case,
    Other,
}

struct OpenCase {
    failure: bool,
    error: bool,
    skipped: bool,
    retries: u32,
}

fn xml_error(position: u64, e: &dyn std::fmt::Display) -> EvidenceError {
    EvidenceError::Xml {
        format: FORMAT,
        position,
        reason: e.to_string(),
    }
}

fn invalid(path: &str, reason: impl Into<String>) -> EvidenceError {
    EvidenceError::Invalid {
        format: FORMAT,
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn attribute_value<'a>(
    attr: quick_xml::events::attributes::Attribute<'a>,
    position: u64,
) -> Result<std::borrow::Cow<'a, str>, Error> {
    // Only values with references or whitespace to normalize need the
    // normalizing (allocating, entity-checking) path.
    // (A fold without early exit, which the compiler vectorizes.)
    let special = attr.value.bytes().fold(false, |found, b| {
        found | matches!(b, b'&' | b'\t' | b'\n' | b'\r')
    });
    if special {
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| xml_error(position, &err))?;
        Ok(std::borrow::Cow::Owned(value.into_owned()))
    } else {
        Ok(attr.value)
    }
}

/// Attributes checked for duplicates without allocating: the first few
/// keys are compared in place; a tag with more is checked again by
/// quick-xml's own (allocating) duplicate check.
fn each_attribute<'a>(
    e: &'a BytesStart<'_>,
    position: u64,
    mut f: impl FnMut(quick_xml::events::attributes::Attribute<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    const IN_PLACE: usize = 8;
    let mut seen: [&str; IN_PLACE] = [""; IN_PLACE];
    let mut count = 0usize;
    for attr in e.attributes().with_checks(false) {
        let attr = attr.map_err(|err| xml_error(position, &err))?;
        let key = attr.key.0;
        if seen.get(..count).is_some_and(|s| s.contains(&key)) {
            return Err(xml_error(
                position,
                &format_args!("duplicate attribute `{}`", crate::digest::shorten(key)),
            )
            .into());
        }
        if let Some(slot) = seen.get_mut(count) {
            *slot = key;
        }
        count += 1;
        f(attr)?;
    }
    if count > IN_PLACE {
        for attr in e.attributes() {
            attr.map_err(|err| xml_error(position, &err))?;
        }
    }
    Ok(())
}

fn attribute(e: &BytesStart<'_>, name: &str, position: u64) -> Result<Option<String>, Error> {
    let mut found = None;
    each_attribute(e, position, |attr| {
        if found.is_none() && attr.key.0 == name {
            found = Some(attribute_value(attr, position)?.into_owned());
        }
        Ok(())
    })?;
    Ok(found)
}

/// Writes a test case's `<classname>::<name>` into `id` (when `build`) in
/// one pass over its attributes; false without a name.
fn case_id(e: &BytesStart<'_>, position: u64, id: &mut String, build: bool) -> Result<bool, Error> {
    let (mut class, mut name) = (None, None);
    each_attribute(e, position, |attr| {
        match attr.key.0 {
            "classname" => class = Some(attribute_value(attr, position)?),
            "name" => name = Some(attribute_value(attr, position)?),
            _ => {}
        }
        Ok(())
    })?;
    id.clear();
    let Some(name) = name else { return Ok(false) };
    if !build {
        return Ok(true);
    }
    id.push_str(class.as_deref().unwrap_or_default());
    id.push_str("::");
    id.push_str(&name);
    Ok(true)
}

fn count_attribute(
    e: &BytesStart<'_>,
    name: &'static str,
    position: u64,
) -> Result<Option<u64>, Error> {
    match attribute(e, name, position)? {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            invalid(
                &format!("{}@{name}", e.name().as_ref()),
                format!("`{}` is not a count", crate::digest::shorten(&v)),
            )
            .into()
        }),
    }
}

fn parse<R: BufRead>(input: R, keep: KeepCases) -> Result<JunitReport, Error> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut buf = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<String> = None;
    let mut closed = false;
    let mut report = JunitReport {
        source: Source::of_bytes(b""),
        root: String::new(),
        declared: DeclaredCounts::default(),
        counts: TestCounts::default(),
        suites: 0,
        nested_suites: false,
        cases: Vec::new(),
        not_kept: 0,
    };
    let mut case: Option<OpenCase> = None;
    // The open case's id, in a buffer reused from case to case.
    let mut id = String::new();
    loop {
        buf.clear();
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(reader.error_position(), &e))?;
        if reader.buffer_position().saturating_sub(position) > MAX_EVENT_BYTES as u64 {
            return Err(EvidenceError::Limit {
                format: FORMAT,
                what: "an XML element or text node (bytes)",
                limit: MAX_EVENT_BYTES as u64,
            }
            .into());
        }
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                if closed {
                    return Err(invalid("", "content after the root element").into());
                }
                let name = e.name();
                let name = name.as_ref();
                let node = match (stack.last().copied(), name) {
                    (None, "testsuites") => Node::Suites,
                    (None, "testsuite") => Node::Suite,
                    (None, other) => {
                        return Err(invalid(
                            "",
                            format!(
                                "the root element is `{}`, expected `testsuites` or `testsuite`",
                                crate::digest::shorten(other)
                            ),
                        )
                        .into());
                    }
                    (Some(Node::Suites | Node::Suite), "testsuite") => Node::Suite,
                    (Some(Node::Suites | Node::Suite), "testcase") => Node::Case,
                    (Some(Node::Case), child) => {
                        if let Some(open) = case.as_mut() {
                            match child {
                                "failure" => open.failure = true,
                                "error" => open.error = true,
                                "skipped" => open.skipped = true,
                                "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                                    open.retries = open.retries.saturating_add(1)
                                }
                                _ => {}
                            }
                        }
                        Node::Other
                    }
                    (Some(Node::Other), "testcase") => {
                        return Err(
                            invalid("testcase", "a test case must be inside a testsuite").into(),
                        );
                    }
                    _ => Node::Other,
                };
                match node {
                    Node::Suites | Node::Suite if stack.is_empty() => {
                        root = Some(name.to_owned());
                        report.declared = DeclaredCounts {
                            tests: count_attribute(e, "tests", position)?,
                            failures: count_attribute(e, "failures", position)?,
                            errors: count_attribute(e, "errors", position)?,
                            skipped: count_attribute(e, "skipped", position)?,
                        };
                        if node == Node::Suite {
                            report.suites += 1;
                        }
                    }
                    Node::Suite => {
                        report.suites += 1;
                        if stack.last() == Some(&Node::Suite) {
                            report.nested_suites = true;
                        }
                    }
                    Node::Case => {
                        // A self-closed case passed: counting it needs no id
                        // unless every case is kept.
                        let build = !empty || keep == KeepCases::All;
                        if !case_id(e, position, &mut id, build)? {
                            return Err(invalid(
                                "testcase",
                                format!("test case #{} has no name", report.counts.tests + 1),
                            )
                            .into());
                        }
                        case = Some(OpenCase {
                            failure: false,
                            error: false,
                            skipped: false,
                            retries: 0,
                        });
                    }
                    _ => {}
                }
                if empty {
                    if node == Node::Case {
                        finish_case(&mut report, case.take(), &id, keep);
                    }
                    if stack.is_empty() {
                        closed = true;
                    }
                } else {
                    if stack.len() >= MAX_DEPTH {
                        return Err(EvidenceError::Limit {
                            format: FORMAT,
                            what: "element nesting depth",
                            limit: MAX_DEPTH as u64,
                        }
                        .into());
                    }
                    stack.push(node);
                }
            }
            Event::End(_) => {
                if stack.pop() == Some(Node::Case) {
                    finish_case(&mut report, case.take(), &id, keep);
                }
                if stack.is_empty() {
                    closed = true;
                }
            }
            Event::Text(ref t) => {
                if stack.is_empty() && !t.as_ref().bytes().all(|b| b.is_ascii_whitespace()) {
                    return Err(invalid("", "text outside the root element").into());
                }
            }
            Event::CData(_) if stack.is_empty() => {
                return Err(invalid("", "CDATA outside the root element").into());
            }
            Event::GeneralRef(ref r) => {
                // Only character references and XML's five predefined
                // entities exist without a DTD.
                let ok =
                    r.is_char_ref() || matches!(r.as_ref(), "lt" | "gt" | "amp" | "apos" | "quot");
                if !ok {
                    return Err(invalid(
                        "",
                        format!(
                            "undefined entity `&{};` (DTD entities are not expanded)",
                            crate::digest::shorten(r.as_ref())
                        ),
                    )
                    .into());
                }
                if stack.is_empty() {
                    return Err(invalid("", "text outside the root element").into());
                }
            }
            Event::Eof => break,
            Event::CData(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(xml_error(
            reader.buffer_position(),
            &format_args!("the document ends inside {} open element(s)", stack.len()),
        )
        .into());
    }
    let Some(root) = root else {
        return Err(invalid("", "no root element").into());
    };
    report.root = root;
    Ok(report)
}

fn finish_case(report: &mut JunitReport, case: Option<OpenCase>, id: &str, keep: KeepCases) {
    let Some(case) = case else { return };
    let outcome = if case.error {
        CaseOutcome::Error
    } else if case.failure {
        CaseOutcome::Failed
    } else if case.skipped {
        CaseOutcome::Skipped
    } else {
        CaseOutcome::Passed
    };
    let c = &mut report.counts;
    c.tests += 1;
    match outcome {
        CaseOutcome::Passed => {
            c.passed += 1;
            if case.retries > 0 {
                c.flaky += 1;
            }
        }
        CaseOutcome::Failed => c.failures += 1,
        CaseOutcome::Error => c.errors += 1,
        CaseOutcome::Skipped => c.skipped += 1,
    }
    let kept = match keep {
        KeepCases::All => true,
        KeepCases::NotPassed { limit } => {
            (outcome != CaseOutcome::Passed || case.retries > 0) && report.cases.len() < limit
        }
    };
    if kept {
        report.cases.push(TestCase {
            id: id.to_owned(),
            outcome,
            retries: case.retries,
        });
    } else {
        report.not_kept += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_suites_count_cases_once() {
        let xml = br#"<testsuites><testsuite name="a" tests="3"><testcase name="x"/>
            <testsuite name="b" tests="2"><testcase name="y"/><testcase name="z"><error/></testcase></testsuite>
            </testsuite></testsuites>"#;
        let r = JunitReport::from_slice(xml).unwrap();
        assert_eq!(r.counts().tests, 3);
        assert_eq!(r.counts().errors, 1);
        assert!(r.has_nested_suites());
        assert_eq!(r.suites(), 2);
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        for bad in [
            &b""[..],
            b"<testsuites>",
            b"<testsuites></testsuite>",
            b"<html/>",
            b"<testsuites/><testsuites/>",
            b"<testsuites/>junk",
            b"<testsuites><testsuite><testcase/></testsuite></testsuites>",
            b"<testsuites tests=\"many\"/>",
            b"<testsuites><testsuite><testcase name=\"&ext;\"/></testsuite></testsuites>",
            b"<testsuites><x><testcase name=\"a\"/></x></testsuites>",
        ] {
            let err = JunitReport::from_slice(bad).unwrap_err();
            assert!(matches!(err, Error::Evidence(_)), "{err}");
        }
        let deep = "<testsuite>".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            JunitReport::from_slice(deep.as_bytes()),
            Err(Error::Evidence(EvidenceError::Limit { .. }))
        ));
    }

    #[test]
    fn duplicate_attributes_are_refused_on_small_and_large_tags() {
        let many: String = (0..12).map(|i| format!(" a{i}=\"{i}\"")).collect();
        for tag in [
            r#"<testcase name="a" name="b"/>"#.to_owned(),
            r#"<testcase name="a" time="1" time="2"/>"#.to_owned(),
            format!(r#"<testcase name="a"{many} a3="x"/>"#),
        ] {
            let xml = format!("<testsuite>{tag}</testsuite>");
            for keep in [KeepCases::All, KeepCases::not_passed()] {
                let err = JunitReport::from_reader_keeping(xml.as_bytes(), keep).unwrap_err();
                assert!(
                    matches!(err, Error::Evidence(EvidenceError::Xml { .. })),
                    "{xml}: {err}"
                );
            }
        }
        let xml = format!(r#"<testsuite><testcase name="a"{many}/></testsuite>"#);
        assert_eq!(
            JunitReport::from_slice(xml.as_bytes())
                .unwrap()
                .counts()
                .tests,
            1
        );
    }

    #[test]
    fn not_passed_keeps_failures_skips_and_flaky_up_to_the_limit() {
        let xml = br#"<testsuite><testcase name="p"/><testcase name="f"><failure/></testcase>
            <testcase name="k"><flakyFailure/></testcase><testcase name="s"><skipped/></testcase>
            <testcase name="q"></testcase><testcase name="e"><error/></testcase></testsuite>"#;
        let all = JunitReport::from_slice(xml).unwrap();
        let kept = JunitReport::from_reader_keeping(&xml[..], KeepCases::not_passed()).unwrap();
        assert_eq!(kept.counts(), all.counts());
        let ids: Vec<&str> = kept.cases().iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["::f", "::k", "::s", "::e"]);
        assert_eq!((all.cases_not_kept(), kept.cases_not_kept()), (0, 2));
        let two =
            JunitReport::from_reader_keeping(&xml[..], KeepCases::NotPassed { limit: 2 }).unwrap();
        assert_eq!(two.cases().len(), 2);
        assert_eq!(two.cases_not_kept(), 4);
        assert_eq!(two.counts(), all.counts());
        // A case without a name is refused in every mode.
        let nameless = b"<testsuite><testcase classname=\"c\"/></testsuite>";
        assert!(JunitReport::from_reader_keeping(&nameless[..], KeepCases::not_passed()).is_err());
    }

    #[test]
    fn the_digest_covers_the_bytes() {
        let xml = b"<testsuite name=\"s\"/>\n";
        let r = JunitReport::from_slice(xml).unwrap();
        assert_eq!(
            r.source().digest(),
            &crate::digest::DigestAlgorithm::Sha256.hash(xml)
        );
        assert_eq!(r.source().size(), xml.len() as u64);
    }
}
