//! The console's sign-in through Cognito (`costradar_aws::cognito::CognitoIdentity`) against
//! moto's Cognito: the adapter's flows (password, new-password challenge, wrong password,
//! unknown user, another pool's token), and the console over it (no tenant and no group, a
//! missing tenant, forged / expired / signed-out cookies). Run under tools/with-moto.sh.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::types::{AttributeType, ExplicitAuthFlowsType, SchemaAttributeType};
use aws_sdk_cognitoidentityprovider::Client;
use chrono::Utc;
use costradar_aws::cognito::CognitoIdentity;
use costradar_core::console::identity::{ChallengeKind, Identity, IdentityError, SignInStep};
use costradar_core::console::{demo, session, Console, Request, Response};
use costradar_core::domain::{Clock, TenantId};
use costradar_core::findings::Caller;
use costradar_core::store::MemoryStore;
use costradar_core::testing::ManualClock;
use costradar_tests::sdk_config;

const ACME: &str = "t-acmeanalytics001";
const GLOBEX: &str = "t-globexlogistics1";

struct Pool {
    idp: Client,
    id: String,
    client: String,
}

impl Pool {
    /// A pool as the stack's: immutable `custom:tenant_id`, the operators group, a server-side
    /// app client without a secret.
    async fn new(name: &str) -> Self {
        let idp = Client::new(&sdk_config().await);
        let tenant_attr = SchemaAttributeType::builder()
            .name("tenant_id")
            .attribute_data_type("String".into())
            .mutable(false)
            .build();
        let pool = idp.create_user_pool().pool_name(name).schema(tenant_attr).send().await.unwrap();
        let id = pool.user_pool().unwrap().id().unwrap().to_owned();
        idp.create_group().user_pool_id(&id).group_name("operators").send().await.unwrap();
        let client = idp
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name("console-server")
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .read_attributes("custom:tenant_id")
            .send()
            .await
            .unwrap();
        let client = client.user_pool_client().unwrap().client_id().unwrap().to_owned();
        Self { idp, id, client }
    }

    /// A user created by the admin; `permanent` sets the password as the user's own (else it is
    /// temporary and the first sign-in asks for a new one).
    async fn user(&self, name: &str, password: &str, tenant: Option<&str>, operator: bool, permanent: bool) {
        let mut create = self.idp.admin_create_user().user_pool_id(&self.id).username(name);
        if let Some(t) = tenant {
            create =
                create.user_attributes(AttributeType::builder().name("custom:tenant_id").value(t).build().unwrap());
        }
        if permanent {
            create.message_action("SUPPRESS".into()).send().await.unwrap();
            let set = self.idp.admin_set_user_password().user_pool_id(&self.id).username(name).password(password);
            set.permanent(true).send().await.unwrap();
        } else {
            create.temporary_password(password).message_action("SUPPRESS".into()).send().await.unwrap();
        }
        if operator {
            let add = self.idp.admin_add_user_to_group().user_pool_id(&self.id).username(name);
            add.group_name("operators").send().await.unwrap();
        }
    }

    async fn identity(&self) -> CognitoIdentity {
        CognitoIdentity::new(&sdk_config().await, &self.id, &self.client)
    }
}

/// The console's pool: an operator, a user of each demo tenant, an admin-created user who has
/// not signed in yet, a user with neither group nor tenant, a user of a tenant that does not exist.
async fn pool() -> Pool {
    let p = Pool::new(&format!("console-{}", Utc::now().timestamp_nanos_opt().unwrap())).await;
    p.user("olivia", "Operator-pw-1", None, true, true).await;
    p.user("tina", "Tenant-pw-1", Some(ACME), false, true).await;
    p.user("gus", "Globex-pw-1", Some(GLOBEX), false, true).await;
    p.user("fresh", "Temp-pw-1", Some(ACME), false, false).await;
    p.user("nobody", "Nobody-pw-1", None, false, true).await;
    p.user("ghost", "Ghost-pw-1", Some("t-doesnotexist0000"), false, true).await;
    p
}

async fn token(id: &CognitoIdentity, user: &str, password: &str) -> String {
    match id.sign_in(user, password).await.unwrap() {
        SignInStep::Tokens(t) => t.access_token,
        other => panic!("{user}: {other:?}"),
    }
}

#[tokio::test]
async fn the_operator_and_a_tenants_user_sign_in_and_map_to_their_callers() {
    let p = pool().await;
    let id = p.identity().await;
    let op = id.user(&token(&id, "olivia", "Operator-pw-1").await).await.unwrap();
    assert_eq!(op.groups, vec!["operators".to_string()]);
    assert_eq!(op.caller(), Some(Caller::Operator));
    assert!(op.expires_at > Utc::now().timestamp());
    let tina = id.user(&token(&id, "tina", "Tenant-pw-1").await).await.unwrap();
    assert_eq!(tina.tenant.as_deref(), Some(ACME));
    assert_eq!(
        tina.caller(),
        Some(Caller::Tenant { tenant: TenantId::parse(ACME).unwrap(), user: Some("tina".into()) })
    );
    let nobody = id.user(&token(&id, "nobody", "Nobody-pw-1").await).await.unwrap();
    assert_eq!(nobody.caller(), None, "neither the operators group nor a tenant");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_refusal() {
    let p = pool().await;
    let id = p.identity().await;
    assert_eq!(id.sign_in("olivia", "wrong").await, Err(IdentityError::Refused));
    assert_eq!(id.sign_in("mallory", "Operator-pw-1").await, Err(IdentityError::Refused));
    assert_eq!(id.sign_in("", "").await, Err(IdentityError::Refused));
}

#[tokio::test]
async fn an_admin_created_user_sets_a_new_password_then_signs_in_with_it() {
    let p = pool().await;
    let id = p.identity().await;
    let SignInStep::Challenge(c) = id.sign_in("fresh", "Temp-pw-1").await.unwrap() else { panic!("a challenge") };
    assert_eq!((c.kind, c.username.as_str()), (ChallengeKind::NewPassword, "fresh"));
    let mut forged = c.clone();
    forged.session = "not-a-session".into();
    assert_eq!(id.answer(&forged, "Fresh-pw-2").await, Err(IdentityError::Refused));
    let SignInStep::Tokens(t) = id.answer(&c, "Fresh-pw-2").await.unwrap() else { panic!("tokens") };
    assert_eq!(id.user(&t.access_token).await.unwrap().tenant.as_deref(), Some(ACME));
    assert!(matches!(id.sign_in("fresh", "Fresh-pw-2").await, Ok(SignInStep::Tokens(_))));
}

#[tokio::test]
async fn a_token_of_another_pool_is_refused_even_for_a_user_of_the_same_name() {
    let ours = pool().await;
    let theirs = Pool::new("someone-elses-pool").await;
    // An attacker's own pool: a user named like our operator, claiming another tenant.
    theirs.user("olivia", "Attacker-pw-1", Some(GLOBEX), false, true).await;
    let foreign = token(&theirs.identity().await, "olivia", "Attacker-pw-1").await;
    assert_eq!(ours.identity().await.user(&foreign).await, Err(IdentityError::Refused));
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
}

async fn console(p: &Pool, clock: Arc<dyn Clock>) -> Console {
    let store = Arc::new(MemoryStore::default());
    demo::seed(&store, clock.now()).await.unwrap();
    Console::new(store, clock, BTreeMap::new()).with_identity(Arc::new(p.identity().await), false)
}

async fn login(c: &Console, user: &str, password: &str) -> Response {
    let body = format!("username={user}&password={password}");
    c.handle(&Request { method: "POST", path: "/login", body: body.as_bytes(), ..Default::default() }).await
}

async fn get(c: &Console, cookie: &str, path: &str) -> Response {
    c.handle(&Request { method: "GET", path, cookie: Some(cookie), ..Default::default() }).await
}

fn cookie_of(r: &Response) -> String {
    header(r, "set-cookie").expect("a cookie").split(';').next().unwrap().to_owned()
}

fn main_of(r: &Response) -> String {
    r.body.split("<main").nth(1).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_console_signs_in_through_cognito_and_keeps_each_user_to_their_tenant() {
    let p = pool().await;
    let c = console(&p, Arc::new(costradar_core::domain::SystemClock)).await;
    let wrong = login(&c, "tina", "nope").await;
    assert!(wrong.status == 401 && header(&wrong, "set-cookie").is_none());
    let tina = cookie_of(&login(&c, "tina", "Tenant-pw-1").await);
    assert_eq!(header(&get(&c, &tina, "/").await, "location"), Some(format!("/t/{ACME}/").as_str()));
    assert_eq!(get(&c, &tina, &format!("/t/{ACME}/findings")).await.status, 200);
    let missing = get(&c, &tina, "/t/t-doesnotexist0000/").await;
    let other = get(&c, &tina, &format!("/t/{GLOBEX}/")).await;
    assert_eq!((missing.status, other.status), (404, 404));
    assert_eq!(main_of(&other), main_of(&missing), "another tenant is a missing tenant");
    // A user whose tenant claim names a tenant that does not exist: that same 404.
    let ghost = cookie_of(&login(&c, "ghost", "Ghost-pw-1").await);
    let r = get(&c, &ghost, "/t/t-doesnotexist0000/").await;
    assert_eq!((r.status, main_of(&r).replace("ghost", "tina")), (404, main_of(&missing)));
    assert_eq!(get(&c, &ghost, &format!("/t/{ACME}/")).await.status, 404);
    // The operator sees every tenant.
    let op = cookie_of(&login(&c, "olivia", "Operator-pw-1").await);
    let home = get(&c, &op, "/").await;
    assert!(home.body.contains(ACME) && home.body.contains(GLOBEX));
}

#[tokio::test]
async fn a_user_with_no_tenant_and_no_group_is_refused_with_nothing_shown() {
    let p = pool().await;
    let c = console(&p, Arc::new(costradar_core::domain::SystemClock)).await;
    let r = login(&c, "nobody", "Nobody-pw-1").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("No access") && header(&r, "set-cookie").is_none());
    assert!(!r.body.contains(ACME) && !r.body.contains("Sign out"));
}

#[tokio::test]
async fn forged_expired_and_signed_out_tokens_go_back_to_sign_in() {
    let p = pool().await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let c = console(&p, clock.clone()).await;
    let tina = cookie_of(&login(&c, "tina", "Tenant-pw-1").await);
    let page = format!("/t/{ACME}/findings");
    assert_eq!(get(&c, &tina, &page).await.status, 200);
    let to_login = |r: &Response| r.status == 303 && header(r, "location") == Some("/login");
    // Forged: another signature, claims changed, garbage.
    let (head, rest) = tina.rsplit_once('.').unwrap();
    for forged in [
        format!("{head}.{}", rest.chars().rev().collect::<String>()),
        format!("{}=eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6Im9saXZpYSJ9.", session::COOKIE),
        format!("{}=garbage", session::COOKIE),
    ] {
        assert!(to_login(&get(&c, &forged, &page).await), "{forged:.60}");
    }
    // Expired: the console's clock past the token's expiry (moto does not expire tokens itself).
    clock.advance(chrono::Duration::hours(2));
    assert!(to_login(&get(&c, &tina, &page).await), "expired");
    clock.advance(-chrono::Duration::hours(2));
    assert_eq!(get(&c, &tina, &page).await.status, 200);
    // Signed out: GlobalSignOut revoked it in the pool.
    let out = c.handle(&Request { method: "POST", path: "/logout", cookie: Some(&tina), ..Default::default() }).await;
    assert!(to_login(&out) && header(&out, "set-cookie").unwrap().contains("Max-Age=0"));
    assert!(to_login(&get(&c, &tina, &page).await), "signed out");
}
