//! The onboarding Lambda's configuration (OnboardingFunction and RegistrationFunction, one
//! binary), read once at start-up: the table, and the onboarding settings
//! (costradar_core::onboarding::settings), with the checks those leave out for values that end
//! up in the customer's quick-create link. A missing or malformed variable stops the process
//! with a message naming it.

use costradar_core::config::{self, ConfigError};
use costradar_core::console::identity::{check_client_id, check_pool_id};
use costradar_core::health::HealthConfig;
use costradar_core::onboarding::OnboardingSettings;

fn err(var: &'static str, message: &str) -> ConfigError {
    ConfigError::new(var, message)
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table: String,
    /// `COSTRADAR_*` and the region (`AWS_REGION`, which Lambda sets).
    pub settings: OnboardingSettings,
    /// `COSTRADAR_USER_POOL_ID` and `COSTRADAR_CONSOLE_CLIENT_ID`, both or neither: the user pool
    /// and app client the console signs people in with (without them, nobody can sign in).
    pub console: Option<ConsoleSignIn>,
    /// `REPORTS_BUCKET`: the CUR reports bucket (`ReportsBucket`), for `GET /tenants/{id}/reports`
    /// and the console's reports page; without it those answer that reports are not configured.
    pub reports_bucket: Option<String>,
    /// `COSTRADAR_DLQ_NAMES` and `COSTRADAR_ALARM_PREFIX`: what the console's `/ops` page reads.
    /// Not a reason to stop: without them the page says what is missing.
    pub ops: Result<HealthConfig, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSignIn {
    pub pool_id: String,
    pub client_id: String,
}

fn console_sign_in(get: &impl Fn(&str) -> Option<String>) -> Result<Option<ConsoleSignIn>, ConfigError> {
    match (get("COSTRADAR_USER_POOL_ID"), get("COSTRADAR_CONSOLE_CLIENT_ID")) {
        (None, None) => Ok(None),
        (Some(pool_id), Some(client_id)) => {
            check_pool_id(&pool_id).map_err(|m| err("COSTRADAR_USER_POOL_ID", m))?;
            check_client_id(&client_id).map_err(|m| err("COSTRADAR_CONSOLE_CLIENT_ID", m))?;
            Ok(Some(ConsoleSignIn { pool_id, client_id }))
        }
        (None, Some(_)) => Err(err("COSTRADAR_USER_POOL_ID", "must be set with COSTRADAR_CONSOLE_CLIENT_ID")),
        (Some(_), None) => Err(err("COSTRADAR_CONSOLE_CLIENT_ID", "must be set with COSTRADAR_USER_POOL_ID")),
    }
}

impl Config {
    /// A value that is not UTF-8 is read with replacement characters, so it is refused as
    /// malformed rather than reported missing.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(config::from_process_env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table = config::table_name(&get)?;
        let settings = OnboardingSettings::from_lookup(&get)?;
        check_settings(&settings)?;
        let console = console_sign_in(&get)?;
        let reports_bucket = match get("REPORTS_BUCKET") {
            None => None,
            v => Some(config::bucket_name("REPORTS_BUCKET", v)?),
        };
        let ops = HealthConfig::from_lookup(|k| match k {
            "COSTRADAR_DLQ_NAMES" => get("COSTRADAR_DLQ_NAMES"),
            "COSTRADAR_ALARM_PREFIX" => get("COSTRADAR_ALARM_PREFIX"),
            _ => None,
        });
        Ok(Self { table, settings, console, reports_bucket, ops })
    }
}

/// The settings check the topic ARN's account and region and the template URL's scheme; these
/// go into the quick-create link, so the rest of each is checked here too.
fn check_settings(s: &OnboardingSettings) -> Result<(), ConfigError> {
    // The settings checked the `arn:aws:sns:<region>:<account id>:` prefix.
    let topic = s.custom_resource_topic_arn.splitn(6, ':').nth(5).unwrap_or_default();
    let topic_ok =
        (1..=256).contains(&topic.len()) && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    if !topic_ok {
        let message = "must be a standard SNS topic ARN: arn:aws:sns:<region>:<account id>:<name>";
        return Err(err("COSTRADAR_TOPIC_ARN", message));
    }
    let url_ok = s.template_url.len() <= 2048 && s.template_url.bytes().all(|b| b.is_ascii_graphic());
    if !url_ok {
        return Err(err("COSTRADAR_TEMPLATE_URL", "must be an https URL of at most 2048 printable ASCII characters"));
    }
    if !s.receiver_url.as_deref().is_none_or(receiver_url_ok) {
        let message = "must be the receiver's https URL (host, optional port, optional path), as the customer \
                       template's ReceiverUrl allows";
        return Err(err("COSTRADAR_RECEIVER_URL", message));
    }
    Ok(())
}

/// cfn/costradar-role.yaml's ReceiverUrl pattern, which the quick-create link fills in:
/// `^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$`.
fn receiver_url_ok(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://").filter(|r| r.len() <= 2048) else {
        return false;
    };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let (host, port) = authority.split_once(':').map_or((authority, None), |(h, p)| (h, Some(p)));
    let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b));
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let segment_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b));
    host_ok && port_ok && path.is_none_or(|p| p.split('/').all(segment_ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:costradar-CustomResourceTopic-1AB2C3";
    const RECEIVER: &str = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/";

    /// The stack's environment (and the region Lambda sets), with `changes` applied (`None`
    /// removes the variable).
    fn env(changes: &[(&str, Option<&str>)]) -> impl Fn(&str) -> Option<String> {
        costradar_core::testing::environment(
            &[
                ("TABLE_NAME", "costradar-prod"),
                ("AWS_REGION", "eu-west-1"),
                ("COSTRADAR_ACCOUNT_ID", "111122223333"),
                ("COSTRADAR_TOPIC_ARN", TOPIC),
                ("COSTRADAR_TEMPLATE_URL", "https://bucket.s3.eu-west-1.amazonaws.com/costradar/costradar-role.yaml"),
                ("COSTRADAR_RECEIVER_URL", RECEIVER),
                ("COSTRADAR_VERIFY_AS_ROLE_ARN", "arn:aws:iam::111122223333:role/costradar/costradar-scan-eu-west-1"),
                ("COSTRADAR_USER_POOL_ID", "eu-west-1_AbC123def"),
                ("COSTRADAR_CONSOLE_CLIENT_ID", "4a1b2c3d4e5f6g7h8i9j0k1l2m"),
            ],
            changes,
        )
    }

    fn refused(changes: &[(&str, Option<&str>)], var: &str) -> ConfigError {
        costradar_core::testing::refused_config(Config::from_lookup(env(changes)), var)
    }

    /// Values no deployment sets: very long, control characters, terminal escapes, header
    /// injection, non-ASCII look-alikes, a non-UTF-8 value as `from_env` reads it. Each is also
    /// tried appended to the good value.
    fn hostile(good: &str) -> Vec<String> {
        let bad = ["\n", "\t", "\0", "\u{1b}[31m", "\r\nX-Injected: 1", "ｘ", "\u{FFFD}", " ", "\u{202e}"];
        let mut v: Vec<String> = bad.iter().flat_map(|b| [format!("a{b}b"), format!("{good}{b}")]).collect();
        v.extend(["x".repeat(100_000), format!("{good}{}", "x".repeat(100_000))]);
        v
    }

    #[test]
    fn the_consoles_pool_and_client_are_both_set_well_formed_or_both_absent() {
        let c = Config::from_lookup(env(&[])).unwrap().console.unwrap();
        assert_eq!((c.pool_id.as_str(), c.client_id.as_str()), ("eu-west-1_AbC123def", "4a1b2c3d4e5f6g7h8i9j0k1l2m"));
        let none = [("COSTRADAR_USER_POOL_ID", None), ("COSTRADAR_CONSOLE_CLIENT_ID", None)];
        assert_eq!(Config::from_lookup(env(&none)).unwrap().console, None);
        refused(&[("COSTRADAR_USER_POOL_ID", None)], "COSTRADAR_USER_POOL_ID");
        refused(&[("COSTRADAR_CONSOLE_CLIENT_ID", None)], "COSTRADAR_CONSOLE_CLIENT_ID");
        for bad in hostile("eu-west-1_AbC123def") {
            refused(&[("COSTRADAR_USER_POOL_ID", Some(&bad))], "COSTRADAR_USER_POOL_ID");
        }
        for bad in hostile("4a1b2c3d4e5f6g7h8i9j0k1l2m") {
            refused(&[("COSTRADAR_CONSOLE_CLIENT_ID", Some(&bad))], "COSTRADAR_CONSOLE_CLIENT_ID");
        }
    }

    #[test]
    fn reads_the_stack_environment() {
        let c = Config::from_lookup(env(&[])).unwrap();
        assert_eq!(c.table, "costradar-prod");
        assert_eq!(c.settings.custom_resource_topic_arn, TOPIC);
        assert_eq!(c.settings.receiver_url.as_deref(), Some(RECEIVER.trim_end_matches('/')));
        assert_eq!(c.settings.verify_as.unwrap().account_id().as_str(), "111122223333");
        let local = Config::from_lookup(env(&[
            ("COSTRADAR_RECEIVER_URL", Some("https://localhost:9000/lambda-url/receiver")),
            ("COSTRADAR_VERIFY_AS_ROLE_ARN", None),
        ]))
        .unwrap();
        assert!(local.settings.verify_as.is_none());
        let none = Config::from_lookup(env(&[("COSTRADAR_RECEIVER_URL", None)])).unwrap();
        assert!(none.settings.receiver_url.is_none());
    }

    #[test]
    fn each_missing_variable_is_named() {
        for var in ["TABLE_NAME", "AWS_REGION", "COSTRADAR_ACCOUNT_ID", "COSTRADAR_TOPIC_ARN", "COSTRADAR_TEMPLATE_URL"]
        {
            let e = refused(&[(var, None)], var);
            assert_eq!(e.to_string(), format!("configuration: {var}: must be set"));
        }
        refused(&[("TABLE_NAME", Some(""))], "TABLE_NAME");
    }

    #[test]
    fn a_malformed_table_name_is_named() {
        for v in ["ab", &"t".repeat(256), "my table", "arn:aws:dynamodb:eu-west-1:111122223333:table/t", "t/../x"] {
            refused(&[("TABLE_NAME", Some(v))], "TABLE_NAME");
        }
        for v in hostile("costradar-prod") {
            refused(&[("TABLE_NAME", Some(&v))], "TABLE_NAME");
        }
    }

    #[test]
    fn malformed_settings_are_named() {
        for (var, v) in [
            ("COSTRADAR_TOPIC_ARN", format!("{TOPIC}.fifo")),
            ("COSTRADAR_TOPIC_ARN", format!("{TOPIC}:subscription-id")),
            ("COSTRADAR_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:".to_owned()),
            ("COSTRADAR_TOPIC_ARN", format!("arn:aws:sns:eu-west-1:111122223333:{}", "n".repeat(257))),
            ("COSTRADAR_TEMPLATE_URL", "http://bucket.s3.amazonaws.com/costradar-role.yaml".to_owned()),
            ("COSTRADAR_RECEIVER_URL", "http://abc.lambda-url.eu-west-1.on.aws".to_owned()),
            ("COSTRADAR_RECEIVER_URL", "https://abc.lambda-url.eu-west-1.on.aws:123456".to_owned()),
            ("COSTRADAR_RECEIVER_URL", "https://user@abc.lambda-url.eu-west-1.on.aws".to_owned()),
            ("COSTRADAR_RECEIVER_URL", "https://abc.on.aws/a//b".to_owned()),
            ("COSTRADAR_RECEIVER_URL", "https://abc.on.aws/?q=1".to_owned()),
            ("COSTRADAR_ACCOUNT_ID", "11112222333".to_owned()),
            ("AWS_REGION", "eu-west".to_owned()),
        ] {
            refused(&[(var, Some(&v))], var);
        }
    }

    #[test]
    fn hostile_values_are_refused_and_named() {
        let good = env(&[]);
        for var in [
            "AWS_REGION",
            "COSTRADAR_ACCOUNT_ID",
            "COSTRADAR_TOPIC_ARN",
            "COSTRADAR_TEMPLATE_URL",
            "COSTRADAR_RECEIVER_URL",
            "COSTRADAR_VERIFY_AS_ROLE_ARN",
        ] {
            for v in hostile(&good(var).unwrap()) {
                refused(&[(var, Some(&v))], var);
            }
        }
        for var in ["COSTRADAR_TOKEN_OVERLAP_HOURS", "COSTRADAR_DATA_RETENTION_HOURS", "COSTRADAR_LOCAL_EMULATOR"] {
            for v in hostile("1") {
                refused(&[(var, Some(&v))], var);
            }
        }
    }
}
