//! The chains as a graph: one node per stored record of each audited
//! environment, in chain order, and the links between them.
//!
//! The graph is for drawing. It is read from the store as it is (so a
//! record that failed validation is still drawn, marked failed); which
//! records failed comes from the validation's checks, as data
//! ([`crate::report::CheckSubject`]), never parsed out of their text.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::digest::{Digest, DigestSet};
use crate::dsse::Envelope;
use crate::predicate::promotion::{PromotionKind, PromotionRecord};
use crate::report::Report;
use crate::statement::Statement;

use super::super::store::Store;

/// The audited chains as a graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ChainGraph {
    /// One entry per audited environment, in audit order.
    pub environments: Vec<GraphEnvironment>,
    /// Records outside the audited environments that a drawn record names
    /// as its source.
    pub outside: Vec<GraphNode>,
    /// Every link: `next` within an environment, and from each source
    /// record to the record that brought its artifact on.
    pub edges: Vec<GraphEdge>,
}

/// One environment's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct GraphEnvironment {
    /// The environment.
    pub name: String,
    /// Its records, first to last.
    pub nodes: Vec<GraphNode>,
    /// False when the store's links could not be read to the end.
    #[serde(rename = "linksReadable")]
    pub links_readable: bool,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct GraphNode {
    /// The record's envelope digest, `alg:hex`.
    pub digest: String,
    /// Its position in its environment's chain (absent outside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// What kind of record it is.
    pub kind: NodeKind,
    /// A failed check is about this record, or it cannot be read.
    pub failed: bool,
    /// It promoted the artifact the audit was asked about.
    pub target: bool,
}

/// What a [`GraphNode`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NodeKind {
    /// A gated promotion.
    Promotion,
    /// A rollback to an earlier artifact.
    Rollback,
    /// An emergency promotion.
    Emergency,
    /// Its envelope cannot be read as a promotion record.
    Unreadable,
    /// A source outside the audited environments (not read).
    Outside,
}

/// A link between two records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct GraphEdge {
    /// The earlier record's digest.
    pub from: String,
    /// The later record's digest.
    pub to: String,
    /// What links them.
    pub kind: EdgeKind,
}

/// What a [`GraphEdge`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EdgeKind {
    /// The next record of the same environment.
    Next,
    /// The source record of a promotion.
    Promoted,
    /// The source record of a rollback.
    Rollback,
    /// The source record of an emergency promotion.
    Emergency,
}

impl ChainGraph {
    /// Walks each environment's links in `store`; `reports` (per
    /// environment) say which records failed; `target` marks the records
    /// of one artifact.
    pub(crate) fn walk(
        store: &dyn Store,
        reports: &[(String, Report)],
        target: Option<&DigestSet>,
    ) -> Self {
        let mut graph = Self::default();
        let mut drawn = BTreeSet::new();
        let mut sources = Vec::new();
        for (environment, report) in reports {
            let failed: BTreeSet<usize> = report
                .checks()
                .iter()
                .filter(|c| !c.passed)
                .filter_map(|c| c.subject.as_ref()?.record)
                .collect();
            let mut chain = GraphEnvironment {
                name: environment.clone(),
                nodes: Vec::new(),
                links_readable: true,
            };
            let mut previous: Option<Digest> = None;
            let mut seen = BTreeSet::new();
            loop {
                let next = match store.successor(environment, previous.as_ref()) {
                    Ok(Some(next)) if seen.insert(next.clone()) => next,
                    Ok(_) => break,
                    Err(_) => {
                        chain.links_readable = false;
                        break;
                    }
                };
                let index = chain.nodes.len();
                let (kind, is_target) = match read_record(store, &next) {
                    Some((record, artifact)) => {
                        let kind = match record.kind {
                            PromotionKind::Rollback => NodeKind::Rollback,
                            PromotionKind::Emergency => NodeKind::Emergency,
                            _ => NodeKind::Promotion,
                        };
                        if let Some(source) = record.source {
                            sources.push((source, next.to_string(), record.kind));
                        }
                        (kind, target.is_some_and(|t| artifact.matches(t).is_ok()))
                    }
                    None => (NodeKind::Unreadable, false),
                };
                if let Some(previous) = &previous {
                    graph.edges.push(GraphEdge {
                        from: previous.to_string(),
                        to: next.to_string(),
                        kind: EdgeKind::Next,
                    });
                }
                drawn.insert(next.to_string());
                chain.nodes.push(GraphNode {
                    digest: next.to_string(),
                    index: Some(index),
                    kind,
                    failed: kind == NodeKind::Unreadable || failed.contains(&index),
                    target: is_target,
                });
                previous = Some(next);
            }
            graph.environments.push(chain);
        }
        for (source, to, kind) in sources {
            let from = source.to_string();
            if drawn.insert(from.clone()) {
                graph.outside.push(GraphNode {
                    digest: from.clone(),
                    index: None,
                    kind: NodeKind::Outside,
                    failed: false,
                    target: false,
                });
            }
            graph.edges.push(GraphEdge {
                from,
                to,
                kind: match kind {
                    PromotionKind::Rollback => EdgeKind::Rollback,
                    PromotionKind::Emergency => EdgeKind::Emergency,
                    _ => EdgeKind::Promoted,
                },
            });
        }
        graph
    }
}

/// A stored promotion record and its artifact, unverified (for drawing
/// only: validation judges it).
fn read_record(store: &dyn Store, digest: &Digest) -> Option<(PromotionRecord, DigestSet)> {
    let bytes = store.get(digest).ok()?;
    let envelope = Envelope::from_json(&bytes).ok()?;
    let statement = Statement::from_json(envelope.payload()).ok()?;
    let record = statement.predicate_as::<PromotionRecord>().ok()?;
    let artifact = statement.subject().first()?.digest.clone();
    Some((record, artifact))
}
