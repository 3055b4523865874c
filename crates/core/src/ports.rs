//! Every port of the core, in one list: the traits through which the use cases reach the
//! outside world. Each is defined beside the use case that needs it (where its types live);
//! this module is the index. A port's production adapter is in `costradar-aws` or
//! `costradar-cur-local`; its test double is named beside it.
//!
//! | port | what it does | production adapter | in tests |
//! |---|---|---|---|
//! | [`TenantStore`], [`AccountStore`], [`RequestLedger`], [`EventStore`], [`NotificationOutbox`], [`RateStore`], [`FindingStore`], [`ObservationStore`], [`RunStore`], [`TriageStore`], [`DigestLedger`] | state, one trait per kind of item ([`TriageStore`]: findings as people browse and change them, the savings ledger; [`DigestLedger`]: the digest's once-per-period markers) | `costradar_aws::DynamoStore` | [`crate::store::MemoryStore`] (the store contract runs both) |
//! | [`RoleAssumer`] | a session in a customer account (ExternalId, session policy) | `costradar_aws::StsRoleAssumer` | `testing::{FakeAssumer, RoleWorld}` |
//! | [`SessionOpener`], [`AccountSession`] | what a scan reads in one account | `costradar_aws::scan` | fakes in the scan tests |
//! | [`QueryEngine`] | a CUR query run to completion | `costradar_aws::athena::AthenaEngine`, `costradar_cur_local::embedded::EmbeddedEngine` | the embedded engine on generated data |
//! | [`QueryExecutions`], [`AthenaConnector`] | CUR queries one step at a time, in a customer's workgroup | `costradar_aws::athena` | aws-smithy-mocks |
//! | [`Enricher`] | facts an event lacks (an instance's type) | `costradar_aws::enrich::Ec2Enricher` | [`crate::receiver::enrich::NoEnrichment`] |
//! | [`Notifier`] | a finding or a tenant's digest to SNS, EventBridge or a webhook | `costradar_aws::notify::AwsNotifier` | moto, a loopback webhook |
//! | [`ResponseSender`] | the custom resource's answer to CloudFormation | `costradar_aws::response::HttpResponseSender` | `testing::RecordingSender` |
//! | [`StackHealth`] | the stack's dead-letter queue depths and alarm states (the console's `/ops`) | `costradar_aws::health::CloudWatchHealth` | moto (`tests/tests/ops_health.rs`), a fake in `console::tests::admin` |
//! | [`PriceListSource`] | the AWS Price List API's rates | `costradar_aws::price_list::PriceListApi` | a fake in the scan handler's tests |
//! | [`ReportStore`] | a tenant's CUR reports (json + html): stored with their retention tag, listed newest first, read, presigned | `costradar_aws::reports::S3Reports` | [`crate::report::store::MemoryReports`] (and moto's S3) |
//! | [`RunObjects`] | the runs bucket: a scan run's due accounts (JSON Lines) and its distributed Map's results | `costradar_aws::runs_bucket::S3RunObjects` | [`crate::scan::tasks::MemoryRunObjects`], moto's S3 |
//! | [`Identity`] | the console's sign-in: a name and password to tokens or a challenge, who an access token is, sign-out | `costradar_aws::cognito::CognitoIdentity` | [`crate::console::identity::MemoryIdentity`], moto's Cognito |
//! | [`Clock`], [`IdSource`] | time, and new identifiers and secrets | [`crate::domain::SystemClock`], [`crate::onboarding::OsIds`] | `testing::ManualClock`, forced collisions |
//!
//! The store's bundles (`OnboardingStore`, `ReceiverStore`, `ScanStore`, `CurStore`,
//! `ScanFindingStore`, `FindingsApiStore`, `DigestStore`) name what each use case needs from it; they add no
//! method.

pub use crate::access::RoleAssumer;
pub use crate::console::identity::Identity;
pub use crate::cur::engine::{QueryEngine, QueryExecutions};
pub use crate::cur::tasks::AthenaConnector;
pub use crate::domain::Clock;
pub use crate::health::StackHealth;
pub use crate::onboarding::custom_resource::ResponseSender;
pub use crate::onboarding::IdSource;
pub use crate::pricing::price_list::PriceListSource;
pub use crate::receiver::enrich::Enricher;
pub use crate::receiver::notify::Notifier;
pub use crate::report::store::ReportStore;
pub use crate::scan::tasks::RunObjects;
pub use crate::scan::{AccountSession, SessionOpener};
pub use crate::store::DigestLedger;
pub use crate::store::{
    AccountStore, EventStore, FindingStore, NotificationOutbox, ObservationStore, RateStore, RequestLedger, RunStore,
    TenantStore, TriageStore,
};
