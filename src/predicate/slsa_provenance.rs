//! SLSA Provenance: v1 (`https://slsa.dev/provenance/v1`) to read and
//! write, v0.2 and v0.1 to read.
//!
//! All three are mapped into one [`ProvenanceClaims`] view (builder id,
//! build type, source repository / ref / commit, invocation, times,
//! workflow inputs), so verification applies the same checks whichever
//! version a builder emits.
//!
//! Parsing follows the spec's required fields (the same rules as the
//! in-toto reference implementation: `buildDefinition`, `buildType`,
//! `externalParameters`, `runDetails`, `builder`, `builder.id`); unknown
//! fields are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::DigestSet;
use crate::error::{Error, PredicateError};
use crate::resource::ResourceDescriptor;
use crate::statement::{Predicate, Statement};
use crate::time::Timestamp;

/// Predicate type of SLSA Provenance v1.
pub const PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// Predicate type of SLSA Provenance v0.2 (read only).
pub const PROVENANCE_V0_2: &str = "https://slsa.dev/provenance/v0.2";
/// Predicate type of SLSA Provenance v0.1 (read only).
pub const PROVENANCE_V0_1: &str = "https://slsa.dev/provenance/v0.1";

const V1_NAME: &str = "SLSA provenance v1";

/// SLSA Provenance v1.
///
/// ```
/// use custodia::predicate::slsa_provenance::{Provenance, BuildDefinition, RunDetails, Builder};
/// let p = Provenance {
///     build_definition: BuildDefinition::new(
///         "https://custodia.dev/buildtypes/cargo/v1",
///         serde_json::json!({"source": "git+https://github.com/acme/app@refs/heads/main"}),
///     ),
///     run_details: RunDetails::new(Builder::new("https://ci.acme.dev/builder@v1")),
/// };
/// let json = serde_json::to_string(&p)?;
/// let back: Provenance = serde_json::from_str(&json)?;
/// assert_eq!(back, p);
/// assert!(serde_json::from_str::<Provenance>(r#"{"buildDefinition":{},"runDetails":{}}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// What was built and how (everything the build's result depends on).
    pub build_definition: BuildDefinition,
    /// Who built it and when.
    pub run_details: RunDetails,
}

impl Predicate for Provenance {
    const PREDICATE_TYPE: &'static str = PROVENANCE_V1;
}

/// `buildDefinition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BuildDefinition {
    /// URI naming the build template (how to interpret the parameters).
    pub build_type: String,
    /// Parameters under the control of the build's requester (an object).
    pub external_parameters: Value,
    /// Parameters under the builder's control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Value>,
    /// Artifacts the build depended on (sources, base images, tools).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

impl BuildDefinition {
    /// A definition with a build type and external parameters.
    pub fn new(build_type: impl Into<String>, external_parameters: Value) -> Self {
        Self {
            build_type: build_type.into(),
            external_parameters,
            internal_parameters: None,
            resolved_dependencies: Vec::new(),
        }
    }
}

/// `runDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RunDetails {
    /// The build platform.
    pub builder: Builder,
    /// Invocation id and times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
    /// Other artifacts the build produced (logs, SBOMs...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

impl RunDetails {
    /// Run details naming only the builder.
    pub fn new(builder: Builder) -> Self {
        Self {
            builder,
            metadata: None,
            byproducts: Vec::new(),
        }
    }
}

/// `runDetails.builder`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Builder {
    /// URI identifying the build platform and its trust boundary.
    #[serde(default)]
    pub id: String,
    /// Versions of the builder's components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
    /// The builder's own dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builder_dependencies: Vec<ResourceDescriptor>,
}

impl Builder {
    /// A builder with just an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            version: BTreeMap::new(),
            builder_dependencies: Vec::new(),
        }
    }
}

/// `runDetails.metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BuildMetadata {
    /// Identifies this build run (a URL or an id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// When the build started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<Timestamp>,
    /// When the build finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<Timestamp>,
}

impl Provenance {
    /// Checks the spec's required fields.
    pub fn validate(&self) -> Result<(), PredicateError> {
        let missing = |field| PredicateError::MissingField {
            predicate: V1_NAME,
            field,
        };
        if self.build_definition.build_type.is_empty() {
            return Err(missing("buildDefinition.buildType"));
        }
        if self.build_definition.external_parameters.is_null() {
            return Err(missing("buildDefinition.externalParameters"));
        }
        if self.run_details.builder.id.is_empty() {
            return Err(missing("runDetails.builder.id"));
        }
        Ok(())
    }
}

/// The lenient wire form: every field optional, so that a missing field is
/// reported by name rather than as a serde error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProvenanceWire {
    #[serde(default)]
    build_definition: Option<Map<String, Value>>,
    #[serde(default)]
    run_details: Option<Map<String, Value>>,
}

impl<'de> Deserialize<'de> for Provenance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let wire = ProvenanceWire::deserialize(d)?;
        let missing = |field| {
            D::Error::custom(PredicateError::MissingField {
                predicate: V1_NAME,
                field,
            })
        };
        let definition = wire
            .build_definition
            .filter(|m| !m.is_empty())
            .ok_or_else(|| missing("buildDefinition"))?;
        if !non_empty_string(definition.get("buildType")) {
            return Err(missing("buildDefinition.buildType"));
        }
        if definition
            .get("externalParameters")
            .is_none_or(Value::is_null)
        {
            return Err(missing("buildDefinition.externalParameters"));
        }
        let run = wire
            .run_details
            .filter(|m| !m.is_empty())
            .ok_or_else(|| missing("runDetails"))?;
        let builder = run
            .get("builder")
            .and_then(Value::as_object)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| missing("runDetails.builder"))?;
        if !non_empty_string(builder.get("id")) {
            return Err(missing("runDetails.builder.id"));
        }
        let build_definition =
            crate::json::from_value(&Value::Object(definition), "buildDefinition")
                .map_err(D::Error::custom)?;
        let run_details =
            crate::json::from_value(&Value::Object(run), "runDetails").map_err(D::Error::custom)?;
        Ok(Self {
            build_definition,
            run_details,
        })
    }
}

fn non_empty_string(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::String(s)) if !s.is_empty())
}

/// SLSA Provenance v0.2 (read only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvenanceV02 {
    /// The builder.
    pub builder: BuilderV0,
    /// The build type URI.
    #[serde(default)]
    pub build_type: String,
    /// How the build was invoked.
    #[serde(default)]
    pub invocation: Option<InvocationV02>,
    /// Build-type-specific configuration.
    #[serde(default)]
    pub build_config: Option<Value>,
    /// Invocation id, times, completeness.
    #[serde(default)]
    pub metadata: Option<MetadataV0>,
    /// Inputs of the build.
    #[serde(default)]
    pub materials: Vec<MaterialV0>,
}

/// `builder` in v0.1 / v0.2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct BuilderV0 {
    /// The builder id.
    #[serde(default)]
    pub id: String,
}

/// `invocation` in v0.2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InvocationV02 {
    /// Where the build configuration came from.
    #[serde(default)]
    pub config_source: Option<ConfigSourceV02>,
    /// Parameters given by the requester.
    #[serde(default)]
    pub parameters: Option<Value>,
    /// Builder environment.
    #[serde(default)]
    pub environment: Option<Value>,
}

/// `invocation.configSource` in v0.2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfigSourceV02 {
    /// Source URI, e.g. `git+https://github.com/org/repo@refs/heads/main`.
    #[serde(default)]
    pub uri: String,
    /// Digest of the source (commit).
    #[serde(default)]
    pub digest: DigestSet,
    /// Entry point within the source.
    #[serde(default)]
    pub entry_point: Option<String>,
}

/// `metadata` in v0.1 / v0.2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetadataV0 {
    /// Invocation id (`buildInvocationID` as slsa-github-generator spells it is accepted too).
    #[serde(default, alias = "buildInvocationID")]
    pub build_invocation_id: Option<String>,
    /// Start time.
    #[serde(default)]
    pub build_started_on: Option<Timestamp>,
    /// Finish time.
    #[serde(default)]
    pub build_finished_on: Option<Timestamp>,
}

/// A material (input) in v0.1 / v0.2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct MaterialV0 {
    /// Material URI.
    #[serde(default)]
    pub uri: String,
    /// Material digest.
    #[serde(default)]
    pub digest: DigestSet,
}

/// SLSA Provenance v0.1 (read only; Google Cloud Build's legacy format).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProvenanceV01 {
    /// The builder.
    pub builder: BuilderV0,
    /// The recipe.
    #[serde(default)]
    pub recipe: Option<RecipeV01>,
    /// Invocation id, times.
    #[serde(default)]
    pub metadata: Option<MetadataV0>,
    /// Inputs of the build.
    #[serde(default)]
    pub materials: Vec<MaterialV0>,
}

/// `recipe` in v0.1.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RecipeV01 {
    /// The recipe type (build type).
    #[serde(rename = "type", default)]
    pub recipe_type: String,
    /// Index into materials of the recipe's source.
    #[serde(default)]
    pub defined_in_material: Option<usize>,
    /// Entry point.
    #[serde(default)]
    pub entry_point: Option<String>,
}

/// Which SLSA provenance version a statement carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvenanceVersion {
    /// `https://slsa.dev/provenance/v1`
    V1,
    /// `https://slsa.dev/provenance/v0.2`
    V0_2,
    /// `https://slsa.dev/provenance/v0.1`
    V0_1,
}

impl std::fmt::Display for ProvenanceVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V1 => "v1",
            Self::V0_2 => "v0.2",
            Self::V0_1 => "v0.1",
        })
    }
}

impl ProvenanceVersion {
    /// The predicate type URI.
    pub const fn predicate_type(self) -> &'static str {
        match self {
            Self::V1 => PROVENANCE_V1,
            Self::V0_2 => PROVENANCE_V0_2,
            Self::V0_1 => PROVENANCE_V0_1,
        }
    }
}

/// Where the build's source came from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SourceClaim {
    /// The URI as the provenance wrote it (`git+https://github.com/o/r@refs/heads/main`).
    pub uri: String,
    /// The repository, normalized: no `git+`, no scheme, no `@ref`, no
    /// trailing `.git` (`github.com/o/r`).
    pub repository: String,
    /// The git ref (`refs/heads/main`, `refs/tags/v1.2.3`), when recorded.
    pub git_ref: Option<String>,
    /// The source's digests (usually the commit).
    pub digest: DigestSet,
}

/// What a provenance statement claims, whatever its SLSA version.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProvenanceClaims {
    /// The SLSA version it was read from.
    pub version: ProvenanceVersion,
    /// `builder.id`.
    pub builder_id: String,
    /// `buildType` (v0.1: `recipe.type`).
    pub build_type: String,
    /// The source, when the provenance names one.
    pub source: Option<SourceClaim>,
    /// The invocation id.
    pub invocation_id: Option<String>,
    /// Build start.
    pub started_on: Option<Timestamp>,
    /// Build end.
    pub finished_on: Option<Timestamp>,
    /// Workflow inputs given by the requester, when recorded.
    pub inputs: Option<Map<String, Value>>,
}

impl ProvenanceClaims {
    /// Reads the claims from a statement whose predicate type is SLSA
    /// provenance v1, v0.2 or v0.1.
    pub fn from_statement(statement: &Statement) -> Result<Self, Error> {
        match statement.predicate_type() {
            PROVENANCE_V1 => {
                let p: Provenance = statement.predicate_json(V1_NAME)?;
                Ok(Self::from_v1(&p))
            }
            PROVENANCE_V0_2 => {
                let p: ProvenanceV02 = statement.predicate_json("SLSA provenance v0.2")?;
                Ok(Self::from_v02(&p))
            }
            PROVENANCE_V0_1 => {
                let p: ProvenanceV01 = statement.predicate_json("SLSA provenance v0.1")?;
                Ok(Self::from_v01(&p))
            }
            other => Err(crate::error::StatementError::PredicateTypeMismatch {
                expected: format!("{PROVENANCE_V1} (or v0.2, v0.1)"),
                found: crate::digest::shorten(other),
            }
            .into()),
        }
    }

    /// The claims of a v1 predicate.
    pub fn from_v1(p: &Provenance) -> Self {
        let def = &p.build_definition;
        let ext = def.external_parameters.as_object();
        // The source: the first git dependency, else a known external
        // parameter (GitHub workflow, Cloud Build config source).
        let from_deps = def.resolved_dependencies.iter().find_map(|rd| {
            rd.uri
                .as_deref()
                .filter(|u| u.starts_with("git+"))
                .map(|u| (u, rd))
        });
        let source = match from_deps {
            Some((uri, rd)) => Some(source_claim(uri, None, rd.digest.clone())),
            None => ext.and_then(|ext| {
                ["workflow", "buildConfigSource", "source"]
                    .iter()
                    .find_map(|k| ext.get(*k))
                    .and_then(|v| match v {
                        Value::String(uri) => Some(source_claim(uri, None, DigestSet::new())),
                        Value::Object(o) => {
                            let repo = o.get("repository").or_else(|| o.get("uri"))?.as_str()?;
                            let git_ref = o.get("ref").and_then(Value::as_str);
                            Some(source_claim(repo, git_ref, DigestSet::new()))
                        }
                        _ => None,
                    })
            }),
        };
        let source = source.map(|mut s| {
            if s.git_ref.is_none() {
                s.git_ref = ext
                    .and_then(|e| e.get("workflow"))
                    .and_then(|w| w.get("ref"))
                    .or_else(|| internal_github(def, "GITHUB_REF"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            s
        });
        let inputs = ext
            .and_then(|e| e.get("inputs"))
            .and_then(Value::as_object)
            .cloned();
        let metadata = p.run_details.metadata.clone().unwrap_or_default();
        Self {
            version: ProvenanceVersion::V1,
            builder_id: p.run_details.builder.id.clone(),
            build_type: def.build_type.clone(),
            source,
            invocation_id: metadata.invocation_id,
            started_on: metadata.started_on,
            finished_on: metadata.finished_on,
            inputs,
        }
    }

    /// The claims of a v0.2 predicate.
    pub fn from_v02(p: &ProvenanceV02) -> Self {
        let invocation = p.invocation.as_ref();
        let environment = invocation.and_then(|i| i.environment.as_ref());
        let source = invocation
            .and_then(|i| i.config_source.as_ref())
            .filter(|c| !c.uri.is_empty())
            .map(|c| source_claim(&c.uri, None, c.digest.clone()))
            .or_else(|| {
                p.materials
                    .first()
                    .map(|m| source_claim(&m.uri, None, m.digest.clone()))
            })
            .map(|mut s| {
                if s.git_ref.is_none() {
                    s.git_ref = environment
                        .and_then(|e| e.get("github_ref"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                s
            });
        let inputs = environment
            .and_then(|e| e.get("github_event_payload"))
            .and_then(|e| e.get("inputs"))
            .and_then(Value::as_object)
            .cloned();
        let metadata = p.metadata.as_ref();
        Self {
            version: ProvenanceVersion::V0_2,
            builder_id: p.builder.id.clone(),
            build_type: p.build_type.clone(),
            source,
            invocation_id: metadata.and_then(|m| m.build_invocation_id.clone()),
            started_on: metadata.and_then(|m| m.build_started_on),
            finished_on: metadata.and_then(|m| m.build_finished_on),
            inputs,
        }
    }

    /// The claims of a v0.1 predicate.
    pub fn from_v01(p: &ProvenanceV01) -> Self {
        let recipe = p.recipe.as_ref();
        let material = recipe
            .and_then(|r| r.defined_in_material)
            .and_then(|i| p.materials.get(i))
            .or_else(|| p.materials.first());
        let metadata = p.metadata.as_ref();
        Self {
            version: ProvenanceVersion::V0_1,
            builder_id: p.builder.id.clone(),
            build_type: recipe.map(|r| r.recipe_type.clone()).unwrap_or_default(),
            source: material.map(|m| source_claim(&m.uri, None, m.digest.clone())),
            invocation_id: metadata.and_then(|m| m.build_invocation_id.clone()),
            started_on: metadata.and_then(|m| m.build_started_on),
            finished_on: metadata.and_then(|m| m.build_finished_on),
            inputs: None,
        }
    }
}

fn internal_github<'a>(def: &'a BuildDefinition, key: &str) -> Option<&'a Value> {
    def.internal_parameters.as_ref()?.get(key)
}

fn source_claim(uri: &str, git_ref: Option<&str>, digest: DigestSet) -> SourceClaim {
    let without_git = uri.strip_prefix("git+").unwrap_or(uri);
    // A ref follows the last '@' after the host (`...repo@refs/heads/main`).
    let (location, embedded_ref) = match without_git.rsplit_once('@') {
        Some((loc, r)) if !loc.ends_with(':') && r.starts_with("refs/") => (loc, Some(r)),
        _ => (without_git, None),
    };
    SourceClaim {
        uri: uri.to_owned(),
        repository: normalize_repository(location),
        git_ref: git_ref.or(embedded_ref).map(str::to_owned),
        digest,
    }
}

/// `https://github.com/o/r.git` -> `github.com/o/r`: no scheme, no
/// trailing `.git` or `/`. Used for both sides of a source comparison.
pub fn normalize_repository(uri: &str) -> String {
    let without_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let trimmed = without_scheme.trim_end_matches('/');
    trimmed.strip_suffix(".git").unwrap_or(trimmed).to_owned()
}
