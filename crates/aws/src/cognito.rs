//! The console's sign-in ([`Identity`]) over Amazon Cognito's server-side flow: the server
//! (the console's Lambda, or `costradar console serve`) sends the user name and password with
//! `AdminInitiateAuth` (`ADMIN_USER_PASSWORD_AUTH`, an app client without a secret, so no
//! `SECRET_HASH`), answers `NEW_PASSWORD_REQUIRED` and `SOFTWARE_TOKEN_MFA` with
//! `AdminRespondToAuthChallenge`, and on every request asks `GetUser` who the access token is
//! (Cognito checks its signature, expiry and revocation) and `AdminListGroupsForUser` for the
//! user's groups now (not as they were when the token was issued). Sign-out is `GlobalSignOut`.
//!
//! `GetUser` accepts a valid access token of *any* user pool (it needs no AWS credentials), so
//! after it answers, the token's claims must name this pool (`iss`) and this app client
//! (`client_id`) and be an access token; otherwise a user of someone else's pool, with a tenant
//! attribute of their choosing or the user name of one of our operators, would be let in.

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use base64::Engine as _;
use costradar_core::console::identity::{
    Challenge, ChallengeKind, Identity, IdentityError, PoolUser, SignInStep, Tokens,
};
use costradar_core::findings::TENANT_CLAIM;

pub struct CognitoIdentity {
    client: Client,
    pool_id: String,
    client_id: String,
}

impl CognitoIdentity {
    pub fn new(sdk: &aws_config::SdkConfig, pool_id: &str, client_id: &str) -> Self {
        Self { client: Client::new(sdk), pool_id: pool_id.to_owned(), client_id: client_id.to_owned() }
    }

    /// The issuer of this pool's tokens: `https://cognito-idp.<region>.amazonaws.com/<pool id>`
    /// (the pool id starts with its region).
    fn issuer(&self) -> String {
        let region = self.pool_id.split('_').next().unwrap_or_default();
        format!("https://cognito-idp.{region}.amazonaws.com/{}", self.pool_id)
    }

    /// The expiry of an access token Cognito has just accepted, if its claims say this pool and
    /// app client issued it.
    fn own_token_expiry(&self, token: &str) -> Option<i64> {
        let payload = token.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let ours = claims["iss"] == self.issuer().as_str()
            && claims["client_id"] == self.client_id.as_str()
            && claims["token_use"] == "access";
        ours.then(|| claims["exp"].as_i64()).flatten()
    }

    fn step(&self, username: &str, out: AdminInitiateAuthOutput) -> Result<SignInStep, IdentityError> {
        step(username, out.authentication_result(), out.challenge_name(), out.session())
    }

    async fn groups(&self, username: &str) -> Result<Vec<String>, IdentityError> {
        let mut groups = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = self
                .client
                .admin_list_groups_for_user()
                .user_pool_id(&self.pool_id)
                .username(username)
                .limit(60)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(classify)?;
            groups.extend(out.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)));
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => return Ok(groups),
            }
        }
    }
}

fn step(
    username: &str,
    tokens: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>,
    challenge: Option<&ChallengeNameType>,
    session: Option<&str>,
) -> Result<SignInStep, IdentityError> {
    if let Some(t) = tokens.filter(|t| t.access_token().is_some()) {
        let access_token = t.access_token().unwrap_or_default().to_owned();
        return Ok(SignInStep::Tokens(Tokens { access_token, expires_in: i64::from(t.expires_in()) }));
    }
    let name = challenge.map(|c| c.as_str()).unwrap_or("(none)");
    let kind = ChallengeKind::parse(name).ok_or_else(|| IdentityError::Unsupported(name.to_owned()))?;
    let session = session.filter(|s| !s.is_empty()).ok_or_else(|| IdentityError::Unsupported(name.to_owned()))?;
    Ok(SignInStep::Challenge(Challenge { kind, username: username.to_owned(), session: session.to_owned() }))
}

/// Cognito's answers, as the console tells them: one answer for a wrong password, an unknown
/// user, a bad session or token; the pool's own words for a new password it refuses or a wrong
/// code; anything else is the service being unavailable.
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_cognitoidentityprovider::error::SdkError<E, R>,
) -> IdentityError {
    match e.code() {
        Some(
            "NotAuthorizedException"
            | "UserNotFoundException"
            | "UserNotConfirmedException"
            | "PasswordResetRequiredException"
            | "ExpiredCodeException"
            | "InvalidParameterException"
            | "ResourceNotFoundException",
        ) => IdentityError::Refused,
        Some("InvalidPasswordException" | "CodeMismatchException") => {
            IdentityError::Rejected(e.message().unwrap_or("the pool refused the answer").to_owned())
        }
        _ => IdentityError::Unavailable(DisplayErrorContext(&e).to_string()),
    }
}

#[async_trait::async_trait]
impl Identity for CognitoIdentity {
    async fn sign_in(&self, username: &str, password: &str) -> Result<SignInStep, IdentityError> {
        let out = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(classify)?;
        self.step(username, out)
    }

    async fn answer(&self, c: &Challenge, answer: &str) -> Result<SignInStep, IdentityError> {
        let (name, key) = match c.kind {
            ChallengeKind::NewPassword => (ChallengeNameType::NewPasswordRequired, "NEW_PASSWORD"),
            ChallengeKind::Totp => (ChallengeNameType::SoftwareTokenMfa, "SOFTWARE_TOKEN_MFA_CODE"),
        };
        let out = self
            .client
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(name)
            .session(&c.session)
            .challenge_responses("USERNAME", &c.username)
            .challenge_responses(key, answer)
            .send()
            .await
            .map_err(classify)?;
        step(&c.username, out.authentication_result(), out.challenge_name(), out.session())
    }

    async fn user(&self, access_token: &str) -> Result<PoolUser, IdentityError> {
        let out = self.client.get_user().access_token(access_token).send().await.map_err(classify)?;
        let Some(expires_at) = self.own_token_expiry(access_token) else {
            tracing::warn!("console: a token Cognito accepts was issued by another pool or app client");
            return Err(IdentityError::Refused);
        };
        let attribute = |name: &str| out.user_attributes().iter().find(|a| a.name() == name).and_then(|a| a.value());
        let groups = self.groups(out.username()).await?;
        // The stack's pool signs in by email (its user name is then the `sub`): people are
        // shown, and their changes recorded, by email where there is one.
        let username = attribute("email").unwrap_or(out.username()).to_owned();
        Ok(PoolUser { username, groups, tenant: attribute(TENANT_CLAIM).map(str::to_owned), expires_at })
    }

    async fn sign_out(&self, access_token: &str) -> Result<(), IdentityError> {
        self.client.global_sign_out().access_token(access_token).send().await.map_err(classify)?;
        Ok(())
    }
}
