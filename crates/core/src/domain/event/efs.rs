//! Classifies Amazon EFS calls from CloudTrail (`elasticfilesystem.amazonaws.com`):
//! CreateFileSystem and UpdateFileSystem. Their standing charge is provisioned throughput
//! (`throughputMode: provisioned`, `provisionedThroughputInMibps` MiB/s); a file system in
//! Bursting or Elastic mode is billed by usage (storage as data is written, Elastic I/O as it
//! happens), so its creation has no price of its own.

use rust_decimal::Decimal;
use serde_json_borrow::Value as Json;

use super::{at, string_at, Change, EventKind, InvalidInput};

/// The most provisioned throughput a request is believed for, in MiB/s: AWS documents 1 to
/// 3,414 MiB/s (more on request); above 10 GiB/s a value is refused, not priced.
pub const MAX_PROVISIONED_MIBPS: u32 = 10_240;

/// Classifies the EFS call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let kind = match name {
        "CreateFileSystem" => EventKind::EfsCreateFileSystem,
        "UpdateFileSystem" => EventKind::EfsUpdateFileSystem,
        _ => return Ok((EventKind::Unknown, Change::Unknown)),
    };
    let created = kind == EventKind::EfsCreateFileSystem;
    // The request says what was asked; the response (the file system's description) what AWS
    // set, which for CreateFileSystem includes the default mode when the request names none.
    let mode = string_at(req, &["throughputMode"])
        .or_else(|| string_at(resp, &["throughputMode"]))
        .map(|m| m.to_ascii_lowercase());
    // Both sides are checked: a hostile value in either is refused, not skipped.
    let asked = mibps_at(req, "requestParameters")?;
    let provisioned_mibps = asked.or(mibps_at(resp, "responseElements")?);
    let change = Change::EfsFileSystem {
        // UpdateFileSystem names it in the request; CreateFileSystem's response assigns it.
        id: string_at(req, &["fileSystemId"]).or_else(|| string_at(resp, &["fileSystemId"])),
        created,
        throughput_mode: mode,
        provisioned_mibps,
        one_zone: string_at(req, &["availabilityZoneName"])
            .or_else(|| string_at(resp, &["availabilityZoneName"]))
            .is_some(),
    };
    Ok((kind, change))
}

/// `provisionedThroughputInMibps` (a double in the API: `256.0`) of `side`, from 1 to
/// [`MAX_PROVISIONED_MIBPS`]; anything else is an error naming the field.
fn mibps_at(v: &Json<'_>, side: &str) -> Result<Option<Decimal>, InvalidInput> {
    let text = match at(v, &["provisionedThroughputInMibps"]) {
        Json::Null => return Ok(None),
        Json::Number(n) => n.to_string(),
        Json::Str(s) => s.trim().to_owned(),
        _ => String::new(),
    };
    match Decimal::from_str_exact(&text) {
        Ok(n) if n >= Decimal::ONE && n <= Decimal::from(MAX_PROVISIONED_MIBPS) => Ok(Some(n.normalize())),
        _ => Err(InvalidInput::new(
            format!("detail.{side}.provisionedThroughputInMibps"),
            format!("must be a number of MiB/s from 1 to {MAX_PROVISIONED_MIBPS}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(name: &str, req: &str, resp: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify(name, &req, &resp).map(|(_, c)| c)
    }

    #[test]
    fn modes_throughput_and_ids() {
        let c = fs(
            "CreateFileSystem",
            r#"{"creationToken": "t", "throughputMode": "provisioned", "provisionedThroughputInMibps": 128.0}"#,
            r#"{"fileSystemId": "fs-0123456789abcdef0", "throughputMode": "provisioned"}"#,
        )
        .unwrap();
        let want = Change::EfsFileSystem {
            id: Some("fs-0123456789abcdef0".into()),
            created: true,
            throughput_mode: Some("provisioned".into()),
            provisioned_mibps: Some(Decimal::from(128)),
            one_zone: false,
        };
        assert_eq!(c, want);
        // The API's default mode, read from the response; One Zone from the AZ it names.
        let c =
            fs("CreateFileSystem", r#"{"availabilityZoneName": "eu-west-1a"}"#, r#"{"throughputMode": "bursting"}"#)
                .unwrap();
        assert!(matches!(c, Change::EfsFileSystem { ref throughput_mode, provisioned_mibps: None, one_zone: true, .. }
            if throughput_mode.as_deref() == Some("bursting")));
        // UpdateFileSystem names the file system in the request; 12.5 MiB/s stays exact.
        let c = fs("UpdateFileSystem", r#"{"fileSystemId": "fs-1", "provisionedThroughputInMibps": "12.5"}"#, "null")
            .unwrap();
        assert!(matches!(c, Change::EfsFileSystem { created: false, ref id, provisioned_mibps: Some(n), .. }
            if id.as_deref() == Some("fs-1") && n.to_string() == "12.5"));
        assert_eq!(fs("DeleteFileSystem", "{}", "null").unwrap(), Change::Unknown);
    }

    #[test]
    fn negative_zero_absurd_and_mistyped_throughput_is_refused() {
        for n in ["-5", "0", "0.5", "10241", "1e300", "\"fast\"", "[]", "true"] {
            let e = fs("UpdateFileSystem", &format!(r#"{{"provisionedThroughputInMibps": {n}}}"#), "null").unwrap_err();
            assert!(e.field.ends_with("requestParameters.provisionedThroughputInMibps"), "{n}: {e}");
            let e = fs("CreateFileSystem", "{}", &format!(r#"{{"provisionedThroughputInMibps": {n}}}"#)).unwrap_err();
            assert!(e.field.ends_with("responseElements.provisionedThroughputInMibps"), "{n}: {e}");
        }
        let c = fs("UpdateFileSystem", r#"{"provisionedThroughputInMibps": 10240}"#, "null").unwrap();
        assert!(matches!(c, Change::EfsFileSystem { provisioned_mibps: Some(n), .. } if n == Decimal::from(10_240)));
    }
}
