//! Classifies Elastic Load Balancing calls from CloudTrail: CreateLoadBalancer, of either API.
//! The 2012-06-01 API creates Classic Load Balancers; the 2015-12-01 API (ELBv2) creates
//! Application, Network and Gateway Load Balancers, its `type` saying which.

use serde_json_borrow::Value as Json;

use super::{field, items, str_at, string_at, Change, EventKind};

/// The API version of the Classic Load Balancer API (`apiVersion` in its CloudTrail records).
const CLASSIC_API_VERSION: &str = "2012-06-01";

/// Classifies the load balancer call `name` from its request and the record's `apiVersion`.
pub(super) fn classify(name: &str, api_version: Option<&str>, req: &Json<'_>) -> (EventKind, Change) {
    match name {
        "CreateLoadBalancer" => {
            let kind = if is_classic(api_version, req) {
                "classic".to_owned()
            } else {
                // ELBv2's default type is an Application Load Balancer.
                string_at(req, &["type"]).unwrap_or_else(|| "application".into())
            };
            let name = string_at(req, &["name"]).or_else(|| string_at(req, &["loadBalancerName"]));
            let public_zones = public_zones(&kind, req);
            (EventKind::ElbCreateLoadBalancer, Change::LoadBalancer { kind, name, public_zones })
        }
        _ => (EventKind::Unknown, Change::Unknown),
    }
}

/// The zones of an internet-facing load balancer (the default scheme), from its subnets, subnet
/// mappings or availability zones: each holds a public IPv4 address. Gateway Load Balancers and
/// internal ones have none. Bounded by the zones a region has.
fn public_zones(kind: &str, req: &Json<'_>) -> Option<u32> {
    if kind == "gateway" || str_at(req, &["scheme"]) == Some("internal") {
        return Some(0);
    }
    ["subnetMappings", "subnets", "availabilityZones"]
        .iter()
        .map(|k| items(field(req, k)).len())
        .find(|n| *n > 0)
        .map(|n| n.min(MAX_ZONES) as u32)
}

/// More than any region has.
const MAX_ZONES: usize = 8;

/// A Classic Load Balancer: the 2012-06-01 API, or, in a record without `apiVersion`, a request
/// in that API's shape (`loadBalancerName` and `listeners`, which ELBv2's CreateLoadBalancer
/// does not take) with no ELBv2 `type`.
fn is_classic(api_version: Option<&str>, req: &Json<'_>) -> bool {
    match api_version {
        Some(v) => v == CLASSIC_API_VERSION,
        None => {
            field(req, "type").is_null()
                && !field(req, "loadBalancerName").is_null()
                && !field(req, "listeners").is_null()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(api_version: Option<&str>, req: &str) -> String {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        match classify("CreateLoadBalancer", api_version, &req).1 {
            Change::LoadBalancer { kind, .. } => kind,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_api_version_decides_classic_and_the_type_decides_the_rest() {
        let classic = r#"{"loadBalancerName": "web", "listeners": [{"protocol": "HTTP"}], "subnets": ["subnet-1"]}"#;
        assert_eq!(kind(Some("2012-06-01"), classic), "classic");
        assert_eq!(kind(None, classic), "classic");
        assert_eq!(kind(Some("2015-12-01"), r#"{"name": "n", "type": "network"}"#), "network");
        assert_eq!(kind(Some("2015-12-01"), r#"{"name": "n"}"#), "application");
        assert_eq!(kind(None, r#"{"name": "n", "type": "gateway"}"#), "gateway");
        // The Classic API has no `type`: a 2012-06-01 record is Classic whatever it carries.
        assert_eq!(kind(Some("2012-06-01"), r#"{"loadBalancerName": "x", "type": "network"}"#), "classic");
        assert_eq!(kind(None, r#"{}"#), "application");
    }

    fn zones(req: &str) -> Option<u32> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        match classify("CreateLoadBalancer", Some("2015-12-01"), &req).1 {
            Change::LoadBalancer { public_zones, .. } => public_zones,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_internet_facing_load_balancer_has_a_public_address_per_zone() {
        assert_eq!(zones(r#"{"name": "a", "subnets": ["subnet-1", "subnet-2"]}"#), Some(2));
        assert_eq!(
            zones(r#"{"name": "a", "scheme": "internet-facing", "subnetMappings": [{"subnetId": "subnet-1"}]}"#),
            Some(1)
        );
        assert_eq!(zones(r#"{"name": "a", "scheme": "internal", "subnets": ["subnet-1", "subnet-2"]}"#), Some(0));
        assert_eq!(zones(r#"{"name": "g", "type": "gateway", "subnets": ["subnet-1"]}"#), Some(0));
        assert_eq!(zones(r#"{"name": "a"}"#), None);
        // A hostile list is bounded by the zones a region can have.
        let many = format!(r#"{{"name": "a", "subnets": [{}]}}"#, vec!["\"subnet-1\""; 5000].join(","));
        assert_eq!(zones(&many), Some(8));
    }
}
