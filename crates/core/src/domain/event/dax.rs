//! Classifies DynamoDB Accelerator (DAX) calls from CloudTrail (`dax.amazonaws.com`):
//! CreateCluster, whose nodes are `replicationFactor` nodes of `nodeType`.

use serde_json_borrow::Value as Json;

use super::{count_at, string_at, Change, EventKind, InvalidInput};

/// Classifies the DAX call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if name != "CreateCluster" {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let nodes = count_at(req, &["replicationFactor"], "requestParameters.replicationFactor")?
        .or(count_at(resp, &["cluster", "totalNodes"], "responseElements.cluster.totalNodes")?)
        .unwrap_or(1);
    Ok((
        EventKind::DaxCreateCluster,
        Change::Dax {
            cluster: string_at(req, &["clusterName"]).or_else(|| string_at(resp, &["cluster", "clusterName"])),
            node_type: string_at(req, &["nodeType"]).or_else(|| string_at(resp, &["cluster", "nodeType"])),
            nodes: nodes as u32,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(req: &str, resp: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify("CreateCluster", &req, &resp).map(|(_, c)| c)
    }

    #[test]
    fn nodes_from_the_replication_factor_or_the_response() {
        let c = cluster(r#"{"clusterName": "d", "nodeType": "dax.r4.large", "replicationFactor": 3}"#, "null").unwrap();
        assert!(
            matches!(c, Change::Dax { nodes: 3, ref node_type, .. } if node_type.as_deref() == Some("dax.r4.large"))
        );
        let c = cluster(r#"{"clusterName": "d"}"#, r#"{"cluster": {"nodeType": "dax.t3.small", "totalNodes": 2}}"#)
            .unwrap();
        assert!(
            matches!(c, Change::Dax { nodes: 2, ref node_type, .. } if node_type.as_deref() == Some("dax.t3.small"))
        );
        for n in ["-3", "10001", "\"three\"", "3.5"] {
            let e = cluster(&format!(r#"{{"replicationFactor": {n}}}"#), "null").unwrap_err();
            assert!(e.field.contains("replicationFactor"), "{n}: {e}");
        }
    }
}
