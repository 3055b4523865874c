//! The receiver Lambda's configuration, read once at start-up: the variables infra/template.yaml
//! sets on ReceiverFunction. A missing or malformed variable stops the process with a message
//! naming it.

use costradar_core::config::{self, ConfigError};
use costradar_core::domain::{parse_region, AccountId};
use costradar_core::receiver::notify::Target;

fn err(var: &'static str, message: &str) -> ConfigError {
    ConfigError::new(var, message)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table: String,
    /// `NOTIFY_TOPIC_ARN`: the operator's SNS topic for findings. The stack always sets it;
    /// unset or empty (local runs) means none.
    pub notify_topic_arn: Option<String>,
    /// `NOTIFY_EVENT_BUS`: the operator's EventBridge bus (a name) for findings; unset or empty
    /// means none, as the stack's NotifyEventBusName parameter's default.
    pub notify_event_bus: Option<String>,
}

impl Config {
    /// A value that is not UTF-8 is read with replacement characters, so it is refused as
    /// malformed rather than reported missing.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(config::from_process_env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table = config::table_name(&get)?;
        let topic = get("NOTIFY_TOPIC_ARN").filter(|v| !v.is_empty());
        let bus = get("NOTIFY_EVENT_BUS").filter(|v| !v.is_empty());
        Ok(Self {
            table,
            notify_topic_arn: topic.map(|v| sns_topic_arn("NOTIFY_TOPIC_ARN", v)).transpose()?,
            notify_event_bus: bus.map(|v| event_bus_name("NOTIFY_EVENT_BUS", v)).transpose()?,
        })
    }

    /// Where every finding goes, whatever the tenant: the topic, then the bus.
    pub fn operator_targets(&self) -> Vec<Target> {
        let topic = self.notify_topic_arn.iter().map(|topic_arn| Target::Sns { topic_arn: topic_arn.clone() });
        let bus = self.notify_event_bus.iter().map(|bus| Target::EventBridge { bus: bus.clone() });
        topic.chain(bus).collect()
    }
}

/// `arn:aws:sns:<region>:<account id>:<name>`, the name 1 to 256 characters of A-Z, a-z, 0-9,
/// `_` and `-`. A FIFO topic (`.fifo`) is refused: publishing to one needs a message group id,
/// which the notifier does not send.
fn sns_topic_arn(var: &'static str, v: String) -> Result<String, ConfigError> {
    let bad = || err(var, "must be a standard SNS topic ARN: arn:aws:sns:<region>:<12-digit account id>:<name>");
    if v.len() > 512 {
        return Err(bad());
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let ["arn", "aws", "sns", region, account, name] = parts[..] else {
        return Err(bad());
    };
    let name_ok =
        (1..=256).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    if parse_region(var, region).is_err() || AccountId::parse(account).is_err() || !name_ok {
        return Err(bad());
    }
    Ok(v)
}

/// The stack's NotifyEventBusName pattern, `^[A-Za-z0-9._-]{0,256}$` (empty is read as unset).
fn event_bus_name(var: &'static str, v: String) -> Result<String, ConfigError> {
    let ok = v.len() <= 256 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return Err(err(var, "must be an EventBridge bus name: up to 256 characters of A-Z, a-z, 0-9, ., _ and -"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:costradar-NotifyTopic-1AB2C3D4E5F6";

    /// The stack's environment, with `changes` applied (`None` removes the variable).
    fn env(changes: &[(&str, Option<&str>)]) -> impl Fn(&str) -> Option<String> {
        costradar_core::testing::environment(
            &[("TABLE_NAME", "costradar-prod"), ("NOTIFY_TOPIC_ARN", TOPIC), ("NOTIFY_EVENT_BUS", "finops")],
            changes,
        )
    }

    fn refused(changes: &[(&str, Option<&str>)], var: &str) -> ConfigError {
        costradar_core::testing::refused_config(Config::from_lookup(env(changes)), var)
    }

    /// Values no deployment sets: very long, control characters, terminal escapes, header
    /// injection, non-ASCII look-alikes, a non-UTF-8 value as `from_env` reads it.
    fn hostile() -> Vec<String> {
        let mut v: Vec<String> = ["a\nb", "tab\tle", "nul\0table", "\u{1b}[31mred", "t\r\nX-Injected: 1", "ｔａｂｌｅ"]
            .map(str::to_owned)
            .into();
        v.extend(["x".repeat(100_000), "costradar-\u{FFFD}".to_owned(), " costradar".to_owned()]);
        v.extend([format!("{TOPIC}\n"), format!("{TOPIC}\u{1b}[2K"), format!("{TOPIC}{}", "x".repeat(100_000))]);
        v
    }

    #[test]
    fn reads_the_stack_environment() {
        let c = Config::from_lookup(env(&[])).unwrap();
        assert_eq!(c.table, "costradar-prod");
        assert_eq!(
            c.operator_targets(),
            vec![Target::Sns { topic_arn: TOPIC.to_owned() }, Target::EventBridge { bus: "finops".to_owned() }]
        );
        let longest = format!("arn:aws:sns:ap-southeast-2:111122223333:{}", "T_-9".repeat(64));
        for (k, v) in [("TABLE_NAME", "a.b"), ("NOTIFY_TOPIC_ARN", &longest), ("NOTIFY_EVENT_BUS", &"b".repeat(256))] {
            Config::from_lookup(env(&[(k, Some(v))])).unwrap();
        }
    }

    #[test]
    fn the_notification_targets_are_optional() {
        for v in [None, Some("")] {
            let c = Config::from_lookup(env(&[("NOTIFY_TOPIC_ARN", v)])).unwrap();
            assert_eq!(c.operator_targets(), vec![Target::EventBridge { bus: "finops".to_owned() }]);
            let c = Config::from_lookup(env(&[("NOTIFY_EVENT_BUS", v)])).unwrap();
            assert_eq!(c.operator_targets(), vec![Target::Sns { topic_arn: TOPIC.to_owned() }]);
            let c = Config::from_lookup(env(&[("NOTIFY_TOPIC_ARN", v), ("NOTIFY_EVENT_BUS", v)])).unwrap();
            assert!(c.operator_targets().is_empty());
        }
    }

    #[test]
    fn a_missing_or_empty_table_name_is_named() {
        for v in [None, Some("")] {
            let e = refused(&[("TABLE_NAME", v)], "TABLE_NAME");
            assert_eq!(e.to_string(), "configuration: TABLE_NAME: must be set");
        }
    }

    #[test]
    fn a_malformed_table_name_is_named() {
        for v in ["ab", &"t".repeat(256), "my table", "arn:aws:dynamodb:eu-west-1:111122223333:table/t", "t/../x"] {
            refused(&[("TABLE_NAME", Some(v))], "TABLE_NAME");
        }
        for v in hostile() {
            refused(&[("TABLE_NAME", Some(&v))], "TABLE_NAME");
        }
    }

    #[test]
    fn a_malformed_topic_arn_is_named() {
        let name = "costradar-notify";
        for v in [
            "costradar-notify".to_owned(),
            format!("arn:aws:sqs:eu-west-1:111122223333:{name}"),
            format!("arn:aws-cn:sns:cn-north-1:111122223333:{name}"),
            format!("arn:aws:sns:cn-north-1:111122223333:{name}"),
            format!("arn:aws:sns:EU-WEST-1:111122223333:{name}"),
            format!("arn:aws:sns::111122223333:{name}"),
            format!("arn:aws:sns:eu-west-1:1234:{name}"),
            "arn:aws:sns:eu-west-1:111122223333:".to_owned(),
            format!("arn:aws:sns:eu-west-1:111122223333:{name}.fifo"),
            format!("arn:aws:sns:eu-west-1:111122223333:{name}:subscription-id"),
            format!("arn:aws:sns:eu-west-1:111122223333:{}", "n".repeat(257)),
        ]
        .into_iter()
        .chain(hostile())
        {
            refused(&[("NOTIFY_TOPIC_ARN", Some(&v))], "NOTIFY_TOPIC_ARN");
        }
    }

    #[test]
    fn a_malformed_event_bus_is_named() {
        for v in ["arn:aws:events:eu-west-1:111122223333:event-bus/finops", "my bus", "a/b", &"b".repeat(257)]
            .map(str::to_owned)
            .into_iter()
            .chain(hostile())
        {
            refused(&[("NOTIFY_EVENT_BUS", Some(&v))], "NOTIFY_EVENT_BUS");
        }
    }
}
