//! The scan Lambda's configuration, read once at start-up: the variables infra/template.yaml
//! sets on ScanFunction. A missing or malformed variable stops the process with a message naming
//! it (the checks, and their hostile-input tests, are `costradar_core::config`'s).

use costradar_core::config::{self, ConfigError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table: String,
    /// `RUNS_BUCKET`: the runs bucket (`ScanRunsBucket`), where a run's due accounts and its
    /// distributed Map's results are.
    pub runs_bucket: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(config::from_process_env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { table: config::table_name(&get)?, runs_bucket: bucket_name(&get)? })
    }
}

/// `RUNS_BUCKET`, by S3's rule for a bucket name: 3 to 63 of a-z, 0-9, `.` and `-`, starting and
/// ending with a letter or digit.
fn bucket_name(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let need = |var: &'static str| config::required(get, var);
    let v = need("RUNS_BUCKET")?;
    let b = v.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = (3..=63).contains(&b.len())
        && b.iter().all(|&c| edge(c) || c == b'.' || c == b'-')
        && edge(b[0])
        && edge(b[b.len() - 1]);
    if !ok {
        return Err(ConfigError::new("RUNS_BUCKET", "must be an S3 bucket name: 3 to 63 of a-z, 0-9, . and -"));
    }
    Ok(v)
}

/// `NOTIFY_TOPIC_ARN` (optional): the operator's SNS topic, which gets a copy of each digest
/// (the `digest` task). Checked by `costradar_core::config::sns_topic_arn`.
pub fn notify_topic_arn(get: impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    let v = get("NOTIFY_TOPIC_ARN");
    config::sns_topic_arn(&move |_: &str| v.clone(), "NOTIFY_TOPIC_ARN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_topic_is_optional_and_checked() {
        let topic = "arn:aws:sns:us-east-1:111122223333:costradar-NotifyTopic-1";
        let env = |v: &'static str| move |k: &str| (k == "NOTIFY_TOPIC_ARN").then(|| v.to_owned());
        assert_eq!(notify_topic_arn(env(topic)).unwrap().as_deref(), Some(topic));
        assert_eq!(notify_topic_arn(|_: &str| None).unwrap(), None);
        for bad in ["arn:aws:sns:us-east-1:111122223333:t.fifo", "https://sns.example.com", "arn:aws:sns:x:1:t"] {
            assert_eq!(notify_topic_arn(env(bad)).unwrap_err().var, "NOTIFY_TOPIC_ARN", "{bad}");
        }
    }

    #[test]
    fn reads_the_stack_environment_and_names_what_is_missing() {
        let stack = |k: &str| match k {
            "TABLE_NAME" => Some("costradar-prod".to_owned()),
            "RUNS_BUCKET" => Some("costradar-runs-111122223333-us-east-1".to_owned()),
            _ => None,
        };
        assert_eq!(
            Config::from_lookup(stack).unwrap(),
            Config {
                table: "costradar-prod".to_owned(),
                runs_bucket: "costradar-runs-111122223333-us-east-1".to_owned()
            }
        );
        let e = Config::from_lookup(|_: &str| None).unwrap_err();
        assert_eq!(e.to_string(), "configuration: TABLE_NAME: must be set");
        let e = Config::from_lookup(|_: &str| Some("a b".to_owned())).unwrap_err();
        assert_eq!(e.var, "TABLE_NAME");
        let no_bucket = |k: &str| (k == "TABLE_NAME").then(|| "costradar-prod".to_owned());
        assert_eq!(Config::from_lookup(no_bucket).unwrap_err().to_string(), "configuration: RUNS_BUCKET: must be set");
        for bad in ["ab", "Runs", "-runs", "runs-", "runs/../x", "runs bucket", &"r".repeat(64)] {
            let get = |k: &str| Some(if k == "TABLE_NAME" { "costradar-prod".to_owned() } else { bad.to_owned() });
            assert_eq!(Config::from_lookup(get).unwrap_err().var, "RUNS_BUCKET", "{bad}");
        }
    }
}
