//! Classifies ElastiCache calls from CloudTrail: CreateCacheCluster and CreateReplicationGroup,
//! with the engine they name (`redis`, `valkey` or `memcached`).

use serde_json_borrow::Value as Json;

use super::{count_at, string_at, Change, EventKind, InvalidInput, MAX_COUNT};

/// Classifies the ElastiCache call `name` from its request.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    Ok(match name {
        "CreateCacheCluster" => (
            EventKind::ElasticacheCreateCacheCluster,
            Change::CacheNodes {
                id: string_at(req, &["cacheClusterId"]),
                node_type: string_at(req, &["cacheNodeType"]),
                engine: string_at(req, &["engine"]),
                nodes: count_at(req, &["numCacheNodes"], "requestParameters.numCacheNodes")?.unwrap_or(1) as u32,
            },
        ),
        "CreateReplicationGroup" => replication_group(req)?,
        _ => (EventKind::Unknown, Change::Unknown),
    })
}

/// CreateReplicationGroup: the number of cache clusters when the request gives it, else node
/// groups times (one primary plus its replicas).
fn replication_group(req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let groups = count_at(req, &["numNodeGroups"], "requestParameters.numNodeGroups")?.unwrap_or(1);
    let replicas = count_at(req, &["replicasPerNodeGroup"], "requestParameters.replicasPerNodeGroup")?;
    let clusters = count_at(req, &["numCacheClusters"], "requestParameters.numCacheClusters")?;
    let nodes = match (clusters, replicas) {
        (Some(c), _) => c,
        (None, Some(r)) => groups * (1 + r),
        (None, None) => groups,
    };
    Ok((
        EventKind::ElasticacheCreateReplicationGroup,
        Change::CacheNodes {
            id: string_at(req, &["replicationGroupId"]),
            node_type: string_at(req, &["cacheNodeType"]),
            engine: string_at(req, &["engine"]),
            nodes: nodes.min(MAX_COUNT) as u32,
        },
    ))
}
