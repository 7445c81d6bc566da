//! An [`Audit`] as text, Markdown (check tables and a Mermaid diagram of
//! the chains) and JSON.

use crate::render::{Render, checks_markdown, checks_text, escape_markdown, mark, one_line};

use super::{Audit, ChainGraph, EdgeKind, GraphNode, NodeKind};

fn verdict(verified: bool) -> &'static str {
    if verified { "VERIFIED" } else { "NOT VERIFIED" }
}

impl Render for Audit {
    /// One section per environment, then the policy, the store, the
    /// files and the checkpoints, where the artifact is, and the verdict.
    fn to_text(&self) -> String {
        let mut out = String::new();
        for (section, report) in self.shown_sections() {
            out.push_str(&format!(
                "== {}: {} ==\n",
                one_line(section),
                verdict(report.verified())
            ));
            out.push_str(&checks_text(report));
        }
        if let Some(artifact) = &self.artifact {
            out.push_str(&format!("== where {} is ==\n", one_line(&artifact.digest)));
            for (env, location) in &artifact.environments {
                out.push_str(&format!("{}: {}\n", one_line(env), location.describe()));
            }
        }
        let names: Vec<&str> = self.environments.iter().map(|(e, _)| e.as_str()).collect();
        if self.verified {
            out.push_str(&format!(
                "VERIFIED\nthe promotion histories of {} validate",
                one_line(&names.join(", "))
            ));
        } else if self.environments.is_empty() {
            out.push_str("NOT VERIFIED: the policy has no environments");
        } else {
            let failed: Vec<&str> = self
                .shown_sections()
                .filter(|(_, r)| !r.verified())
                .map(|(s, _)| s)
                .collect();
            out.push_str(&format!("NOT VERIFIED: {}", one_line(&failed.join(", "))));
        }
        out
    }

    /// A heading with the verdict, a table of checks per section, where
    /// the artifact is, and the chains as a Mermaid `flowchart LR`.
    fn to_markdown(&self) -> String {
        let mut out = format!(
            "## {} Promotion chain {}\n\nPolicy {} ({}): {} environment(s).\n\n",
            mark(self.verified),
            if self.verified {
                "verified"
            } else {
                "NOT verified"
            },
            escape_markdown(&self.policy_name),
            escape_markdown(&self.policy_digest),
            self.environments.len()
        );
        for (section, report) in self.shown_sections() {
            out.push_str(&format!(
                "### {} {}\n\n{}\n",
                mark(report.verified()),
                escape_markdown(section),
                checks_markdown(report)
            ));
        }
        if let Some(artifact) = &self.artifact {
            out.push_str(&format!(
                "### Where {} is\n\n| Environment | Where |\n| --- | --- |\n",
                escape_markdown(&artifact.digest)
            ));
            for (env, location) in &artifact.environments {
                out.push_str(&format!(
                    "| {} | {} |\n",
                    escape_markdown(env),
                    escape_markdown(location.describe())
                ));
            }
            out.push('\n');
        }
        out.push_str("### Chain\n\n```mermaid\n");
        out.push_str(&self.graph.to_mermaid());
        out.push_str("```");
        out
    }

    /// `{"verified", "policyDigest", "firstFailure"?, "environments":
    /// {name: report}, "policy", "store", "files"?, "checkpoints"?,
    /// "artifact"?, "graph"}`: see `audit.schema.json`.
    fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

impl ChainGraph {
    /// The graph as a Mermaid `flowchart LR`: one subgraph per
    /// environment, one node per record (short digest, environment,
    /// kind), `-->` to the next record of an environment, `==>` from the
    /// record that brought the artifact into the source environment.
    /// Failed records are red, the asked-for artifact's records bold.
    ///
    /// Labels hold only digests (hex), environment names reduced to
    /// `[A-Za-z0-9_-]` and fixed words, so nothing from the store can
    /// break out of a label.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let mut failed = Vec::new();
        let mut targets = Vec::new();
        for (i, env) in self.environments.iter().enumerate() {
            let label = label_text(&env.name);
            out.push_str(&format!("  subgraph env{i}[\"{label}\"]\n"));
            for node in &env.nodes {
                out.push_str(&format!(
                    "    {}[\"{}<br/>{label}<br/>{}\"]\n",
                    node_id(&node.digest),
                    short(&node.digest),
                    kind_name(node.kind)
                ));
                classify(node, &mut failed, &mut targets);
            }
            if !env.links_readable {
                out.push_str(&format!("    env{i}_links[\"links unreadable\"]\n"));
                failed.push(format!("env{i}_links"));
            } else if env.nodes.is_empty() {
                out.push_str(&format!("    env{i}_empty[\"no promotions yet\"]\n"));
            }
            out.push_str("  end\n");
        }
        for node in &self.outside {
            out.push_str(&format!(
                "  {}[\"{}<br/>not shown\"]\n",
                node_id(&node.digest),
                short(&node.digest)
            ));
            classify(node, &mut failed, &mut targets);
        }
        for edge in &self.edges {
            let (from, to) = (node_id(&edge.from), node_id(&edge.to));
            out.push_str(&match edge.kind {
                EdgeKind::Next => format!("  {from} --> {to}\n"),
                EdgeKind::Promoted => format!("  {from} ==>|promoted| {to}\n"),
                EdgeKind::Rollback => format!("  {from} ==>|rollback| {to}\n"),
                EdgeKind::Emergency => format!("  {from} ==>|EMERGENCY| {to}\n"),
            });
        }
        out.push_str("  classDef failed fill:#fdd,stroke:#c00,color:#600\n");
        out.push_str("  classDef target stroke:#06c,stroke-width:3px\n");
        if !failed.is_empty() {
            out.push_str(&format!("  class {} failed\n", failed.join(",")));
        }
        if !targets.is_empty() {
            out.push_str(&format!("  class {} target\n", targets.join(",")));
        }
        out
    }
}

/// Adds the node's id to the `failed` and `target` classes it is in.
fn classify(node: &GraphNode, failed: &mut Vec<String>, targets: &mut Vec<String>) {
    if node.failed {
        failed.push(node_id(&node.digest));
    }
    if node.target {
        targets.push(node_id(&node.digest));
    }
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Rollback => "rollback",
        NodeKind::Emergency => "emergency",
        NodeKind::Unreadable => "unreadable",
        NodeKind::Outside => "not shown",
        _ => "promotion",
    }
}

/// `sha256:<hex>` -> `r<hex>` (the digest's own characters only).
fn node_id(digest: &str) -> String {
    let hex = digest.rsplit(':').next().unwrap_or(digest);
    format!("r{}", label_text(hex))
}

/// `sha256:<first 12 hex>`.
fn short(digest: &str) -> String {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("", digest));
    format!(
        "{}:{}",
        label_text(algorithm),
        label_text(hex.get(..12).unwrap_or(hex))
    )
}

/// Text for a quoted Mermaid label or id: only `[A-Za-z0-9_-]` pass;
/// anything else becomes `_`.
fn label_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
