//! Classifies Kinesis Data Streams calls from CloudTrail: CreateStream (provisioned shards or
//! on-demand mode) and UpdateShardCount (its target, and the count it replaces when the
//! response has `currentShardCount`).

use serde_json_borrow::Value as Json;

use super::{num_at, str_at, string_at, Change, EventKind, InvalidInput};

/// Shards of one stream: UpdateShardCount accepts at most 100,000.
pub const MAX_SHARDS: u64 = 100_000;

/// Classifies the Kinesis call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let shards = |v: &Json<'_>, key: &str, side: &str| {
        num_at(v, &[key], &format!("{side}.{key}"), MAX_SHARDS).map(|n| n.map(|n| n as u32))
    };
    // A stream is named, or given by ARN (…:stream/<name>).
    let stream = string_at(req, &["streamName"]).or_else(|| string_at(req, &["streamARN"]));
    Ok(match name {
        "CreateStream" => {
            let on_demand =
                str_at(req, &["streamModeDetails", "streamMode"]).is_some_and(|m| m.eq_ignore_ascii_case("ON_DEMAND"));
            let change = Change::KinesisStream {
                stream,
                created: true,
                on_demand,
                shards: shards(req, "shardCount", "requestParameters")?,
                previous_shards: None,
            };
            (EventKind::KinesisCreateStream, change)
        }
        "UpdateShardCount" => {
            let target = shards(req, "targetShardCount", "requestParameters")?;
            let change = Change::KinesisStream {
                stream: stream.or_else(|| string_at(resp, &["streamName"])),
                created: false,
                on_demand: false,
                shards: target.or(shards(resp, "targetShardCount", "responseElements")?),
                previous_shards: shards(resp, "currentShardCount", "responseElements")?,
            };
            (EventKind::KinesisUpdateShardCount, change)
        }
        _ => (EventKind::Unknown, Change::Unknown),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str, req: &str, resp: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify(name, &req, &resp).map(|(_, c)| c)
    }

    #[test]
    fn shards_and_modes() {
        let c = stream("CreateStream", r#"{"streamName": "s", "shardCount": 4}"#, "null").unwrap();
        assert!(matches!(c, Change::KinesisStream { shards: Some(4), on_demand: false, created: true, .. }));
        let c =
            stream("CreateStream", r#"{"streamName": "s", "streamModeDetails": {"streamMode": "ON_DEMAND"}}"#, "null");
        assert!(matches!(c.unwrap(), Change::KinesisStream { shards: None, on_demand: true, .. }));
        let c = stream(
            "UpdateShardCount",
            r#"{"streamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "targetShardCount": 10, "scalingType": "UNIFORM_SCALING"}"#,
            r#"{"currentShardCount": 4, "targetShardCount": 10, "streamName": "s"}"#,
        );
        match c.unwrap() {
            Change::KinesisStream { stream, shards: Some(10), previous_shards: Some(4), created: false, .. } => {
                assert!(stream.unwrap().ends_with("stream/s"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_counts_are_refused() {
        for n in ["-1", "100001", "2.5", "\"a lot\"", "{}"] {
            let e = stream("CreateStream", &format!(r#"{{"shardCount": {n}}}"#), "null").unwrap_err();
            assert!(e.field.contains("shardCount"), "{n}: {e}");
            let e = stream("UpdateShardCount", &format!(r#"{{"targetShardCount": {n}}}"#), "null").unwrap_err();
            assert!(e.field.contains("targetShardCount"), "{n}: {e}");
        }
    }
}
