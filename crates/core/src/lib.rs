//! costradar's core: the domain, pricing, rules and the use cases (onboarding, receiver, scan,
//! CUR queries and analysis, report), with their ports. No AWS SDK, no Lambda runtime, no
//! DataFusion, no HTTP client: the adapters are in `costradar-aws` and `costradar-cur-local`,
//! the entry points in `functions/` and `cli/`. Every port is listed in [`ports`]; the map is in
//! the README.

pub mod access;
pub mod config;
pub mod console;
pub mod cur;
pub mod digest;
pub mod domain;
pub mod findings;
pub mod health;
pub mod onboarding;
pub mod ports;
pub mod pricing;
pub mod receiver;
pub mod report;
pub mod rules;
pub mod scan;
pub mod store;
pub mod workflow;

#[cfg(feature = "test-support")]
pub mod testing;
