//! Classifies Elastic Load Balancing calls from CloudTrail: CreateLoadBalancer.

use serde_json_borrow::Value as Json;

use super::{string_at, Change, EventKind};

/// Classifies the load balancer call `name` from its request. A load balancer of no stated
/// type is an Application Load Balancer, the ELB default.
pub(super) fn classify(name: &str, req: &Json<'_>) -> (EventKind, Change) {
    match name {
        "CreateLoadBalancer" => {
            let kind = string_at(req, &["type"]).unwrap_or_else(|| "application".into());
            (EventKind::ElbCreateLoadBalancer, Change::LoadBalancer { kind, name: string_at(req, &["name"]) })
        }
        _ => (EventKind::Unknown, Change::Unknown),
    }
}
