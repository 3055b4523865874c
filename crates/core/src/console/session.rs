//! The local console's sessions: a cookie `<kind>.<tenant>.<expiry>.<mac>` signed with
//! HMAC-SHA256 under a key drawn at random when the server starts (a restart signs everyone
//! out). The session's claims are the only source of the caller: a URL names a tenant, it never
//! makes the caller one of its users.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::TenantId;
use crate::findings::Caller;

pub const COOKIE: &str = "costradar_session";
/// How long a sign-in lasts.
pub const LIFETIME_SECS: i64 = 8 * 3600;

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| block.map(|k| k ^ b);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(msg).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// Who a session is: the operator's staff, or a user of one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Session {
    Operator,
    Tenant(TenantId),
}

impl Session {
    /// The findings use case's caller, from the session's claims alone.
    pub fn caller(&self) -> Caller {
        match self {
            Self::Operator => Caller::Operator,
            Self::Tenant(t) => Caller::Tenant { tenant: t.clone(), user: Some(self.user()) },
        }
    }

    /// The name changes are recorded under.
    pub fn user(&self) -> String {
        match self {
            Self::Operator => "operator (local console)".into(),
            Self::Tenant(t) => format!("user of {t} (local console)"),
        }
    }
}

pub struct Sessions {
    key: [u8; 32],
}

impl Sessions {
    /// A fresh random key.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random number generator failed");
        Self { key }
    }

    #[cfg(test)]
    pub fn with_key(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, claims: &str) -> String {
        hex::encode(hmac_sha256(&self.key, claims.as_bytes()))
    }

    /// The cookie value of a session that expires `LIFETIME_SECS` after `now` (unix seconds).
    pub fn issue(&self, s: &Session, now: i64) -> String {
        let claims = match s {
            Session::Operator => format!("op.-.{}", now + LIFETIME_SECS),
            Session::Tenant(t) => format!("tn.{t}.{}", now + LIFETIME_SECS),
        };
        format!("{claims}.{}", self.mac(&claims))
    }

    /// The session of a cookie value, if its MAC is right and it has not expired.
    pub fn verify(&self, value: &str, now: i64) -> Option<Session> {
        let (claims, mac) = value.rsplit_once('.')?;
        if !bool::from(self.mac(claims).as_bytes().ct_eq(mac.as_bytes())) {
            return None;
        }
        let mut parts = claims.split('.');
        let (kind, tenant, exp) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || exp.parse::<i64>().ok()? <= now {
            return None;
        }
        match kind {
            "op" if tenant == "-" => Some(Session::Operator),
            "tn" => TenantId::parse(tenant).ok().map(Session::Tenant),
            _ => None,
        }
    }

    /// The `Set-Cookie` value that signs in.
    pub fn set_cookie(&self, s: &Session, now: i64) -> String {
        format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECS}", self.issue(s, now))
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new()
    }
}

/// The `Set-Cookie` value that signs out.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session cookie's value in a `Cookie` header.
pub fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}
