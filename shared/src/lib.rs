//! costradar's library crate: everything that is not a Lambda entry point. The map is in the
//! README; each module's first lines say what it is for.

pub mod aws;
pub mod cur;
pub mod domain;
pub mod onboarding;
pub mod pricing;
pub mod receiver;
pub mod report;
pub mod rules;
pub mod scan;
pub mod store;
pub mod workflow;

#[cfg(feature = "test-support")]
pub mod testing;
