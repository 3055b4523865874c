// The scan state machine (infra/statemachines/scan.asl.json) run by aws-local-stepfunctions
// with its Task states routed to the Lambdas served by `cargo lambda watch`: the interpreter's
// own Lambda client calls the Invoke API at AWS_ENDPOINT_URL_LAMBDA (loopback), with the
// function names in place of the ARNs CloudFormation would substitute. Prints one JSON object:
// {"status": "SUCCEEDED" | "FAILED", "output" | "error", "tasks": {state: invocations}, "ms"}.
//
//   node --require tests/sfn/node22-polyfill.cjs tools/demo/run_scan.mjs RUN_ID [WAIT_MS]
import { createServer, request } from "node:http";
import { httpObjects, readMapResults, runScan } from "../../tests/sfn/run.mjs";

// `cargo lambda watch` answers a function error with HTTP 500 and the error document; the
// Lambda service answers 200 with `X-Amz-Function-Error: Unhandled`, which is what the
// interpreter's Lambda client (the AWS SDK) turns into the error type Retry/Catch match. This
// loopback proxy translates the one into the other and passes everything else through.
function functionErrorProxy(target) {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const up = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
        (r) => {
          const got = [];
          r.on("data", (c) => got.push(c));
          r.on("end", () => {
            const payload = Buffer.concat(got);
            let isFunctionError = false;
            if (r.statusCode === 500) {
              try {
                const doc = JSON.parse(payload.toString("utf8"));
                isFunctionError = typeof doc.errorType === "string";
              } catch {}
            }
            const headers = { "content-type": "application/json", "content-length": payload.length };
            if (isFunctionError) headers["x-amz-function-error"] = "Unhandled";
            res.writeHead(isFunctionError ? 200 : r.statusCode, headers);
            res.end(payload);
          });
        },
      );
      up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const [runId, waitMs = "1000"] = process.argv.slice(2);
const endpoint = process.env.AWS_ENDPOINT_URL_LAMBDA ?? "";
if (!runId || !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(endpoint)) {
  console.error("run_scan: usage: run_scan.mjs RUN_ID [WAIT_MS], with AWS_ENDPOINT_URL_LAMBDA a loopback URL");
  process.exit(2);
}
const proxy = await functionErrorProxy(endpoint);
process.env.AWS_ENDPOINT_URL_LAMBDA = `http://127.0.0.1:${proxy.address().port}`;
const started = Date.now();
// The distributed Map's S3 reader and writer, played against moto's S3 (run.mjs's localVariant):
// the scan Lambda writes the JSON Lines and reads the results there, as in AWS.
const objects = httpObjects(process.env.AWS_ENDPOINT_URL);
const { output, error, events } = await runScan({
  runId,
  objects,
  substitutions: { ScanFunctionArn: "scan", CurQueryFunctionArn: "cur-query", MaxConcurrency: "4", ToleratedFailurePercentage: "10" },
  stateMachineOptions: { validationOptions: { checkArn: false } },
  waitMs: Number(waitMs),
  retryMs: 500,
});
// Invocations and wall time per Task state (entered to exited or failed: the Lambda's round trip).
const tasks = {};
const task_ms = {};
const entered = new Map();
for (const e of events) {
  if (e.state?.type !== "Task") continue;
  const key = `${e.state.name}#${e.index ?? ""}`;
  if (e.type === "StateEntered") {
    tasks[e.state.name] = (tasks[e.state.name] ?? 0) + 1;
    entered.set(key, e.timestamp);
  } else if ((e.type === "StateExited" || e.type === "StateFailed") && entered.has(key)) {
    task_ms[e.state.name] = (task_ms[e.state.name] ?? 0) + (e.timestamp - entered.get(key));
    entered.delete(key);
  }
}
// The Map's per-account results, as FinishRun read them from the ResultWriter's files (status,
// regions, CUR part).
const finish = events.find((e) => e.type === "StateEntered" && e.state.name === "FinishRun");
const results = finish ? await readMapResults(objects, finish.state.input.results) : null;
const failed = events.find((e) => e.type === "ExecutionFailed");
const result = error
  ? { status: "FAILED", error: { Error: failed?.Error ?? error.name, Cause: String(failed?.Cause?.errorMessage ?? failed?.Cause ?? error.message) } }
  : { status: "SUCCEEDED", output };
console.log(JSON.stringify({ ...result, results, tasks, task_ms, ms: Date.now() - started }));
proxy.close();
