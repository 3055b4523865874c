//! Onboarding configuration, read once at start-up. A missing or malformed variable stops the
//! process with a message naming it.

use std::time::Duration as StdDuration;

use chrono::Duration;

use super::custom_resource::ResponseUrlPolicy;
use super::verify::VerifyOptions;
use crate::config::ConfigError;
use crate::domain::{parse_region, AccountId, RoleArn, Tenant};

#[derive(Clone, Debug)]
pub struct OnboardingSettings {
    /// The operator's AWS account: the principal customer roles trust.
    pub costradar_account_id: AccountId,
    /// Where costradar runs; the customer stack must be created in this region because a
    /// custom resource's SNS ServiceToken must be in the stack's region.
    pub region: String,
    pub custom_resource_topic_arn: String,
    /// HTTPS URL of `cfn/costradar-role.yaml` as the operator published it (S3).
    pub template_url: String,
    /// The receiver's function URL, prefilled in the quick-create link when known.
    pub receiver_url: Option<String>,
    /// How long a rotated-out ingest token keeps working.
    pub token_overlap: Duration,
    /// How long a deleted tenant's items are kept before DynamoDB's TTL removes them.
    pub data_retention: Duration,
    /// Verification for the custom resource (CloudFormation waits up to an hour for us).
    pub verify: VerifyOptions,
    /// Verification from the HTTP API, which must answer within API Gateway's 30 s.
    pub verify_interactive: VerifyOptions,
    pub response_urls: ResponseUrlPolicy,
    /// The role verification runs as (`COSTRADAR_VERIFY_AS_ROLE_ARN`, the scan role): customer
    /// roles trust only the scan and cur-query roles, so proving that the scan role can assume
    /// a customer role is the proof that matters. `None`: the function's own role (local runs).
    pub verify_as: Option<RoleArn>,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(var, message)
}

impl OnboardingSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(crate::config::from_process_env)
    }

    /// `COSTRADAR_LOCAL_EMULATOR=1` relaxes two checks for moto, which does not enforce
    /// `sts:ExternalId` and cannot give presigned S3 URLs: the negative assume check is skipped
    /// and `http://127.0.0.1` response URLs are accepted. It is refused unless every AWS call
    /// goes to a loopback endpoint (`AWS_ENDPOINT_URL`), so it cannot be switched on in AWS.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |k: &'static str| get(k).filter(|v| !v.is_empty()).ok_or_else(|| err(k, "must be set"));
        let costradar_account_id =
            AccountId::parse(&need("COSTRADAR_ACCOUNT_ID")?).map_err(|e| err("COSTRADAR_ACCOUNT_ID", e.message))?;
        let region =
            get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")).ok_or_else(|| err("AWS_REGION", "must be set"))?;
        let region = parse_region("AWS_REGION", &region).map_err(|e| err("AWS_REGION", e.message))?;
        let topic = need("COSTRADAR_TOPIC_ARN")?;
        if !topic.starts_with(&format!("arn:aws:sns:{region}:{costradar_account_id}:")) {
            return Err(err("COSTRADAR_TOPIC_ARN", "must be an SNS topic ARN in this account and region"));
        }
        let template_url = need("COSTRADAR_TEMPLATE_URL")?;
        if !template_url.starts_with("https://") {
            return Err(err("COSTRADAR_TEMPLATE_URL", "must be an https URL"));
        }
        // Function URLs end in `/`; the customer template refuses one (it appends `/events/...`).
        let receiver_url =
            get("COSTRADAR_RECEIVER_URL").map(|v| v.trim_end_matches('/').to_owned()).filter(|v| !v.is_empty());
        let hours = |k: &'static str, default: i64| -> Result<Duration, ConfigError> {
            match get(k) {
                None => Ok(Duration::hours(default)),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|h| (1..=24 * 365).contains(h))
                    .map(Duration::hours)
                    .ok_or_else(|| err(k, "whole hours, 1 to 8760")),
            }
        };
        let emulator = match get("COSTRADAR_LOCAL_EMULATOR").as_deref() {
            None | Some("") | Some("0") => false,
            Some("1") => {
                let endpoint = get("AWS_ENDPOINT_URL").unwrap_or_default();
                let loopback =
                    ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"].iter().any(|p| endpoint.starts_with(p));
                if !loopback {
                    return Err(err(
                        "COSTRADAR_LOCAL_EMULATOR",
                        "only allowed when AWS_ENDPOINT_URL is a loopback emulator",
                    ));
                }
                true
            }
            Some(_) => return Err(err("COSTRADAR_LOCAL_EMULATOR", "0 or 1")),
        };
        let verify = VerifyOptions { check_refused_without_external_id: !emulator, ..VerifyOptions::default() };
        let verify_as = match get("COSTRADAR_VERIFY_AS_ROLE_ARN").filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let bad = |m: &str| err("COSTRADAR_VERIFY_AS_ROLE_ARN", m.to_owned());
                let role = RoleArn::parse(&v).map_err(|e| bad(&e.to_string()))?;
                if role.account_id() != &costradar_account_id {
                    return Err(bad("must be a role of COSTRADAR_ACCOUNT_ID"));
                }
                Some(role)
            }
        };
        Ok(Self {
            costradar_account_id,
            region,
            custom_resource_topic_arn: topic,
            template_url,
            receiver_url,
            token_overlap: hours("COSTRADAR_TOKEN_OVERLAP_HOURS", 24)?,
            data_retention: hours("COSTRADAR_DATA_RETENTION_HOURS", 24 * 30)?,
            verify_interactive: VerifyOptions { budget: StdDuration::from_secs(20), ..verify.clone() },
            verify,
            response_urls: ResponseUrlPolicy { allow_loopback_http: emulator },
            verify_as,
        })
    }

    /// The CloudFormation console's quick-create link for the customer stack, every parameter
    /// costradar gives prefilled. Nothing in it is secret: each account's ingest token comes in
    /// costradar's answer to the stack's custom resource.
    pub fn quick_create_url(&self, tenant: &Tenant) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut params = vec![
            ("TenantId", tenant.id.as_str().to_owned()),
            ("ExternalId", tenant.external_id.as_str().to_owned()),
            ("CostradarAccountId", self.costradar_account_id.as_str().to_owned()),
            ("CustomResourceTopicArn", self.custom_resource_topic_arn.clone()),
        ];
        if let Some(r) = &self.receiver_url {
            params.push(("ReceiverUrl", r.clone()));
        }
        let mut url = format!(
            "https://{r}.console.aws.amazon.com/cloudformation/home?region={r}#/stacks/quickcreate?templateURL={}&stackName=costradar",
            enc(&self.template_url),
            r = self.region
        );
        for (k, v) in params {
            url.push_str(&format!("&param_{k}={}", enc(&v)));
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut m: HashMap<String, String> = [
            ("COSTRADAR_ACCOUNT_ID", "111122223333"),
            ("AWS_REGION", "eu-west-1"),
            ("COSTRADAR_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:costradar-custom-resource"),
            ("COSTRADAR_TEMPLATE_URL", "https://bucket.s3.amazonaws.com/costradar-role.yaml"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            m.insert((*k).to_owned(), (*v).to_owned());
        }
        move |k| m.get(k).cloned()
    }

    #[test]
    fn production_defaults() {
        let s = OnboardingSettings::from_lookup(env(&[])).unwrap();
        assert!(s.verify.check_refused_without_external_id);
        assert!(!s.response_urls.allow_loopback_http);
        assert_eq!(s.token_overlap, Duration::hours(24));
        assert!(s.verify_as.is_none());
        let role = "arn:aws:iam::111122223333:role/costradar/costradar-scan-eu-west-1";
        let s = OnboardingSettings::from_lookup(env(&[("COSTRADAR_VERIFY_AS_ROLE_ARN", role)])).unwrap();
        assert_eq!(s.verify_as.unwrap().as_str(), role);
    }

    #[test]
    fn emulator_mode_needs_a_loopback_endpoint() {
        let e = OnboardingSettings::from_lookup(env(&[("COSTRADAR_LOCAL_EMULATOR", "1")])).unwrap_err();
        assert_eq!(e.var, "COSTRADAR_LOCAL_EMULATOR");
        let e = OnboardingSettings::from_lookup(env(&[
            ("COSTRADAR_LOCAL_EMULATOR", "1"),
            ("AWS_ENDPOINT_URL", "https://dynamodb.eu-west-1.amazonaws.com"),
        ]))
        .unwrap_err();
        assert_eq!(e.var, "COSTRADAR_LOCAL_EMULATOR");
        let s = OnboardingSettings::from_lookup(env(&[
            ("COSTRADAR_LOCAL_EMULATOR", "1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .unwrap();
        assert!(!s.verify.check_refused_without_external_id);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("COSTRADAR_ACCOUNT_ID", "1234"),
            ("AWS_REGION", "cn-north-1"),
            ("COSTRADAR_TOPIC_ARN", "arn:aws:sns:us-east-1:999999999999:other"),
            ("COSTRADAR_TEMPLATE_URL", "http://insecure"),
            ("COSTRADAR_TOKEN_OVERLAP_HOURS", "-3"),
            ("COSTRADAR_VERIFY_AS_ROLE_ARN", "arn:aws:iam::999999999999:role/costradar/costradar-scan-eu-west-1"),
            ("COSTRADAR_VERIFY_AS_ROLE_ARN", "not an arn"),
        ] {
            let e = OnboardingSettings::from_lookup(env(&[(k, v)])).unwrap_err();
            assert_eq!(e.var, k, "{k}={v}");
        }
    }
}
