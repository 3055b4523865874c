//! Classifies Redshift calls from CloudTrail: CreateCluster.

use serde_json_borrow::Value as Json;

use super::{count_at, string_at, Change, EventKind, InvalidInput};

/// Classifies the Redshift call `name` from its request. A single-node cluster has one node
/// whatever the request's node count says.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if name != "CreateCluster" {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let single = string_at(req, &["clusterType"]).as_deref() == Some("single-node");
    let nodes =
        if single { 1 } else { count_at(req, &["numberOfNodes"], "requestParameters.numberOfNodes")?.unwrap_or(1) };
    Ok((
        EventKind::RedshiftCreateCluster,
        Change::Redshift {
            id: string_at(req, &["clusterIdentifier"]),
            node_type: string_at(req, &["nodeType"]),
            nodes: nodes as u32,
        },
    ))
}
