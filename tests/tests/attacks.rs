//! The trust model under attack: one place where a customer's security reviewer can read what
//! an attacker who knows a tenant id, its ExternalId, or one member account's token can and
//! cannot make costradar do. Each test is a concrete scenario (docs/security.md lists them).
//!
//! State is DynamoDB on moto. moto's STS does not enforce `sts:ExternalId`, so STS is played by
//! `RoleWorld`: each customer role trusts exactly one ExternalId, and a role that does not exist
//! is refused, as STS refuses it.

use std::sync::Arc;

use costradar_aws::DynamoStore;
use costradar_core::domain::*;
use costradar_core::onboarding::custom_resource::{Outcome, UNVERIFIED_REASON};
use costradar_core::onboarding::Onboarding;
use costradar_core::store::AccountStore;
use costradar_core::testing::{RecordingSender, RoleWorld};
use costradar_tests::{custom_resource_message, fresh_table, item_count};
use serde_json::{json, Value};

const RESPONSE_URL: &str =
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=abc";

struct World {
    svc: Onboarding,
    store: DynamoStore,
    roles: Arc<RoleWorld>,
    sender: RecordingSender,
}

async fn world() -> World {
    let store = fresh_table("attacks").await;
    let roles = Arc::new(RoleWorld::default());
    let mut settings = costradar_core::testing::settings(false);
    settings.verify.budget = std::time::Duration::from_millis(300);
    let svc = Onboarding::new(Arc::new(store.clone()), roles.clone(), Arc::new(SystemClock), settings);
    World { svc, store, roles, sender: RecordingSender::default() }
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/CostradarReadOnly")
}

fn stack(account: &str, id: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:{account}:stack/costradar/{id}")
}

/// A custom-resource message of `kind` (create, update, delete) for `account`, signed with
/// `tenant`'s id and ExternalId, from the stack `stack_id`.
fn message(kind: &str, tenant: &Tenant, account: &str, stack_id: &str, request: &str, edit: Value) -> String {
    custom_resource_message(&format!("onboarding/custom-resource-{kind}.sns.json"), |m| {
        m["ResponseURL"] = RESPONSE_URL.into();
        m["StackId"] = stack_id.into();
        m["RequestId"] = request.into();
        let p = &mut m["ResourceProperties"];
        p["TenantId"] = tenant.id.as_str().into();
        p["ExternalId"] = tenant.external_id.as_str().into();
        p["AccountId"] = account.into();
        p["RoleArn"] = role(account).into();
        if let Value::Object(fields) = edit {
            for (k, v) in fields {
                p[k] = v;
            }
        }
    })
}

/// Items in the table, but for the counters of failed proofs (the verification budget of
/// scenario 5, kept in the tenant's own partition; it says nothing about any account).
async fn items_about_accounts(table: &str) -> usize {
    let items = costradar_tests::items(table).await;
    items.iter().filter(|i| !i["SK"].as_s().unwrap().starts_with("UNPROVED#")).count()
}

impl World {
    async fn send(&self, msg: &str) -> (bool, String) {
        match self.svc.handle_custom_resource(&self.sender, msg).await.unwrap() {
            Outcome::Answered { success, reason } => (success, reason),
            other => panic!("not answered: {other:?}"),
        }
    }

    async fn account(&self, tenant: &Tenant, account: &str) -> Option<Account> {
        self.store.get_account(&tenant.id, &AccountId::parse(account).unwrap()).await.unwrap()
    }

    /// A customer connects `account` to `tenant` through its own stack, as it should.
    async fn onboard(&self, tenant: &Tenant, account: &str, stack_id: &str) -> Account {
        self.onboard_with_token(tenant, account, stack_id).await.0
    }

    /// As `onboard`, with the account's ingest token from the answer (the stack's `!GetAtt
    /// Connection.IngestToken`).
    async fn onboard_with_token(&self, tenant: &Tenant, account: &str, stack_id: &str) -> (Account, String) {
        self.roles.trust(&role(account), tenant.external_id.as_str());
        let request = format!("legit-create-{account}");
        let (ok, why) = self.send(&message("create", tenant, account, stack_id, &request, json!({}))).await;
        assert!(ok, "{why}");
        let answer = self.sender.bodies().pop().unwrap();
        assert_eq!(answer["NoEcho"], true, "CloudFormation masks the token");
        let token = answer["Data"]["IngestToken"].as_str().expect("the answer carries the token").to_owned();
        (self.account(tenant, account).await.unwrap(), token)
    }
}

/// Scenario 1: a customer of tenant A, who knows A's id and ExternalId, publishes a Create for
/// someone else's account X. Nothing is written and no claim is taken before AssumeRole with the
/// ExternalId succeeds, and the answer is the same whether X is free or already connected.
#[tokio::test]
async fn squatting_and_enumeration_through_the_custom_resource_topic() {
    let w = world().await;
    let a = w.svc.create_tenant("Attacker's tenant").await.unwrap().tenant;
    let b = w.svc.create_tenant("Victim's tenant").await.unwrap().tenant;
    let (free, held) = ("444455556666", "777788889999");
    w.onboard(&b, held, &stack(held, "held-stack")).await;
    let items = items_about_accounts(w.store.table()).await;

    // X free: the squat fails and leaves nothing behind, no account, no claim, no request.
    let (ok, free_reason) =
        w.send(&message("create", &a, free, &stack(free, "forged"), "forged-create-1", json!({}))).await;
    assert!(!ok);
    assert_eq!(free_reason, UNVERIFIED_REASON);
    assert_eq!(items_about_accounts(w.store.table()).await, items, "nothing written for an unproved Create");
    assert!(w.account(&a, free).await.is_none());

    // X already connected elsewhere: the very same answer, so the attacker learns nothing.
    let (ok, held_reason) =
        w.send(&message("create", &a, held, &stack(held, "forged"), "forged-create-2", json!({}))).await;
    assert!(!ok);
    assert_eq!(held_reason, free_reason);
    assert_eq!(items_about_accounts(w.store.table()).await, items);

    // X's real owner onboards through tenant B: the squat did not hold X.
    let x = w.onboard(&b, free, &stack(free, "owner-stack")).await;
    assert_eq!(x.status, AccountStatus::Active);

    // Only a caller that proved access to the account is told it is connected elsewhere: the
    // owner of `held`, deploying a second stack for tenant A.
    w.roles.trust(&role(held), a.external_id.as_str());
    let (ok, reason) =
        w.send(&message("create", &a, held, &stack(held, "second-stack"), "proved-create", json!({}))).await;
    assert!(!ok);
    assert!(reason.contains("already connected to another costradar tenant"), "{reason}");
}

/// Scenario 2: anyone who knows tenant A's ExternalId (it is in the quick-create link, the
/// StackSet parameters and CloudTrail) and the payer's predictable role ARN forges Update and
/// Delete. Only the stack that registered the account may change or disconnect it, and new
/// settings take effect only once their role is proved.
#[tokio::test]
async fn forged_update_and_delete_change_nothing() {
    let w = world().await;
    let a = w.svc.create_tenant("Acme").await.unwrap().tenant;
    let payer = "123456789012";
    let real_stack = stack(payer, "5b0a7c80-c8e1-11ef-9c3b-0affd4b5c1e7");
    let before = w.onboard(&a, payer, &real_stack).await;
    assert_eq!(before.status, AccountStatus::Active);
    let forged_stack = stack(payer, "00000000-0000-0000-0000-000000000000");

    // A forged Delete: answered SUCCESS (a Delete never blocks a stack), and nothing happens.
    let (ok, reason) = w.send(&message("delete", &a, payer, &forged_stack, "forged-delete", json!({}))).await;
    assert!(ok);
    assert_eq!(reason, "nothing to disconnect");
    assert_eq!(w.account(&a, payer).await.unwrap(), before);

    // A forged Update that would point the account at a role that does not exist, from another
    // stack: refused with the generic answer; the account stays active with its settings.
    let bad_role = json!({"RoleArn": format!("arn:aws:iam::{payer}:role/DoesNotExist"), "Regions": ["eu-west-1"]});
    let (ok, reason) = w.send(&message("update", &a, payer, &forged_stack, "forged-update-1", bad_role.clone())).await;
    assert!(!ok);
    assert_eq!(reason, UNVERIFIED_REASON);
    assert_eq!(w.account(&a, payer).await.unwrap(), before);

    // A forged Create from another stack, with the real role (which trusts A's ExternalId, so
    // the proof succeeds): the account stays its stack's.
    let (ok, reason) =
        w.send(&message("create", &a, payer, &forged_stack, "forged-create", json!({"Regions": ["ap-south-1"]}))).await;
    assert!(!ok);
    assert!(reason.contains("connected by another costradar stack"), "{reason}");
    assert_eq!(w.account(&a, payer).await.unwrap(), before);

    // Even from the real stack, an Update to a role that cannot be assumed changes nothing: the
    // old, working settings stay until the new role is proved.
    let (ok, reason) = w.send(&message("update", &a, payer, &real_stack, "update-bad-role", bad_role)).await;
    assert!(!ok);
    assert_eq!(reason, UNVERIFIED_REASON);
    let after = w.account(&a, payer).await.unwrap();
    assert_eq!(
        (after.status, &after.role_arn, &after.regions),
        (AccountStatus::Active, &before.role_arn, &before.regions)
    );

    // The real stack's Update and Delete still work.
    let (ok, why) =
        w.send(&message("update", &a, payer, &real_stack, "real-update", json!({"Regions": ["eu-west-1"]}))).await;
    assert!(ok, "{why}");
    assert_eq!(w.account(&a, payer).await.unwrap().regions, vec!["eu-west-1"]);
    let (ok, reason) = w.send(&message("delete", &a, payer, &real_stack, "real-delete", json!({}))).await;
    assert!(ok && reason == "disconnected", "{reason}");
    assert_eq!(w.account(&a, payer).await.unwrap().status, AccountStatus::Disconnected);
}

/// Scenario 6: the ResponseURL is the one thing in the message we call. Only CloudFormation's
/// own response bucket of the stack's region, on that region's S3 endpoint, is ever called: not
/// a look-alike bucket, not an access point or Object Lambda host (which an attacker can create
/// in its own account), not a website endpoint, not another region.
#[tokio::test]
async fn response_urls_outside_cloudformations_own_bucket_are_never_called() {
    let w = world().await;
    let a = w.svc.create_tenant("Acme").await.unwrap().tenant;
    let hostile = [
        "https://cloudformation-custom-resource-response-useast1-444455556666.s3-accesspoint.us-east-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-useast1-444455556666.s3-object-lambda.us-east-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-useast1.s3-website-us-east-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-useast1.s3-website.us-east-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-attacker.s3.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-useast1.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://cloudformation-custom-resource-response-useast1.s3.dualstack.us-east-1.amazonaws.com/x?X-Amz-Signature=a",
        "https://attacker.cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a",
    ];
    for url in hostile {
        let msg = custom_resource_message("onboarding/custom-resource-create.sns.json", |m| {
            m["ResponseURL"] = url.into();
            m["ResourceProperties"]["TenantId"] = a.id.as_str().into();
            m["ResourceProperties"]["ExternalId"] = a.external_id.as_str().into();
        });
        let out = w.svc.handle_custom_resource(&w.sender, &msg).await.unwrap();
        assert!(matches!(out, Outcome::Refused(_)), "{url}: {out:?}");
    }
    // A message without a StackId has no region, so no response bucket either.
    let msg = custom_resource_message("onboarding/custom-resource-create.sns.json", |m| {
        m["ResponseURL"] = RESPONSE_URL.into();
        m.as_object_mut().unwrap().remove("StackId");
    });
    assert!(matches!(w.svc.handle_custom_resource(&w.sender, &msg).await.unwrap(), Outcome::Refused(_)));
    assert!(w.sender.sent.lock().unwrap().is_empty(), "no hostile URL was called");
}

mod receiver {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use costradar_core::domain::event::MAX_IDS_PER_EVENT;
    use costradar_core::receiver::Receiver;
    use costradar_core::store::{EventStore, StoreError};

    pub struct Endpoint {
        pub store: DynamoStore,
        pub receiver: Receiver,
        pub tenant: Tenant,
        pub token: String,
    }

    /// A tenant with account 123456789012 connected, and the receiver over the same table.
    pub async fn endpoint() -> Endpoint {
        let w = world().await;
        let tenant = w.svc.create_tenant("Acme").await.unwrap().tenant;
        let (_, token) = w.onboard_with_token(&tenant, "123456789012", &stack("123456789012", "s")).await;
        let receiver =
            Receiver::new(Arc::new(w.store.clone()), costradar_core::pricing::bundled(), Arc::new(SystemClock));
        Endpoint { store: w.store, receiver, tenant, token }
    }

    impl Endpoint {
        pub async fn post(&self, event: &Value) -> (u16, Value) {
            let path = format!("/events/{}", self.tenant.id);
            let body = event.to_string();
            let r =
                self.receiver.handle("POST", &path, Some(&self.token), Some("application/json"), body.as_bytes()).await;
            (r.status, r.body)
        }

        /// The event as stored and priced (the 200 says only that it was accepted).
        pub async fn stored(&self, event_id: &str) -> Value {
            self.store.get_event(&self.tenant.id, event_id).await.unwrap().expect("stored")
        }
    }

    pub fn cloudtrail(id: &str, event_name: &str, request: Value, response: Value) -> Value {
        json!({
            "version": "0", "id": id, "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
            "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {
                "eventVersion": "1.09", "eventSource": "ec2.amazonaws.com", "eventName": event_name,
                "awsRegion": "us-east-1", "requestParameters": request, "responseElements": response,
                "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/Ops/mallory"}
            }
        })
    }

    fn instances(ids: impl Iterator<Item = String>) -> Value {
        json!({"instancesSet": {"items": ids.map(|i| json!({"instanceId": i})).collect::<Vec<_>>()}})
    }

    use costradar_core::pricing::model::InstanceFacts;

    /// Records which accounts the receiver looked into, and answers every instance with a type.
    #[derive(Default)]
    struct LookedInto(std::sync::Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl costradar_core::receiver::enrich::Enricher for LookedInto {
        async fn instances(
            &self,
            _: &Tenant,
            account: &Account,
            _: &str,
            ids: &[String],
        ) -> Result<std::collections::HashMap<String, InstanceFacts>, costradar_core::receiver::enrich::EnrichError>
        {
            self.0.lock().unwrap().push(account.account_id.to_string());
            Ok(ids.iter().map(|id| (id.clone(), InstanceFacts::of_type("m5.2xlarge"))).collect())
        }

        async fn image_os(
            &self,
            _: &Tenant,
            account: &Account,
            _: &str,
            _: &str,
        ) -> Result<Option<costradar_core::pricing::Os>, costradar_core::receiver::enrich::EnrichError> {
            self.0.lock().unwrap().push(account.account_id.to_string());
            Ok(None)
        }
    }

    /// Scenario 3: a member account's admin reads its own ingest token from its Secrets
    /// Manager. With it, it cannot post events "from" the payer, plant facts the payer's events
    /// are priced with, make the receiver look into another account, or read prices and rates
    /// back from the answer.
    #[tokio::test]
    async fn a_member_token_speaks_for_its_own_account_only() {
        let w = world().await;
        let tenant = w.svc.create_tenant("Org").await.unwrap().tenant;
        let (payer, member) = ("111111111111", "222222222222");
        let (_, payer_token) = w.onboard_with_token(&tenant, payer, &stack(payer, "p")).await;
        let (_, member_token) = w.onboard_with_token(&tenant, member, &stack(member, "m")).await;
        assert_ne!(payer_token, member_token, "one token per account");
        let looked = Arc::new(LookedInto::default());
        let receiver =
            Receiver::new(Arc::new(w.store.clone()), costradar_core::pricing::bundled(), Arc::new(SystemClock))
                .with_enricher(looked.clone());
        let post = |token: &str, account: &str, ev: Value| {
            let mut ev = ev;
            ev["account"] = account.into();
            let (path, token, body) = (format!("/events/{}", tenant.id), token.to_owned(), ev.to_string());
            let receiver = &receiver;
            async move { receiver.handle("POST", &path, Some(&token), Some("application/json"), body.as_bytes()).await }
        };
        let launch = |id: &str, instance_type: &str| {
            let items = json!({"items": [{"instanceId": "i-0000000000000abcd", "instanceType": instance_type}]});
            cloudtrail(id, "RunInstances", json!({"instanceType": instance_type}), json!({"instancesSet": items}))
        };
        let stop = |id: &str| {
            cloudtrail(id, "StopInstances", json!({}), instances(std::iter::once("i-0000000000000abcd".into())))
        };

        // A fake GPU launch "from" the payer, with the member's token: refused like a wrong token.
        let items = item_count(w.store.table()).await;
        let r = post(&member_token, payer, launch("forged", "p4d.24xlarge")).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(item_count(w.store.table()).await, items, "nothing stored, nothing notified");

        // The member teaches the receiver an instance id in its own account...
        let r = post(&member_token, member, launch("m-launch", "p4d.24xlarge")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        // ...and the answer holds no price and no rate.
        assert_eq!(r.body, json!({"status": "accepted", "event_id": "m-launch"}));
        // The payer's stop of an instance with the same id is priced from the payer's own account
        // (looked up there), not from what the member planted.
        let r = post(&payer_token, payer, stop("p-stop")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let priced = w.store.get_event(&tenant.id, "p-stop").await.unwrap().unwrap();
        // m5.2xlarge from the payer's account: 0.384 × 730 = $280.32 saved (not a p4d's $23,924).
        assert_eq!(priced["monthly_cost_usd"], "-280.32", "{priced}");
        // The receiver looked into the payer's account for the payer's event only, and never into
        // an account on the member's behalf.
        assert_eq!(*looked.0.lock().unwrap(), vec![payer.to_owned()]);
        let r = post(&member_token, payer, stop("m-stop-payer")).await;
        assert_eq!(r.status, 401);
        assert_eq!(*looked.0.lock().unwrap(), vec![payer.to_owned()]);
    }

    /// What the receiver's IAM grant allows it to write (infra/template.yaml, `ReceiverRole`:
    /// `dynamodb:LeadingKeys` `TENANT#*`) is all its code writes: events, findings and what it
    /// remembers go to the tenant's data partition, never to the registry that holds tenant and
    /// account records (the token hashes), a claim or the Price List.
    #[tokio::test]
    async fn the_receiver_writes_only_the_tenants_data_partition() {
        let e = endpoint().await;
        let before = table(e.store.table()).await;
        let items = json!({"items": [{"instanceId": "i-0000000000000beef", "instanceType": "p4d.24xlarge"}]});
        for ev in [
            cloudtrail("w1", "RunInstances", json!({"instanceType": "p4d.24xlarge"}), json!({"instancesSet": items})),
            cloudtrail("w2", "StopInstances", json!({}), instances(std::iter::once("i-0000000000000beef".into()))),
            cloudtrail(
                "w3",
                "CreateVolume",
                json!({"volumeType": "gp2", "size": 500}),
                json!({"volumeId": "vol-1", "volumeType": "gp2", "size": 500}),
            ),
        ] {
            let (status, body) = e.post(&ev).await;
            assert_eq!(status, 200, "{body}");
        }
        let after = table(e.store.table()).await;
        let written: Vec<&String> =
            after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| &k.0).collect();
        assert!(written.len() >= 4, "events, a finding and the remembered type: {written:?}");
        // The tenant's data partition or one of its write shards (`keys::shard_pks`), all of
        // them under `TENANT#<id>`.
        let mut partitions = costradar_core::store::keys::shard_pks(&e.tenant.id);
        partitions.push(format!("TENANT#{}", e.tenant.id));
        assert!(written.iter().all(|pk| partitions.contains(pk)), "{written:?}");
    }

    /// Every item of the table, by (PK, SK).
    async fn table(
        name: &str,
    ) -> std::collections::BTreeMap<(String, String), std::collections::HashMap<String, AttributeValue>> {
        costradar_tests::items(name)
            .await
            .into_iter()
            .map(|i| ((i["PK"].as_s().unwrap().clone(), i["SK"].as_s().unwrap().clone()), i))
            .collect()
    }

    /// Scenario 7: ids that would make DynamoDB keys over its limits are a permanent 400 at the
    /// classifier, and a validation error from the store is a 400 too, never a 503 that
    /// EventBridge would retry for a day.
    #[tokio::test]
    async fn oversized_ids_are_permanent_errors() {
        let e = endpoint().await;
        let items = item_count(e.store.table()).await;
        let huge = format!("vol-{}", "a".repeat(2_000));
        let cases = [
            (
                "a 2,000-byte volume id",
                cloudtrail(
                    "a1",
                    "CreateVolume",
                    json!({"volumeType": "io2", "size": 10, "iops": 100}),
                    json!({"volumeId": huge, "volumeType": "io2", "size": 10, "iops": 100}),
                ),
            ),
            (
                "a 2,000-byte instance id",
                cloudtrail(
                    "a2",
                    "StopInstances",
                    json!({}),
                    instances(std::iter::once(format!("i-{}", "0".repeat(2_000)))),
                ),
            ),
            (
                "an instance id with a newline",
                cloudtrail("a3", "StartInstances", json!({}), instances(std::iter::once("i-0abc\n".to_owned()))),
            ),
            (
                "a NAT gateway id with a control character",
                cloudtrail(
                    "a4",
                    "CreateNatGateway",
                    json!({}),
                    json!({"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": "nat-\u{7}"}}}),
                ),
            ),
        ];
        for (name, event) in cases {
            let (status, body) = e.post(&event).await;
            assert_eq!(status, 400, "{name}: {body}");
            let field = body["error"]["field"].as_str().unwrap_or_default();
            assert!(field == "instanceId" || field == "resource id", "{name}: {body}");
        }
        assert_eq!(item_count(e.store.table()).await, items, "nothing stored");

        // The store's own limits: a key over 1,024 bytes is DynamoDB's ValidationException,
        // which the adapter reports as invalid (permanent), not unavailable (transient).
        let long_id = "e".repeat(1_500);
        let r = e.store.record_event(&e.tenant.id, &long_id, &json!({}), None, chrono::Utc::now()).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
    }

    /// Scenario 4, first part: one 256 KB event can name about 10,000 instances. Past the cap
    /// no id is looked up or remembered; the event is still stored, unpriced, with the reason.
    #[tokio::test]
    async fn an_event_naming_thousands_of_instances_is_stored_unpriced() {
        let e = endpoint().await;
        let ids = (0..6_000).map(|n| format!("i-{n:017x}"));
        let event = cloudtrail("b1", "TerminateInstances", json!({}), instances(ids));
        assert!(event.to_string().len() < 256 * 1024);
        let items = item_count(e.store.table()).await;
        let (status, body) = e.post(&event).await;
        assert_eq!(status, 200, "{body}");
        let reason = e.stored("b1").await["unpriced_reason"].as_str().unwrap().to_owned();
        assert!(reason.starts_with("too many resources to price at event time: 6000 instances"), "{reason}");
        assert!(reason.contains(&format!("at most {MAX_IDS_PER_EVENT}")));
        assert_eq!(item_count(e.store.table()).await, items + 1, "the event, and nothing remembered");
        // A launch of that many (with the type in the event) remembers none of them either.
        let ids: Vec<Value> =
            (0..2_000).map(|n| json!({"instanceId": format!("i-{n:017x}"), "instanceType": "t3.micro"})).collect();
        let launch = cloudtrail(
            "b2",
            "RunInstances",
            json!({"instanceType": "t3.micro"}),
            json!({"instancesSet": {"items": ids}}),
        );
        let (status, body) = e.post(&launch).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(item_count(e.store.table()).await, items + 2);
    }
}

/// Scenario 8: money computed from outside data cannot panic. A tenant's crafted CUR can plant
/// any rate, and any number in its line items.
mod money {
    use super::receiver::{cloudtrail, endpoint};
    use super::*;
    use costradar_core::cur::analysis::{analyse, AnalysisOptions};
    use costradar_core::cur::queries::{PeriodRange, YearMonth};
    use costradar_core::pricing::{PriceSource, Rate, RateTable, Sku};
    use costradar_core::store::{RateScope, RateStore};
    use costradar_cur_local::embedded::EmbeddedEngine;
    use rust_decimal::Decimal;

    #[tokio::test]
    async fn absurd_stored_rates_are_passed_over() {
        let e = endpoint().await;
        // Read the stored rates on every event (no warm cache).
        let receiver = costradar_core::receiver::Receiver::new(
            Arc::new(e.store.clone()),
            costradar_core::pricing::bundled(),
            Arc::new(SystemClock),
        )
        .with_cache_ttl(std::time::Duration::ZERO);
        let e = receiver::Endpoint { receiver, ..e };
        for (i, usd) in [Decimal::MAX, Decimal::MIN, Decimal::from(-5), Decimal::from(20_000)].into_iter().enumerate() {
            let mut rates = RateTable::default();
            let sku = Sku::ec2("m5.2xlarge");
            rates.insert("us-east-1", sku, Rate { usd, source: PriceSource::TenantRates, as_of: "2026-11-30".into() });
            e.store.save_rates(RateScope::Tenant(&e.tenant.id), &rates).await.unwrap();
            let items = json!({"items": [{"instanceId": "i-0123456789abcdef0", "instanceType": "m5.2xlarge"}]});
            let event = cloudtrail(
                &format!("money-{i}"),
                "RunInstances",
                json!({"instanceType": "m5.2xlarge"}),
                json!({"instancesSet": items}),
            );
            let (status, body) = e.post(&event).await;
            assert_eq!(status, 200, "{usd}: {body}");
            // The snapshot's $0.384/h, not the planted rate: 0.384 × 730.
            let stored = e.stored(&format!("money-{i}")).await;
            assert_eq!(stored["monthly_cost_usd"], "280.32", "{usd}: {stored}");
            assert_eq!(stored["price_source"], "bundled", "{usd}");
        }
    }

    /// Line items near Decimal's limits (and past DECIMAL(38, 10)'s) give an error or a
    /// result, never a panic.
    #[tokio::test]
    async fn huge_cur_numbers_never_panic() {
        let dir = costradar_tests::scratch(env!("CARGO_TARGET_TMPDIR"), "attack-cur");
        std::fs::create_dir_all(&dir).unwrap();
        let header = "BillingPeriodStart,ChargePeriodStart,ProviderName,SubAccountId,ServiceName,RegionId,ResourceId,ChargeCategory,ChargeDescription,BilledCost,EffectiveCost,ListCost,ConsumedQuantity,PricingCategory";
        let mut outcomes = std::collections::BTreeMap::new();
        for (name, value) in [
            ("7.9e27", "7900000000000000000000000000"),
            ("1e30", "1e30"),
            ("-9e27", "-9000000000000000000000000000"),
            ("tiny", "1e-40"),
        ] {
            let mut csv = format!("{header}\n");
            for day in 1..=28 {
                csv.push_str(&format!("2025-03-01T00:00:00Z,2025-03-{day:02}T00:00:00Z,AWS,111122223333,Amazon EC2,us-east-1,i-1,Usage,x,{value},{value},{value},{value},Standard\n"));
            }
            let path = dir.join(format!("{name}.csv"));
            std::fs::write(&path, csv).unwrap();
            let outcome = match EmbeddedEngine::open_focus(&path).await {
                Err(e) => format!("refused: {e}"),
                Ok(engine) => {
                    let march = YearMonth::parse("2025-03").unwrap();
                    let range = PeriodRange::new(march, march).unwrap();
                    match analyse(&engine, &engine.library(), &range, &AnalysisOptions::default()).await {
                        Ok(a) => {
                            format!(
                                "billed {}",
                                costradar_core::report::build(&a, "focus", Some("1.0")).totals.billed_cost_usd
                            )
                        }
                        Err(e) => format!("refused: {e}"),
                    }
                }
            };
            outcomes.insert(name, outcome);
        }
        // Sums past Decimal's range and values past DECIMAL(38, 10) are refused with the reason.
        for name in ["7.9e27", "-9e27"] {
            assert!(outcomes[name].contains("out of range"), "{name}: {}", outcomes[name]);
        }
        assert!(outcomes["1e30"].contains("Cannot cast to Decimal128(38, 10)"), "{}", outcomes["1e30"]);
        assert_eq!(outcomes["tiny"], "billed 0.00");
    }
}

/// Scenario 9: the token lifecycle. A second rotation inside the overlap never drops the token
/// that customers still have deployed, and `revoke-token` stops the previous tokens at once.
#[tokio::test]
async fn token_rotation_is_idempotent_and_revocation_is_immediate() {
    let e = receiver::endpoint().await;
    let w = world().await;
    let svc = Onboarding::new(
        Arc::new(e.store.clone()),
        w.roles.clone(),
        Arc::new(SystemClock),
        costradar_core::testing::settings(false),
    );
    let receiver = costradar_core::receiver::Receiver::new(
        Arc::new(e.store.clone()),
        costradar_core::pricing::bundled(),
        Arc::new(SystemClock),
    )
    .with_cache_ttl(std::time::Duration::ZERO);
    let n = std::sync::atomic::AtomicUsize::new(0);
    let accepted = |token: &str| {
        let id = format!("tok-{}", n.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
        let event = receiver::cloudtrail(&id, "DescribeInstances", json!({}), json!({}));
        let (path, body) = (format!("/events/{}", e.tenant.id), event.to_string());
        let token = token.to_owned();
        let receiver = &receiver;
        async move {
            let r = receiver.handle("POST", &path, Some(&token), Some("application/json"), body.as_bytes()).await;
            r.status == 200
        }
    };
    let deployed = e.token.clone();
    let account = AccountId::parse("123456789012").unwrap();
    let first = svc.rotate_token(&e.tenant.id, &account).await.unwrap();
    let second = svc.rotate_token(&e.tenant.id, &account).await.unwrap();
    assert_eq!(second.previous_expires_at, first.previous_expires_at, "the deployed token keeps its deadline");
    assert!(accepted(&deployed).await, "the deployed token still works inside the overlap");
    assert!(accepted(second.ingest_token.expose()).await);
    assert!(!accepted(first.ingest_token.expose()).await, "the pending token the second rotation replaced");

    assert_eq!(svc.revoke_previous_tokens(&e.tenant.id, &account).await.unwrap(), 1);
    assert!(!accepted(&deployed).await, "revoked at once");
    assert!(accepted(second.ingest_token.expose()).await, "the newest token still works");
    assert_eq!(svc.revoke_previous_tokens(&e.tenant.id, &account).await.unwrap(), 0, "nothing left to revoke");
}

/// A member account names its resources: that text reaches the tenant's Slack channel. It
/// cannot mention `@channel` or hide a link there; and the webhook URL, a secret of the
/// tenant's, never shows in debug output.
#[tokio::test]
async fn event_text_cannot_inject_slack_markup_and_debug_output_hides_the_webhook() {
    let e = receiver::endpoint().await;
    let mut tenant = e.tenant.clone();
    tenant.notify_webhook_url = Some("https://hooks.slack.com/services/T000/B000/secret-path".into());
    let debug = format!("{tenant:?}");
    assert!(!debug.contains("secret-path") && debug.contains("<redacted>"), "{debug}");

    let hostile = "<!channel> <https://evil.example/login|Reset your AWS password> & more";
    let title = format!("NAT gateway {hostile} created");
    let open = costradar_core::domain::finding::Finding::open;
    let finding = costradar_core::domain::finding::Finding {
        actor: Some(format!("arn:aws:sts::123456789012:assumed-role/{hostile}")),
        ..open(
            tenant.id.clone(),
            costradar_core::domain::AccountId::parse("123456789012").unwrap(),
            "us-east-1",
            "realtime.cost-increase",
            "nat-1",
            title,
            chrono::Utc::now(),
        )
    };
    let text = costradar_core::receiver::notify::payload(&tenant, &finding)["text"].as_str().unwrap().to_owned();
    assert!(!text.contains('<') && !text.contains('>'), "{text}");
    assert!(text.contains("&lt;!channel&gt;") && text.contains("&amp; more"), "{text}");
}

/// Scenario 4, the rest: random well-formed tenant ids cost a store read each, but they are
/// remembered apart from the real tenants and cannot flush them; and one tenant's flood meets a
/// per-tenant token bucket that answers 429, which EventBridge retries.
#[tokio::test]
async fn unknown_tenants_and_floods_are_bounded() {
    let e = receiver::endpoint().await;
    let receiver = costradar_core::receiver::Receiver::new(
        Arc::new(e.store.clone()),
        costradar_core::pricing::bundled(),
        Arc::new(SystemClock),
    )
    .with_rate_limit(5.0, 10.0)
    // Longer than the flood takes on moto (about 40 s): what is measured is the eviction.
    .with_cache_ttl(std::time::Duration::from_secs(3600));
    let send = |tenant: String, id: String| {
        let receiver = &receiver;
        let token = e.token.clone();
        async move {
            let body = receiver::cloudtrail(&id, "DescribeInstances", json!({}), json!({})).to_string();
            let path = format!("/events/{tenant}");
            receiver.handle("POST", &path, Some(&token), Some("application/json"), body.as_bytes()).await.status
        }
    };
    let tenant = e.tenant.id.to_string();
    assert_eq!(send(tenant.clone(), "warm".into()).await, 200);
    // 12,000 random tenant ids: more than the caches hold. Each is a 401.
    for _ in 0..12_000 {
        assert_eq!(send(TenantId::generate().to_string(), "x".into()).await, 401);
    }
    // The real tenant is still cached: its next event needs no tenant read. Seen from the
    // store: delete the tenant record behind the receiver's back, and the cached answer holds.
    let client = aws_sdk_dynamodb::Client::new(&costradar_tests::sdk_config().await);
    client
        .delete_item()
        .table_name(e.store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("REGISTRY#{tenant}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("META".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(send(tenant.clone(), "after-flood".into()).await, 200, "the flood did not flush the real tenant");

    // The token bucket: a burst of 10, then 429 until it refills.
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for n in 0..30 {
            v.push(send(tenant.clone(), format!("burst-{n}")).await);
        }
        v
    };
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 11, "{statuses:?}");
}

/// Scenario 5, first part: a forged message whose ResponseURL fails on purpose is answered once
/// and never retried, so it cannot fill the delivery dead-letter queue whose alarm would bury
/// the real stuck stacks. A proved request's answer is still retried.
#[tokio::test]
async fn unproved_messages_are_answered_once_and_never_retried() {
    struct Failing;
    #[async_trait::async_trait]
    impl costradar_core::onboarding::custom_resource::ResponseSender for Failing {
        async fn put(&self, _: &url::Url, _: &str) -> Result<(), String> {
            Err("the response URL answered 403 Forbidden".into())
        }
    }
    let w = world().await;
    let a = w.svc.create_tenant("Acme").await.unwrap().tenant;
    let mut wrong = a.clone();
    wrong.external_id = ExternalId::generate();
    let payer = "123456789012";
    let cases = [
        ("a wrong ExternalId", message("create", &wrong, payer, &stack(payer, "s"), "r1", json!({}))),
        ("a role that cannot be assumed", message("create", &a, payer, &stack(payer, "s"), "r2", json!({}))),
        ("a forged Update", message("update", &a, payer, &stack(payer, "s"), "r3", json!({}))),
        ("a forged Delete", message("delete", &a, payer, &stack(payer, "s"), "r4", json!({}))),
    ];
    for (name, msg) in cases {
        let out = w.svc.handle_custom_resource(&Failing, &msg).await;
        assert!(matches!(out, Ok(Outcome::Undelivered(_))), "{name}: {out:?}");
    }
    // Proved: the role exists and trusts the ExternalId. Its answer is worth SNS's retry.
    w.roles.trust(&role(payer), a.external_id.as_str());
    let msg = message("create", &a, payer, &stack(payer, "s"), "r5", json!({}));
    assert!(w.svc.handle_custom_resource(&Failing, &msg).await.is_err(), "retried");
}

/// Scenario 5, second part: each forged Create with a valid tenant and ExternalId held an
/// onboarding execution for up to the verification budget. A tenant gets at most
/// `UNPROVED_PER_TENANT_HOUR` failed proofs an hour; past that, Creates and Updates are refused
/// at once, with no AssumeRole.
#[tokio::test]
async fn failed_proofs_are_bounded_per_tenant() {
    use costradar_core::onboarding::custom_resource::{BUDGET_SPENT_REASON, UNPROVED_PER_TENANT_HOUR};
    use std::sync::atomic::Ordering;
    let w = world().await;
    let a = w.svc.create_tenant("Target").await.unwrap().tenant;
    let b = w.svc.create_tenant("Bystander").await.unwrap().tenant;
    for n in 0..UNPROVED_PER_TENANT_HOUR {
        let account = format!("{:012}", 500_000_000_000u64 + u64::from(n));
        let (ok, reason) =
            w.send(&message("create", &a, &account, &stack(&account, "f"), &format!("f{n}"), json!({}))).await;
        assert!(!ok && reason == UNVERIFIED_REASON, "{reason}");
    }
    let assumes = w.roles.assumes.load(Ordering::SeqCst);
    let (ok, reason) =
        w.send(&message("create", &a, "599999999999", &stack("599999999999", "f"), "over", json!({}))).await;
    assert!(!ok);
    assert_eq!(reason, BUDGET_SPENT_REASON);
    assert_eq!(w.roles.assumes.load(Ordering::SeqCst), assumes, "refused without an AssumeRole");
    // Another tenant's budget is its own.
    let x = w.onboard(&b, "444455556666", &stack("444455556666", "s")).await;
    assert_eq!(x.status, AccountStatus::Active);
}
