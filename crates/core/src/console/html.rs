//! The console's HTML pieces: [`escape`] (every text from the data goes through it), the one
//! money formatter, the page frame with its one style sheet, and small table helpers.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Text for HTML element content and quoted attribute values: the report's escaping.
pub use crate::report::escape;

/// A query-string or path-segment value, percent-encoded.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Money as every page shows it: `$12,345.67`, `-$1,000.00`, rounded to the cent.
pub fn money(d: Decimal) -> String {
    let s = crate::domain::money::usd(d);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |rest| ("-", rest));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{frac}")
}

/// Money from an optional amount; a dash when there is none.
pub fn money_opt(d: Option<Decimal>) -> String {
    d.map(money).unwrap_or_else(|| "–".into())
}

/// Money from a decimal string (events and reports keep them as strings).
pub fn money_str(s: &str) -> String {
    s.parse::<Decimal>().map(money).unwrap_or_else(|_| escape(s))
}

pub fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

const STYLE: &str = "\
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb;line-height:1.45}
a{color:#1d4ed8} a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem} .skip:focus{left:.5rem}
header{background:#0f172a;color:#f8fafc;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#f8fafc} header .brand{font-weight:700;font-size:1.1rem;text-decoration:none}
header nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0;flex-wrap:wrap}
header nav a{text-decoration:none;padding:.2rem .1rem} header nav a[aria-current=page]{border-bottom:2px solid #38bdf8}
header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center;font-size:.9rem}
header .who button{background:transparent;color:#f8fafc;border:1px solid #94a3b8;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{max-width:1180px;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h1{font-size:1.45rem;margin:.4rem 0 1rem} h2{font-size:1.1rem;margin:1.8rem 0 .6rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
.kpi{display:flex;gap:1rem;flex-wrap:wrap;margin:0;padding:0} .kpi div{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:.7rem 1.1rem;min-width:12rem}
.kpi dt{color:#4b5563;font-size:.85rem} .kpi dd{margin:0;font-size:1.35rem;font-weight:700}
table{border-collapse:collapse;width:100%;font-size:.88rem;background:#fff;border:1px solid #e5e7eb}
th,td{text-align:left;padding:.4rem .55rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{background:#f3f4f6;font-weight:600} td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.id,td.acct{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8rem;word-break:break-all} td.acct,.nw{white-space:nowrap;word-break:normal}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
caption{text-align:left;font-weight:600;padding:.3rem 0;color:#374151}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:.8rem;margin-bottom:1rem}
label,.field{display:flex;flex-direction:column;font-size:.82rem;color:#374151;gap:.15rem}
input,select,textarea{font:inherit;font-size:.9rem;padding:.3rem .4rem;min-height:2.1rem;border:1px solid #6b7280;border-radius:4px;background:#fff;color:#111827}
button{font:inherit;font-size:.9rem;padding:.35rem .8rem;border-radius:4px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d4ed8}
.actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.8rem}
.actions form{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:.8rem;display:flex;flex-direction:column;gap:.5rem}
.empty{background:#fff;border:1px dashed #9ca3af;border-radius:8px;padding:1rem 1.2rem;color:#374151}
.notice{background:#ecfdf5;border:1px solid #10b981;border-radius:8px;padding:.6rem 1rem}
.error{background:#fef2f2;border:1px solid #dc2626;border-radius:8px;padding:.6rem 1rem}
.pager{display:flex;gap:1rem;margin:.8rem 0}
form.settings fieldset{border:0;margin:0;padding:0;min-width:0} form.settings div.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:.8rem} form.settings div.filters p{flex-basis:100%;margin:0}
.status{display:inline-block;border-radius:999px;padding:0 .5rem;font-size:.78rem;font-weight:600;background:#e5e7eb;color:#1f2937}
.status.open{background:#fef3c7;color:#78350f} .status.resolved{background:#d1fae5;color:#064e3b} .status.suppressed{background:#e5e7eb;color:#374151}
.status.active,.status.complete{background:#d1fae5;color:#064e3b} .status.failed,.status.insecure{background:#fee2e2;color:#7f1d1d} .status.partial,.status.pending{background:#fef3c7;color:#78350f}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.2rem;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:.8rem 1rem}
dl.facts dt{color:#4b5563} dl.facts dd{margin:0}
pre{background:#0f172a;color:#e2e8f0;padding:.8rem;border-radius:6px;overflow-x:auto;font-size:.82rem}
.muted{color:#4b5563;font-size:.85rem}
.ax{font-size:11px;fill:#4b5563} svg{background:#fff;border:1px solid #e5e7eb;border-radius:8px}
iframe{width:100%;height:70vh;border:1px solid #e5e7eb;border-radius:8px;background:#fff}
";

/// The navigation of a tenant's pages: (path under `/t/<id>/`, label).
pub const NAV: &[(&str, &str)] = &[
    ("", "Overview"),
    ("findings", "Findings"),
    ("accounts", "Accounts"),
    ("events", "Events"),
    ("runs", "Runs"),
    ("reports", "Reports"),
    ("settings", "Settings"),
];

/// What the frame needs to know besides the page.
pub struct Frame<'a> {
    pub title: &'a str,
    /// The tenant whose pages these are, for the navigation: (id, name).
    pub tenant: Option<(&'a str, &'a str)>,
    /// The current entry of [`NAV`].
    pub current: &'a str,
    /// Who is signed in, as the header says it; `None` on the sign-in page.
    pub who: Option<String>,
    /// Operator sessions get a link to every tenant.
    pub operator: bool,
}

/// A whole page: the frame around `body` (already HTML).
pub fn page(f: &Frame<'_>, body: &str) -> String {
    let mut h = String::with_capacity(body.len() + 6000);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · costradar</title><style>{STYLE}</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header><a class=\"brand\" href=\"/\">costradar</a>",
        escape(f.title)
    );
    if f.operator || f.tenant.is_some() {
        h.push_str("<nav aria-label=\"Main\"><ul>");
        if f.operator {
            let cur = if f.current == "tenants" { " aria-current=\"page\"" } else { "" };
            let _ = write!(h, "<li><a href=\"/\"{cur}>All tenants</a></li>");
            let cur = if f.current == "ops" { " aria-current=\"page\"" } else { "" };
            let _ = write!(h, "<li><a href=\"/ops\"{cur}>Operations</a></li>");
        }
        if let Some((id, _)) = f.tenant {
            for (path, label) in NAV {
                let cur = if *path == f.current { " aria-current=\"page\"" } else { "" };
                let _ = write!(h, "<li><a href=\"/t/{}/{path}\"{cur}>{label}</a></li>", enc(id));
            }
        }
        h.push_str("</ul></nav>");
    }
    if let Some(who) = &f.who {
        let tenant = f.tenant.map(|(_, n)| format!(" · {}", escape(n))).unwrap_or_default();
        let _ = write!(
            h,
            "<div class=\"who\"><span>{}{tenant}</span><form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form></div>",
            escape(who)
        );
    }
    let _ = write!(h, "</header><main id=\"main\" tabindex=\"-1\">{body}</main></body></html>");
    h
}

/// A status as a small badge.
pub fn badge(status: &str) -> String {
    format!("<span class=\"status {0}\">{0}</span>", escape(status))
}

/// A `<select>` with its label; `current` is selected.
pub fn select(name: &str, label: &str, options: &[(&str, &str)], current: &str) -> String {
    let mut h = format!(
        "<div class=\"field\"><label for=\"f-{n}\">{}</label><select id=\"f-{n}\" name=\"{n}\">",
        escape(label),
        n = escape(name)
    );
    for (value, text) in options {
        let sel = if *value == current { " selected" } else { "" };
        let _ = write!(h, "<option value=\"{}\"{sel}>{}</option>", escape(value), escape(text));
    }
    h.push_str("</select></div>");
    h
}

/// A text `<input>` with its label.
pub fn input(name: &str, label: &str, value: &str, extra: &str) -> String {
    format!(
        "<div class=\"field\"><label for=\"f-{n}\">{}</label><input id=\"f-{n}\" name=\"{n}\" value=\"{}\"{extra}></div>",
        escape(label),
        escape(value),
        n = escape(name)
    )
}

/// An empty state: what is missing and what to do.
pub fn empty(what: &str, todo: &str) -> String {
    format!("<div class=\"empty\"><p><strong>{}</strong></p><p>{todo}</p></div>", escape(what))
}
