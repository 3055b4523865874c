//! Classifies Amazon MSK (managed Kafka) calls from CloudTrail: CreateCluster and
//! CreateClusterV2.

use serde_json_borrow::Value as Json;

use super::{at, count_at, field, string_at, u32_at, Change, EventKind, InvalidInput};

/// Classifies the MSK call `name` from its request. CreateClusterV2 nests the broker settings
/// under `provisioned`; both shapes are read.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if !matches!(name, "CreateCluster" | "CreateClusterV2") {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let info = field(req, "brokerNodeGroupInfo");
    let info = if info.is_null() { at(req, &["provisioned", "brokerNodeGroupInfo"]) } else { info };
    let brokers = count_at(req, &["numberOfBrokerNodes"], "requestParameters.numberOfBrokerNodes")?
        .or(count_at(
            req,
            &["provisioned", "numberOfBrokerNodes"],
            "requestParameters.provisioned.numberOfBrokerNodes",
        )?)
        .unwrap_or(1);
    Ok((
        EventKind::MskCreateCluster,
        Change::Msk {
            name: string_at(req, &["clusterName"]),
            broker_type: string_at(info, &["instanceType"]),
            brokers: brokers as u32,
            volume_gib: u32_at(
                info,
                &["storageInfo", "ebsStorageInfo", "volumeSize"],
                "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize",
            )?,
        },
    ))
}
