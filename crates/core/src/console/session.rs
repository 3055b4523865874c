//! The console's sessions: the cookie holds the user pool's access token, nothing else. Every
//! request asks the pool who the token is ([`super::identity::Identity::user`]), so the pool
//! checks its signature, expiry and revocation, and group or tenant changes apply at once; the
//! console keeps no secret and no session state of its own. The token's user is the only source
//! of the caller: a URL names a tenant, it never makes the caller one of its users.

use crate::domain::TenantId;
use crate::findings::Caller;

use super::identity::PoolUser;

pub const COOKIE: &str = "costradar_session";
/// The longest value a browser must keep in one cookie (RFC 6265 §6.1); a longer one is refused.
pub const MAX_TOKEN_LEN: usize = 4000;

/// What a signed-in user may see: every tenant, or one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Operator,
    Tenant(TenantId),
}

/// Who is signed in: the pool's user name and their role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
}

impl Session {
    /// The session of a pool's user, from the same mapping as the users API's claims
    /// ([`PoolUser::caller`]); `None`: neither operator staff nor a tenant's user.
    pub fn of(user: &PoolUser) -> Option<Self> {
        let role = match user.caller()? {
            Caller::Operator => Role::Operator,
            Caller::Tenant { tenant, .. } => Role::Tenant(tenant),
        };
        Some(Self { user: user.username.clone(), role })
    }

    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// The findings use case's caller; a tenant user's changes are recorded under their name.
    pub fn caller(&self) -> Caller {
        match &self.role {
            Role::Operator => Caller::Operator,
            Role::Tenant(t) => Caller::Tenant { tenant: t.clone(), user: Some(self.user.clone()) },
        }
    }

    /// The name the header shows and changes are recorded under.
    pub fn user(&self) -> String {
        self.user.clone()
    }
}

/// The `Set-Cookie` value that signs in: the access token, for as long as it is valid.
/// `Secure` when the console is served over https (in the stack; not on loopback http).
pub fn set_cookie(access_token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={access_token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", max_age.max(0))
}

/// The `Set-Cookie` value that signs out.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

/// The session cookie's value in a `Cookie` header: a token's characters only (a JWT is
/// base64url and dots), bounded; anything else is no session.
pub fn cookie_value(header: &str) -> Option<&str> {
    let v = header.split(';').find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))?;
    let ok = !v.is_empty()
        && v.len() <= MAX_TOKEN_LEN
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='));
    ok.then_some(v)
}
