//! Typed predicates, one module per predicate type.

pub mod slsa_provenance;
pub mod vsa;
