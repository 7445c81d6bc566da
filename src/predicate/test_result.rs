//! The in-toto Test Result predicate
//! (`https://in-toto.io/attestation/test-result/v0.1`).

use serde::{Deserialize, Serialize};

use crate::resource::ResourceDescriptor;
use crate::statement::Predicate;

/// Predicate type of in-toto test results v0.1.
pub const TEST_RESULT_V0_1: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// The overall outcome of a test run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum TestOutcome {
    /// Every test passed.
    Passed,
    /// Some tests warned, none failed.
    Warned,
    /// At least one test failed.
    Failed,
}

/// A test run's result.
///
/// ```
/// use custodia::predicate::test_result::{TestResult, TestOutcome};
/// let r: TestResult = serde_json::from_str(r#"{"result":"PASSED","passedTests":["unit"]}"#)?;
/// assert_eq!(r.result, TestOutcome::Passed);
/// assert!(serde_json::from_str::<TestResult>(r#"{"result":"OK"}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TestResult {
    /// The outcome.
    pub result: TestOutcome,
    /// The test configuration (workflow files, test plans).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration: Vec<ResourceDescriptor>,
    /// Where the run can be seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Names of passed tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed_tests: Vec<String>,
    /// Names of tests that warned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warned_tests: Vec<String>,
    /// Names of failed tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
}

impl TestResult {
    /// A result with an outcome and nothing else.
    pub fn new(result: TestOutcome) -> Self {
        Self {
            result,
            configuration: Vec::new(),
            url: None,
            passed_tests: Vec::new(),
            warned_tests: Vec::new(),
            failed_tests: Vec::new(),
        }
    }
}

impl Predicate for TestResult {
    const PREDICATE_TYPE: &'static str = TEST_RESULT_V0_1;
}
