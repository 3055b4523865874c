//! costradar's local CUR tools, kept out of the Lambdas: the embedded query engine (Apache
//! DataFusion) behind `costradar_core::cur::QueryEngine`, the cache of a CUR export synced from
//! S3, and the synthetic CUR generator with its ground truth.

pub mod embedded;
pub mod generate;
pub mod s3_export;
