//! Making SLSA Provenance v1 from a [`BuildContext`].

use serde_json::{Map, Value, json};

use crate::digest::{DigestSet, hash_path};
use crate::error::{Error, PredicateError};
use crate::predicate::slsa_provenance::{
    BuildDefinition, BuildMetadata, Builder, Provenance, RunDetails,
};
use crate::resource::ResourceDescriptor;
use crate::statement::Statement;
use crate::time::Timestamp;

/// Build type for GitHub Actions workflows (the parameters follow GitHub's
/// own workflow build type).
pub const GITHUB_ACTIONS_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// Build type for GitLab CI pipelines.
pub const GITLAB_CI_BUILD_TYPE: &str = "https://custodia.dev/buildtypes/gitlab-ci/v1";
/// Build type for any other build.
pub const GENERIC_BUILD_TYPE: &str = "https://custodia.dev/buildtypes/generic/v1";

/// The source a build used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceRef {
    /// Repository URL, e.g. `https://github.com/acme/app`.
    pub repository: String,
    /// Git ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`.
    pub git_ref: Option<String>,
    /// Commit id (40 or 64 hex digits).
    pub commit: Option<String>,
}

impl SourceRef {
    /// A source at a repository URL.
    pub fn new(repository: impl Into<String>) -> Self {
        Self {
            repository: repository.into(),
            git_ref: None,
            commit: None,
        }
    }

    /// Sets the git ref (`refs/heads/main`, `refs/tags/v1.2.0`).
    pub fn with_git_ref(mut self, git_ref: impl Into<String>) -> Self {
        self.git_ref = Some(git_ref.into());
        self
    }

    /// Sets the commit id.
    pub fn with_commit(mut self, commit: impl Into<String>) -> Self {
        self.commit = Some(commit.into());
        self
    }

    /// `git+<repository>@<ref>`, the URI form SLSA dependencies use.
    pub fn uri(&self) -> String {
        match &self.git_ref {
            Some(r) => format!("git+{}@{r}", self.repository),
            None => format!("git+{}", self.repository),
        }
    }
}

/// Everything the provenance of one build says, gathered by the CI job.
///
/// Times come from the caller ([`BuildContext::with_times`]), or from
/// `SOURCE_DATE_EPOCH` when set, so the output is reproducible byte for
/// byte; otherwise from the clock.
///
/// ```
/// use custodia::provenance::{BuildContext, SourceRef};
/// use custodia::digest::DigestSet;
/// use custodia::time::Timestamp;
///
/// let mut source = SourceRef::new("https://github.com/acme/app");
/// source.git_ref = Some("refs/heads/main".into());
/// source.commit = Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3".into());
/// let ctx = BuildContext::new("https://ci.acme.dev/builders/linux@v2")
///     .with_source(source)
///     .with_subject("app.tar.gz", DigestSet::of_bytes(b"app"))
///     .with_times(Timestamp::from_unix(1_700_000_000), Timestamp::from_unix(1_700_000_060));
/// let statement = ctx.to_statement()?;
/// assert_eq!(statement.predicate_type(), "https://slsa.dev/provenance/v1");
/// // Same inputs, same bytes.
/// assert_eq!(statement.to_json()?, ctx.to_statement()?.to_json()?);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BuildContext {
    /// The artifacts built, by digest.
    pub subjects: Vec<ResourceDescriptor>,
    /// The build platform's id.
    pub builder_id: String,
    /// The build type URI.
    pub build_type: String,
    /// The source built.
    pub source: Option<SourceRef>,
    /// The CI run's id or URL.
    pub invocation_id: Option<String>,
    /// When the build started.
    pub started_on: Option<Timestamp>,
    /// When the build finished.
    pub finished_on: Option<Timestamp>,
    /// Extra requester-controlled parameters (merged into `externalParameters`).
    pub external_parameters: Map<String, Value>,
    /// Builder-controlled parameters.
    pub internal_parameters: Map<String, Value>,
    /// Further dependencies (the source is added automatically).
    pub resolved_dependencies: Vec<ResourceDescriptor>,
    /// Other files the build produced (an SBOM, logs), by digest:
    /// `runDetails.byproducts`.
    pub byproducts: Vec<ResourceDescriptor>,
}

impl BuildContext {
    /// A context for a generic build by `builder_id`.
    pub fn new(builder_id: impl Into<String>) -> Self {
        Self {
            subjects: Vec::new(),
            builder_id: builder_id.into(),
            build_type: GENERIC_BUILD_TYPE.to_owned(),
            source: None,
            invocation_id: None,
            started_on: None,
            finished_on: None,
            external_parameters: Map::new(),
            internal_parameters: Map::new(),
            resolved_dependencies: Vec::new(),
            byproducts: Vec::new(),
        }
    }

    /// Reads the CI environment of this process; see [`BuildContext::from_vars`].
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads a CI environment through `var`:
    ///
    /// * GitHub Actions (`GITHUB_ACTIONS=true`): `GITHUB_SERVER_URL`,
    ///   `GITHUB_REPOSITORY`, `GITHUB_REF`, `GITHUB_SHA`,
    ///   `GITHUB_WORKFLOW_REF` (workflow path), `GITHUB_EVENT_NAME`,
    ///   `GITHUB_REPOSITORY_ID`, `GITHUB_REPOSITORY_OWNER_ID`,
    ///   `RUNNER_ENVIRONMENT`, `GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`. The
    ///   build type is GitHub's workflow build type and the builder id
    ///   `https://github.com/actions/runner/<RUNNER_ENVIRONMENT>`.
    /// * GitLab CI (`GITLAB_CI=true`): `CI_PROJECT_URL`, `CI_COMMIT_SHA`,
    ///   `CI_COMMIT_TAG` or `CI_COMMIT_BRANCH` (or `CI_COMMIT_REF_NAME`),
    ///   `CI_CONFIG_PATH`, `CI_PIPELINE_SOURCE`, `CI_PROJECT_ID`,
    ///   `CI_JOB_URL`, `CI_SERVER_URL`, `CI_RUNNER_ID`. The builder id is
    ///   `<CI_SERVER_URL>/-/runners/<CI_RUNNER_ID>` (or the server URL).
    /// * Anywhere (generic fallback): `CUSTODIA_BUILDER_ID`,
    ///   `CUSTODIA_SOURCE_URI`, `CUSTODIA_SOURCE_REF`,
    ///   `CUSTODIA_SOURCE_COMMIT`, `CUSTODIA_INVOCATION_ID`.
    ///
    /// `CUSTODIA_BUILDER_ID`, when set, overrides the builder id in every
    /// case. Times are not read here: see [`BuildContext::with_times`].
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut ctx = if var("GITHUB_ACTIONS").as_deref() == Some("true") {
            github_actions(&var)
        } else if var("GITLAB_CI").as_deref() == Some("true") {
            gitlab_ci(&var)
        } else {
            let mut ctx = Self::new("");
            ctx.source = var("CUSTODIA_SOURCE_URI").map(|repository| SourceRef {
                repository,
                git_ref: var("CUSTODIA_SOURCE_REF"),
                commit: var("CUSTODIA_SOURCE_COMMIT"),
            });
            ctx.invocation_id = var("CUSTODIA_INVOCATION_ID");
            ctx
        };
        if let Some(id) = var("CUSTODIA_BUILDER_ID") {
            ctx.builder_id = id;
        }
        ctx
    }

    /// Sets the builder id.
    pub fn with_builder_id(mut self, id: impl Into<String>) -> Self {
        self.builder_id = id.into();
        self
    }

    /// Sets the build type.
    pub fn with_build_type(mut self, build_type: impl Into<String>) -> Self {
        self.build_type = build_type.into();
        self
    }

    /// Sets the source.
    pub fn with_source(mut self, source: SourceRef) -> Self {
        self.source = Some(source);
        self
    }

    /// Adds a subject by digest.
    pub fn with_subject(mut self, name: impl Into<String>, digest: DigestSet) -> Self {
        self.subjects.push(ResourceDescriptor::new(name, digest));
        self
    }

    /// Adds a subject by hashing a file or directory (tree digest); its name
    /// is the path's file name.
    pub fn with_subject_path(mut self, path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let digest = hash_path(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.subjects
            .push(ResourceDescriptor::new(name, digest.to_set()));
        Ok(self)
    }

    /// Adds a byproduct: a file the build produced besides its subjects.
    pub fn with_byproduct(mut self, name: impl Into<String>, digest: DigestSet) -> Self {
        self.byproducts.push(ResourceDescriptor::new(name, digest));
        self
    }

    /// Fixes the start and finish times.
    pub fn with_times(mut self, started_on: Timestamp, finished_on: Timestamp) -> Self {
        self.started_on = Some(started_on);
        self.finished_on = Some(finished_on);
        self
    }

    /// The SLSA Provenance v1 predicate. Missing times come from
    /// `SOURCE_DATE_EPOCH`, else from the clock.
    pub fn to_provenance(&self) -> Result<Provenance, Error> {
        if self.builder_id.is_empty() {
            return Err(PredicateError::MissingField {
                predicate: "SLSA provenance v1",
                field: "runDetails.builder.id",
            }
            .into());
        }
        let default_time = match Timestamp::source_date_epoch()? {
            Some(t) => t,
            None => Timestamp::now(),
        };
        let mut external = Map::new();
        if let Some(source) = &self.source {
            if self.build_type == GITHUB_ACTIONS_BUILD_TYPE {
                let mut workflow = self
                    .external_parameters
                    .get("workflow")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                workflow.insert("repository".into(), source.repository.clone().into());
                if let Some(r) = &source.git_ref {
                    workflow.insert("ref".into(), r.clone().into());
                }
                external.insert("workflow".into(), Value::Object(workflow));
            } else {
                external.insert("source".into(), source.uri().into());
            }
        }
        for (k, v) in &self.external_parameters {
            external.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut dependencies = Vec::new();
        if let Some(source) = &self.source {
            let mut digest = DigestSet::new();
            if let Some(commit) = &source.commit {
                digest.insert_raw("gitCommit", commit)?;
            }
            dependencies.push(ResourceDescriptor::from_uri(source.uri(), digest));
        }
        dependencies.extend(self.resolved_dependencies.iter().cloned());
        let mut definition = BuildDefinition::new(self.build_type.clone(), Value::Object(external));
        if !self.internal_parameters.is_empty() {
            definition.internal_parameters = Some(Value::Object(self.internal_parameters.clone()));
        }
        definition.resolved_dependencies = dependencies;
        let mut run = RunDetails::new(Builder::new(self.builder_id.clone()));
        run.metadata = Some(BuildMetadata {
            invocation_id: self.invocation_id.clone(),
            started_on: Some(self.started_on.unwrap_or(default_time)),
            finished_on: Some(self.finished_on.unwrap_or(default_time)),
        });
        let mut provenance = Provenance {
            build_definition: definition,
            run_details: run,
        };
        provenance.run_details.byproducts = self.byproducts.clone();
        provenance.validate()?;
        Ok(provenance)
    }

    /// The unsigned in-toto Statement carrying the provenance.
    pub fn to_statement(&self) -> Result<Statement, Error> {
        Statement::new(self.subjects.clone(), &self.to_provenance()?)
    }
}

fn github_actions(var: &impl Fn(&str) -> Option<String>) -> BuildContext {
    let server = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_owned());
    let repo = var("GITHUB_REPOSITORY");
    let runner = var("RUNNER_ENVIRONMENT").unwrap_or_else(|| "github-hosted".to_owned());
    let mut ctx = BuildContext::new(format!("https://github.com/actions/runner/{runner}"))
        .with_build_type(GITHUB_ACTIONS_BUILD_TYPE);
    if let Some(repo) = &repo {
        ctx.source = Some(SourceRef {
            repository: format!("{server}/{repo}"),
            git_ref: var("GITHUB_REF"),
            commit: var("GITHUB_SHA"),
        });
        if let (Some(run), Some(attempt)) = (var("GITHUB_RUN_ID"), var("GITHUB_RUN_ATTEMPT")) {
            ctx.invocation_id = Some(format!(
                "{server}/{repo}/actions/runs/{run}/attempts/{attempt}"
            ));
        }
    }
    // GITHUB_WORKFLOW_REF = owner/repo/.github/workflows/x.yml@refs/heads/main
    if let Some(path) = var("GITHUB_WORKFLOW_REF").and_then(|w| {
        let without_ref = w.split('@').next()?.to_owned();
        let prefix = format!("{}/", repo.as_deref()?);
        without_ref.strip_prefix(&prefix).map(str::to_owned)
    }) {
        ctx.external_parameters
            .insert("workflow".into(), json!({ "path": path }));
    }
    let mut github = Map::new();
    for (key, name) in [
        ("event_name", "GITHUB_EVENT_NAME"),
        ("repository_id", "GITHUB_REPOSITORY_ID"),
        ("repository_owner_id", "GITHUB_REPOSITORY_OWNER_ID"),
        ("runner_environment", "RUNNER_ENVIRONMENT"),
    ] {
        if let Some(v) = var(name) {
            github.insert(key.into(), v.into());
        }
    }
    if !github.is_empty() {
        ctx.internal_parameters
            .insert("github".into(), Value::Object(github));
    }
    ctx
}

fn gitlab_ci(var: &impl Fn(&str) -> Option<String>) -> BuildContext {
    let server = var("CI_SERVER_URL").unwrap_or_else(|| "https://gitlab.com".to_owned());
    let builder = match var("CI_RUNNER_ID") {
        Some(id) => format!("{server}/-/runners/{id}"),
        None => server.clone(),
    };
    let mut ctx = BuildContext::new(builder).with_build_type(GITLAB_CI_BUILD_TYPE);
    let git_ref = var("CI_COMMIT_TAG")
        .map(|t| format!("refs/tags/{t}"))
        .or_else(|| var("CI_COMMIT_BRANCH").map(|b| format!("refs/heads/{b}")))
        .or_else(|| var("CI_COMMIT_REF_NAME"));
    ctx.source = var("CI_PROJECT_URL").map(|repository| SourceRef {
        repository,
        git_ref,
        commit: var("CI_COMMIT_SHA"),
    });
    ctx.invocation_id = var("CI_JOB_URL");
    if let Some(path) = var("CI_CONFIG_PATH") {
        ctx.external_parameters
            .insert("configPath".into(), path.into());
    }
    let mut gitlab = Map::new();
    for (key, name) in [
        ("pipeline_source", "CI_PIPELINE_SOURCE"),
        ("project_id", "CI_PROJECT_ID"),
        ("pipeline_id", "CI_PIPELINE_ID"),
    ] {
        if let Some(v) = var(name) {
            gitlab.insert(key.into(), v.into());
        }
    }
    if !gitlab.is_empty() {
        ctx.internal_parameters
            .insert("gitlab".into(), Value::Object(gitlab));
    }
    ctx
}
