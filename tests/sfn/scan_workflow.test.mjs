// The scan state machine executed by aws-local-stepfunctions, the real ASL interpreter, with
// each Task answered by a local handler standing in for the scan / cur-query Lambdas. The
// handlers check every payload against the contract in docs/workflows.md (exact keys: the Rust
// tasks reject unknown fields) and answer the way the Lambdas do, errors included. The
// distributed Map's S3 reader and writer are played by run.mjs's localVariant over an
// in-memory bucket: list_due_accounts' JSON Lines in, the ResultWriter's files out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lambdaError, localObjects, readMapResults, runScan } from "./run.mjs";

const BUCKET = "costradar-runs-test";

/** What list_due_accounts does: the accounts to the runs bucket as JSON Lines, a small answer. */
async function listDue(p, accounts) {
  const key = `runs/${p.run_id}/accounts.jsonl`;
  await localObjects.put(BUCKET, key, accounts.map((a) => JSON.stringify(a) + "\n").join(""));
  return { run_id: p.run_id, bucket: BUCKET, key, results_prefix: `runs/${p.run_id}/results`, count: accounts.length, deferred: 0 };
}

/** The Map's per-account outputs, as finish_run reads them from the ResultWriter's files. */
const finished = (calls) => readMapResults(localObjects, calls.FinishRun[0].results);

const A = { tenant_id: "t-aaaaaaaaaaaaaaaa", account_id: "111111111111" };
const B = { tenant_id: "t-aaaaaaaaaaaaaaaa", account_id: "222222222222" };
const C = { tenant_id: "t-cccccccccccccccc", account_id: "333333333333" };

function keys(payload, expected, state) {
  assert.deepEqual(Object.keys(payload).sort(), [...expected].sort(), `${state} payload keys`);
}

const scanResult = (acct, status = "complete") => ({
  ...acct,
  status,
  regions: [{ region: "us-east-1", status, api_calls: 7, errors: [], duration_ms: 120, findings_opened: 2, findings_resolved: 0 }],
  findings_opened: 2,
  findings_resolved: 0,
});

/** Handlers for a healthy world; `over` replaces some. */
function world(accounts, over = {}) {
  return {
    ListDueAccounts: (p) => {
      keys(p, ["task", "run_id"], "list_due_accounts");
      assert.equal(p.task, "list_due_accounts");
      return listDue(p, accounts);
    },
    ScanAccount: (p) => {
      keys(p, ["task", "run_id", "tenant_id", "account_id"], "scan_account");
      assert.equal(p.task, "scan_account");
      return scanResult({ tenant_id: p.tenant_id, account_id: p.account_id });
    },
    StartCurQueries: (p) => {
      keys(p, ["task", "run_id", "tenant_id", "account_id"], "start");
      assert.equal(p.task, "start");
      return { run_id: p.run_id, tenant_id: p.tenant_id, account_id: p.account_id, queries: [] };
    },
    PollCurQueries: (p) => {
      keys(p, ["task", "run_id", "tenant_id", "account_id", "queries"], "poll");
      return { ...p, task: undefined, state: "SUCCEEDED" };
    },
    StopCurQueries: (p) => {
      keys(p, ["task", "run_id", "tenant_id", "account_id", "queries"], "stop");
      assert.equal(p.task, "stop");
      return { stopped: p.queries.length };
    },
    FetchCurResults: (p) => {
      keys(p, ["task", "run_id", "tenant_id", "account_id", "queries", "state"], "fetch_and_analyse");
      assert.equal(p.task, "fetch_and_analyse");
      assert.equal(p.state, "SUCCEEDED");
      return { run_id: p.run_id, tenant_id: p.tenant_id, account_id: p.account_id, anomalies: 1, findings_opened: 3, bytes_scanned: 1048576, query_cost_usd: "0.01" };
    },
    FinishRun: async (p) => {
      keys(p, ["task", "run_id", "results"], "finish_run");
      assert.equal(p.task, "finish_run");
      keys(p.results, ["Bucket", "Key"], "finish_run results (ResultWriterDetails)");
      assert.equal(p.results.Bucket, BUCKET);
      assert.ok(p.results.Key.startsWith(`runs/${p.run_id}/results/`) && p.results.Key.endsWith("/manifest.json"), p.results.Key);
      const results = await readMapResults(localObjects, p.results);
      const count = (s) => results.filter((r) => r.status === s).length;
      return { run_id: p.run_id, accounts: results.length, complete: count("complete"), partial: count("partial"), failed: count("failed"), findings_opened: 0, findings_resolved: 0 };
    },
    ...over,
  };
}

const withCur = (p) => ({
  run_id: p.run_id, tenant_id: p.tenant_id, account_id: p.account_id,
  queries: [{ name: "spend_by_service", query_execution_id: `q-${p.account_id}` }],
});

test("one account's failure is caught inside the Map: the run succeeds with the others", async () => {
  const { output, error, calls } = await runScan({
    runId: "run-catch",
    handlers: world([A, B, C], {
      ScanAccount: (p) => {
        if (p.account_id === B.account_id) throw lambdaError("AccountRevoked", "AccessDenied on sts:AssumeRole");
        return scanResult({ tenant_id: p.tenant_id, account_id: p.account_id });
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.ListDueAccounts[0].run_id, "run-catch", "run_id is the execution name");
  const results = await finished(calls);
  assert.deepEqual(results.map((r) => r.account_id), [A, B, C].map((a) => a.account_id), "Map keeps the order");
  const failed = results[1];
  assert.equal(failed.status, "failed");
  assert.deepEqual(Object.keys(failed).sort(), ["account_id", "error", "status", "tenant_id"]);
  assert.equal(failed.error.Error, "AccountRevoked");
  assert.match(failed.error.Cause, /AccessDenied/);
  assert.equal(results[0].status, "complete");
  assert.equal(results[2].status, "complete");
  assert.equal(calls.ScanAccount.length, 3, "AccountRevoked is not retried");
  assert.equal(calls.StartCurQueries.length, 2, "no CUR analysis for the failed account");
  assert.deepEqual(output, { run_id: "run-catch", accounts: 3, complete: 2, partial: 0, failed: 1, findings_opened: 0, findings_resolved: 0 });
});

test("Transient is retried with back-off, then succeeds", async () => {
  const { output, error, calls, events } = await runScan({
    handlers: world([A], {
      ScanAccount: (p, attempt) => {
        if (attempt <= 2) throw lambdaError("Transient", "ThrottlingException from ec2:DescribeVolumes");
        return scanResult({ tenant_id: p.tenant_id, account_id: p.account_id });
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.ScanAccount.length, 3);
  const retried = events.filter((e) => e.type === "StateRetried" && e.state.name === "ScanAccount");
  assert.equal(retried.length, 2);
  assert.ok(retried.every((e) => e.retry.retrier.ErrorEquals.includes("Transient") && e.retry.retrier.BackoffRate >= 2));
  assert.equal((await finished(calls))[0].status, "complete");
  assert.equal(output.complete, 1);
});

test("Lambda service errors are retried too", async () => {
  const { error, calls } = await runScan({
    handlers: world([A], {
      ListDueAccounts: (p, attempt) => {
        if (attempt === 1) throw lambdaError("Lambda.TooManyRequestsException", "Rate exceeded");
        return listDue(p, [A]);
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.ListDueAccounts.length, 2);
});

test("Transient that never clears is caught per account after the retries run out", async () => {
  const { error, calls } = await runScan({
    handlers: world([A, B], {
      ScanAccount: (p) => {
        if (p.account_id === A.account_id) throw lambdaError("Transient", "the table is unavailable");
        return scanResult({ tenant_id: p.tenant_id, account_id: p.account_id });
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  const a = calls.ScanAccount.filter((p) => p.account_id === A.account_id);
  assert.equal(a.length, 6, "1 call + MaxAttempts 5");
  assert.equal((await finished(calls))[0].error.Error, "Transient");
  assert.equal((await finished(calls))[1].status, "complete");
});

test("InvalidInput is not retried and fails the run where it is not caught", async () => {
  const { error, calls } = await runScan({
    handlers: world([A], { ListDueAccounts: () => { throw lambdaError("InvalidInput", "unknown field `runid`"); } }),
  });
  assert.ok(error, "the execution failed");
  assert.match(String(error), /InvalidInput/);
  assert.equal(calls.ListDueAccounts.length, 1);
  assert.equal(calls.ScanAccount, undefined);
});

test("the Athena poll loop waits while RUNNING, then fetches (RUNNING twice, then SUCCEEDED)", async () => {
  const states = ["RUNNING", "RUNNING", "SUCCEEDED"];
  const { error, calls, events } = await runScan({
    handlers: world([A, B], {
      StartCurQueries: (p) => (p.account_id === A.account_id ? withCur(p) : { ...withCur(p), queries: [] }),
      PollCurQueries: (p, n) => {
        keys(p, ["task", "run_id", "tenant_id", "account_id", "queries"], "poll");
        assert.equal(p.task, "poll");
        assert.deepEqual(p.queries, [{ name: "spend_by_service", query_execution_id: "q-111111111111" }]);
        return { run_id: p.run_id, tenant_id: p.tenant_id, account_id: p.account_id, queries: p.queries, state: states[n - 1] };
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.PollCurQueries.length, 3);
  const waits = events.filter((e) => e.type === "StateEntered" && e.state.name === "WaitForCurQueries");
  assert.equal(waits.length, 3, "a Wait state before every poll: no Lambda sleeps");
  assert.equal(calls.FetchCurResults.length, 1);
  assert.equal(calls.StopCurQueries, undefined);
  const [a, b] = await finished(calls);
  assert.deepEqual(a.cur, { run_id: "run-test", tenant_id: A.tenant_id, account_id: A.account_id, anomalies: 1, findings_opened: 3, bytes_scanned: 1048576, query_cost_usd: "0.01" });
  assert.equal(a.status, "complete", "the scan's own fields are kept next to cur");
  assert.equal(a.regions.length, 1);
  assert.equal(b.cur, undefined, "no CUR settings: no queries, no cur field");
  assert.deepEqual(Object.keys(b).sort(), ["account_id", "findings_opened", "findings_resolved", "regions", "status", "tenant_id"]);
});

test("queries still running after the poll budget are stopped; the scan result is kept", async () => {
  const { error, calls } = await runScan({
    handlers: world([A], {
      StartCurQueries: withCur,
      PollCurQueries: (p) => ({ run_id: p.run_id, tenant_id: p.tenant_id, account_id: p.account_id, queries: p.queries, state: "RUNNING" }),
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.PollCurQueries.length, 91, "90 polls of 10 s after the first: 15 minutes");
  assert.equal(calls.StopCurQueries.length, 1);
  assert.equal(calls.FetchCurResults, undefined);
  const [a] = (await finished(calls));
  assert.equal(a.status, "complete");
  assert.equal(a.cur.error.Error, "States.Timeout");
});

test("a failed Athena query (QueryFailed) is recorded next to the scan result, not fatal", async () => {
  const { error, calls } = await runScan({
    handlers: world([A, B], {
      StartCurQueries: withCur,
      PollCurQueries: (p) => {
        if (p.account_id === A.account_id) throw lambdaError("QueryFailed", "HIVE_BAD_DATA: malformed Parquet");
        return { run_id: p.run_id, tenant_id: p.tenant_id, account_id: p.account_id, queries: p.queries, state: "SUCCEEDED" };
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.PollCurQueries.filter((p) => p.account_id === A.account_id).length, 1, "QueryFailed is not retried");
  const [a, b] = (await finished(calls));
  assert.equal(a.status, "complete");
  assert.equal(a.cur.error.Error, "QueryFailed");
  assert.match(a.cur.error.Cause, /HIVE_BAD_DATA/);
  assert.equal(b.cur.bytes_scanned, 1048576);
});

test("a run with no due account ends at NothingDue: no Map run, no run record", async () => {
  const { output, error, calls } = await runScan({ runId: "run-empty", handlers: world([]) });
  assert.equal(error, undefined, String(error));
  assert.equal(calls.ReadItems, undefined);
  assert.equal(calls.FinishRun, undefined);
  assert.equal(output.count, 0);
});

test("the Map's items are list_due_accounts' JSON Lines, in their order; finish_run gets only where the results are", async () => {
  const accounts = [A, C, B];
  const { output, error, calls } = await runScan({
    runId: "run-order",
    substitutions: { ScanFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:scan", CurQueryFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:cur", MaxConcurrency: "1", ToleratedFailurePercentage: "10" },
    handlers: world(accounts),
  });
  assert.equal(error, undefined, String(error));
  assert.deepEqual(calls.ReadItems, [{ Bucket: BUCKET, Key: "runs/run-order/accounts.jsonl", InputType: "JSONL" }]);
  assert.deepEqual(calls.ScanAccount.map((p) => p.account_id), accounts.map((a) => a.account_id), "fairness order kept");
  assert.deepEqual(calls.WriteResults[0].Prefix, "runs/run-order/results");
  assert.ok(JSON.stringify(calls.FinishRun[0]).length < 512, "finish_run gets the manifest's location, not the results");
  assert.equal(output.accounts, 3);
});

test("MaxConcurrency bounds the accounts scanned at once", async () => {
  const accounts = Array.from({ length: 12 }, (_, i) => ({ tenant_id: "t-aaaaaaaaaaaaaaaa", account_id: String(100000000000 + i) }));
  let running = 0;
  let peak = 0;
  const { error } = await runScan({
    substitutions: { ScanFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:scan", CurQueryFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:cur", MaxConcurrency: "3", ToleratedFailurePercentage: "10" },
    handlers: world(accounts, {
      ScanAccount: async (p) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return scanResult({ tenant_id: p.tenant_id, account_id: p.account_id });
      },
    }),
  });
  assert.equal(error, undefined, String(error));
  assert.ok(peak <= 3 && peak >= 2, `peak concurrency ${peak}`);
});
