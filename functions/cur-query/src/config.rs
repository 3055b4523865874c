//! The cur-query Lambda's configuration, read once at start-up: the variables infra/template.yaml
//! sets on CurQueryFunction. A missing or malformed variable stops the process with a message naming
//! it (the checks, and their hostile-input tests, are `costradar_core::config`'s).

use costradar_core::config::{self, ConfigError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(config::from_process_env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { table: config::table_name(&get)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_stack_environment_and_names_what_is_missing() {
        let stack = |k: &str| (k == "TABLE_NAME").then(|| "costradar-prod".to_owned());
        assert_eq!(Config::from_lookup(stack).unwrap(), Config { table: "costradar-prod".to_owned() });
        let e = Config::from_lookup(|_: &str| None).unwrap_err();
        assert_eq!(e.to_string(), "configuration: TABLE_NAME: must be set");
        let e = Config::from_lookup(|_: &str| Some("a b".to_owned())).unwrap_err();
        assert_eq!(e.var, "TABLE_NAME");
    }
}
