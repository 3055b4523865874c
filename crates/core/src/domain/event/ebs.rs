//! Classifies EBS volume calls from CloudTrail (logged by EC2): CreateVolume and ModifyVolume.

use serde_json_borrow::Value as Json;

use super::{at, field, string_at, u32_at, Change, EventKind, InvalidInput, VolumeSpec};

/// Classifies the volume call `name` (CreateVolume or ModifyVolume) from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    match name {
        "CreateVolume" => create_volume(req, resp),
        "ModifyVolume" => modify_volume(resp),
        _ => Ok((EventKind::Unknown, Change::Unknown)),
    }
}

/// CreateVolume: the new volume's configuration, from the response or else the request
/// (an unnamed type is gp2, the EC2 default).
fn create_volume(req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let spec = VolumeSpec {
        volume_type: string_at(resp, &["volumeType"])
            .or_else(|| string_at(req, &["volumeType"]))
            .unwrap_or_else(|| "gp2".into()),
        size_gib: u32_at(resp, &["size"], "responseElements.size")?
            .or(u32_at(req, &["size"], "requestParameters.size")?)
            .unwrap_or(0),
        iops: u32_at(resp, &["iops"], "responseElements.iops")?.or(u32_at(req, &["iops"], "requestParameters.iops")?),
        throughput_mibps: u32_at(resp, &["throughput"], "responseElements.throughput")?.or(u32_at(
            req,
            &["throughput"],
            "requestParameters.throughput",
        )?),
    };
    Ok((
        EventKind::EbsCreateVolume,
        Change::Volume { volume_id: string_at(resp, &["volumeId"]), before: None, after: spec },
    ))
}

/// ModifyVolume: the configuration before and after, from the response's volume modification.
/// Without a target type and size it is `Unknown`.
fn modify_volume(resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let m = at(resp, &["ModifyVolumeResponse", "volumeModification"]);
    let m = if m.is_null() { field(resp, "volumeModification") } else { m };
    let spec = |prefix: &str| -> Result<Option<VolumeSpec>, InvalidInput> {
        let t = string_at(m, &[&format!("{prefix}VolumeType")]);
        let size = u32_at(m, &[&format!("{prefix}Size")], "volumeModification.size")?;
        Ok(match (t, size) {
            (Some(volume_type), Some(size_gib)) => Some(VolumeSpec {
                volume_type,
                size_gib,
                iops: u32_at(m, &[&format!("{prefix}Iops")], "volumeModification.iops")?,
                throughput_mibps: u32_at(m, &[&format!("{prefix}Throughput")], "volumeModification.throughput")?,
            }),
            _ => None,
        })
    };
    Ok(match spec("target")? {
        Some(after) => (
            EventKind::EbsModifyVolume,
            Change::Volume { volume_id: string_at(m, &["volumeId"]), before: spec("original")?, after },
        ),
        None => (EventKind::Unknown, Change::Unknown),
    })
}
