//! Route 53 hosted zones (ListHostedZones: name, private or public, record count, managing
//! service) and the VPCs of each private zone (GetHostedZone). Never a record: the rules need
//! only the count. Route 53 is global; the network family reads it in us-east-1 only.

use crate::scan::ec2::all_pages;
use crate::scan::Calls;
use costradar_core::rules::facts::HostedZone;

/// ListHostedZones' largest page.
const PAGE: i32 = 100;

pub async fn scan(c: &aws_sdk_route53::Client) -> (Option<Vec<HostedZone>>, Calls) {
    let mut calls = Calls::default();
    let zones =
        all_pages!(calls, "route53:ListHostedZones", c.list_hosted_zones().max_items(PAGE).into_paginator(), |p| p
            .hosted_zones()
            .iter()
            .map(zone)
            .collect::<Vec<_>>());
    let Some(mut zones) = zones else { return (None, calls) };
    for z in zones.iter_mut().filter(|z| z.private && z.linked_service.is_none()) {
        // A failed call leaves the zone's VPCs unknown (and the region partial): not judged.
        let out = calls.record("route53:GetHostedZone", c.get_hosted_zone().id(&z.id).send().await);
        z.vpcs = out.map(|o| {
            o.vpcs()
                .iter()
                .filter_map(|v| Some((v.vpc_id()?.to_owned(), v.vpc_region().map_or("", |r| r.as_str()).to_owned())))
                .collect()
        });
    }
    (Some(zones), calls)
}

pub fn zone(z: &aws_sdk_route53::types::HostedZone) -> HostedZone {
    HostedZone {
        id: z.id().trim_start_matches("/hostedzone/").to_owned(),
        name: z.name().to_owned(),
        private: z.config().is_some_and(|c| c.private_zone()),
        record_count: z.resource_record_set_count().and_then(|n| u64::try_from(n).ok()),
        linked_service: z.linked_service().and_then(|l| l.service_principal()).map(str::to_owned),
        vpcs: None,
    }
}
