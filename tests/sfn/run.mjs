// Runs infra/statemachines/scan.asl.json in aws-local-stepfunctions (the real ASL interpreter).
// Two ways to reach the tasks:
//   - local handlers (the execution tests): each Task state answers from a JS function;
//   - the Lambda Invoke API of `cargo lambda watch` (make demo, the end-to-end test): the
//     interpreter's own Lambda client, pointed at the loopback emulator through
//     AWS_ENDPOINT_URL_LAMBDA.
// Needs node >= 22 or `node --require tests/sfn/node22-polyfill.cjs`.
import { createRequire } from "node:module";
import { join } from "node:path";
import { ASL_DIR, EXAMPLE_SUBSTITUTIONS, render } from "./asl.mjs";

const { StateMachine } = createRequire(import.meta.url)("aws-local-stepfunctions");

export const SCAN_ASL = join(ASL_DIR, "scan.asl.json");

/**
 * The runs bucket as a local run sees it. aws-local-stepfunctions runs a Map inline and has no
 * S3 reader or writer (its Map reads `ItemsPath` and nothing else), so `localVariant` plays the
 * distributed Map's S3 side with these: in memory for the tests, moto over HTTP for make demo.
 */
export class MemoryObjects {
  constructor() { this.objects = new Map(); }
  async get(bucket, key) { return this.objects.get(`${bucket}/${key}`) ?? null; }
  async put(bucket, key, body) { this.objects.set(`${bucket}/${key}`, body); }
  clear() { this.objects.clear(); }
}

/**
 * moto's S3 (path-style) for the demo. Loopback only. moto refuses an anonymous GET of a private
 * object, and checks no signature by default: the header below only marks the request as an
 * authenticated one (the throwaway `testing` key of tools/with-moto.sh), it signs nothing.
 */
export function httpObjects(endpoint) {
  if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(endpoint ?? "")) throw new Error(`httpObjects: not a loopback URL: ${endpoint}`);
  const url = (bucket, key) => `${endpoint}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
  const headers = { authorization: "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=unsigned" };
  return {
    async get(bucket, key) {
      const r = await fetch(url(bucket, key), { headers });
      if (r.status === 404) return null;
      if (!r.ok) throw new Error(`GET s3://${bucket}/${key}: HTTP ${r.status}`);
      return r.text();
    },
    async put(bucket, key, body) {
      const r = await fetch(url(bucket, key), { method: "PUT", body, headers });
      if (!r.ok) throw new Error(`PUT s3://${bucket}/${key}: HTTP ${r.status}`);
    },
  };
}

const LOCAL_ARN = (name) => `arn:aws:lambda:us-east-1:111122223333:function:local-${name}`;
const MAP_RUN = "6dbfba93-bcff-410b-9b5c-abf41ae9eddb";

/**
 * The definition as aws-local-stepfunctions can run it: the same states, with the distributed
 * Map's S3 reader and writer played by two local Task states around an inline Map:
 * `ReadItems` reads the JSON Lines the ItemReader would (bucket and key from the same paths),
 * and `WriteResults` writes the ResultWriter's files in AWS's shape (manifest.json and
 * SUCCEEDED_0.json, Transformation NONE) and answers what the Map answers
 * ({MapRunArn, ResultWriterDetails}), through the Map's own ResultSelector and ResultPath.
 */
export function localVariant(definition) {
  const d = structuredClone(definition);
  const map = d.States.ScanAccounts;
  const { ItemReader, ResultWriter, ResultSelector, ResultPath, ToleratedFailurePercentage, Label, Next, ...inline } = map;
  if (!ItemReader || !ResultWriter) throw new Error("localVariant: ScanAccounts is not a distributed Map with a reader and a writer");
  for (const [name, s] of Object.entries(d.States)) {
    for (const c of s.Choices ?? []) if (c.Next === "ScanAccounts") c.Next = "ReadItems";
    if (s.Next === "ScanAccounts" && name !== "ReadItems") s.Next = "ReadItems";
  }
  d.States.ReadItems = {
    Type: "Task", Comment: "local: the ItemReader", Resource: LOCAL_ARN("item-reader"),
    Parameters: { ...ItemReader.Parameters, "InputType": ItemReader.ReaderConfig.InputType },
    ResultPath: "$.items", Next: "ScanAccounts",
  };
  d.States.ScanAccounts = {
    ...inline, ItemsPath: "$.items", ResultPath: "$.outputs", Next: "WriteResults",
    ItemProcessor: { ...inline.ItemProcessor, ProcessorConfig: { Mode: "INLINE" } },
  };
  d.States.WriteResults = {
    Type: "Task", Comment: "local: the ResultWriter", Resource: LOCAL_ARN("result-writer"),
    Parameters: { ...ResultWriter.Parameters, "run_id.$": "$.run_id", "items.$": "$.items", "outputs.$": "$.outputs" },
    ResultSelector, ResultPath, Next,
  };
  return d;
}

/** The two local states' handlers over `objects`. */
function s3Handlers(objects) {
  return {
    ReadItems: async (p) => {
      if (p.InputType !== "JSONL") throw new Error(`ReadItems: ${p.InputType} is not JSONL`);
      const text = await objects.get(p.Bucket, p.Key);
      if (text === null) throw new Error(`ReadItems: no s3://${p.Bucket}/${p.Key}`);
      return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
    },
    WriteResults: async (p) => {
      const dir = `${p.Prefix}/${MAP_RUN}`;
      const arn = "arn:aws:states:us-east-1:111122223333";
      const entries = p.items.map((item, i) => ({
        ExecutionArn: `${arn}:execution:costradar-scan/ScanAccounts:${i}`,
        Input: JSON.stringify({ run_id: p.run_id, tenant_id: item.tenant_id, account_id: item.account_id }),
        InputDetails: { Included: true }, Name: String(i),
        Output: JSON.stringify(p.outputs[i]), OutputDetails: { Included: true },
        RedriveCount: 0, RedriveStatus: "NOT_REDRIVABLE",
        StartDate: new Date().toISOString(), StateMachineArn: `${arn}:stateMachine:costradar-scan/ScanAccounts`,
        Status: "SUCCEEDED", StopDate: new Date().toISOString(),
      }));
      const succeeded = `${dir}/SUCCEEDED_0.json`;
      const body = JSON.stringify(entries);
      await objects.put(p.Bucket, succeeded, body);
      const mapRunArn = `${arn}:mapRun:costradar-scan/ScanAccounts:${MAP_RUN}`;
      const manifest = { DestinationBucket: p.Bucket, MapRunArn: mapRunArn,
        ResultFiles: { FAILED: [], PENDING: [], SUCCEEDED: [{ Key: succeeded, Size: body.length }] } };
      await objects.put(p.Bucket, `${dir}/manifest.json`, JSON.stringify(manifest));
      return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: p.Bucket, Key: `${dir}/manifest.json` } };
    },
  };
}

/** Every child's output of a Map run, read back from its ResultWriter files (as finish_run does). */
export async function readMapResults(objects, details) {
  const manifest = JSON.parse(await objects.get(details.Bucket, details.Key));
  const out = [];
  for (const status of ["SUCCEEDED", "FAILED", "PENDING"]) {
    for (const f of manifest.ResultFiles[status] ?? []) {
      for (const c of JSON.parse(await objects.get(details.Bucket, f.Key))) {
        out.push(c.Status === "SUCCEEDED" ? JSON.parse(c.Output) : { ...JSON.parse(c.Input), status: c.Status, error: { Error: c.Error, Cause: c.Cause } });
      }
    }
  }
  return out;
}

/** The in-memory runs bucket runScan uses unless given one. */
export const localObjects = new MemoryObjects();

/** An error as a Lambda ends with one: `error_type` is what Retry/Catch match. */
export function lambdaError(errorType, message = errorType) {
  const e = new Error(`${errorType}: ${message}`);
  e.name = errorType;
  return e;
}

/**
 * One execution. `handlers` maps Task state names to functions; the payloads each task
 * received are recorded in `calls[stateName]`. Wait states and retry intervals are 0 ms unless
 * given. Never throws for a failed execution: returns { output } or { error }.
 */
export async function runScan({
  handlers,
  input = {},
  runId = "run-test",
  substitutions = EXAMPLE_SUBSTITUTIONS,
  stateMachineOptions = {},
  waitMs = 0,
  retryMs = 0,
  objects = localObjects,
} = {}) {
  const definition = localVariant(render(SCAN_ASL, substitutions));
  const machine = new StateMachine(definition, stateMachineOptions);
  const calls = {};
  const local = {};
  for (const [state, fn] of Object.entries({ ...s3Handlers(objects), ...handlers })) {
    local[state] = async (payload) => {
      (calls[state] ??= []).push(structuredClone(payload));
      return fn(payload, calls[state].length);
    };
  }
  const waits = {};
  const retries = {};
  for (const [name, s] of allStates(definition)) {
    if (s.Type === "Wait") waits[name] = waitMs;
    if (s.Retry) retries[name] = retryMs;
  }
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: local, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: { Execution: { Name: runId, StartTime: new Date().toISOString() } },
  });
  const events = [];
  const collecting = (async () => {
    for await (const e of execution.eventLogs) events.push(e);
  })();
  let output;
  let error;
  try {
    output = await execution.result;
  } catch (e) {
    error = e;
  }
  await collecting;
  return { output, error, events, calls, definition };
}

export function* allStates(definition) {
  for (const [name, s] of Object.entries(definition.States)) {
    yield [name, s];
    for (const sub of [s.ItemProcessor, s.Iterator, ...(s.Branches ?? [])]) {
      if (sub) yield* allStates(sub);
    }
  }
}
