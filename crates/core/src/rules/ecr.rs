//! ECR private repositories. GiB = bytes / 2^30.
//!
//! - `ecr.untagged-images`: a repository with no lifecycle policy that holds untagged images
//!   pushed more than `ecr_untagged_days` ago (referrers, such as signatures attached to an
//!   image, are not counted). Saving ≤ Σ their `imageSizeInBytes` GiB × $/GB-month of ECR
//!   storage: an upper bound, as ECR stores a layer once for every image that shares it.
//!   A repository holding a multi-architecture image index is left alone: its platform images
//!   are untagged and expiring them would break the tagged index.

use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft};
use super::facts::{ContainerImage, RegionInventory, Repository};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const UNTAGGED_IMAGES: &str = "ecr.untagged-images";

const GIB: u64 = 1024 * 1024 * 1024;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for r in &inv.repositories {
        untagged(ctx, inv, r, out);
    }
}

/// The lifecycle policy the fix puts: expire untagged images `days` after their push.
pub fn policy(days: u32) -> String {
    format!(
        r#"{{"rules":[{{"rulePriority":1,"description":"Expire untagged images after {days} days","selection":{{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":{days}}},"action":{{"type":"expire"}}}}]}}"#
    )
}

fn untagged(ctx: &Ctx<'_>, inv: &RegionInventory, r: &Repository, out: &mut Vec<Draft>) {
    if r.has_lifecycle_policy || r.holds_image_index {
        return;
    }
    let days = ctx.settings.ecr_untagged_days;
    let old: Vec<&ContainerImage> =
        r.untagged.iter().filter(|i| i.pushed.is_some_and(|t| ctx.at_least(t, days))).collect();
    if old.is_empty() {
        return;
    }
    let bytes: u64 = old.iter().map(|i| i.size_bytes).sum();
    let gib = Decimal::from(bytes) / Decimal::from(GIB);
    let mut d = Draft::new(
        UNTAGGED_IMAGES,
        r.arn.clone(),
        Some(r.arn.clone()),
        &inv.region,
        format!("repository {} keeps {} untagged images and has no lifecycle policy", r.name, old.len()),
    );
    d.evidence.push(format!(
        "no lifecycle policy (GetLifecyclePolicy: LifecyclePolicyNotFoundException); DescribeImages: {} untagged images pushed more than {days} days ago, {bytes} bytes = {} GiB (imageSizeInBytes)",
        old.len(),
        gib.round_dp(3)
    ));
    d.evidence.push("an upper bound: ECR stores a layer once for all the images that share it".into());
    let mut p = ctx.pricer(&inv.region);
    match p.rate(&Sku::EcrStorage) {
        Some(rate) => {
            let m = gib * rate;
            d.evidence.push(format!("≤ {} GiB × ${rate}/GB-month = ${}", gib.round_dp(3), usd(m)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(m);
            d.monthly_savings_usd = Some(m);
            d.price_source = p.source();
        }
        None => d.evidence.push("ECR storage is not in the price book: no amount".into()),
    }
    d.confidence = Confidence::Medium;
    d.fix_command = aws_cli(
        "ecr",
        "put-lifecycle-policy",
        &[("--repository-name", &r.name), ("--lifecycle-policy-text", &policy(days))],
        &inv.region,
    );
    d.alternative = Some("preview it first: aws ecr start-lifecycle-policy-preview".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn image(digest: &str, mib: u64, days_ago: i64) -> ContainerImage {
        ContainerImage {
            digest: digest.into(),
            size_bytes: mib * 1024 * 1024,
            pushed: Some(now() - Duration::days(days_ago)),
        }
    }

    fn repo(name: &str, untagged: Vec<ContainerImage>) -> Repository {
        Repository {
            name: name.into(),
            arn: format!("arn:aws:ecr:us-east-1:123456789012:repository/{name}"),
            created: Some(now() - Duration::days(300)),
            has_lifecycle_policy: false,
            untagged,
            holds_image_index: false,
        }
    }

    fn run(list: Vec<Repository>) -> Vec<Draft> {
        let mut inv = RegionInventory::new("us-east-1");
        inv.repositories = list;
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn old_untagged_images_without_a_policy_are_an_upper_bound() {
        let r = repo("api", vec![image("sha256:a", 3072, 40), image("sha256:b", 2048, 20), image("sha256:c", 512, 2)]);
        let d = only(run(vec![r]), UNTAGGED_IMAGES);
        // (3072 + 2048) MiB = 5 GiB × $0.10; the 2-day-old image is not counted.
        assert_eq!(d.monthly_savings_usd, Some(dec("0.5")));
        assert!(d.title.contains("2 untagged images"));
        assert!(d.evidence.iter().any(|e| e.contains("upper bound")));
        assert_eq!(
            d.fix_command,
            r#"aws ecr put-lifecycle-policy --repository-name api --lifecycle-policy-text '{"rules":[{"rulePriority":1,"description":"Expire untagged images after 14 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}' --region us-east-1"#
        );
    }

    #[test]
    fn a_policy_an_image_index_or_only_young_images_keep_a_repository_out() {
        let mut with_policy = repo("a", vec![image("sha256:a", 100, 90)]);
        with_policy.has_lifecycle_policy = true;
        let mut multi_arch = repo("b", vec![image("sha256:b", 100, 90)]);
        multi_arch.holds_image_index = true;
        let young = repo("c", vec![image("sha256:c", 100, 3)]);
        let empty = repo("d", vec![]);
        assert!(run(vec![with_policy, multi_arch, young, empty]).is_empty());
    }
}
