//! EKS: clusters (ListClusters; DescribeCluster for version, status, upgrade policy and Auto
//! Mode; ListNodegroups and ListFargateProfiles for their compute; never Kubernetes objects).
//! For a cluster with none of those, DescribeInstances counts the EC2 instances tagged
//! `kubernetes.io/cluster/<name>` (self-managed and Karpenter nodes), so a cluster with such
//! nodes is not called empty. Clusters are read one after the other: an account has few.

use aws_sdk_ec2::types::Filter;

use crate::scan::ec2::all_pages;
use crate::scan::{time, Calls};
use costradar_core::rules::eks::NODE_TAG_PREFIX;
use costradar_core::rules::facts::EksCluster;

/// The EKS list calls' largest page.
const PAGE: i32 = 100;

pub async fn scan(eks: &aws_sdk_eks::Client, ec2: &aws_sdk_ec2::Client) -> (Option<Vec<EksCluster>>, Calls) {
    let mut calls = Calls::default();
    let Some(names) =
        all_pages!(calls, "eks:ListClusters", eks.list_clusters().max_results(PAGE).into_paginator(), |p| p
            .clusters()
            .to_vec())
    else {
        return (None, calls);
    };
    let mut out = Vec::new();
    for name in names {
        if let Some(c) = cluster(eks, ec2, &name, &mut calls).await {
            out.push(c);
        }
    }
    (Some(out), calls)
}

async fn cluster(
    eks: &aws_sdk_eks::Client,
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    calls: &mut Calls,
) -> Option<EksCluster> {
    let out = calls.record("eks:DescribeCluster", eks.describe_cluster().name(name).send().await)?;
    let c = out.cluster()?;
    let node_groups = all_pages!(
        calls,
        "eks:ListNodegroups",
        eks.list_nodegroups().cluster_name(name).max_results(PAGE).into_paginator(),
        |p| p.nodegroups().to_vec()
    )
    .map(|v| v.len() as u32);
    let fargate_profiles = all_pages!(
        calls,
        "eks:ListFargateProfiles",
        eks.list_fargate_profiles().cluster_name(name).max_results(PAGE).into_paginator(),
        |p| p.fargate_profile_names().to_vec()
    )
    .map(|v| v.len() as u32);
    let auto_mode = c.compute_config().and_then(|x| x.enabled()).unwrap_or(false);
    let tagged_instances = if node_groups == Some(0) && fargate_profiles == Some(0) && !auto_mode {
        tagged_instances(ec2, name, calls).await
    } else {
        None
    };
    Some(EksCluster {
        name: c.name().unwrap_or(name).to_owned(),
        arn: c.arn().map(str::to_owned),
        version: c.version().unwrap_or_default().to_owned(),
        status: c.status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
        created: time(c.created_at()),
        support_type: c.upgrade_policy().and_then(|u| u.support_type()).map(|s| s.as_str().to_owned()),
        tags: c.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        node_groups,
        fargate_profiles,
        auto_mode,
        tagged_instances,
    })
}

/// Instances not terminated that carry the cluster's node tag; `None` when the call failed.
async fn tagged_instances(ec2: &aws_sdk_ec2::Client, name: &str, calls: &mut Calls) -> Option<u32> {
    let states = ["pending", "running", "stopping", "stopped"].map(String::from).to_vec();
    let filters = vec![
        Filter::builder().name("tag-key").values(format!("{NODE_TAG_PREFIX}{name}")).build(),
        Filter::builder().name("instance-state-name").set_values(Some(states)).build(),
    ];
    let counts = all_pages!(
        calls,
        "ec2:DescribeInstances",
        ec2.describe_instances().set_filters(Some(filters)).max_results(1000).into_paginator(),
        |p| p.reservations().iter().map(|r| r.instances().len()).collect::<Vec<_>>()
    )?;
    Some(counts.iter().sum::<usize>() as u32)
}
