//! Demo data for the local console (`costradar console serve --demo-data`): two tenants in the
//! in-memory store, written through the store ports as the scan and the receiver write them.
//! Real-time findings come from four of `events/receiver/`'s fixtures, priced by the receiver's
//! own code with the bundled price book; scan findings carry the rules' ids, evidence and fix
//! commands; one finding is resolved by a complete scan, so the ledger has a realised saving.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::domain::account::{AccountStatus, Registration};
use crate::domain::event::classify;
use crate::domain::finding::Finding;
use crate::domain::scan_run::{AccountRun, ActionError, RegionRun, RunRecord, ScanStatus};
use crate::domain::{Account, AccountId, ExternalId, RoleArn, Tenant, TenantId};
use crate::pricing::{bundled, PriceBook};
use crate::receiver::price::{parse_envelope, price_classified};
use crate::rules::{ebs, ec2, eip, logs, nat, snapshots};
use crate::store::{
    AccountStore, Claim, EventStore, FindingStore, MemoryStore, ResolveScope, RunStore, StoreError, TenantStore,
};

/// The demo's tenants: (id, name, AWS account, regions).
pub const TENANTS: [(&str, &str, &str, &[&str]); 2] = [
    ("t-acmeanalytics001", "Acme Analytics", "123456789012", &["us-east-1", "eu-west-1"]),
    ("t-globexlogistics1", "Globex Logistics", "210987654321", &["eu-central-1"]),
];

const EVENTS: [&[u8]; 4] = [
    include_bytes!("../../../../events/receiver/ec2-run-instances-gpu.json"),
    include_bytes!("../../../../events/receiver/ebs-create-volume-io2.json"),
    include_bytes!("../../../../events/receiver/ec2-create-nat-gateway.json"),
    include_bytes!("../../../../events/receiver/rds-create-db-instance.json"),
];

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("a literal amount")
}

/// One scan finding: (rule, region, resource, title, monthly cost, monthly saving, evidence, fix).
type Spec<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a [&'a str], &'a str);

fn scan_finding(tenant: &TenantId, account: &AccountId, s: &Spec<'_>, seen: DateTime<Utc>) -> Finding {
    let (rule, region, resource, title, cost, saving, evidence, fix) = *s;
    Finding {
        evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
        monthly_cost_usd: Some(d(cost)),
        monthly_savings_usd: Some(d(saving)),
        price_source: Some("snapshot".into()),
        fix_command: Some(fix.replace("{region}", region)),
        ..Finding::open(tenant.clone(), account.clone(), region, rule, resource, title, seen)
    }
}

const ACME: &[Spec<'static>] = &[
    (nat::IDLE, "us-east-1", "nat-0f3c9a1b2d4e5f601", "NAT gateway idle for 14 days", "32.85", "32.85", &["0 bytes processed in 14 days", "hourly charge $0.045 × 730"], "aws ec2 delete-nat-gateway --nat-gateway-id nat-0f3c9a1b2d4e5f601 --region {region}"),
    (ebs::UNATTACHED, "us-east-1", "vol-0a1b2c3d4e5f60001", "Unattached gp2 volume, 2,000 GiB", "200.00", "200.00", &["unattached since 41 days", "gp2 at $0.10 per GiB-month"], "aws ec2 create-snapshot --volume-id vol-0a1b2c3d4e5f60001 --region {region} && aws ec2 delete-volume --volume-id vol-0a1b2c3d4e5f60001 --region {region}"),
    (ebs::GP2_TO_GP3, "eu-west-1", "vol-0c0ffee000000beef", "gp2 volume that would cost 20% less as gp3", "110.00", "22.00", &["1,000 GiB gp2 at $0.11", "gp3 at $0.088, same baseline IOPS"], "aws ec2 modify-volume --volume-id vol-0c0ffee000000beef --volume-type gp3 --region {region}"),
    (ec2::PREVIOUS_GENERATION, "eu-west-1", "i-0123456789abcdef0", "m4.2xlarge is a previous generation: m7i.2xlarge", "350.40", "45.99", &["m4.2xlarge Linux on demand $0.48/h", "m7i.2xlarge $0.417/h"], "aws ec2 stop-instances --instance-ids i-0123456789abcdef0 --region {region} && aws ec2 modify-instance-attribute --instance-id i-0123456789abcdef0 --instance-type m7i.2xlarge --region {region}"),
    (eip::UNASSOCIATED, "us-east-1", "eipalloc-0a1b2c3d4e5f6a7b8", "Elastic IP not associated with anything", "3.65", "3.65", &["public IPv4 at $0.005/h"], "aws ec2 release-address --allocation-id eipalloc-0a1b2c3d4e5f6a7b8 --region {region}"),
    (logs::NEVER_EXPIRE, "us-east-1", "/aws/lambda/orders-api", "Log group keeps everything forever (1,240 GB)", "37.20", "24.80", &["1,240 GB stored at $0.03 per GB-month", "a 30-day retention keeps about 413 GB"], "aws logs put-retention-policy --log-group-name /aws/lambda/orders-api --retention-in-days 30 --region {region}"),
    (snapshots::ORPHANED, "eu-west-1", "snap-0deadbeef00000001", "Snapshot of a deleted volume, 500 GiB", "25.00", "25.00", &["source volume vol-0aaaa00000000dead no longer exists"], "aws ec2 delete-snapshot --snapshot-id snap-0deadbeef00000001 --region {region}"),
    (ec2::STOPPED, "us-east-1", "i-0fedcba9876543210", "Instance stopped for 63 days, 3 volumes still billed", "48.00", "48.00", &["stopped since 63 days", "3 gp3 volumes, 600 GiB"], "aws ec2 terminate-instances --instance-ids i-0fedcba9876543210 --region {region}"),
];

const GLOBEX: &[Spec<'static>] = &[
    (
        ebs::UNATTACHED,
        "eu-central-1",
        "vol-09000000000000b10",
        "Unattached io2 volume, 500 GiB, 16,000 IOPS",
        "1125.00",
        "1125.00",
        &["io2 at $0.149 per GiB-month and $0.078 per IOPS-month"],
        "aws ec2 delete-volume --volume-id vol-09000000000000b10 --region {region}",
    ),
    (
        nat::IDLE,
        "eu-central-1",
        "nat-0b10be0000000001",
        "NAT gateway idle for 30 days",
        "37.96",
        "37.96",
        &["0 bytes processed in 30 days"],
        "aws ec2 delete-nat-gateway --nat-gateway-id nat-0b10be0000000001 --region {region}",
    ),
];

async fn tenant_and_account(
    store: &MemoryStore,
    (id, name, account, regions): (&str, &str, &str, &[&str]),
    now: DateTime<Utc>,
) -> Result<(TenantId, AccountId), StoreError> {
    let id = TenantId::parse(id).expect("a demo tenant id");
    let mut t = Tenant::new(id.clone(), name.into(), ExternalId::generate(), now - Duration::days(90));
    store.save_tenant(&mut t).await?;
    let arn = RoleArn::parse(&format!("arn:aws:iam::{account}:role/CostradarReadOnly")).expect("a demo role");
    let regions = regions.iter().map(|r| (*r).to_owned()).collect();
    let mut a = Account::new_pending(id.clone(), arn, regions, None, Registration::Manual, now - Duration::days(90));
    a.transition(AccountStatus::Active, "role verified with the ExternalId", now - Duration::days(90))
        .expect("pending becomes active");
    a.last_verified_at = Some(now - Duration::hours(3));
    store.save_account(&mut a, Claim::Acquire).await?;
    Ok((id, a.account_id))
}

/// The receiver's path for one fixture: priced with the bundled book, stored with its finding.
async fn event(store: &MemoryStore, tenant: &TenantId, body: &[u8], at: DateTime<Utc>) -> Result<(), StoreError> {
    let Ok(ev) = parse_envelope(body).and_then(|e| classify(&e)) else { return Ok(()) };
    let book = PriceBook::bundled_only(bundled());
    let priced = price_classified(&ev, &book, &Default::default(), Decimal::from(100));
    let finding = priced.stored_finding(&ev, tenant, at);
    let mut stored = serde_json::to_value(&priced).expect("a priced event serialises");
    stored["received_at"] = json!(at);
    store.record_event(tenant, &ev.id, &stored, finding.as_ref(), at + Duration::days(90)).await?;
    Ok(())
}

fn run(tenant: &TenantId, account: &AccountId, regions: &[&str], opened: u32, at: DateTime<Utc>) -> RunRecord {
    let regions = regions
        .iter()
        .enumerate()
        .map(|(i, r)| RegionRun {
            region: (*r).to_owned(),
            status: if i == 1 { ScanStatus::Partial } else { ScanStatus::Complete },
            api_calls: 41,
            errors: if i == 1 {
                vec![ActionError {
                    action: "rds:DescribeDBInstances".into(),
                    code: "AccessDenied".into(),
                    message: "not authorized".into(),
                }]
            } else {
                Vec::new()
            },
            duration_ms: 2_400,
            findings_opened: if i == 0 { opened } else { 0 },
            findings_resolved: 0,
        })
        .collect::<Vec<_>>();
    let status = AccountRun::status_of(&regions);
    let account_run = AccountRun {
        tenant_id: tenant.clone(),
        account_id: account.clone(),
        status,
        regions,
        findings_opened: opened,
        findings_resolved: 1,
        error: None,
        cur: None,
        notes: vec![],
    };
    RunRecord::new(&format!("demo-{}", at.format("%Y%m%dT%H%M%S")), tenant, vec![account_run], at)
}

/// Writes the demo's tenants, accounts, findings, events and runs; returns the tenants.
pub async fn seed(store: &MemoryStore, now: DateTime<Utc>) -> Result<Vec<TenantId>, StoreError> {
    let mut out = Vec::new();
    for (spec, findings) in TENANTS.iter().zip([ACME, GLOBEX]) {
        let (tenant, account) = tenant_and_account(store, *spec, now).await?;
        // One volume a scan saw two days ago and not since: the complete scan resolves it, and
        // the ledger records its saving as realised.
        let gone: Spec<'_> = (
            ebs::UNATTACHED,
            spec.3[0],
            "vol-0feedface00000001",
            "Unattached gp3 volume, 300 GiB",
            "24.00",
            "24.00",
            &["deleted by the customer after this finding"],
            "aws ec2 delete-volume --volume-id vol-0feedface00000001 --region {region}",
        );
        store.upsert_findings(&tenant, &[scan_finding(&tenant, &account, &gone, now - Duration::days(2))]).await?;
        let scope = ResolveScope {
            account_id: &account,
            region: spec.3[0],
            rule_prefixes: &["ebs."],
            seen_before: now - Duration::days(1),
        };
        store.resolve_unseen(&tenant, &scope, now - Duration::hours(20)).await?;
        let list: Vec<Finding> = findings
            .iter()
            .enumerate()
            .map(|(i, s)| scan_finding(&tenant, &account, s, now - Duration::hours(6 + 13 * i as i64)))
            .collect();
        store.upsert_findings(&tenant, &list).await?;
        if out.is_empty() {
            for (i, body) in EVENTS.iter().enumerate() {
                event(store, &tenant, body, now - Duration::minutes(5 + 47 * i as i64)).await?;
            }
        }
        let last = run(&tenant, &account, spec.3, list.len() as u32, now - Duration::hours(6));
        store.save_run(&tenant, &last, now + Duration::days(30)).await?;
        out.push(tenant);
    }
    Ok(out)
}
