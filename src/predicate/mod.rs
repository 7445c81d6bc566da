//! Typed predicates, one module per predicate type.

pub mod approval;
pub mod promotion;
pub mod sbom;
pub mod slsa_provenance;
pub mod test_result;
pub mod vsa;
pub mod vulns;
