//! The HTML report: one file, inline CSS and SVG, no scripts, no external assets. Every text
//! that comes from the data is escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::Report;

/// Text for HTML element content and quoted attribute values (the console uses it too).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn num(s: &str) -> f64 {
    // Chart geometry only: the figures printed are the report's decimal strings.
    s.parse::<Decimal>().ok().and_then(|d| d.to_f64()).unwrap_or(0.0)
}

const W: f64 = 860.0;

/// Daily spend as a line, anomalies as red dots on their day.
fn trend(r: &Report) -> String {
    let mut svg = String::new();
    let h = 240.0;
    let (left, right, top, bottom) = (64.0, 16.0, 16.0, 36.0);
    let n = r.daily.len();
    if n == 0 {
        return "<p>No usage in the period.</p>".into();
    }
    let max = r.daily.iter().map(|d| num(&d.cost_usd)).fold(0.0_f64, f64::max).max(1.0);
    let x = |i: usize| left + (W - left - right) * if n > 1 { i as f64 / (n - 1) as f64 } else { 0.5 };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let _ = write!(svg, r#"<svg viewBox="0 0 {W} {h}" width="100%" role="img" aria-label="Daily spend">"#);
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end" class="ax">${v:.0}</text>"##,
            W - right,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    let points: Vec<String> =
        r.daily.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(num(&d.cost_usd)))).collect();
    let _ = write!(svg, r##"<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{}"/>"##, points.join(" "));
    let step = (n / 8).max(1);
    for (i, d) in r.daily.iter().enumerate().step_by(step) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" class="ax">{}</text>"#,
            x(i),
            h - 12.0,
            escape(&d.date)
        );
    }
    let index: BTreeMap<&str, usize> = r.daily.iter().enumerate().map(|(i, d)| (d.date.as_str(), i)).collect();
    for a in &r.anomalies {
        if let Some(&i) = index.get(a.date.as_str()) {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="6" fill="#dc2626" fill-opacity="0.85"><title>{} {}: ${} (expected ${}, +${})</title></circle>"##,
                x(i),
                y(num(&r.daily[i].cost_usd)),
                escape(&a.date),
                escape(&a.series),
                escape(&a.actual_usd),
                escape(&a.expected_usd),
                escape(&a.impact_usd)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, largest first; beyond `top`, the rest is one "other" bar.
fn bars(map: &BTreeMap<String, String>, top: usize, label: &str) -> String {
    let mut items: Vec<(String, f64, String)> = map.iter().map(|(k, v)| (k.clone(), num(v), v.clone())).collect();
    items.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if items.len() > top {
        let rest: Decimal = items[top..].iter().filter_map(|(_, _, s)| s.parse::<Decimal>().ok()).sum();
        items.truncate(top);
        items.push((
            format!("other ({} more)", map.len() - top),
            rest.to_f64().unwrap_or(0.0),
            crate::domain::money::usd(rest),
        ));
    }
    let row = 24.0;
    let h = row * items.len() as f64 + 8.0;
    let max = items.iter().map(|i| i.1).fold(0.0_f64, f64::max).max(1.0);
    let (lw, vw) = (220.0, 110.0);
    let mut svg = format!(r#"<svg viewBox="0 0 {W} {h}" width="100%" role="img" aria-label="{}">"#, escape(label));
    for (i, (name, v, text)) in items.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let w = ((W - lw - vw) * v.max(0.0) / max).max(1.0);
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" class="lb">{}</text><rect x="{lw}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="#0ea5e9"/><text x="{:.1}" y="{:.1}" class="lb">${}</text>"##,
            lw - 8.0,
            y + 15.0,
            escape(name),
            row - 6.0,
            lw + w + 6.0,
            y + 15.0,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The report as one HTML page, section by section.
pub fn render_html(r: &Report) -> String {
    let mut h = String::new();
    head_and_summary(&mut h, r);
    charts(&mut h, r);
    findings(&mut h, r);
    anomalies(&mut h, r);
    savings_plan(&mut h, r);
    commitments(&mut h, r);
    tags(&mut h, r);
    h.push_str("<p style=\"color:#6b7280;font-size:.8rem;margin-top:2rem\">Generated by costradar. Monthly figures are hourly × 730.</p></body></html>\n");
    h
}

/// The document head with its CSS, the title, the data source and the key figures.
fn head_and_summary(h: &mut String, r: &Report) {
    let savings: Decimal =
        r.findings.iter().filter_map(|f| f.monthly_savings_usd.as_deref()?.parse::<Decimal>().ok()).sum();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>costradar CUR report {from} to {to}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:920px;color:#111827;padding:0 1rem}}
h1{{font-size:1.5rem}} h2{{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}}
.kpi{{display:flex;gap:1rem;flex-wrap:wrap}} .kpi div{{background:#f3f4f6;border-radius:8px;padding:.6rem 1rem}}
.kpi b{{display:block;font-size:1.3rem}} table{{border-collapse:collapse;width:100%;font-size:.85rem}}
th,td{{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #e5e7eb}} td.n,th.n{{text-align:right}}
.ax{{font-size:11px;fill:#6b7280}} .lb{{font-size:12px;fill:#111827}} .sev-high{{color:#b91c1c;font-weight:600}} .sev-medium{{color:#c2410c}}
code{{font-size:.8rem}}
</style></head><body>
<h1>costradar: cost report</h1>
<p>{kind}{version} data <code>{name}</code>, billing periods {from} to {to} (days {first} to {last}).</p>
<div class="kpi"><div>Billed cost<b>${billed}</b></div><div>Effective cost<b>${effective}</b></div><div>Findings<b>{nf}</b></div><div>Monthly savings found<b>${savings}</b></div><div>Anomalies<b>{na}</b></div></div>
"#,
        from = escape(&r.period.from),
        to = escape(&r.period.to),
        kind = if r.source.kind == "focus" { "FOCUS" } else { "CUR 2.0" },
        version = r.source.focus_version.as_deref().map(|v| format!(" {}", escape(v))).unwrap_or_default(),
        name = escape(&r.source.name),
        first = escape(r.period.first_day.as_deref().unwrap_or("-")),
        last = escape(r.period.last_day.as_deref().unwrap_or("-")),
        billed = escape(&r.totals.billed_cost_usd),
        effective = escape(&r.totals.effective_cost_usd),
        nf = r.findings.len(),
        savings = crate::domain::money::usd(savings),
        na = r.anomalies.len(),
    );
}

/// The daily spend trend and the spend bars (by provider only when there are several).
fn charts(h: &mut String, r: &Report) {
    let _ = write!(h, "<h2>Daily usage spend</h2><p>Effective cost of usage (no credits, refunds, taxes or fees); red dots are anomalies.</p>{}", trend(r));
    let _ = write!(h, "<h2>Spend by service</h2>{}", bars(&r.totals.by_service_usd, 12, "Spend by service"));
    let _ = write!(h, "<h2>Spend by account</h2>{}", bars(&r.totals.by_account_usd, 12, "Spend by account"));
    if r.totals.by_provider_usd.len() > 1 {
        let _ = write!(h, "<h2>Spend by provider</h2>{}", bars(&r.totals.by_provider_usd, 12, "Spend by provider"));
    }
}

/// The waste findings table, or a line saying there are none.
fn findings(h: &mut String, r: &Report) {
    h.push_str("<h2>Findings</h2>");
    if r.findings.is_empty() {
        h.push_str("<p>No waste visible in the line items.</p>");
    } else {
        h.push_str(r#"<table><tr><th>Finding</th><th>Account</th><th>Region</th><th>Resource</th><th class="n">Monthly cost</th><th class="n">Monthly savings</th><th>Instead</th></tr>"#);
        for f in &r.findings {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class="n">${}</td><td class="n">{}</td><td>{}</td></tr>"#,
                escape(&f.title),
                escape(&f.account_id),
                escape(&f.region),
                escape(&f.resource_id),
                escape(&f.monthly_cost_usd),
                f.monthly_savings_usd.as_deref().map(|s| format!("${}", escape(s))).unwrap_or_else(|| "-".into()),
                escape(f.alternative.as_deref().unwrap_or("")),
            );
        }
        h.push_str("</table>");
    }
}

/// The anomalies table, or a line saying there are none.
fn anomalies(h: &mut String, r: &Report) {
    h.push_str("<h2>Anomalies</h2>");
    if r.anomalies.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str(r#"<table><tr><th>Date</th><th>Series</th><th class="n">Expected</th><th class="n">Actual</th><th class="n">Impact</th><th>Severity</th></tr>"#);
        for a in &r.anomalies {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}{}</td><td class="n">${}</td><td class="n">${}</td><td class="n">+${}</td><td class="sev-{}">{}</td></tr>"#,
                escape(&a.date),
                escape(&a.series),
                if a.kind == "new_series" { " (new)" } else { "" },
                escape(&a.expected_usd),
                escape(&a.actual_usd),
                escape(&a.impact_usd),
                escape(&a.severity),
                escape(&a.severity),
            );
        }
        h.push_str("</table>");
    }
}

/// The Compute Savings Plan recommendation, when there is one.
fn savings_plan(h: &mut String, r: &Report) {
    if let Some(sp) = &r.savings_plan {
        let g = |k: &str| sp.get(k).and_then(|v| v.as_str()).map(escape).unwrap_or_default();
        let _ = write!(
            h,
            "<h2>Compute Savings Plan</h2><p>Commit <b>${}/hour</b> (covers ${}/hour of on-demand compute, the p{} of {} hours): about <b>${}/month</b> saved at an assumed {} discount.</p>",
            per_hour(&g("hourly_commitment_usd")),
            per_hour(&g("covered_on_demand_per_hour_usd")),
            sp.get("percentile").and_then(|v| v.as_u64()).unwrap_or_default(),
            sp.get("hours").and_then(|v| v.as_u64()).unwrap_or_default(),
            g("monthly_saving_usd"),
            g("assumed_discount"),
        );
    }
}

/// A $/hour rate of report.json (6 decimals) as people read it: trailing zeros dropped, at least
/// to the cent (`"1.440000"` is `1.44`, `"0.138240"` is `0.13824`).
fn per_hour(s: &str) -> String {
    match s.parse::<Decimal>() {
        Ok(d) if d.normalize().scale() < 2 => format!("{:.2}", d),
        Ok(d) => d.normalize().to_string(),
        Err(_) => s.to_owned(),
    }
}

/// Coverage and utilisation of commitments per billing period, when there are any.
fn commitments(h: &mut String, r: &Report) {
    if !r.commitments.is_empty() {
        h.push_str(r#"<h2>Commitments</h2><table><tr><th>Period</th><th class="n">Coverage</th><th class="n">SP utilisation</th><th class="n">RI utilisation</th></tr>"#);
        let pct = |v: Option<&serde_json::Value>| {
            v.and_then(|v| v.as_str())
                .and_then(|s| s.parse::<Decimal>().ok())
                .map(|d| format!("{}%", (d * Decimal::from(100)).round_dp(1)))
                .unwrap_or_else(|| "-".into())
        };
        for c in &r.commitments {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                escape(c.get("billing_period").and_then(|v| v.as_str()).unwrap_or_default()),
                pct(c.get("coverage")),
                pct(c.get("sp_utilisation")),
                pct(c.get("ri_utilisation")),
            );
        }
        h.push_str("</table>");
    }
}

/// The share of usage spend that carries a tag, when tags were analysed.
fn tags(h: &mut String, r: &Report) {
    if let Some(t) = &r.tags {
        let cov =
            t.get("coverage").and_then(|v| v.as_str()).and_then(|s| s.parse::<Decimal>().ok()).unwrap_or_default();
        let _ = write!(
            h,
            "<h2>Tags</h2><p>{}% of usage spend carries at least one tag.</p>",
            (cov * Decimal::from(100)).round_dp(1)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_be_markup() {
        assert_eq!(escape("<script>\"x\"&'y'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;");
    }

    #[test]
    fn hourly_rates_read_without_trailing_zeros() {
        assert_eq!(per_hour("1.440000"), "1.44");
        assert_eq!(per_hour("2.000000"), "2.00");
        assert_eq!(per_hour("0.138240"), "0.13824");
    }
}
