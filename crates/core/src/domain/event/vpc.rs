//! Classifies VPC calls that EC2 logs and that start an hourly charge: CreateVpcEndpoint (an
//! interface endpoint is billed per Availability Zone it is in, one subnet each; a gateway
//! endpoint is free) and CreateTransitGatewayVpcAttachment (billed per attachment-hour).
//!
//! EC2's newer calls appear in CloudTrail in two forms: the request and response wrapped in
//! `<Call>Request` / `<Call>Response` with PascalCase request members whose lists are
//! `{tag, content}` items, or flat in lower camel case. Both are read.

use std::collections::BTreeSet;

use serde_json_borrow::Value as Json;

use super::{field, string_at, Change, EventKind, InvalidInput};

/// No region has more Availability Zones than this; an endpoint has one subnet per zone.
pub const MAX_ENDPOINT_ZONES: usize = 32;

/// Classifies the VPC call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    Ok(match name {
        "CreateVpcEndpoint" => (EventKind::Ec2CreateVpcEndpoint, endpoint(req, resp)?),
        "CreateTransitGatewayVpcAttachment" => {
            let req = unwrap(req, "CreateTransitGatewayVpcAttachmentRequest");
            let att = field(unwrap(resp, "CreateTransitGatewayVpcAttachmentResponse"), "transitGatewayVpcAttachment");
            let change = Change::TransitGatewayAttachment {
                id: string_at(att, &["transitGatewayAttachmentId"]),
                transit_gateway: string_at(att, &["transitGatewayId"])
                    .or_else(|| either_string(req, &["TransitGatewayId", "transitGatewayId"])),
            };
            (EventKind::Ec2CreateTransitGatewayVpcAttachment, change)
        }
        _ => (EventKind::Unknown, Change::Unknown),
    })
}

/// The member `wrapper` when the record uses the wrapped form, else `v` itself.
fn unwrap<'a, 'c>(v: &'a Json<'c>, wrapper: &str) -> &'a Json<'c> {
    let inner = field(v, wrapper);
    if inner.is_null() {
        v
    } else {
        inner
    }
}

fn either_string(v: &Json<'_>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| string_at(v, &[k]))
}

/// CreateVpcEndpoint: its type (the API's default, Gateway, when the record names none), its
/// service and the distinct subnets it was placed in, from the response or else the request.
fn endpoint(req: &Json<'_>, resp: &Json<'_>) -> Result<Change, InvalidInput> {
    let req = unwrap(req, "CreateVpcEndpointRequest");
    let ep = field(unwrap(resp, "CreateVpcEndpointResponse"), "vpcEndpoint");
    let endpoint_type = string_at(ep, &["vpcEndpointType"])
        .or_else(|| either_string(req, &["VpcEndpointType", "vpcEndpointType"]))
        .unwrap_or_else(|| "Gateway".into());
    let from_resp = subnets(field(ep, "subnetIdSet"), "responseElements.vpcEndpoint.subnetIdSet")?;
    let zones = if from_resp.is_empty() {
        let (key, list) = ["SubnetId", "subnetIds", "subnetIdSet", "SubnetIds"]
            .iter()
            .map(|k| (*k, field(req, k)))
            .find(|(_, v)| !v.is_null())
            .unwrap_or(("SubnetId", &super::NULL));
        subnets(list, &format!("requestParameters.{key}"))?.len()
    } else {
        from_resp.len()
    };
    Ok(Change::VpcEndpoint {
        id: string_at(ep, &["vpcEndpointId"]),
        endpoint_type,
        service: string_at(ep, &["serviceName"]).or_else(|| either_string(req, &["ServiceName", "serviceName"])),
        zones: zones as u32,
    })
}

/// The distinct subnet ids of a CloudTrail list in any of its shapes: a string, an array, an
/// EC2 `{item: ...}` / `{items: [...]}` set, `{tag, content}` request members, `{subnetId}`
/// objects. More than [`MAX_ENDPOINT_ZONES`] is an error naming `path`.
fn subnets<'a>(v: &'a Json<'_>, path: &str) -> Result<BTreeSet<&'a str>, InvalidInput> {
    fn walk<'a>(v: &'a Json<'_>, depth: u8, out: &mut BTreeSet<&'a str>) -> bool {
        if out.len() > MAX_ENDPOINT_ZONES || depth > 3 {
            return out.len() <= MAX_ENDPOINT_ZONES;
        }
        match v {
            Json::Str(s) => {
                out.insert(s);
            }
            Json::Array(a) => {
                for x in a.iter() {
                    if !walk(x, depth + 1, out) {
                        return false;
                    }
                }
            }
            Json::Object(_) => {
                for key in ["item", "items", "content", "subnetId", "SubnetId"] {
                    let inner = field(v, key);
                    if !inner.is_null() {
                        return walk(inner, depth + 1, out);
                    }
                }
            }
            _ => {}
        }
        out.len() <= MAX_ENDPOINT_ZONES
    }
    let mut out = BTreeSet::new();
    if walk(v, 0, &mut out) {
        Ok(out)
    } else {
        Err(InvalidInput::new(
            format!("detail.{path}"),
            format!("an endpoint has one subnet per Availability Zone: at most {MAX_ENDPOINT_ZONES}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, req: &str, resp: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify(name, &req, &resp).map(|(_, c)| c)
    }

    fn zones(c: Change) -> u32 {
        match c {
            Change::VpcEndpoint { zones, .. } => zones,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn endpoint_zones_from_either_form() {
        // Wrapped request, {tag, content} members; the response's set wins.
        let c = call(
            "CreateVpcEndpoint",
            r#"{"CreateVpcEndpointRequest": {"VpcEndpointType": "Interface", "ServiceName": "com.amazonaws.us-east-1.sqs",
                 "SubnetId": [{"tag": 1, "content": "subnet-a"}, {"tag": 2, "content": "subnet-b"}]}}"#,
            r#"{"CreateVpcEndpointResponse": {"vpcEndpoint": {"vpcEndpointId": "vpce-1", "vpcEndpointType": "Interface",
                 "subnetIdSet": {"item": ["subnet-a", "subnet-b", "subnet-c"]}}}}"#,
        )
        .unwrap();
        let want = Change::VpcEndpoint {
            id: Some("vpce-1".into()),
            endpoint_type: "Interface".into(),
            service: Some("com.amazonaws.us-east-1.sqs".into()),
            zones: 3,
        };
        assert_eq!(c, want);
        // No response: the request's subnets, a single member, duplicates counted once.
        let one = r#"{"CreateVpcEndpointRequest": {"VpcEndpointType": "Interface", "SubnetId": {"tag": 1, "content": "subnet-a"}}}"#;
        assert_eq!(zones(call("CreateVpcEndpoint", one, "null").unwrap()), 1);
        let flat = r#"{"vpcEndpointType": "Interface", "subnetIds": ["subnet-a", "subnet-b", "subnet-a"]}"#;
        assert_eq!(zones(call("CreateVpcEndpoint", flat, "null").unwrap()), 2);
        // No type at all: a gateway endpoint, the API's default.
        let c = call(
            "CreateVpcEndpoint",
            r#"{"CreateVpcEndpointRequest": {"RouteTableId": {"tag": 1, "content": "rtb-1"}}}"#,
            "null",
        );
        assert!(
            matches!(c.unwrap(), Change::VpcEndpoint { ref endpoint_type, zones: 0, .. } if endpoint_type == "Gateway")
        );
    }

    #[test]
    fn a_hostile_subnet_list_is_refused() {
        let many: Vec<String> = (0..10_000).map(|i| format!(r#"{{"tag": {i}, "content": "subnet-{i}"}}"#)).collect();
        let req = format!(
            r#"{{"CreateVpcEndpointRequest": {{"VpcEndpointType": "Interface", "SubnetId": [{}]}}}}"#,
            many.join(",")
        );
        let e = call("CreateVpcEndpoint", &req, "null").unwrap_err();
        assert!(e.field.ends_with("requestParameters.SubnetId"), "{e}");
        let resp = format!(
            r#"{{"CreateVpcEndpointResponse": {{"vpcEndpoint": {{"subnetIdSet": {{"item": [{}]}}}}}}}}"#,
            (0..33).map(|i| format!(r#""subnet-{i}""#)).collect::<Vec<_>>().join(",")
        );
        let e = call("CreateVpcEndpoint", "{}", &resp).unwrap_err();
        assert!(e.field.ends_with("subnetIdSet"), "{e}");
        // Deep nesting is not followed past a few levels, and nothing panics.
        let deep = format!(r#"{{"subnetIds": {}"subnet-x"{}}}"#, "[".repeat(100), "]".repeat(100));
        assert_eq!(zones(call("CreateVpcEndpoint", &deep, "null").unwrap()), 0);
    }

    #[test]
    fn transit_gateway_attachment_ids() {
        let c = call(
            "CreateTransitGatewayVpcAttachment",
            r#"{"CreateTransitGatewayVpcAttachmentRequest": {"TransitGatewayId": "tgw-1", "VpcId": "vpc-1"}}"#,
            r#"{"CreateTransitGatewayVpcAttachmentResponse": {"transitGatewayVpcAttachment": {"transitGatewayAttachmentId": "tgw-attach-1"}}}"#,
        )
        .unwrap();
        let want =
            Change::TransitGatewayAttachment { id: Some("tgw-attach-1".into()), transit_gateway: Some("tgw-1".into()) };
        assert_eq!(c, want);
        let c = call("CreateTransitGatewayVpcAttachment", r#"{"transitGatewayId": "tgw-2"}"#, "null").unwrap();
        assert_eq!(c, Change::TransitGatewayAttachment { id: None, transit_gateway: Some("tgw-2".into()) });
    }
}
