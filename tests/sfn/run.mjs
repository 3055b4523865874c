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
} = {}) {
  const definition = render(SCAN_ASL, substitutions);
  const machine = new StateMachine(definition, stateMachineOptions);
  const calls = {};
  const local = {};
  for (const [state, fn] of Object.entries(handlers ?? {})) {
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
