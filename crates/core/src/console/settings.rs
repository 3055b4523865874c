//! `/t/{id}/settings`: a tenant's settings (thresholds, the notification webhook, the scan,
//! report retention) as a form. Saving sends the body `PATCH /tenants/{id}` of the operator API
//! would get to that API's own handler ([`super::ops::call`]): one parser, one validation
//! (`ScanSettings::from_json`, the webhook and threshold checks of `configure_tenant`), one
//! write. A bad value re-shows the form with "Nothing was saved" and the field at fault (400).
//!
//! Who: the operator's staff change settings; a tenant's user sees them read-only. The operator
//! API is the only API that changes a tenant (tenant users have none), and the webhook URL is
//! where findings are sent: letting a tenant's user change it would let one user of a tenant
//! send everyone's findings elsewhere. The webhook is shown masked (scheme and host) to
//! everyone, as the API shows it.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::html::{self, enc, escape};
use super::ops::{api_error, call};
use super::pages::frame;
use super::{Console, Ctx, Response};
use crate::domain::settings::{DigestWeekday, ScanSettings, REPORT_RETENTION_DAYS};
use crate::domain::Tenant;
use crate::onboarding::TenantView;

/// The scan settings' keys by group, with their labels. `every_scan_setting_has_a_place` checks
/// that no key of [`ScanSettings`] is missing.
pub(crate) const THRESHOLDS: &[(&str, &str)] = &[
    ("unattached_volume_days", "Unattached EBS volume, days"),
    ("stopped_instance_days", "Stopped EC2 instance, days"),
    ("snapshot_age_days", "Orphaned snapshot age, days"),
    ("idle_window_days", "Idle window, days (1–63)"),
    ("idle_min_age_days", "Minimum age to be called idle, days"),
    ("idle_cpu_p95_percent", "Idle CPU p95 below, %"),
    ("nat_idle_max_bytes", "Idle NAT gateway at most, bytes"),
    ("elb_no_targets_days", "Load balancer without targets, days"),
    ("io_to_gp3_max_iops", "io1/io2 compared with gp3 up to, IOPS"),
    ("logs_min_stored_bytes", "Never-expiring log groups from, bytes"),
    ("logs_retention_days", "Log retention the fix sets, days"),
    ("dynamodb_ia_storage_share_percent", "DynamoDB Standard-IA storage share, %"),
    ("dynamodb_ia_min_saving_usd", "DynamoDB Standard-IA minimum saving, USD a month"),
    ("redshift_pause_idle_percent", "Redshift idle share to pause, %"),
    ("s3_incomplete_upload_days", "Incomplete multipart upload, days"),
    ("s3_noncurrent_days", "Noncurrent S3 versions kept, days"),
    ("s3_versioned_min_gib", "Versioned bucket from, GiB"),
    ("s3_large_bucket_gib", "Large S3 bucket from, GiB"),
    ("cold_data_share_percent", "Cold data share assumed, %"),
    ("efs_min_standard_gib", "EFS Standard class from, GiB"),
    ("ecr_untagged_days", "Untagged ECR images, days"),
    ("alarm_insufficient_data_days", "Alarm in INSUFFICIENT_DATA, days"),
];
pub(crate) const SCAN: &[(&str, &str)] = &[
    ("scan_interval_hours", "Hours between scheduled scans (1–720)"),
    ("max_concurrent_regions", "Regions scanned at once (1–32)"),
    ("cost_optimization_hub", "Read Cost Optimization Hub"),
    ("compute_optimizer", "Read Compute Optimizer"),
    ("trusted_advisor", "Read Trusted Advisor"),
];

/// The form's values: a field's name to its text.
type Values = Vec<(String, String)>;

fn value_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => if *b { "on" } else { "off" }.to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The tenant's current settings as form values.
fn current(t: &Tenant) -> Values {
    let scan = serde_json::to_value(t.scan_settings.clone().unwrap_or_default()).expect("settings serialise");
    let mut v: Values = scan.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), value_text(v))).collect();
    v.push(("realtime_threshold_usd".into(), t.realtime_threshold_usd.map(|d| d.to_string()).unwrap_or_default()));
    v.push(("report_retention_days".into(), t.report_retention_days.days().to_string()));
    v.push(("digest".into(), value_text(&json!(t.digest.frequency))));
    v.push(("digest_weekday".into(), t.digest.weekday.as_str().into()));
    v
}

fn get<'a>(v: &'a Values, k: &str) -> &'a str {
    v.iter().find(|(n, _)| n == k).map(|(_, x)| x.as_str()).unwrap_or("")
}

pub(crate) async fn show(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    let tenant = match c.store.get_tenant(&ctx.tenant).await {
        Ok(Some(t)) => t,
        Ok(None) => return super::not_found(ctx.session),
        Err(e) => return super::pages::failure(ctx.session, &e.into()),
    };
    let saved = url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "saved" && v == "1");
    let notice = saved.then_some("Saved. The next scan and the next real-time event use these settings.");
    render(c, ctx, &tenant, &current(&tenant), notice, None, 200)
}

/// Why this session cannot change settings here, if it cannot.
fn read_only(c: &Console, ctx: &Ctx<'_>) -> Option<String> {
    if !ctx.session.is_operator() {
        return Some("Only the operator's staff change a tenant's settings; ask them for a change.".into());
    }
    c.admin.as_ref().err().map(|why| format!("Settings cannot be changed here: {why}."))
}

fn render(
    c: &Console,
    ctx: &Ctx<'_>,
    tenant: &Tenant,
    values: &Values,
    notice: Option<&str>,
    problem: Option<(&str, &str)>,
    status: u16,
) -> Response {
    let locked = read_only(c, ctx);
    let mut h = String::from("<h1>Settings</h1>");
    if let Some(n) = notice {
        let _ = write!(h, "<p class=\"notice\" role=\"status\">{}</p>", escape(n));
    }
    if let Some((field, message)) = problem {
        let _ = write!(
            h,
            "<p class=\"error\" role=\"alert\">Nothing was saved. {}: {}</p>",
            escape(field),
            escape(message)
        );
    }
    if let Some(why) = &locked {
        let _ = write!(h, "<p class=\"muted\">{}</p>", escape(why));
    }
    let bad = problem.map(|(f, _)| f).unwrap_or("");
    let _ = write!(
        h,
        "<form method=\"post\" action=\"/t/{}/settings\" class=\"settings\"><fieldset{}><legend class=\"sr-only\">The tenant's settings</legend>",
        enc(ctx.tenant.as_str()),
        if locked.is_some() { " disabled" } else { "" }
    );
    h.push_str("<h2>Thresholds</h2><div class=\"filters\">");
    h.push_str(&field(
        "realtime_threshold_usd",
        "Real-time finding from, USD a month (empty: the default, 100)",
        values,
        bad,
    ));
    for (k, label) in THRESHOLDS {
        h.push_str(&field(k, label, values, bad));
    }
    h.push_str("</div><h2>Notifications</h2><div class=\"filters\">");
    let masked = TenantView::from(tenant).notify_webhook.unwrap_or_else(|| "none".into());
    let _ = write!(
        h,
        "<p>Current webhook: <code>{}</code> (only its scheme and host are ever shown).</p>",
        escape(&masked)
    );
    h.push_str(&field("notify_webhook_url", "New webhook URL (https; empty: keep the current one)", values, bad));
    h.push_str("<label style=\"flex-direction:row;gap:.4rem\"><input type=\"checkbox\" name=\"clear_webhook\" value=\"1\"> Remove the webhook</label></div>");
    h.push_str("<h2>Scan</h2><div class=\"filters\">");
    for (k, label) in SCAN {
        h.push_str(&field(k, label, values, bad));
    }
    h.push_str("</div><h2>Reports</h2><div class=\"filters\">");
    let days: Vec<(String, String)> =
        REPORT_RETENTION_DAYS.iter().map(|d| (d.to_string(), format!("{d} days"))).collect();
    let opts: Vec<(&str, &str)> = days.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    h.push_str(&html::select("report_retention_days", "Keep CUR reports", &opts, get(values, "report_retention_days")));
    h.push_str("</div><h2>Digest</h2><div class=\"filters\">");
    let often = [("off", "off"), ("daily", "daily"), ("weekly", "weekly")];
    h.push_str(&html::select(
        "digest",
        "Digest to the webhook and the operator's topic",
        &often,
        get(values, "digest"),
    ));
    let days: Vec<(&str, &str)> = DigestWeekday::ALL.iter().map(|d| (d.as_str(), d.as_str())).collect();
    h.push_str(&html::select("digest_weekday", "Day of a weekly digest (UTC)", &days, get(values, "digest_weekday")));
    h.push_str("</div>");
    if locked.is_none() {
        h.push_str("<p><button type=\"submit\">Save the settings</button></p>");
    }
    h.push_str("</fieldset></form><p class=\"muted\">The same as the operator API's <code>PATCH /tenants/{id}</code> (<code>costradar tenants configure</code>); the thresholds' meanings are in docs/rules.md.</p>");
    Response::html(status, html::page(&frame(ctx, "Settings", "settings"), &h))
}

/// One field: an on/off select for the recommenders, a text input otherwise; the field at fault
/// is marked and says so.
fn field(name: &str, label: &str, values: &Values, bad: &str) -> String {
    let v = get(values, name);
    if matches!(v, "on" | "off") && SCAN.iter().any(|(k, _)| *k == name) {
        return html::select(name, label, &[("on", "on"), ("off", "off")], v);
    }
    let invalid = if bad == name { " aria-invalid=\"true\" aria-describedby=\"settings-error\"" } else { "" };
    let mut h = html::input(name, label, v, &format!(" size=\"16\"{invalid}"));
    if !invalid.is_empty() {
        h = h.replace("</div>", "<span id=\"settings-error\" class=\"error\">this value was refused</span></div>");
    }
    h
}

/// The `PATCH /tenants/{id}` body from the form: scan settings that differ from the defaults
/// (none: `null`, the defaults), the threshold (`null` when empty), the webhook when one is
/// given or removed, the report retention when it changed. The values go as typed: the API's
/// validation judges them.
fn patch_body(form: &Values, tenant: &Tenant) -> Value {
    let defaults = serde_json::to_value(ScanSettings::default()).expect("settings serialise");
    let mut scan = Map::new();
    for (k, d) in defaults.as_object().into_iter().flatten() {
        let Some((_, typed)) = form.iter().find(|(n, _)| n == k) else { continue };
        let typed = typed.trim();
        if typed == value_text(d) {
            continue;
        }
        let v = match (d, typed) {
            (Value::Bool(_), "on") => Value::Bool(true),
            (Value::Bool(_), "off") => Value::Bool(false),
            (Value::Number(_), t) => serde_json::from_str::<serde_json::Number>(t).map_or(json!(t), Value::Number),
            (_, t) => json!(t),
        };
        scan.insert(k.clone(), v);
    }
    let mut body = Map::new();
    body.insert("scan_settings".into(), if scan.is_empty() { Value::Null } else { Value::Object(scan) });
    let threshold = get(form, "realtime_threshold_usd").trim();
    body.insert("realtime_threshold_usd".into(), if threshold.is_empty() { Value::Null } else { json!(threshold) });
    let webhook = get(form, "notify_webhook_url").trim();
    if get(form, "clear_webhook") == "1" {
        body.insert("notify_webhook_url".into(), Value::Null);
    } else if !webhook.is_empty() {
        body.insert("notify_webhook_url".into(), json!(webhook));
    }
    let retention = get(form, "report_retention_days").trim();
    if !retention.is_empty() && retention != tenant.report_retention_days.days().to_string() {
        let v = retention.parse::<u64>().map_or(json!(retention), |d| json!(d));
        body.insert("report_retention_days".into(), v);
    }
    // The weekday goes only with a weekly digest (the API refuses it otherwise).
    let (often, day) = (get(form, "digest").trim(), get(form, "digest_weekday").trim());
    if !often.is_empty() && often != value_text(&json!(tenant.digest.frequency)) {
        body.insert("digest".into(), json!(often));
    }
    if often == "weekly" && !day.is_empty() && day != tenant.digest.weekday.as_str() {
        body.insert("digest_weekday".into(), json!(day));
    }
    Value::Object(body)
}

pub(crate) async fn save(c: &Console, ctx: &Ctx<'_>, body: &[u8]) -> Response {
    let tenant = match c.store.get_tenant(&ctx.tenant).await {
        Ok(Some(t)) => t,
        Ok(None) => return super::not_found(ctx.session),
        Err(e) => return super::pages::failure(ctx.session, &e.into()),
    };
    let form: Values = super::form(body);
    if let Some(why) = read_only(c, ctx) {
        let mut r = render(c, ctx, &tenant, &current(&tenant), None, Some(("settings", &why)), 403);
        r.status = 403;
        return r;
    }
    let Ok(admin) = &c.admin else { unreachable!("read_only is None only with the use cases") };
    let path = format!("/tenants/{}", enc(ctx.tenant.as_str()));
    let r = call(&admin.onboarding, "PATCH", &path, Some(&patch_body(&form, &tenant))).await;
    match r.status {
        200 => Response::redirect(&format!("/t/{}/settings?saved=1", enc(ctx.tenant.as_str()))),
        404 => super::not_found(ctx.session),
        status => {
            let (field, message) = api_error(&r);
            let field = field.strip_prefix("scan_settings.").unwrap_or(&field).to_owned();
            // The form as typed (the webhook field left empty: it is never echoed), the
            // refused field marked.
            let mut values = current(&tenant);
            for (k, v) in form.iter().filter(|(k, _)| k != "notify_webhook_url") {
                match values.iter_mut().find(|(n, _)| n == k) {
                    Some((_, old)) => *old = v.clone(),
                    None => values.push((k.clone(), v.clone())),
                }
            }
            let field = if field.is_empty() { "settings".to_owned() } else { field };
            render(c, ctx, &tenant, &values, None, Some((&field, &message)), status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scan_setting_has_a_place() {
        let keys = serde_json::to_value(ScanSettings::default()).unwrap();
        for k in keys.as_object().unwrap().keys() {
            assert!(THRESHOLDS.iter().chain(SCAN).any(|(n, _)| n == k), "{k} is not on the settings page");
        }
        assert_eq!(THRESHOLDS.len() + SCAN.len(), keys.as_object().unwrap().len());
    }

    #[test]
    fn the_patch_body_sends_what_changed_as_typed() {
        let t = Tenant::new(
            crate::domain::TenantId::generate(),
            "A".into(),
            crate::domain::ExternalId::generate(),
            chrono::Utc::now(),
        );
        let mut form = current(&t);
        let body = patch_body(&form, &t);
        assert_eq!(body, json!({"scan_settings": null, "realtime_threshold_usd": null}), "nothing changed");
        for (k, v) in [
            ("unattached_volume_days", "3"),
            ("trusted_advisor", "off"),
            ("idle_cpu_p95_percent", "2.5"),
            ("snapshot_age_days", "ninety"),
        ] {
            form.iter_mut().find(|(n, _)| n == k).unwrap().1 = v.into();
        }
        let body = patch_body(&form, &t);
        assert_eq!(body["scan_settings"]["unattached_volume_days"], json!(3));
        assert_eq!(body["scan_settings"]["trusted_advisor"], json!(false));
        assert_eq!(body["scan_settings"]["idle_cpu_p95_percent"], json!("2.5"));
        assert_eq!(body["scan_settings"]["snapshot_age_days"], json!("ninety"), "sent as typed, for the API to refuse");
        assert_eq!(body["scan_settings"].as_object().unwrap().len(), 4, "only what differs from the defaults");
        let clear =
            vec![("clear_webhook".to_owned(), "1".to_owned()), ("notify_webhook_url".into(), "https://x".into())];
        assert_eq!(patch_body(&clear, &t)["notify_webhook_url"], Value::Null, "removing wins over a new URL");
    }

    #[test]
    fn the_digest_goes_when_it_changed_and_its_day_only_with_a_weekly_one() {
        let t = Tenant::new(
            crate::domain::TenantId::generate(),
            "A".into(),
            crate::domain::ExternalId::generate(),
            chrono::Utc::now(),
        );
        let form = |often: &str, day: &str| {
            let mut f = current(&t);
            f.iter_mut().find(|(n, _)| n == "digest").unwrap().1 = often.into();
            f.iter_mut().find(|(n, _)| n == "digest_weekday").unwrap().1 = day.into();
            f
        };
        assert_eq!(current(&t).iter().find(|(n, _)| n == "digest").unwrap().1, "off");
        let b = patch_body(&form("off", "friday"), &t);
        assert!(b.get("digest").is_none() && b.get("digest_weekday").is_none(), "a day without a weekly digest: {b}");
        let b = patch_body(&form("weekly", "friday"), &t);
        assert_eq!((&b["digest"], &b["digest_weekday"]), (&json!("weekly"), &json!("friday")));
        let b = patch_body(&form("daily", "monday"), &t);
        assert_eq!(b["digest"], json!("daily"));
        assert!(b.get("digest_weekday").is_none());
        assert_eq!(
            patch_body(&form("hourly", "monday"), &t)["digest"],
            json!("hourly"),
            "as typed, for the API to refuse"
        );
    }
}
