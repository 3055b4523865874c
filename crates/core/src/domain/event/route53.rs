//! Classifies Route 53 calls from CloudTrail (`route53.amazonaws.com`): CreateHostedZone, billed
//! per hosted zone per month. Route 53 is a global service: CloudTrail delivers its events in
//! us-east-1 only, so only an EventBridge rule there sees them.

use serde_json_borrow::Value as Json;

use super::{bool_at, string_at, Change, EventKind};

/// Classifies the Route 53 call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> (EventKind, Change) {
    if name != "CreateHostedZone" {
        return (EventKind::Unknown, Change::Unknown);
    }
    // The response names the zone `/hostedzone/<id>`; the id alone is what the console shows.
    let id = string_at(resp, &["hostedZone", "id"]).map(|id| match id.strip_prefix("/hostedzone/") {
        Some(bare) => bare.to_owned(),
        None => id,
    });
    let private = bool_at(req, &["hostedZoneConfig", "privateZone"])
        || bool_at(resp, &["hostedZone", "config", "privateZone"])
        || !super::field(req, "vPC").is_null()
        || !super::field(req, "vpc").is_null();
    let change = Change::HostedZone {
        id,
        name: string_at(req, &["name"]).or_else(|| string_at(resp, &["hostedZone", "name"])),
        private,
    };
    (EventKind::Route53CreateHostedZone, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(req: &str, resp: &str) -> Change {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify("CreateHostedZone", &req, &resp).1
    }

    #[test]
    fn the_zone_id_name_and_privacy() {
        let c = zone(
            r#"{"name": "example.com", "callerReference": "r-1", "hostedZoneConfig": {"privateZone": false}}"#,
            r#"{"hostedZone": {"id": "/hostedzone/Z0123456789ABCDEFGHIJ", "name": "example.com."}}"#,
        );
        let want = Change::HostedZone {
            id: Some("Z0123456789ABCDEFGHIJ".into()),
            name: Some("example.com".into()),
            private: false,
        };
        assert_eq!(c, want);
        // A zone associated with a VPC at creation is private; without a response, no id.
        let c = zone(r#"{"name": "corp.internal", "vPC": {"vPCRegion": "eu-west-1", "vPCId": "vpc-1"}}"#, "null");
        assert_eq!(c, Change::HostedZone { id: None, name: Some("corp.internal".into()), private: true });
    }
}
