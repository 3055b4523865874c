//! Classifies EKS calls from CloudTrail: CreateCluster and CreateNodegroup.

use serde_json_borrow::Value as Json;

use super::{count_at, field, string_at, Change, EventKind, InvalidInput};

/// Classifies the EKS call `name` from its request. A node group's instance type is the first
/// it lists.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    Ok(match name {
        "CreateCluster" => (EventKind::EksCreateCluster, Change::EksCluster { name: string_at(req, &["name"]) }),
        "CreateNodegroup" => (
            EventKind::EksCreateNodegroup,
            Change::NodeGroup {
                name: string_at(req, &["nodegroupName"]),
                instance_type: field(req, "instanceTypes")
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(Json::as_str)
                    .map(str::to_owned),
                nodes: count_at(req, &["scalingConfig", "desiredSize"], "requestParameters.scalingConfig.desiredSize")?
                    .unwrap_or(1) as u32,
            },
        ),
        _ => (EventKind::Unknown, Change::Unknown),
    })
}
