//! Classifies OpenSearch Service calls from CloudTrail: CreateDomain and its older name,
//! CreateElasticsearchDomain.

use serde_json_borrow::Value as Json;

use super::{count_at, either, string_at, u32_at, Change, EventKind, InvalidInput};

/// Classifies the OpenSearch call `name` from its request, whichever of the two spellings of
/// the cluster configuration it uses.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if !matches!(name, "CreateDomain" | "CreateElasticsearchDomain") {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let cfg = either(req, &["clusterConfig", "elasticsearchClusterConfig"]);
    Ok((
        EventKind::OpensearchCreateDomain,
        Change::OpenSearch {
            domain: string_at(req, &["domainName"]),
            instance_type: string_at(cfg, &["instanceType"]),
            instances: count_at(cfg, &["instanceCount"], "requestParameters.clusterConfig.instanceCount")?.unwrap_or(1)
                as u32,
            volume_gib: u32_at(req, &["eBSOptions", "volumeSize"], "requestParameters.eBSOptions.volumeSize")?,
        },
    ))
}
