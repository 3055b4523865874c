//! Reading a Lambda's configuration from its environment, once, at start-up: the one error type
//! (it names the variable and says what is wrong) and the checks every function shares. Each
//! function's `Config::from_env` (functions/*/src/config.rs) is built from these; tests pass a
//! lookup closure instead of the process environment.

/// A variable that is missing or malformed. The message never quotes more than 200 bytes of
/// anything (a hostile value could be huge, or hold control characters).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(var: &'static str, message: impl Into<String>) -> Self {
        const MAX: usize = 200;
        let mut message: String = message.into().chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        if message.len() > MAX {
            let cut = (0..=MAX).rev().find(|&i| message.is_char_boundary(i)).unwrap_or(0);
            message.truncate(cut);
            message.push_str("...");
        }
        Self { var, message }
    }
}

/// The process environment as a lookup. A value that is not UTF-8 is read with replacement
/// characters, so the checks refuse it as malformed rather than report it missing.
pub fn from_process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// A variable that must be set and not empty.
pub fn required(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<String, ConfigError> {
    get(var).filter(|v| !v.is_empty()).ok_or_else(|| ConfigError::new(var, "must be set"))
}

/// `TABLE_NAME`, by DynamoDB's rule for a table name: 3 to 255 characters of A-Z, a-z, 0-9, `_`,
/// `-` and `.`.
pub fn table_name(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let v = required(get, "TABLE_NAME")?;
    let ok = (3..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if !ok {
        let why = "must be a DynamoDB table name: 3 to 255 characters of A-Z, a-z, 0-9, _, - and .";
        return Err(ConfigError::new("TABLE_NAME", why));
    }
    Ok(v)
}

/// The value of `var`, an S3 bucket's name (`REPORTS_BUCKET`), by S3's rule for a bucket name: 3 to 63 of
/// a-z, 0-9, `.` and `-`, starting and ending with a letter or digit.
pub fn bucket_name(var: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    let v = value.filter(|v| !v.is_empty()).ok_or_else(|| ConfigError::new(var, "must be set"))?;
    let b = v.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = (3..=63).contains(&b.len())
        && b.iter().all(|&c| edge(c) || c == b'.' || c == b'-')
        && edge(b[0])
        && edge(b[b.len() - 1]);
    if !ok {
        return Err(ConfigError::new(var, "must be an S3 bucket name: 3 to 63 of a-z, 0-9, . and -"));
    }
    Ok(v)
}

/// An optional variable naming a standard SNS topic (`NOTIFY_TOPIC_ARN` on the scan function,
/// for the digest): `arn:aws:sns:<region>:<account id>:<name>`, the name 1 to 256 of A-Z, a-z,
/// 0-9, `_` and `-` (a FIFO topic needs a message group id the notifier does not send). Unset or
/// empty: `None`.
pub fn sns_topic_arn(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<Option<String>, ConfigError> {
    let Some(v) = get(var).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad =
        || ConfigError::new(var, "must be a standard SNS topic ARN: arn:aws:sns:<region>:<12-digit account id>:<name>");
    if v.len() > 512 {
        return Err(bad());
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let ["arn", "aws", "sns", region, account, name] = parts[..] else {
        return Err(bad());
    };
    let name_ok =
        (1..=256).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    let region_ok = crate::domain::parse_region(var, region).is_ok();
    if !region_ok || crate::domain::AccountId::parse(account).is_err() || !name_ok {
        return Err(bad());
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sns_topic_arn_is_optional_and_checked() {
        let get = |v: &'static str| move |k: &str| (k == "T").then(|| v.to_owned());
        assert_eq!(sns_topic_arn(&get(""), "T").unwrap(), None);
        assert_eq!(sns_topic_arn(&|_: &str| None, "T").unwrap(), None);
        let ok = "arn:aws:sns:us-east-1:123456789012:costradar-notify";
        assert_eq!(sns_topic_arn(&get(ok), "T").unwrap().as_deref(), Some(ok));
        for bad in [
            "arn:aws:sns:us-east-1:123456789012:t.fifo",
            "arn:aws:sqs:us-east-1:123456789012:t",
            "arn:aws:sns:moon-1:123456789012:t",
            "arn:aws:sns:us-east-1:1234:t",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:123456789012:a\nb",
            "topic",
        ] {
            let e = sns_topic_arn(&get(bad), "T").unwrap_err();
            assert_eq!(e.var, "T", "{bad}");
        }
    }

    fn table(v: Option<&str>) -> Result<String, ConfigError> {
        let v = v.map(str::to_owned);
        table_name(&move |k: &str| if k == "TABLE_NAME" { v.clone() } else { None })
    }

    #[test]
    fn a_table_name_is_read_or_named_in_the_error() {
        for ok in ["abc", "My_Table.v2-x", &"t".repeat(255)] {
            assert_eq!(table(Some(ok)).unwrap(), ok);
        }
        for v in [None, Some("")] {
            assert_eq!(table(v).unwrap_err().to_string(), "configuration: TABLE_NAME: must be set");
        }
        let hostile = [
            "ab".to_owned(),
            "t".repeat(256),
            "my table".into(),
            "arn:aws:dynamodb:eu-west-1:111122223333:table/t".into(),
            "t/../x".into(),
            "a\nb".into(),
            "nul\0table".into(),
            "\u{1b}[31mred".into(),
            "t\r\nX-Injected: 1".into(),
            "ｔａｂｌｅ".into(),
            "x".repeat(100_000),
            "costradar-\u{FFFD}".into(),
            " costradar".into(),
        ];
        for v in hostile {
            let e = table(Some(&v)).unwrap_err();
            assert_eq!(e.var, "TABLE_NAME");
            let text = e.to_string();
            assert!(text.len() < 300 && !text.chars().any(char::is_control), "{text:?}");
        }
    }

    #[test]
    fn a_message_is_bounded_and_has_no_control_characters() {
        let e = ConfigError::new("X", format!("bad \u{1b}[31m{}", "é".repeat(1000)));
        assert!(e.message.len() <= 203 && !e.message.chars().any(char::is_control), "{:?}", e.message);
    }
}
