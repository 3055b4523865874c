//! Classifies NAT gateway calls from CloudTrail (logged by EC2): CreateNatGateway and
//! DeleteNatGateway.

use serde_json_borrow::Value as Json;

use super::{string_at, Change, EventKind};

/// Classifies the NAT gateway call `name` from its request and response. CloudTrail nests the
/// gateway id under the call's name in some records and not in others; both are read.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> (EventKind, Change) {
    match name {
        "CreateNatGateway" => {
            let id = string_at(resp, &["CreateNatGatewayResponse", "natGateway", "natGatewayId"])
                .or_else(|| string_at(resp, &["natGateway", "natGatewayId"]));
            (EventKind::Ec2CreateNatGateway, Change::NatGateway { created: true, id })
        }
        "DeleteNatGateway" => {
            let id = string_at(req, &["DeleteNatGatewayRequest", "NatGatewayId"])
                .or_else(|| string_at(req, &["natGatewayId"]));
            (EventKind::Ec2DeleteNatGateway, Change::NatGateway { created: false, id })
        }
        _ => (EventKind::Unknown, Change::Unknown),
    }
}
