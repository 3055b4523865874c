// The console in a real browser: the OS's headless Chromium (/usr/bin/chromium) driven by
// playwright-core, axe-core on every page. Used by `make test` (tools/test.sh, against
// `costradar console serve --demo-data`) and `make demo` (tools/demo.sh, against the demo's
// table in moto), with the same checks:
//   - sign in with a user name and password of the user pool (moto's Cognito: --users, the
//     JSON of tests/console/pool.py) as the operator (every tenant) and as a tenant's user, and
//     sign out; a wrong password is refused;
//   - filter the findings (source, resource id), open one;
//   - suppress one with the bulk form: it leaves the open list, is in the suppressed list, and
//     its page's history says who suppressed it and why;
//   - the CSV link answers CSV; the report opens, embedded and on its own;
//   - tenant isolation: the tenant's user on the other tenant's pages (and on one of its
//     findings) gets exactly the page of a tenant that does not exist, a 404;
//   - the keyboard: the first Tab reaches "Skip to content", Enter moves to the main content;
//   - axe-core on every page: any serious or critical violation fails.
// Screenshots of overview, findings, finding, accounts, events, runs, reports go to --out.
//
//   node tests/console/browse.mjs --out DIR --tenant ID --other ID --users POOL.json
//        (--url URL | --bin target/debug/costradar [--serve-arg ARG]...) [--require-report]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const axe = require("axe-core");

const opts = { serveArgs: [], requireReport: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => process.argv[++i];
  if (a === "--url") opts.url = next();
  else if (a === "--bin") opts.bin = next();
  else if (a === "--serve-arg") opts.serveArgs.push(next());
  else if (a === "--out") opts.out = next();
  else if (a === "--tenant") opts.tenant = next();
  else if (a === "--other") opts.other = next();
  else if (a === "--require-report") opts.requireReport = true;
  else if (a === "--users") opts.users = next();
  else throw new Error(`browse.mjs: unknown argument ${a}`);
}
if (!opts.out || !opts.tenant || !opts.other || !opts.users || !(opts.url || opts.bin)) {
  console.error("usage: browse.mjs --out DIR --tenant ID --other ID --users POOL.json (--url URL | --bin PATH [--serve-arg A]...)");
  process.exit(2);
}
// The pool's users: "operator", and "user-of-<tenant>" for each tenant.
const pool = JSON.parse(readFileSync(opts.users, "utf8"));
const account = (who) => {
  const name = who === "operator" ? "operator" : `user-of-${who.replace(/^tenant:/, "")}`;
  const u = pool.users.find((x) => x.username === name);
  if (!u) throw new Error(`browse.mjs: ${opts.users} has no user ${name}`);
  return u;
};
mkdirSync(opts.out, { recursive: true });

const results = { pages: {}, checks: [], screenshots: [] };
let failed = 0;
function check(name, ok, detail = "") {
  results.checks.push({ name, ok, detail });
  if (!ok) failed++;
  console.log(`${ok ? "ok" : "not ok"} - ${name}${detail && !ok ? `: ${detail}` : ""}`);
}

/** Starts `costradar console serve` on a free loopback port; resolves to [url, process]. */
function serve() {
  const child = spawn(opts.bin, ["console", "serve", "--listen", "127.0.0.1:0", ...opts.serveArgs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const line = buf.split("\n")[0];
      if (buf.includes("\n")) resolve([JSON.parse(line).console.replace(/\/$/, ""), child]);
    });
    child.on("exit", (code) => reject(new Error(`costradar console serve exited with ${code}`)));
  });
}

async function audit(page, name) {
  await page.addScriptTag({ content: axe.source });
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const byImpact = {};
  for (const v of r.violations) byImpact[v.impact] = (byImpact[v.impact] || 0) + v.nodes.length;
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  results.pages[name] = {
    url: page.url().replace(/^http:\/\/[^/]+/, ""),
    violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })),
    by_impact: byImpact,
  };
  check(`axe: ${name} has no serious or critical violation`, bad.length === 0,
    bad.map((v) => `${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`).join("; "));
}

async function shot(page, name) {
  const file = join(opts.out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  results.screenshots.push(file);
}

async function signIn(page, base, who, password) {
  const u = account(who);
  await page.goto(`${base}/login`);
  await page.getByLabel("User name").fill(u.username);
  await page.getByLabel("Password").fill(password ?? u.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login$/);
}

async function operator(page, base) {
  await signIn(page, base, "operator", "not-the-password");
  check("a wrong password: refused, still on the sign-in page", page.url().endsWith("/login") &&
    (await page.locator(".error").textContent()).includes("wrong"));
  await signIn(page, base, "operator");
  check("operator: signs in to the list of every tenant", await page.getByRole("heading", { name: "All tenants" }).isVisible());
  const links = await page.locator("main table a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  check("operator: sees both tenants", links.includes(`/t/${opts.tenant}/`) && links.includes(`/t/${opts.other}/`), links.join(" "));
  await audit(page, "tenants (operator)");
  await page.goto(`${base}/t/${opts.other}/findings?status=any`);
  const otherKey = await page.locator("input[name=key]").first().getAttribute("value").catch(() => null);
  await page.goto(`${base}/t/${opts.tenant}/`);
  check("operator: reaches a tenant's overview", (await page.locator("h1").textContent()).includes("overview"));
  await signOut(page);
  return otherKey;
}

async function findingsFlow(page, base) {
  const list = `${base}/t/${opts.tenant}/findings`;
  await page.goto(list);
  await shot(page, "findings");
  await audit(page, "findings");
  // Filter: scan findings only.
  await page.locator("select[name=source]").selectOption("scan");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForLoadState();
  const rules = await page.locator("main table tbody tr td:nth-child(3) .muted").allTextContents();
  check("findings: the source filter keeps scan findings only", rules.length > 0 && rules.every((r) => !r.startsWith("realtime.")), rules.join(","));
  // Filter: one resource id.
  const firstResource = (await page.locator("main table tbody tr td:nth-child(4)").first().textContent()).trim();
  await page.getByLabel("Resource id contains").fill(firstResource);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForLoadState();
  const resources = await page.locator("main table tbody tr td:nth-child(4)").allTextContents();
  check("findings: the resource filter finds that resource", resources.length >= 1 && resources.every((r) => r.includes(firstResource)), resources.join(","));
  // CSV link, same filters.
  const csvHref = await page.getByRole("link", { name: /CSV/ }).getAttribute("href");
  const csv = await page.request.get(new URL(csvHref, page.url()).href);
  check("findings: the CSV link answers CSV with the filtered rows",
    csv.ok() && csv.headers()["content-type"].startsWith("text/csv") && (await csv.text()).includes(firstResource));
  // A finding's page.
  await page.goto(list);
  const first = page.locator("main table tbody tr").first();
  const key = await first.locator("input[name=key]").getAttribute("value");
  const title = (await first.locator("td:nth-child(3) a").textContent()).trim();
  await first.locator("td:nth-child(3) a").click();
  await page.waitForLoadState();
  check("finding: its page shows evidence, fix and history", (await page.locator("h2").allTextContents()).join("|") === "Evidence|Fix|History|Decide");
  await shot(page, "finding");
  await audit(page, "finding");
  const findingUrl = page.url();
  // Bulk suppress it from the list.
  await page.goto(list);
  await page.locator(`input[name=key][value="${key.replace(/"/g, '\\"')}"]`).check();
  const reason = `browser test ${Date.now()}`;
  await page.getByLabel("Reason for suppressing the selected findings").fill(reason);
  await page.getByRole("button", { name: "Suppress selected" }).click();
  await page.waitForLoadState();
  check("suppress: the notice says one was suppressed", (await page.locator(".notice").textContent()).includes("1 finding(s) suppressed"));
  const openKeys = await page.locator("input[name=key]").evaluateAll((xs) => xs.map((x) => x.value));
  check("suppress: it left the open list", !openKeys.includes(key));
  await page.goto(`${list}?status=suppressed`);
  const suppressedKeys = await page.locator("input[name=key]").evaluateAll((xs) => xs.map((x) => x.value));
  check("suppress: it is in the suppressed list", suppressedKeys.includes(key));
  await page.goto(findingUrl);
  const history = await page.locator("main table").last().textContent();
  check("suppress: its history says so, with who", history.includes(`suppressed: ${reason}`) && history.includes(account(`tenant:${opts.tenant}`).username), history);
  // A decision through the finding's own form.
  await page.getByLabel("Owner").fill("platform-team");
  await page.getByRole("button", { name: "Assign" }).click();
  await page.waitForLoadState();
  check("assign: the finding's form records an owner", (await page.locator("main table").last().textContent()).includes("assigned to platform-team"));
  return { title, findingUrl };
}

async function keyboard(page, base) {
  await page.goto(`${base}/t/${opts.tenant}/`);
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press("Enter");
  const focused = await page.evaluate(() => document.activeElement.id);
  check("keyboard: the first Tab reaches the skip link and Enter moves to the content", first === "Skip to content" && focused === "main", `${first} / ${focused}`);
}

async function pages(page, base) {
  const t = `${base}/t/${opts.tenant}`;
  for (const [name, path] of [["overview", "/"], ["accounts", "/accounts"], ["events", "/events"], ["runs", "/runs"], ["reports", "/reports"]]) {
    const resp = await page.goto(`${t}${path}`);
    check(`${name}: answers 200`, resp.status() === 200, String(resp.status()));
    await shot(page, name);
    await audit(page, name);
  }
  await page.goto(`${t}/reports`);
  const embedded = await page.locator("iframe[title='The CUR report']").count();
  if (opts.requireReport || embedded) {
    check("reports: the HTML report is embedded", embedded === 1);
    await page.getByRole("link", { name: "Open the HTML report on its own" }).click();
    await page.waitForLoadState();
    check("reports: the report opens on its own", (await page.locator("h1").textContent()).includes("cost report"));
    await audit(page, "report.html (the CUR report)");
  }
}

async function isolation(page, base, otherKey, own) {
  const missing = await page.goto(`${base}/t/t-doesnotexist0000/findings`);
  const missingBody = await page.locator("main").innerHTML();
  check("isolation: a missing tenant is a 404", missing.status() === 404);
  await audit(page, "not found");
  for (const path of ["/", "/findings", "/accounts", "/events", "/runs", "/reports", "/findings.csv"]) {
    const r = await page.goto(`${base}/t/${opts.other}${path}`);
    const body = await page.locator("main").innerHTML();
    check(`isolation: the other tenant's ${path} is the missing tenant's 404`, r.status() === 404 && body === missingBody, String(r.status()));
  }
  if (otherKey) {
    const r = await page.goto(`${base}/t/${opts.other}/findings/${encodeURIComponent(otherKey)}`);
    check("isolation: the other tenant's finding is the same 404", r.status() === 404 && (await page.locator("main").innerHTML()) === missingBody);
  }
  const back = await page.goto(own);
  check("isolation: its own finding still opens", back.status() === 200);
}

async function main() {
  let server;
  let base = opts.url && opts.url.replace(/\/$/, "");
  if (!base) [base, server] = await serve();
  const profile = mkdtempSync(join(tmpdir(), "costradar-chromium-"));
  const started = Date.now();
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    // axe-core is injected as a script; the console's own policy allows none.
    bypassCSP: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    await page.goto(`${base}/`);
    check("no session: the console asks to sign in", page.url().endsWith("/login"));
    await audit(page, "login");
    const otherKey = await operator(page, base);
    await signIn(page, base, `tenant:${opts.tenant}`);
    check("tenant user: lands on its tenant's overview", page.url().endsWith(`/t/${opts.tenant}/`), page.url());
    const { findingUrl } = await findingsFlow(page, base);
    await pages(page, base);
    await keyboard(page, base);
    await isolation(page, base, otherKey, findingUrl);
    await signOut(page);
    await signIn(page, base, `tenant:${opts.other}`);
    check("the other tenant's user: lands on its own overview", page.url().endsWith(`/t/${opts.other}/`));
    const r = await page.goto(`${base}/t/${opts.tenant}/findings`);
    check("the other tenant's user: the first tenant's findings are a 404", r.status() === 404);
    await settingsAndOps(page, base);
  } catch (e) {
    check("the browser run completed", false, e.stack || String(e));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    if (server) server.kill();
  }
  results.seconds = (Date.now() - started) / 1000;
  writeFileSync(join(opts.out, "results.json"), JSON.stringify(results, null, 2));
  console.log("axe (violations by impact, per page):");
  for (const [name, p] of Object.entries(results.pages)) console.log(`  ${name}: ${JSON.stringify(p.by_impact)}`);
  console.log(`# pass ${results.checks.length - failed}`);
  console.log(`# fail ${failed}`);
  console.log(`console browser test: ${results.checks.length - failed} checks passed, ${failed} failed in ${results.seconds} s; screenshots and results.json in ${opts.out}`);
  process.exit(failed ? 1 : 0);
}

// Tenant settings, "Verify again" and the operator's pages (issue #19). Starts signed in as the
// other tenant's user; signs in as the operator itself.
async function settingsAndOps(page, base) {
  const missing = await page.goto(`${base}/t/t-doesnotexist0000/settings`);
  const missingBody = await page.locator("main").innerHTML();
  check("settings: a missing tenant's settings are a 404", missing.status() === 404);
  for (const path of [`/t/${opts.tenant}/settings`, "/ops", "/tenants/new"]) {
    const r = await page.goto(`${base}${path}`);
    check(`isolation: a tenant user on ${path} gets the missing page's 404`, r.status() === 404 && (await page.locator("main").innerHTML()) === missingBody, String(r.status()));
  }
  const own = await page.goto(`${base}/t/${opts.other}/settings`);
  check("settings: a tenant user sees its own settings read-only", own.status() === 200 &&
    (await page.locator("main form fieldset[disabled]").count()) === 1 &&
    (await page.getByRole("button", { name: "Save the settings" }).count()) === 0);
  await audit(page, "settings (tenant user, read-only)");
  await signOut(page);
  await signIn(page, base, "operator");
  const settings = `${base}/t/${opts.tenant}/settings`;
  await page.goto(settings);
  const field = page.getByLabel("Unattached EBS volume, days");
  const before = await field.inputValue();
  const changed = String(Number(before) + 1);
  await field.fill(changed);
  await page.getByRole("button", { name: "Save the settings" }).click();
  await page.waitForLoadState();
  check("settings: a changed threshold is saved and shown", (await page.locator(".notice").textContent()).includes("Saved.") &&
    (await page.getByLabel("Unattached EBS volume, days").inputValue()) === changed, page.url());
  await shot(page, "settings");
  await audit(page, "settings");
  await page.getByLabel("Idle window, days (1–63)").fill("0");
  const refused = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/settings"));
  await page.getByRole("button", { name: "Save the settings" }).click();
  const answer = await refused;
  await page.waitForLoadState();
  const alert = await page.locator("[role=alert]").first().textContent();
  check("settings: a bad value is refused (400) naming the field", answer.status() === 400 && alert.includes("Nothing was saved. idle_window_days"), alert);
  await audit(page, "settings (refused)");
  await page.goto(settings);
  check("settings: the refused form wrote nothing", (await page.getByLabel("Idle window, days (1–63)").inputValue()) !== "0" &&
    (await page.getByLabel("Unattached EBS volume, days").inputValue()) === changed);
  await page.getByLabel("Unattached EBS volume, days").fill(before);
  await page.getByRole("button", { name: "Save the settings" }).click();
  await page.waitForLoadState();
  const accounts = await page.goto(`${base}/t/${opts.tenant}/accounts`);
  const verify = page.getByRole("button", { name: /^Verify again: account / }).first();
  check("accounts: a Verify again button per account", accounts.status() === 200 && (await verify.count()) === 1);
  if (await verify.isEnabled()) {
    await verify.click();
    await page.waitForLoadState();
    check("accounts: Verify again shows the account's status after the redirect", (await page.locator(".notice").textContent()).includes("Verified again: account"), page.url());
  } else {
    check("accounts: Verify again, off here, says why", (await page.locator("main").textContent()).includes("Verify again is off in this console"));
  }
  const ops = await page.goto(`${base}/ops`);
  check("ops: the operator's page answers 200", ops.status() === 200);
  await shot(page, "ops");
  await audit(page, "ops");
  const list = await page.goto(`${base}/`);
  check("tenants: each tenant's accounts' health is shown", list.status() === 200 &&
    (await page.locator("main table th").allTextContents()).includes("Accounts by status"));
  await audit(page, "tenants with health (operator)");
  await page.goto(`${base}/tenants/new`);
  await audit(page, "new tenant");
  // Only against the in-memory demo: a tenant created in the demo's table would stay there.
  if (opts.serveArgs.includes("--demo-data")) {
    await page.getByLabel("Name (the customer's organisation)").fill("Browser test tenant");
    await page.getByRole("button", { name: "Create the tenant" }).click();
    await page.waitForLoadState();
    check("new tenant: created, its quick-create link shown once", (await page.locator("h1").textContent()) === "Tenant created" &&
      (await page.getByRole("link", { name: "Open the quick-create link" }).getAttribute("href")).includes("quickcreate"));
    await audit(page, "tenant created");
  }
}

main();
