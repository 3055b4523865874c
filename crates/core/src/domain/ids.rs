//! Identifiers and secrets that cross a trust boundary: tenant ids, AWS account ids, role ARNs,
//! ExternalIds and ingest tokens. Each type can only be built through validation, so code that
//! holds one never re-checks it.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::InvalidInput;

/// Lowercase letters and digits: safe in URLs, session names and DynamoDB keys.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Fills `buf` from the operating system's CSPRNG. There is no fallback: without entropy we
/// must not mint credentials.
pub fn os_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// `len` characters from [`ALPHABET`], uniformly, by rejection sampling.
fn random_alnum(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        os_random(&mut buf);
        for b in buf {
            // 252 = 7 * 36: reject the top 4 values so every character is equally likely.
            if b < 252 && out.len() < len {
                out.push(ALPHABET[(b % 36) as usize] as char);
            }
        }
    }
    out
}

/// `prefix` followed by `len` characters of [`ALPHABET`].
fn prefixed_random(prefix: &str, len: usize) -> String {
    format!("{prefix}{}", random_alnum(len))
}

fn is_prefixed_random(s: &str, prefix: &str, len: usize) -> bool {
    s.len() == prefix.len() + len && s.starts_with(prefix) && s[prefix.len()..].bytes().all(|b| ALPHABET.contains(&b))
}

/// A tenant of the operator: `t-` and 16 lowercase alphanumerics (82 bits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub const PREFIX: &'static str = "t-";
    const RANDOM_LEN: usize = 16;

    pub fn generate() -> Self {
        Self(prefixed_random(Self::PREFIX, Self::RANDOM_LEN))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        if is_prefixed_random(s, Self::PREFIX, Self::RANDOM_LEN) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidInput::new("tenant_id", "a tenant id is 't-' followed by 16 lowercase letters or digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidInput::new("account_id", "an AWS account id is exactly 12 digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ExternalId a tenant's role trust policy must require. costradar generates it (AWS's
/// confused-deputy guidance: the third party picks it), so a customer cannot choose one that
/// another tenant uses. `costradar-` and 40 lowercase alphanumerics (206 bits).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    pub const PREFIX: &'static str = "costradar-";
    const RANDOM_LEN: usize = 40;

    pub fn generate() -> Self {
        Self(prefixed_random(Self::PREFIX, Self::RANDOM_LEN))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        if is_prefixed_random(s, Self::PREFIX, Self::RANDOM_LEN) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidInput::new("external_id", "not an ExternalId issued by costradar"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares without leaking, through timing, how much of a guess was right.
    pub fn ct_eq(&self, other: &str) -> bool {
        self.0.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl fmt::Debug for ExternalId {
    // Not a secret in AWS's model, but it is one tenant's: keep it out of logs by default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExternalId({}…)", &self.0[..Self::PREFIX.len() + 4])
    }
}

/// The bearer token a tenant's EventBridge connection sends in `x-api-key`. It exists in clear
/// only in the response that creates it and in the customer's Secrets Manager; costradar keeps
/// its SHA-256.
pub struct IngestToken(String);

impl IngestToken {
    pub const PREFIX: &'static str = "crt_";

    /// 256 bits from the OS CSPRNG, base64url without padding.
    pub fn generate() -> Self {
        use base64::Engine as _;
        let mut bytes = [0u8; 32];
        os_random(&mut bytes);
        Self(format!("{}{}", Self::PREFIX, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for IngestToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IngestToken(<redacted>)")
    }
}

/// Lowercase hex SHA-256 of an ingest token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(presented: &str) -> Self {
        Self(hex::encode(Sha256::digest(presented.as_bytes())))
    }

    /// Constant-time comparison of two hashes.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IAM role ARN in the commercial partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleArn {
    arn: String,
    account_id: AccountId,
}

/// Why a role ARN was refused. Other partitions get their own variant because the customer
/// needs a different answer ("not supported") from a typo ("malformed").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoleArnError {
    #[error("{0}")]
    Invalid(InvalidInput),
    #[error("the {partition} partition is not supported: costradar works with commercial AWS accounts (partition 'aws') only")]
    UnsupportedPartition { partition: String },
}

impl RoleArn {
    /// IAM's limits: path up to 512 characters of printable ASCII between slashes, role name
    /// 1..=64 characters of `[A-Za-z0-9+=,.@_-]`.
    pub fn parse(s: &str) -> Result<Self, RoleArnError> {
        let bad = |msg: &str| RoleArnError::Invalid(InvalidInput::new("role_arn", msg));
        if s.len() > 2048 {
            return Err(bad("a role ARN is at most 2048 characters"));
        }
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(res)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected arn:aws:iam::<12-digit account id>:role/<optional path/><role name>"));
        };
        match partition {
            "aws" => {}
            "aws-us-gov" | "aws-cn" | "aws-iso" | "aws-iso-b" | "aws-iso-e" | "aws-iso-f" | "aws-eusc" => {
                return Err(RoleArnError::UnsupportedPartition { partition: partition.to_owned() })
            }
            _ => return Err(bad("unknown partition: a role ARN starts with arn:aws:iam::")),
        }
        if service != "iam" {
            return Err(bad("not an IAM ARN: expected arn:aws:iam::..."));
        }
        if !region.is_empty() {
            return Err(bad("IAM ARNs have no region: expected arn:aws:iam::<account>:role/..."));
        }
        let account_id =
            AccountId::parse(account).map_err(|_| bad("the account id in a role ARN is exactly 12 digits"))?;
        let Some(path_and_name) = res.strip_prefix("role/") else {
            return Err(bad("not a role ARN: the resource must start with role/"));
        };
        let (path, name) = match path_and_name.rfind('/') {
            Some(i) => (&path_and_name[..=i], &path_and_name[i + 1..]),
            None => ("", path_and_name),
        };
        if path.len() > 511 || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) || path.contains("//") {
            return Err(bad("the role path must be printable ASCII without spaces, at most 512 characters"));
        }
        let name_ok = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !name_ok {
            return Err(bad("a role name is 1 to 64 characters of letters, digits and +=,.@_-"));
        }
        Ok(Self { arn: s.to_owned(), account_id })
    }

    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The role `name` (no path) in the same account: the customer stack's fixed role names.
    pub fn in_account(account: &AccountId, name: &str) -> Result<Self, RoleArnError> {
        Self::parse(&format!("arn:aws:iam::{account}:role/{name}"))
    }
}

/// The customer stack's read-only role (cfn/costradar-role.yaml): scans, CUR queries and
/// verification assume it.
pub const CUSTOMER_ROLE_NAME: &str = "CostradarReadOnly";

/// The customer stack's second role (cfn/costradar-role.yaml, with real time on): it may only
/// describe instances, and only costradar's receiver may assume it. Real-time enrichment never
/// touches the read-only role.
pub const ENRICHMENT_ROLE_NAME: &str = "CostradarRealtimeEnrichment";

/// A parse error as serde reports it: serde prefixes the field's path, so the message alone.
trait Bare {
    fn bare(self) -> String;
}

impl Bare for InvalidInput {
    fn bare(self) -> String {
        self.message
    }
}

impl Bare for RoleArnError {
    fn bare(self) -> String {
        self.to_string()
    }
}

macro_rules! string_conversions {
    ($($ty:ty => $parse:expr),* $(,)?) => {$(
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $parse(&s).map_err(Bare::bare)
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String { v.as_str().to_owned() }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    )*};
}

string_conversions! {
    TenantId => TenantId::parse,
    AccountId => AccountId::parse,
    ExternalId => ExternalId::parse,
    RoleArn => RoleArn::parse,
    TokenHash => |s: &str| -> Result<TokenHash, InvalidInput> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            Ok(TokenHash(s.to_owned()))
        } else {
            Err(InvalidInput::new("token_hash", "not a SHA-256 hex digest"))
        }
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_differ() {
        let a = TenantId::generate();
        assert_eq!(TenantId::parse(a.as_str()).unwrap(), a);
        assert_ne!(a, TenantId::generate());
        let e = ExternalId::generate();
        assert!(e.as_str().len() >= 32, "ExternalId too short: {}", e.as_str().len());
        assert!(e.as_str().starts_with("costradar-"));
        assert_eq!(ExternalId::parse(e.as_str()).unwrap(), e);
        assert_ne!(e, ExternalId::generate());
    }

    #[test]
    fn ingest_token_is_256_bits_and_only_its_hash_is_kept() {
        let t = IngestToken::generate();
        let raw = t.expose().strip_prefix(IngestToken::PREFIX).unwrap();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).unwrap();
        assert_eq!(bytes.len(), 32);
        assert_eq!(format!("{t:?}"), "IngestToken(<redacted>)");
        let h = t.hash();
        assert_eq!(h.as_str().len(), 64);
        assert!(h.matches(&TokenHash::of(t.expose())));
        assert!(!h.matches(&TokenHash::of("crt_wrong")));
        // The serialised hash round-trips; the token has no Serialize impl at all.
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<TokenHash>(&json).unwrap(), h);
    }

    #[test]
    fn external_id_debug_is_truncated() {
        let e = ExternalId::generate();
        let shown = format!("{e:?}");
        assert!(!shown.contains(&e.as_str()[14..]), "{shown}");
    }

    #[test]
    fn role_arns() {
        let ok = [
            "arn:aws:iam::123456789012:role/CostradarReadOnly",
            "arn:aws:iam::123456789012:role/costradar/team-a/Reader",
            "arn:aws:iam::123456789012:role/a+=,.@_-b",
        ];
        for s in ok {
            let arn = RoleArn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(arn.account_id().as_str(), "123456789012");
        }
        for (s, partition) in [
            ("arn:aws-us-gov:iam::123456789012:role/R", "aws-us-gov"),
            ("arn:aws-cn:iam::123456789012:role/R", "aws-cn"),
        ] {
            match RoleArn::parse(s) {
                Err(RoleArnError::UnsupportedPartition { partition: p }) => {
                    assert_eq!(p, partition)
                }
                other => panic!("{s}: {other:?}"),
            }
            assert!(RoleArn::parse(s).unwrap_err().to_string().contains("not supported"));
        }
        let bad = [
            "",
            "arn:aws:iam::12345678901:role/R",
            "arn:aws:iam::1234567890123:role/R",
            "arn:aws:iam::12345678901a:role/R",
            "arn:aws:iam::123456789012:user/R",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:123456789012:role/R",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
            "arn:aws:iam::123456789012:role/ünïcode",
            "arn:aws:iam::123456789012:role/path//R",
            &format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65)),
            "arn:evil:iam::123456789012:role/R",
            "arn:aws:iam::123456789012:role/R\n",
        ];
        for s in bad {
            assert!(matches!(RoleArn::parse(s), Err(RoleArnError::Invalid(_))), "{s:?} was accepted");
        }
    }

    #[test]
    fn account_and_tenant_ids_reject_lookalikes() {
        for s in ["", "12345678901", "1234567890123", "１２３４５６７８９０１２", "12345678901 "] {
            assert!(AccountId::parse(s).is_err(), "{s:?}");
        }
        for s in ["", "t-", "T-AAAAAAAAAAAAAAAA", "t-aaaaaaaaaaaaaaa", "t-aaaaaaaaaaaaaaa/", "../etc/passwd"] {
            assert!(TenantId::parse(s).is_err(), "{s:?}");
        }
    }
}
