//! OpenSearch Service: domains (ListDomainNames, then DescribeDomains five names at a time, the
//! API's limit: node types and counts, EBS storage, processing state; never indexes). Their
//! requests come from CloudWatch (`scan::analytics::metric_queries`). A failed DescribeDomains
//! batch is recorded and the other batches' domains are kept.

use crate::scan::Calls;
use costradar_core::rules::facts::{DomainStorage, SearchDomain};

/// DescribeDomains takes at most five names.
pub const DESCRIBE_BATCH: usize = 5;

pub async fn scan(c: &aws_sdk_opensearch::Client) -> (Option<Vec<SearchDomain>>, Calls) {
    let mut calls = Calls::default();
    let Some(list) = calls.record("es:ListDomainNames", c.list_domain_names().send().await) else {
        return (None, calls);
    };
    let names: Vec<String> = list.domain_names().iter().filter_map(|d| d.domain_name().map(str::to_owned)).collect();
    let mut out = Vec::new();
    for chunk in names.chunks(DESCRIBE_BATCH) {
        let r = c.describe_domains().set_domain_names(Some(chunk.to_vec())).send().await;
        if let Some(page) = calls.record("es:DescribeDomains", r) {
            out.extend(page.domain_status_list().iter().filter_map(domain));
        }
    }
    (Some(out), calls)
}

fn count(n: Option<i32>) -> u32 {
    n.and_then(|x| u32::try_from(x).ok()).unwrap_or(0)
}

pub fn domain(d: &aws_sdk_opensearch::types::DomainStatus) -> Option<SearchDomain> {
    let cc = d.cluster_config()?;
    if d.arn().is_empty() {
        return None;
    }
    let master = cc.dedicated_master_enabled().unwrap_or(false);
    let warm = cc.warm_enabled().unwrap_or(false);
    let storage = d.ebs_options().filter(|e| e.ebs_enabled().unwrap_or(false)).and_then(|e| {
        Some(DomainStorage {
            volume_type: e.volume_type()?.as_str().to_owned(),
            size_gib: u32::try_from(e.volume_size()?).ok()?,
        })
    });
    Some(SearchDomain {
        name: d.domain_name().to_owned(),
        arn: d.arn().to_owned(),
        engine_version: d.engine_version().unwrap_or_default().to_owned(),
        processing: d.processing().unwrap_or(false)
            || d.upgrade_processing().unwrap_or(false)
            || d.created() == Some(false),
        deleted: d.deleted().unwrap_or(false),
        instance_type: cc.instance_type()?.as_str().to_owned(),
        instance_count: count(cc.instance_count()),
        master_type: cc.dedicated_master_type().filter(|_| master).map(|t| t.as_str().to_owned()),
        master_count: if master { count(cc.dedicated_master_count()) } else { 0 },
        warm_type: cc.warm_type().filter(|_| warm).map(|t| t.as_str().to_owned()),
        warm_count: if warm { count(cc.warm_count()) } else { 0 },
        storage,
        searches: None,
        indexing: None,
    })
}
