//! ECR: private repositories (DescribeRepositories), whether each has a lifecycle policy
//! (GetLifecyclePolicy; `LifecyclePolicyNotFoundException` means none), and for those without
//! one, their images' tags, sizes, media types and push dates (DescribeImages, every image:
//! the untagged ones are counted, a multi-architecture image index is noted). Never a layer.

use aws_sdk_ecr::types::ImageDetail;
use aws_sdk_ecr::Client;

use super::super::ec2::all_pages;
use super::super::{time, Calls};
use super::{answer, each, Answer};
use costradar_core::rules::facts::{ContainerImage, Repository};

/// The media types of a multi-architecture image index (manifest list).
pub const INDEX_MEDIA_TYPES: &[&str] =
    &["application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json"];

pub async fn scan(c: &Client) -> (Option<Vec<Repository>>, Calls) {
    let mut calls = Calls::default();
    let listed = all_pages!(
        calls,
        "ecr:DescribeRepositories",
        c.describe_repositories().max_results(1000).into_paginator(),
        |p| p
            .repositories()
            .iter()
            .filter_map(|r| {
                Some(Repository {
                    name: r.repository_name()?.to_owned(),
                    arn: r.repository_arn()?.to_owned(),
                    created: time(r.created_at()),
                    has_lifecycle_policy: false,
                    untagged: vec![],
                    holds_image_index: false,
                })
            })
            .collect::<Vec<_>>()
    );
    let Some(list) = listed else { return (None, calls) };
    let found = each(list, |r| {
        let c = c.clone();
        async move { repository(&c, r).await }
    })
    .await;
    let mut out = Vec::new();
    for (r, cl) in found {
        calls.merge(cl);
        out.extend(r);
    }
    (Some(out), calls)
}

async fn repository(c: &Client, mut r: Repository) -> (Option<Repository>, Calls) {
    let mut calls = Calls::default();
    let policy = c.get_lifecycle_policy().repository_name(&r.name).send().await;
    let absent = ["LifecyclePolicyNotFoundException"];
    match answer(&mut calls, "ecr:GetLifecyclePolicy", policy, &absent) {
        Answer::Got(_) => {
            r.has_lifecycle_policy = true;
            return (Some(r), calls);
        }
        Answer::Absent => {}
        // Deleted meanwhile (RepositoryNotFoundException) or unreadable: left out.
        Answer::Failed => return (None, calls),
    }
    let images = all_pages!(
        calls,
        "ecr:DescribeImages",
        c.describe_images().repository_name(&r.name).max_results(1000).into_paginator(),
        |p| p.image_details().to_vec()
    );
    let Some(images) = images else { return (None, calls) };
    r.holds_image_index = images.iter().any(is_index);
    r.untagged = images.iter().filter_map(untagged).collect();
    (Some(r), calls)
}

fn is_index(i: &ImageDetail) -> bool {
    i.image_manifest_media_type().is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m))
}

/// An untagged image that is not a referrer (a signature or SBOM attached to another image).
fn untagged(i: &ImageDetail) -> Option<ContainerImage> {
    if !i.image_tags().is_empty() || i.subject_manifest_digest().is_some() {
        return None;
    }
    Some(ContainerImage {
        digest: i.image_digest()?.to_owned(),
        size_bytes: i.image_size_in_bytes().unwrap_or(0).max(0) as u64,
        pushed: time(i.image_pushed_at()),
    })
}
