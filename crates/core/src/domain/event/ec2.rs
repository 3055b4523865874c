//! Classifies EC2 API calls from CloudTrail: instance launches, starts, stops, terminations
//! and type changes, and Elastic IP allocations. EBS volume and NAT gateway calls, which EC2
//! also logs, go to their own modules.
//! VPC endpoint and transit gateway attachment calls go to `vpc`.

use serde_json_borrow::Value as Json;

use super::{
    bool_at, count_at, ebs, field, items, nat, str_at, string_at, vpc, Change, EventKind, InstanceOp, InvalidInput,
};

/// Classifies the EC2 call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    Ok(match name {
        "RunInstances" => run_instances(req, resp)?,
        "StartInstances" | "StopInstances" | "TerminateInstances" => instance_state(name, req, resp),
        "ModifyInstanceAttribute" => {
            match (string_at(req, &["instanceId"]), string_at(req, &["instanceType", "value"])) {
                (Some(instance_id), Some(new_type)) => {
                    (EventKind::Ec2ModifyInstanceType, Change::InstanceType { instance_id, new_type })
                }
                _ => (EventKind::Unknown, Change::Unknown),
            }
        }
        "CreateVolume" | "ModifyVolume" => ebs::classify(name, req, resp)?,
        "AllocateAddress" => (
            EventKind::Ec2AllocateAddress,
            Change::PublicIpv4 { allocated: true, id: string_at(resp, &["allocationId"]) },
        ),
        "ReleaseAddress" => (
            EventKind::Ec2ReleaseAddress,
            Change::PublicIpv4 { allocated: false, id: string_at(req, &["allocationId"]) },
        ),
        "CreateNatGateway" | "DeleteNatGateway" => nat::classify(name, req, resp),
        "CreateVpcEndpoint" | "CreateTransitGatewayVpcAttachment" => vpc::classify(name, req, resp)?,
        _ => (EventKind::Unknown, Change::Unknown),
    })
}

/// The instance ids of an `instancesSet` in a request or response.
fn instance_ids(v: &Json<'_>) -> Vec<String> {
    items(field(v, "instancesSet")).iter().filter_map(|i| str_at(i, &["instanceId"])).map(str::to_owned).collect()
}

/// RunInstances: the instances launched, or the minimum asked for when the response lists none.
fn run_instances(req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let launched = items(field(resp, "instancesSet"));
    let requested = items(field(req, "instancesSet"));
    let min = requested
        .first()
        .map(|i| count_at(i, &["minCount"], "requestParameters.instancesSet.minCount"))
        .transpose()?
        .flatten();
    let count = if launched.is_empty() { min.unwrap_or(1) } else { launched.len() as u64 };
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    let first = launched.first();
    Ok((
        EventKind::Ec2RunInstances,
        Change::Instances {
            op: InstanceOp::Launch,
            ids: instance_ids(resp),
            instance_type: string_at(req, &["instanceType"])
                .or_else(|| first.and_then(|i| string_at(i, &["instanceType"]))),
            count,
            tenancy: first
                .and_then(|i| string_at(i, &["placement", "tenancy"]))
                .or_else(|| string_at(req, &["placement", "tenancy"])),
            platform: first.and_then(|i| string_at(i, &["platform"])),
            image_id: (requested.first().and_then(|i| string_at(i, &["imageId"])))
                .or_else(|| first.and_then(|i| string_at(i, &["imageId"])))
                .filter(|id| is_image_id(id)),
            public_ipv4: (items(field(req, "networkInterfaceSet")).iter())
                .find(|n| !field(n, "associatePublicIpAddress").is_null())
                .map(|n| bool_at(n, &["associatePublicIpAddress"])),
        },
    ))
}

/// `ami-` and 8 or 17 hex digits: the only image ids enrichment will look up.
pub fn is_image_id(id: &str) -> bool {
    id.strip_prefix("ami-").is_some_and(|h| matches!(h.len(), 8 | 17) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// StartInstances, StopInstances or TerminateInstances (`name`): the instances the response
/// names, or those the request names when the response names none.
fn instance_state(name: &str, req: &Json<'_>, resp: &Json<'_>) -> (EventKind, Change) {
    let ids = {
        let r = instance_ids(resp);
        if r.is_empty() {
            instance_ids(req)
        } else {
            r
        }
    };
    let (kind, op) = match name {
        "StartInstances" => (EventKind::Ec2StartInstances, InstanceOp::Start),
        "StopInstances" => (EventKind::Ec2StopInstances, InstanceOp::Stop),
        _ => (EventKind::Ec2TerminateInstances, InstanceOp::Terminate),
    };
    let count = ids.len() as u32;
    let change = Change::Instances {
        op,
        ids,
        instance_type: None,
        count,
        tenancy: None,
        platform: None,
        image_id: None,
        public_ipv4: None,
    };
    (kind, change)
}
