//! The cur-query Lambda's configuration, read once at start-up: the variables infra/template.yaml
//! sets on CurQueryFunction. A missing or malformed variable stops the process with a message naming
//! it (the checks, and their hostile-input tests, are `costradar_core::config`'s).

use costradar_core::config::{self, ConfigError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table: String,
    /// `REPORTS_BUCKET`: the reports bucket (`ReportsBucket`), where each analysis's report goes.
    pub reports_bucket: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(config::from_process_env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::table_name(&get)?,
            reports_bucket: config::bucket_name("REPORTS_BUCKET", get("REPORTS_BUCKET"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(k: &str) -> Option<String> {
        match k {
            "TABLE_NAME" => Some("costradar-prod".to_owned()),
            "REPORTS_BUCKET" => Some("costradar-reports-111122223333-us-east-1".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn reads_the_stack_environment_and_names_what_is_missing() {
        let want = Config {
            table: "costradar-prod".to_owned(),
            reports_bucket: "costradar-reports-111122223333-us-east-1".to_owned(),
        };
        assert_eq!(Config::from_lookup(stack).unwrap(), want);
        let e = Config::from_lookup(|_: &str| None).unwrap_err();
        assert_eq!(e.to_string(), "configuration: TABLE_NAME: must be set");
        let e = Config::from_lookup(|_: &str| Some("a b".to_owned())).unwrap_err();
        assert_eq!(e.var, "TABLE_NAME");
        let e = Config::from_lookup(|k: &str| if k == "REPORTS_BUCKET" { None } else { stack(k) }).unwrap_err();
        assert_eq!(e.to_string(), "configuration: REPORTS_BUCKET: must be set");
    }

    #[test]
    fn a_hostile_bucket_name_is_refused() {
        for bad in ["ab", "Reports", "-reports", "reports-", "a/b", "reports bucket", "arn:aws:s3:::reports", "r\n"] {
            let get = |k: &str| if k == "REPORTS_BUCKET" { Some(bad.to_owned()) } else { stack(k) };
            let e = Config::from_lookup(get).unwrap_err();
            assert_eq!(e.var, "REPORTS_BUCKET", "{bad:?}");
        }
        let long = "r".repeat(64);
        let e = Config::from_lookup(|k: &str| if k == "REPORTS_BUCKET" { Some(long.clone()) } else { stack(k) });
        assert_eq!(e.unwrap_err().var, "REPORTS_BUCKET");
    }
}
