//! Reports for people and for machines: plain text for a terminal,
//! Markdown for a CI step summary or a pull-request comment, JSON for a
//! program.
//!
//! Every text that comes from an input (a reason quoting an envelope, a
//! file name, an environment) is escaped on the way out: in text, control
//! characters, line separators and bidi overrides become visible escapes so
//! an input can neither add a line to the report nor drive the terminal; in
//! Markdown, punctuation and HTML specials are escaped as well, so an input
//! cannot add a table row, a heading or a link.
//!
//! ```
//! use custodia::render::{Format, Render, Titled};
//! use custodia::report::{Check, Report};
//!
//! let mut report = Report::new();
//! report.push(Check::pass("signature", "1 of 1 trusted keys"));
//! let titled = Titled::new("DSSE envelope app.json", &report, "app.json is signed");
//! assert_eq!(
//!     titled.render(Format::Text)?,
//!     "PASS  signature: 1 of 1 trusted keys\nVERIFIED\napp.json is signed"
//! );
//! assert!(titled.render(Format::Markdown)?.starts_with("## ✅ DSSE envelope app.json verified"));
//! let json: serde_json::Value = serde_json::from_str(&titled.render(Format::Json)?)?;
//! assert_eq!(json["verified"], true);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::report::Report;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Human-readable lines: `PASS  name: reason`, then the verdict.
    Text,
    /// The report as JSON: `{"verified": bool, "checks": [...], ...}`.
    Json,
    /// A GitHub step summary: a verdict heading and tables of checks.
    Markdown,
}

/// A format name other than `text`, `json` or `markdown`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format `{}` (text, json or markdown)", one_line(.0))]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `text`, `json` or `markdown`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "markdown" => Ok(Self::Markdown),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Markdown => "markdown",
        })
    }
}

/// A result that renders in every [`Format`].
pub trait Render {
    /// Plain text for a terminal, every input escaped ([`one_line`]).
    fn to_text(&self) -> String;
    /// Markdown for a CI step summary, every input escaped
    /// ([`escape_markdown`]).
    fn to_markdown(&self) -> String;
    /// Pretty-printed JSON.
    fn to_json(&self) -> Result<String, serde_json::Error>;

    /// The result in `format`.
    fn render(&self, format: Format) -> Result<String, serde_json::Error> {
        match format {
            Format::Text => Ok(self.to_text()),
            Format::Markdown => Ok(self.to_markdown()),
            Format::Json => self.to_json(),
        }
    }
}

/// A [`Report`] with what it is about: a title (`DSSE envelope app.json`),
/// and a summary said when it verified (`app.json is signed by ...`).
/// Both are plain text; they are escaped like everything else.
#[derive(Debug, Clone, Copy)]
pub struct Titled<'a> {
    title: &'a str,
    report: &'a Report,
    summary: &'a str,
}

impl<'a> Titled<'a> {
    /// `report`, titled `title`, with `summary` shown when it verified
    /// (empty: no summary line).
    pub fn new(title: &'a str, report: &'a Report, summary: &'a str) -> Self {
        Self {
            title,
            report,
            summary,
        }
    }
}

impl Render for Titled<'_> {
    /// The checks, `VERIFIED` and the summary, or `NOT VERIFIED`.
    fn to_text(&self) -> String {
        let mut out = checks_text(self.report);
        if self.report.verified() {
            out.push_str("VERIFIED");
            if !self.summary.is_empty() {
                out.push('\n');
                out.push_str(&one_line(self.summary));
            }
        } else {
            out.push_str("NOT VERIFIED");
        }
        out
    }

    /// `## ✅ <title> verified` (or `## ❌ <title> NOT verified`), the
    /// summary when verified, and a table of the checks.
    fn to_markdown(&self) -> String {
        let verified = self.report.verified();
        let mut out = format!(
            "## {} {} {}\n\n",
            mark(verified),
            escape_markdown(self.title),
            if verified { "verified" } else { "NOT verified" }
        );
        if verified && !self.summary.is_empty() {
            out.push_str(&format!("{}\n\n", escape_markdown(self.summary)));
        }
        out.push_str(&checks_markdown(self.report));
        out
    }

    /// `{"verified": bool, "checks": [...]}`.
    fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self.report)
    }
}

/// ✅ or ❌.
pub(crate) fn mark(passed: bool) -> &'static str {
    if passed { "✅" } else { "❌" }
}

/// `PASS  name: reason` per check, one line each, escaped.
pub fn checks_text(report: &Report) -> String {
    let mut out = String::new();
    for check in report.checks() {
        let mark = if check.passed { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "{mark}  {}: {}\n",
            one_line(&check.name),
            one_line(&check.reason)
        ));
    }
    out
}

/// The checks as a Markdown table (`| | Check | Reason |`), escaped.
pub fn checks_markdown(report: &Report) -> String {
    let mut out = String::from("| | Check | Reason |\n| --- | --- | --- |\n");
    for check in report.checks() {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            mark(check.passed),
            escape_markdown(&check.name),
            escape_markdown(&check.reason)
        ));
    }
    out
}

/// Escapes control characters, line separators and bidi overrides, so
/// text from an input stays on its line and can neither drive a terminal
/// nor reorder what it shows.
///
/// ```
/// assert_eq!(custodia::render::one_line("a\nPASS  forged"), "a\\nPASS  forged");
/// ```
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || is_bidi_or_separator(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Each line of `text` escaped with [`one_line`], newlines kept, and no
/// line able to close a Markdown code fence.
pub fn one_line_each(text: &str) -> String {
    text.lines()
        .map(|l| format!("{}\n", one_line(l).replace("```", "'''")))
        .collect()
}

/// Escapes text for Markdown (a table cell, a heading): HTML specials as
/// entities, Markdown punctuation (including `|` and `$`) with a
/// backslash, control characters and bidi overrides as visible escapes.
///
/// ```
/// use custodia::render::escape_markdown;
/// assert_eq!(escape_markdown("a | b"), "a \\| b");
/// assert_eq!(escape_markdown("<b>"), "&lt;b&gt;");
/// ```
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '~' | '$' | '{'
            | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_or_separator(c) => {
                // `\u{1b}` -> `\\u\{1b\}`: shown as typed, never interpreted.
                for e in c.escape_default() {
                    if matches!(e, '\\' | '{' | '}') {
                        out.push('\\');
                    }
                    out.push(e);
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn is_bidi_or_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Check;

    #[test]
    fn an_input_cannot_add_a_line_or_a_row() {
        let mut report = Report::new();
        report.push(Check::fail(
            "payload-type",
            "x\nPASS  forged: yes\u{2028}| ✅ | forged | row |",
        ));
        let titled = Titled::new("t\nVERIFIED", &report, "");
        let text = titled.to_text();
        assert_eq!(text.lines().count(), 2, "{text}");
        let md = titled.to_markdown();
        // heading, blank, header, separator, one row.
        assert_eq!(md.lines().count(), 5, "{md}");
        assert!(!md.contains("| ✅ |"), "{md}");
    }

    #[test]
    fn an_empty_report_never_renders_as_verified() {
        let report = Report::new();
        let titled = Titled::new("nothing", &report, "all good");
        assert_eq!(titled.to_text(), "NOT VERIFIED");
        assert!(
            titled
                .to_markdown()
                .starts_with("## ❌ nothing NOT verified")
        );
    }

    #[test]
    fn formats_parse_and_print() {
        for f in [Format::Text, Format::Json, Format::Markdown] {
            assert_eq!(f.to_string().parse::<Format>().ok(), Some(f));
        }
        assert_eq!("yaml".parse::<Format>(), Err(UnknownFormat("yaml".into())));
    }
}
