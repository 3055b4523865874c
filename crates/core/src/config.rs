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

#[cfg(test)]
mod tests {
    use super::*;

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
