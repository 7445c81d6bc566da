//! SPDX license expressions, parsed once and carried as a type.
//!
//! [`LicenseExpression`] is what the SBOM model holds: readers of CycloneDX
//! and SPDX 2 / 3 documents and the Cargo producer parse into it, writers
//! take it. The SPDX license and exception lists come from one maintained
//! source, the [`spdx`](https://crates.io/crates/spdx) crate (SPDX license
//! list 3.29, [`license_list_version`]); its lexer splits the text, and the
//! grammar below builds a tree that keeps the expression as written
//! (operators, parentheses), so the same expression is written back the
//! same way.
//!
//! Grammar (SPDX 2.3 Annex D, SPDX 3.0.1 Annex B):
//!
//! ```text
//! expression := term ((AND | OR) term)*
//! term       := "(" expression ")" | simple [WITH exception]
//! simple     := idstring ["+"] | [DocumentRef-idstring:]LicenseRef-idstring
//! exception  := idstring | [DocumentRef-idstring:]AdditionRef-idstring
//! ```
//!
//! Operators are `AND`, `OR`, `WITH`, all upper or all lower case.
//! Parsing checks the syntax only: an id not on the SPDX list is kept as
//! written (other tools' documents name licenses newer than any list), and
//! [`LicenseExpression::to_listed`] maps an expression onto the list when a
//! writer needs ids the list knows (SPDX 2.3's `licenseDeclared`).
//! Nesting is limited to 64 parentheses.
//!
//! Why not `spdx::Expression` itself: its tree is a postfix list without
//! the parentheses (a document's expression would not be written back as
//! it was read), and with unknown ids allowed it turns `Foo-1.0` into
//! `LicenseRef-Foo-1.0`, which is a different license.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use spdx::lexer::{Lexer, ParseMode, Token};

/// Parentheses an expression may nest.
const MAX_DEPTH: usize = 64;

/// Why a license expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseError {
    /// The text is empty (or only whitespace).
    #[error("empty license expression")]
    Empty,
    /// A character no SPDX expression holds, at a byte offset.
    #[error("unexpected character at byte {at}")]
    InvalidCharacter {
        /// Byte offset in the text.
        at: usize,
    },
    /// A token where the grammar does not allow it, at a byte offset.
    #[error("unexpected `{token}` at byte {at}")]
    Unexpected {
        /// The token (shortened).
        token: String,
        /// Byte offset in the text.
        at: usize,
    },
    /// The expression ends where a license or `)` is needed.
    #[error("the expression ends early")]
    EndsEarly,
    /// A `(` without its `)`, or a `)` without its `(`.
    #[error("unbalanced parentheses")]
    Unbalanced,
    /// More than 64 nested parentheses.
    #[error("nested more than {MAX_DEPTH} parentheses deep")]
    TooDeep,
    /// `+` after an id that is not on the SPDX license list
    /// ([`LicenseExpression::to_listed`]).
    #[error("`{0}+`: `+` needs a license on the SPDX list")]
    UnlistedOrLater(String),
    /// An exception that is not on the SPDX exception list
    /// ([`LicenseExpression::to_listed`]).
    #[error("`{0}` is not on the SPDX exception list")]
    UnlistedException(String),
    /// A `DocumentRef-` or `AdditionRef-` reference, which needs a
    /// declaration in the document ([`LicenseExpression::to_listed`]).
    #[error("`{0}` names a declaration the document does not have")]
    ExternalReference(String),
}

/// `AND` or `OR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Operator {
    And,
    Or,
}

/// A license: an id (on the list or not) with an optional `+`, or a
/// `LicenseRef-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum License {
    /// On the SPDX license list, in its spelling.
    Listed { id: &'static str, or_later: bool },
    /// An id of SPDX shape that is not on the list (as written).
    Unlisted { id: String, or_later: bool },
    /// `[DocumentRef-DOC:]LicenseRef-ID`.
    Ref {
        document: Option<String>,
        id: String,
    },
}

/// What follows `WITH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Exception {
    /// On the SPDX exception list, in its spelling.
    Listed(&'static str),
    /// An id of SPDX shape that is not on the exception list.
    Unlisted(String),
    /// `[DocumentRef-DOC:]AdditionRef-ID`.
    Ref {
        document: Option<String>,
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Term {
    Group(Box<LicenseExpression>),
    License {
        license: License,
        exception: Option<Exception>,
    },
}

/// A parsed SPDX license expression (`MIT OR Apache-2.0`,
/// `GPL-2.0-or-later WITH Classpath-exception-2.0`, `LicenseRef-Custom`).
///
/// Displays as written, normalized: one space between tokens, operators in
/// upper case, no space inside parentheses.
///
/// ```
/// use custodia::sbom::LicenseExpression;
/// let e: LicenseExpression = "(MIT  or Apache-2.0) AND Unicode-3.0".parse()?;
/// assert_eq!(e.to_string(), "(MIT OR Apache-2.0) AND Unicode-3.0");
///
/// // Ids need not be on the SPDX list to parse; `to_listed` maps them.
/// let e = LicenseExpression::parse("mit OR Foo-1.0")?;
/// let (listed, refs) = e.to_listed()?;
/// assert_eq!(listed.to_string(), "MIT OR LicenseRef-Foo-1.0");
/// assert!(refs.contains("LicenseRef-Foo-1.0"));
///
/// // Cargo's deprecated `/` separator means OR.
/// let e = LicenseExpression::parse_cargo("MIT/Apache-2.0")?;
/// assert_eq!(e.to_string(), "MIT OR Apache-2.0");
/// assert!(LicenseExpression::parse("MIT AND").is_err());
/// # Ok::<(), custodia::sbom::LicenseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LicenseExpression {
    first: Term,
    rest: Vec<(Operator, Term)>,
}

/// The version of the SPDX license list ids are looked up in (from the
/// `spdx` crate).
pub fn license_list_version() -> &'static str {
    spdx::license_version()
}

/// Whether `id` is on the SPDX license list or exception list, exactly
/// as spelled (CycloneDX's `license.id`).
pub(crate) fn is_listed_id(id: &str) -> bool {
    spdx::license_id(id).is_some_and(|l| l.name == id) || spdx::exception_id(id).is_some()
}

impl LicenseExpression {
    /// Parses an SPDX license expression (syntax only: ids need not be on
    /// the SPDX list).
    pub fn parse(text: &str) -> Result<Self, LicenseError> {
        Self::parse_mode(text, false)
    }

    /// Parses a Cargo `license` field: an SPDX expression, where the
    /// deprecated `/` separator means `OR`.
    pub fn parse_cargo(text: &str) -> Result<Self, LicenseError> {
        Self::parse_mode(text, false).or_else(|e| {
            if text.contains('/') {
                Self::parse_mode(text, true)
            } else {
                Err(e)
            }
        })
    }

    fn parse_mode(text: &str, slash_as_or: bool) -> Result<Self, LicenseError> {
        let mode = ParseMode {
            allow_slash_as_or_operator: slash_as_or,
            allow_imprecise_license_names: false,
            allow_postfix_plus_on_gpl: false,
            allow_deprecated: true,
            allow_unknown: true,
        };
        let mut tokens = Vec::new();
        for t in Lexer::new_mode(text, mode) {
            let t = t.map_err(|e| LicenseError::InvalidCharacter { at: e.span.start })?;
            tokens.push((t.token, t.span.start));
        }
        if tokens.is_empty() {
            return Err(LicenseError::Empty);
        }
        let mut p = Parser { tokens, pos: 0 };
        let e = p.expression(0)?;
        match p.tokens.get(p.pos) {
            None => Ok(e),
            Some((Token::CloseParen, _)) => Err(LicenseError::Unbalanced),
            Some((t, at)) => Err(unexpected(t, *at)),
        }
    }

    /// This expression with every id in the SPDX list's spelling
    /// (`mit` becomes `MIT`), and every id not on the list as
    /// `LicenseRef-ID`; the `LicenseRef-`s it holds are returned too, for
    /// the document to declare.
    ///
    /// Refused: `+` after an unlisted id, an exception not on the list, and
    /// `DocumentRef-` / `AdditionRef-` references.
    pub fn to_listed(&self) -> Result<(Self, BTreeSet<String>), LicenseError> {
        let mut refs = BTreeSet::new();
        let e = self.listed(&mut refs)?;
        Ok((e, refs))
    }

    fn listed(&self, refs: &mut BTreeSet<String>) -> Result<Self, LicenseError> {
        let term = |t: &Term, refs: &mut BTreeSet<String>| -> Result<Term, LicenseError> {
            Ok(match t {
                Term::Group(e) => Term::Group(Box::new(e.listed(refs)?)),
                Term::License { license, exception } => Term::License {
                    license: listed_license(license, refs)?,
                    exception: exception.as_ref().map(listed_exception).transpose()?,
                },
            })
        };
        Ok(Self {
            first: term(&self.first, refs)?,
            rest: self
                .rest
                .iter()
                .map(|(op, t)| Ok((*op, term(t, refs)?)))
                .collect::<Result<_, LicenseError>>()?,
        })
    }

    /// The expressions joined by `AND` (none: `None`); one that is more
    /// than a single id is put in parentheses (as CycloneDX readers join a
    /// component's license entries).
    pub fn all_of(parts: impl IntoIterator<Item = Self>) -> Option<Self> {
        let wrap = |e: Self| {
            let single = e.rest.is_empty()
                && matches!(
                    &e.first,
                    Term::License {
                        exception: None,
                        ..
                    }
                );
            if single {
                e.first
            } else {
                Term::Group(Box::new(e))
            }
        };
        let mut parts = parts.into_iter();
        let first = parts.next()?;
        let rest: Vec<(Operator, Term)> = parts.map(|p| (Operator::And, wrap(p))).collect();
        if rest.is_empty() {
            return Some(first);
        }
        Some(Self {
            first: wrap(first),
            rest,
        })
    }
}

fn listed_license(l: &License, refs: &mut BTreeSet<String>) -> Result<License, LicenseError> {
    match l {
        License::Listed { .. } => Ok(l.clone()),
        License::Unlisted { id, or_later } => match lookup_license(id) {
            Some(known) => Ok(License::Listed {
                id: known,
                or_later: *or_later,
            }),
            None if *or_later => Err(LicenseError::UnlistedOrLater(id.clone())),
            None => {
                refs.insert(format!("LicenseRef-{id}"));
                Ok(License::Ref {
                    document: None,
                    id: id.clone(),
                })
            }
        },
        License::Ref { document: None, id } => {
            refs.insert(format!("LicenseRef-{id}"));
            Ok(l.clone())
        }
        License::Ref { .. } => Err(LicenseError::ExternalReference(l.to_string())),
    }
}

fn listed_exception(e: &Exception) -> Result<Exception, LicenseError> {
    match e {
        Exception::Listed(_) => Ok(e.clone()),
        Exception::Unlisted(id) => lookup_exception(id)
            .map(Exception::Listed)
            .ok_or_else(|| LicenseError::UnlistedException(id.clone())),
        Exception::Ref { .. } => Err(LicenseError::ExternalReference(e.to_string())),
    }
}

/// The list's spelling of a license id, case-insensitively.
fn lookup_license(id: &str) -> Option<&'static str> {
    spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(id))
        .map(|l| l.name)
}

/// The list's spelling of an exception id, case-insensitively.
fn lookup_exception(id: &str) -> Option<&'static str> {
    spdx::identifiers::EXCEPTIONS
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(id))
        .map(|e| e.name)
}

fn is_idstring(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn unexpected(t: &Token<'_>, at: usize) -> LicenseError {
    let token = match t {
        Token::Spdx(id) => id.name.to_owned(),
        Token::Exception(e) => e.name.to_owned(),
        Token::Unknown(u) => crate::digest::shorten(u),
        Token::LicenseRef { lic_ref, .. } => {
            format!("LicenseRef-{}", crate::digest::shorten(lic_ref))
        }
        Token::AdditionRef { add_ref, .. } => {
            format!("AdditionRef-{}", crate::digest::shorten(add_ref))
        }
        Token::Plus => "+".to_owned(),
        Token::OpenParen => "(".to_owned(),
        Token::CloseParen => ")".to_owned(),
        Token::With => "WITH".to_owned(),
        Token::And => "AND".to_owned(),
        Token::Or => "OR".to_owned(),
    };
    LicenseError::Unexpected { token, at }
}

struct Parser<'a> {
    tokens: Vec<(Token<'a>, usize)>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<(Token<'a>, usize)> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expression(&mut self, depth: usize) -> Result<LicenseExpression, LicenseError> {
        if depth > MAX_DEPTH {
            return Err(LicenseError::TooDeep);
        }
        let first = self.term(depth)?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Token::And) => Operator::And,
                Some(Token::Or) => Operator::Or,
                _ => break,
            };
            self.pos += 1;
            rest.push((op, self.term(depth)?));
        }
        Ok(LicenseExpression { first, rest })
    }

    fn term(&mut self, depth: usize) -> Result<Term, LicenseError> {
        let (token, at) = self.next().ok_or(LicenseError::EndsEarly)?;
        let license = match token {
            Token::OpenParen => {
                let inner = self.expression(depth + 1)?;
                return match self.next() {
                    Some((Token::CloseParen, _)) => Ok(Term::Group(Box::new(inner))),
                    _ => Err(LicenseError::Unbalanced),
                };
            }
            Token::Spdx(id) => License::Listed {
                id: id.name,
                or_later: self.plus(),
            },
            // An exception id where a license belongs is an unlisted license.
            Token::Exception(e) => License::Unlisted {
                id: e.name.to_owned(),
                or_later: self.plus(),
            },
            Token::Unknown(u) if is_idstring(u) => License::Unlisted {
                id: u.to_owned(),
                or_later: self.plus(),
            },
            Token::LicenseRef { doc_ref, lic_ref } if ref_ok(doc_ref, lic_ref) => License::Ref {
                document: doc_ref.map(str::to_owned),
                id: lic_ref.to_owned(),
            },
            Token::CloseParen => return Err(LicenseError::Unbalanced),
            t => return Err(unexpected(&t, at)),
        };
        let exception = if self.peek() == Some(&Token::With) {
            self.pos += 1;
            let (token, at) = self.next().ok_or(LicenseError::EndsEarly)?;
            Some(match token {
                Token::Exception(e) => Exception::Listed(e.name),
                Token::Spdx(id) => Exception::Unlisted(id.name.to_owned()),
                Token::Unknown(u) if is_idstring(u) => Exception::Unlisted(u.to_owned()),
                Token::AdditionRef { doc_ref, add_ref } if ref_ok(doc_ref, add_ref) => {
                    Exception::Ref {
                        document: doc_ref.map(str::to_owned),
                        id: add_ref.to_owned(),
                    }
                }
                t => return Err(unexpected(&t, at)),
            })
        } else {
            None
        };
        Ok(Term::License { license, exception })
    }

    /// A `+` right after a license id.
    fn plus(&mut self) -> bool {
        let plus = self.peek() == Some(&Token::Plus);
        if plus {
            self.pos += 1;
        }
        plus
    }
}

fn ref_ok(document: Option<&str>, id: &str) -> bool {
    is_idstring(id) && document.is_none_or(is_idstring)
}

impl fmt::Display for License {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plus = |p: bool| if p { "+" } else { "" };
        match self {
            Self::Listed { id, or_later } => write!(f, "{id}{}", plus(*or_later)),
            Self::Unlisted { id, or_later } => write!(f, "{id}{}", plus(*or_later)),
            Self::Ref {
                document: Some(d),
                id,
            } => write!(f, "DocumentRef-{d}:LicenseRef-{id}"),
            Self::Ref { document: None, id } => write!(f, "LicenseRef-{id}"),
        }
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Listed(id) => f.write_str(id),
            Self::Unlisted(id) => f.write_str(id),
            Self::Ref {
                document: Some(d),
                id,
            } => write!(f, "DocumentRef-{d}:AdditionRef-{id}"),
            Self::Ref { document: None, id } => write!(f, "AdditionRef-{id}"),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Group(e) => write!(f, "({e})"),
            Self::License {
                license,
                exception: None,
            } => write!(f, "{license}"),
            Self::License {
                license,
                exception: Some(e),
            } => write!(f, "{license} WITH {e}"),
        }
    }
}

impl fmt::Display for LicenseExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for (op, t) in &self.rest {
            let op = match op {
                Operator::And => "AND",
                Operator::Or => "OR",
            };
            write!(f, " {op} {t}")?;
        }
        Ok(())
    }
}

impl FromStr for LicenseExpression {
    type Err = LicenseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        LicenseExpression::parse(s).map(|e| e.to_string()).unwrap()
    }

    #[test]
    fn written_as_read() {
        assert_eq!(ok("MIT"), "MIT");
        assert_eq!(ok("  MIT   OR\tApache-2.0 "), "MIT OR Apache-2.0");
        assert_eq!(ok("(MIT OR (Apache-2.0))"), "(MIT OR (Apache-2.0))");
        assert_eq!(
            ok("GPL-2.0+ WITH Classpath-exception-2.0"),
            "GPL-2.0+ WITH Classpath-exception-2.0"
        );
        assert_eq!(ok("mit and foo-1.0"), "mit AND foo-1.0");
        assert_eq!(
            ok("DocumentRef-a:LicenseRef-b WITH AdditionRef-c"),
            "DocumentRef-a:LicenseRef-b WITH AdditionRef-c"
        );
        assert_eq!(ok("LLVM-exception"), "LLVM-exception");
    }

    #[test]
    fn refusals_are_typed() {
        let err = |s: &str| LicenseExpression::parse(s).unwrap_err();
        assert_eq!(err(""), LicenseError::Empty);
        assert_eq!(err("   "), LicenseError::Empty);
        assert_eq!(err("MIT AND"), LicenseError::EndsEarly);
        assert_eq!(err("(MIT"), LicenseError::Unbalanced);
        assert_eq!(err("MIT)"), LicenseError::Unbalanced);
        assert!(matches!(
            err("MIT Apache-2.0"),
            LicenseError::Unexpected { at: 4, .. }
        ));
        assert!(matches!(
            err("MIT_X"),
            LicenseError::InvalidCharacter { .. }
        ));
        assert!(matches!(
            err("MIT/Apache-2.0"),
            LicenseError::InvalidCharacter { .. }
        ));
        assert!(matches!(
            err("MIT WITH LicenseRef-x"),
            LicenseError::Unexpected { .. }
        ));
        assert!(matches!(
            err("LicenseRef-x+"),
            LicenseError::Unexpected { .. }
        ));
        assert!(matches!(
            err("MIT +"),
            LicenseError::InvalidCharacter { .. }
        ));
        assert_eq!(err(&"(".repeat(100)), LicenseError::TooDeep);
    }

    #[test]
    fn listed_spelling_and_refs() {
        let (e, refs) = LicenseExpression::parse("apache-2.0 OR Foo WITH llvm-exception")
            .unwrap()
            .to_listed()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "Apache-2.0 OR LicenseRef-Foo WITH LLVM-exception"
        );
        assert_eq!(refs, BTreeSet::from(["LicenseRef-Foo".to_owned()]));
        let err = |s: &str| {
            LicenseExpression::parse(s)
                .unwrap()
                .to_listed()
                .unwrap_err()
        };
        assert_eq!(err("Foo+"), LicenseError::UnlistedOrLater("Foo".to_owned()));
        assert_eq!(
            err("MIT WITH Nope"),
            LicenseError::UnlistedException("Nope".to_owned())
        );
        assert!(matches!(
            err("DocumentRef-a:LicenseRef-b"),
            LicenseError::ExternalReference(_)
        ));
    }

    #[test]
    fn all_of_groups_compound_parts() {
        let p = |s: &str| LicenseExpression::parse(s).unwrap();
        let all = LicenseExpression::all_of([p("MIT OR Apache-2.0"), p("Unicode-3.0"), p("ISC")]);
        assert_eq!(
            all.map(|e| e.to_string()).as_deref(),
            Some("(MIT OR Apache-2.0) AND Unicode-3.0 AND ISC")
        );
        assert_eq!(
            LicenseExpression::all_of([p("MIT OR ISC")]),
            Some(p("MIT OR ISC"))
        );
        assert_eq!(LicenseExpression::all_of([]), None);
    }

    #[test]
    fn listed_ids_are_exact() {
        assert!(is_listed_id("MIT"));
        assert!(is_listed_id("389-exception"));
        assert!(!is_listed_id("mit"));
        assert!(!is_listed_id("Foo-1.0"));
    }
}
