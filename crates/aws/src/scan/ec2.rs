//! EC2: volumes, instances, snapshots and AMIs we own, Elastic IPs, NAT gateways.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{tags, time, Calls};
use costradar_core::rules::facts::{Address, Image, Instance, NatGateway, PublicIp, Snapshot, Volume};

/// Each listing is `None` when one of its pages failed: an incomplete list proves nothing.
#[derive(Debug, Default)]
pub struct Ec2Facts {
    pub volumes: Option<Vec<Volume>>,
    pub instances: Option<Vec<Instance>>,
    pub snapshots: Option<Vec<Snapshot>>,
    pub images: Option<Vec<Image>>,
    pub addresses: Option<Vec<Address>>,
    pub nat_gateways: Option<Vec<NatGateway>>,
}

const PAGE: i32 = 1000;

/// `account_id` keeps only snapshots and AMIs the account owns (the API's `self` filter does
/// it already; emulators do not).
pub async fn scan(c: &aws_sdk_ec2::Client, account_id: &str) -> (Ec2Facts, Calls) {
    let (v, i, s, im, a, n) = tokio::join!(
        volumes(c),
        instances(c),
        snapshots(c, account_id),
        images(c, account_id),
        addresses(c),
        nat_gateways(c)
    );
    let mut calls = Calls::default();
    for c in [v.1, i.1, s.1, im.1, a.1, n.1] {
        calls.merge(c);
    }
    let facts =
        Ec2Facts { volumes: v.0, instances: i.0, snapshots: s.0, images: im.0, addresses: a.0, nat_gateways: n.0 };
    (facts, calls)
}

/// Runs a paginator to the end, mapping each page's items; `None` if any page failed.
macro_rules! all_pages {
    ($calls:expr, $action:literal, $paginator:expr, |$page:ident| $items:expr) => {{
        let mut out = Vec::new();
        let mut pages = $paginator.send();
        let mut ok = true;
        while let Some(page) = pages.next().await {
            match $calls.record($action, page) {
                Some($page) => out.extend($items),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        ok.then_some(out)
    }};
}
pub(crate) use all_pages;

async fn volumes(c: &aws_sdk_ec2::Client) -> (Option<Vec<Volume>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(calls, "ec2:DescribeVolumes", c.describe_volumes().max_results(PAGE).into_paginator(), |p| p
        .volumes()
        .iter()
        .filter_map(volume)
        .collect::<Vec<_>>());
    (v, calls)
}

pub fn volume(v: &aws_sdk_ec2::types::Volume) -> Option<Volume> {
    Some(Volume {
        id: v.volume_id()?.to_owned(),
        volume_type: v.volume_type()?.as_str().to_owned(),
        size_gib: u32::try_from(v.size()?).ok()?,
        iops: v.iops().and_then(|x| u32::try_from(x).ok()),
        throughput_mibps: v.throughput().and_then(|x| u32::try_from(x).ok()),
        state: v.state()?.as_str().to_owned(),
        created: time(v.create_time())?,
        attached_to: v
            .attachments()
            .iter()
            .filter(|a| a.state().is_none_or(|s| s.as_str() != "detached"))
            .filter_map(|a| a.instance_id().map(str::to_owned))
            .collect(),
        tags: tags(v.tags().iter().map(|t| (t.key(), t.value()))),
        unattached_since: None,
    })
}

/// "User initiated (2024-01-02 03:04:05 GMT)" → the time. AWS writes GMT; moto writes UTC.
pub fn stopped_at(reason: &str) -> Option<DateTime<Utc>> {
    let inner = reason.split_once('(')?.1.split_once(')')?.0;
    let stamp = inner.trim_end_matches(" GMT").trim_end_matches(" UTC");
    NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").ok().map(|n| n.and_utc())
}

async fn instances(c: &aws_sdk_ec2::Client) -> (Option<Vec<Instance>>, Calls) {
    let mut calls = Calls::default();
    let v =
        all_pages!(calls, "ec2:DescribeInstances", c.describe_instances().max_results(PAGE).into_paginator(), |p| p
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(instance)
            .collect::<Vec<_>>());
    (v, calls)
}

pub fn instance(i: &aws_sdk_ec2::types::Instance) -> Option<Instance> {
    let state = i.state()?.name()?.as_str().to_owned();
    Some(Instance {
        id: i.instance_id()?.to_owned(),
        instance_type: i.instance_type()?.as_str().to_owned(),
        stopped_at: (state == "stopped").then(|| i.state_transition_reason().and_then(stopped_at)).flatten(),
        state,
        launched: time(i.launch_time())?,
        platform: i.platform().map(|p| p.as_str().to_owned()),
        tenancy: i.placement().and_then(|p| p.tenancy()).map(|t| t.as_str().to_owned()),
        volume_ids: i
            .block_device_mappings()
            .iter()
            .filter_map(|m| m.ebs().and_then(|e| e.volume_id()).map(str::to_owned))
            .collect(),
        tags: tags(i.tags().iter().map(|t| (t.key(), t.value()))),
        cpu_p95_percent: None,
        public_ip: public_ip(i),
    })
}

/// The public IPv4 address of the primary network interface and that interface.
fn public_ip(i: &aws_sdk_ec2::types::Instance) -> Option<PublicIp> {
    let address = i.public_ip_address().filter(|a| !a.is_empty())?.to_owned();
    let primary = i.network_interfaces().iter().find(|n| {
        n.attachment().and_then(|a| a.device_index()) == Some(0)
            || n.association().and_then(|a| a.public_ip()) == Some(address.as_str())
    });
    let network_interface_id = primary.and_then(|n| n.network_interface_id()).map(str::to_owned);
    Some(PublicIp { address, network_interface_id })
}

async fn snapshots(c: &aws_sdk_ec2::Client, account_id: &str) -> (Option<Vec<Snapshot>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "ec2:DescribeSnapshots",
        c.describe_snapshots().owner_ids("self").max_results(PAGE).into_paginator(),
        |p| p
            .snapshots()
            .iter()
            .filter(|s| s.owner_id().is_none_or(|o| o == account_id))
            .filter_map(snapshot)
            .collect::<Vec<_>>()
    );
    (v, calls)
}

pub fn snapshot(s: &aws_sdk_ec2::types::Snapshot) -> Option<Snapshot> {
    Some(Snapshot {
        id: s.snapshot_id()?.to_owned(),
        volume_id: s.volume_id().map(str::to_owned),
        volume_size_gib: s.volume_size().and_then(|x| u32::try_from(x).ok()).unwrap_or(0),
        full_size_bytes: s.full_snapshot_size_in_bytes().and_then(|x| u64::try_from(x).ok()),
        state: s.state()?.as_str().to_owned(),
        started: time(s.start_time())?,
        tags: tags(s.tags().iter().map(|t| (t.key(), t.value()))),
    })
}

async fn images(c: &aws_sdk_ec2::Client, account_id: &str) -> (Option<Vec<Image>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "ec2:DescribeImages",
        c.describe_images().owners("self").max_results(PAGE).into_paginator(),
        |p| p
            .images()
            .iter()
            .filter(|i| i.owner_id().is_none_or(|o| o == account_id))
            .filter_map(|i| {
                Some(Image {
                    id: i.image_id()?.to_owned(),
                    snapshot_ids: i
                        .block_device_mappings()
                        .iter()
                        .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_owned))
                        .collect(),
                })
            })
            .collect::<Vec<_>>()
    );
    (v, calls)
}

/// DescribeAddresses has no pagination: one call returns every address of the region.
async fn addresses(c: &aws_sdk_ec2::Client) -> (Option<Vec<Address>>, Calls) {
    let mut calls = Calls::default();
    let out = calls.record("ec2:DescribeAddresses", c.describe_addresses().send().await);
    let v = out.map(|o| {
        o.addresses()
            .iter()
            .filter_map(|a| {
                // An empty string is no value (moto writes them; AWS omits the field).
                let some = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
                Some(Address {
                    allocation_id: some(a.allocation_id()),
                    public_ip: a.public_ip()?.to_owned(),
                    association_id: some(a.association_id()),
                    instance_id: some(a.instance_id()),
                    network_interface_id: some(a.network_interface_id()),
                    tags: tags(a.tags().iter().map(|t| (t.key(), t.value()))),
                })
            })
            .collect()
    });
    (v, calls)
}

async fn nat_gateways(c: &aws_sdk_ec2::Client) -> (Option<Vec<NatGateway>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "ec2:DescribeNatGateways",
        c.describe_nat_gateways().max_results(PAGE).into_paginator(),
        |p| p
            .nat_gateways()
            .iter()
            .filter_map(|n| {
                Some(NatGateway {
                    id: n.nat_gateway_id()?.to_owned(),
                    state: n.state()?.as_str().to_owned(),
                    created: time(n.create_time())?,
                    allocation_ids: n
                        .nat_gateway_addresses()
                        .iter()
                        .filter_map(|a| a.allocation_id().map(str::to_owned))
                        .collect(),
                    tags: tags(n.tags().iter().map(|t| (t.key(), t.value()))),
                    bytes_processed: None,
                })
            })
            .collect::<Vec<_>>()
    );
    (v, calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_times_from_state_transition_reasons() {
        let t = stopped_at("User initiated (2024-01-02 03:04:05 GMT)").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        assert_eq!(stopped_at("User initiated (2024-01-02 03:04:05 UTC)"), Some(t));
        for bad in ["", "User initiated", "User initiated ()", "(not a date)", "Server.SpotInstanceTermination"] {
            assert_eq!(stopped_at(bad), None, "{bad}");
        }
    }
}
