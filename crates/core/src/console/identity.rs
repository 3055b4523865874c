//! The console's sign-in port ([`Identity`]): a user pool that signs people in with a name and a
//! password (tokens, or a challenge to answer first), says who an access token is, and signs a
//! token out. Production adapter: `costradar_aws::cognito::CognitoIdentity` (Amazon Cognito's
//! server-side flow); in tests: [`MemoryIdentity`] here, and moto's Cognito for the adapter.
//!
//! Who a user is for the console comes from [`Caller::from_request`], fed the same claims the
//! users API's JWT authorizer hands the findings API (`cognito:groups`, `custom:tenant_id`,
//! `cognito:username`): one mapping from a pool's user to a caller, whichever door they use.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::findings::{Caller, GROUPS_CLAIM, TENANT_CLAIM};

/// What a user pool tells about one access token, after checking it (signature, expiry,
/// revocation, and that this pool and app client issued it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolUser {
    pub username: String,
    pub groups: Vec<String>,
    /// The `custom:tenant_id` attribute, as the pool holds it.
    pub tenant: Option<String>,
    /// When the token expires (unix seconds).
    pub expires_at: i64,
}

impl PoolUser {
    /// The findings use case's caller for this user, exactly as the users API maps a JWT's
    /// claims: a member of the operators group is the operator, else the tenant claim makes a
    /// tenant's user; neither (or a malformed tenant id) is `None`, refused.
    pub fn caller(&self) -> Option<Caller> {
        let mut claims = HashMap::new();
        // The JWT authorizer's flattening of an array claim: `[a b]`.
        claims.insert(GROUPS_CLAIM.to_owned(), format!("[{}]", self.groups.join(" ")));
        if let Some(t) = &self.tenant {
            claims.insert(TENANT_CLAIM.to_owned(), t.clone());
        }
        claims.insert("cognito:username".to_owned(), self.username.clone());
        Caller::from_request(Some(&claims), false)
    }
}

/// Tokens of a completed sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    /// Seconds the access token is valid for.
    pub expires_in: i64,
}

/// A step the pool asks for before it hands out tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeKind {
    /// An admin-created user's first sign-in: choose a new password.
    NewPassword,
    /// A code from the user's authenticator app (TOTP).
    Totp,
}

impl ChallengeKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::NewPassword => "NEW_PASSWORD_REQUIRED",
            Self::Totp => "SOFTWARE_TOKEN_MFA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "NEW_PASSWORD_REQUIRED" => Some(Self::NewPassword),
            "SOFTWARE_TOKEN_MFA" => Some(Self::Totp),
            _ => None,
        }
    }
}

/// A pending challenge: the pool's opaque session for it travels in the next form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub kind: ChallengeKind,
    pub username: String,
    pub session: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInStep {
    Tokens(Tokens),
    Challenge(Challenge),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    /// Wrong name or password, an unknown user, a bad or expired challenge session, or an
    /// access token the pool does not accept: one answer for all.
    #[error("the user name or password is wrong, or the sign-in has expired")]
    Refused,
    /// The pool refused an answer and says why (a new password below the policy, a wrong code).
    #[error("{0}")]
    Rejected(String),
    /// The pool asks for a step the console does not offer (e.g. `MFA_SETUP`).
    #[error("this account needs a sign-in step the console does not offer ({0}); ask the operator")]
    Unsupported(String),
    #[error("the sign-in service is unavailable; retry later")]
    Unavailable(String),
}

/// The port. Every method may be called with hostile input: the adapter passes it to the pool,
/// which is the judge; nothing here trusts a token without asking the pool.
#[async_trait]
pub trait Identity: Send + Sync {
    async fn sign_in(&self, username: &str, password: &str) -> Result<SignInStep, IdentityError>;
    async fn answer(&self, challenge: &Challenge, answer: &str) -> Result<SignInStep, IdentityError>;
    /// Who an access token is; `Refused` for a forged, expired, revoked or foreign token.
    async fn user(&self, access_token: &str) -> Result<PoolUser, IdentityError>;
    /// Revokes the user's tokens (Cognito's `GlobalSignOut`).
    async fn sign_out(&self, access_token: &str) -> Result<(), IdentityError>;
}

/// A user pool id: `<region>_<id>` (Cognito's pattern `[\w-]+_[0-9a-zA-Z]+`, at most 55
/// characters). Checked before it reaches an API call or a log line.
pub fn check_pool_id(s: &str) -> Result<(), &'static str> {
    let ok = s.len() <= 55
        && s.split_once('_').is_some_and(|(region, id)| {
            !region.is_empty()
                && region.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !id.is_empty()
                && id.bytes().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err("a user pool id looks like us-east-1_AbC123")
    }
}

/// An app client id (Cognito's pattern `[\w+]+`, 1 to 128 characters).
pub fn check_client_id(s: &str) -> Result<(), &'static str> {
    if !s.is_empty() && s.len() <= 128 && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'+') {
        Ok(())
    } else {
        Err("an app client id is 1 to 128 letters, digits, '_' or '+'")
    }
}

/// The console's default until an identity is given: nobody can sign in (fail closed).
pub struct NoSignIn;

#[async_trait]
impl Identity for NoSignIn {
    async fn sign_in(&self, _: &str, _: &str) -> Result<SignInStep, IdentityError> {
        Err(IdentityError::Unavailable("no user pool is configured".into()))
    }
    async fn answer(&self, _: &Challenge, _: &str) -> Result<SignInStep, IdentityError> {
        Err(IdentityError::Unavailable("no user pool is configured".into()))
    }
    async fn user(&self, _: &str) -> Result<PoolUser, IdentityError> {
        Err(IdentityError::Refused)
    }
    async fn sign_out(&self, _: &str) -> Result<(), IdentityError> {
        Ok(())
    }
}

#[cfg(any(test, feature = "test-support"))]
pub use memory::{MemoryIdentity, MemoryUser};

#[cfg(any(test, feature = "test-support"))]
mod memory {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    /// A user of [`MemoryIdentity`].
    #[derive(Clone, Debug, Default)]
    pub struct MemoryUser {
        pub password: String,
        pub groups: Vec<String>,
        pub tenant: Option<String>,
        /// Created by an admin, not signed in yet: the first sign-in asks for a new password.
        pub must_change_password: bool,
        /// The TOTP code the user's app shows (`None`: no MFA).
        pub totp: Option<String>,
    }

    /// An in-memory user pool for the console's unit tests: tokens are `tok.<user>.<n>`, each
    /// live until signed out; `expires_at` is fixed at construction.
    pub struct MemoryIdentity {
        users: Mutex<BTreeMap<String, MemoryUser>>,
        tokens: Mutex<BTreeMap<String, String>>,
        sessions: Mutex<BTreeMap<String, String>>,
        expires_at: i64,
        next: Mutex<u64>,
    }

    impl MemoryIdentity {
        pub fn new(users: impl IntoIterator<Item = (String, MemoryUser)>, expires_at: i64) -> Self {
            Self {
                users: Mutex::new(users.into_iter().collect()),
                tokens: Mutex::default(),
                sessions: Mutex::default(),
                expires_at,
                next: Mutex::new(0),
            }
        }

        /// A live token of `username`, as if they had just signed in.
        pub fn issue(&self, username: &str) -> String {
            let mut n = self.next.lock().unwrap();
            *n += 1;
            let token = format!("tok.{username}.{n}");
            self.tokens.lock().unwrap().insert(token.clone(), username.to_owned());
            token
        }

        fn step(&self, username: &str, u: &MemoryUser, after: Option<ChallengeKind>) -> SignInStep {
            let kind = match after {
                None if u.must_change_password => Some(ChallengeKind::NewPassword),
                None | Some(ChallengeKind::NewPassword) if u.totp.is_some() => Some(ChallengeKind::Totp),
                _ => None,
            };
            match kind {
                Some(kind) => {
                    let session = format!("sess.{}", self.issue(username));
                    self.sessions.lock().unwrap().insert(session.clone(), username.to_owned());
                    SignInStep::Challenge(Challenge { kind, username: username.to_owned(), session })
                }
                None => SignInStep::Tokens(Tokens { access_token: self.issue(username), expires_in: 3600 }),
            }
        }
    }

    #[async_trait]
    impl Identity for MemoryIdentity {
        async fn sign_in(&self, username: &str, password: &str) -> Result<SignInStep, IdentityError> {
            let user = self.users.lock().unwrap().get(username).cloned();
            match user {
                Some(u) if u.password == password => Ok(self.step(username, &u, None)),
                _ => Err(IdentityError::Refused),
            }
        }

        async fn answer(&self, c: &Challenge, answer: &str) -> Result<SignInStep, IdentityError> {
            let owner = self.sessions.lock().unwrap().remove(&c.session);
            if owner.as_deref() != Some(c.username.as_str()) {
                return Err(IdentityError::Refused);
            }
            let mut users = self.users.lock().unwrap();
            let u = users.get_mut(&c.username).ok_or(IdentityError::Refused)?;
            match c.kind {
                ChallengeKind::NewPassword if answer.len() < 8 => {
                    return Err(IdentityError::Rejected("Password does not conform to policy".into()))
                }
                ChallengeKind::NewPassword => {
                    u.password = answer.to_owned();
                    u.must_change_password = false;
                }
                ChallengeKind::Totp if u.totp.as_deref() != Some(answer) => {
                    return Err(IdentityError::Rejected("Invalid code received for user".into()))
                }
                ChallengeKind::Totp => {}
            }
            let u = u.clone();
            drop(users);
            Ok(self.step(&c.username, &u, Some(c.kind)))
        }

        async fn user(&self, access_token: &str) -> Result<PoolUser, IdentityError> {
            let name = self.tokens.lock().unwrap().get(access_token).cloned().ok_or(IdentityError::Refused)?;
            let u = self.users.lock().unwrap().get(&name).cloned().ok_or(IdentityError::Refused)?;
            Ok(PoolUser { username: name, groups: u.groups, tenant: u.tenant, expires_at: self.expires_at })
        }

        async fn sign_out(&self, access_token: &str) -> Result<(), IdentityError> {
            let name = self.tokens.lock().unwrap().get(access_token).cloned().ok_or(IdentityError::Refused)?;
            self.tokens.lock().unwrap().retain(|_, u| *u != name);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;

    #[test]
    fn pool_and_client_ids_are_checked_before_any_call() {
        assert_eq!(check_pool_id("us-east-1_AbC123"), Ok(()));
        let long = "a".repeat(60);
        for bad in ["", "us-east-1", "_AbC", "us-east-1_", "us east-1_AbC", "us-east-1_Ab-C", "us-east-1_A/../b", &long]
        {
            assert!(check_pool_id(bad).is_err(), "{bad}");
        }
        assert_eq!(check_client_id("4a1b2c3d4e5f6g7h8i9j0k1l2m"), Ok(()));
        let long = "a".repeat(129);
        for bad in ["", "a b", "a;b", "ab\u{0}", "ü", &long] {
            assert!(check_client_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pool_user_maps_to_the_caller_the_users_api_would_see() {
        let u = |groups: &[&str], tenant: Option<&str>| PoolUser {
            username: "ann".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            tenant: tenant.map(Into::into),
            expires_at: 0,
        };
        let acme = TenantId::parse("t-acmeanalytics001").unwrap();
        assert_eq!(u(&["operators"], None).caller(), Some(Caller::Operator));
        assert_eq!(u(&["auditors", "operators"], Some("t-acmeanalytics001")).caller(), Some(Caller::Operator));
        assert_eq!(
            u(&[], Some("t-acmeanalytics001")).caller(),
            Some(Caller::Tenant { tenant: acme, user: Some("ann".into()) })
        );
        for (groups, tenant) in [
            (&[][..], None),
            (&["operators-old"][..], None),
            (&["Operators"][..], None),
            (&[][..], Some("")),
            (&[][..], Some("../t-acmeanalytics001")),
            (&[][..], Some("T-ACMEANALYTICS001")),
        ] {
            assert_eq!(u(groups, tenant).caller(), None, "{groups:?} {tenant:?}");
        }
    }
}
