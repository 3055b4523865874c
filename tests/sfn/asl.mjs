// The state machines as the tests, `make validate` and `make demo` see them: every
// infra/statemachines/*.asl.json with its DefinitionSubstitutions filled in, the way
// CloudFormation fills them from infra/template.yaml.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ASL_DIR = join(ROOT, "infra", "statemachines");

export const EXAMPLE_ACCOUNT = "111122223333";
export const lambdaArn = (name, region = "us-east-1", account = EXAMPLE_ACCOUNT) =>
  `arn:aws:lambda:${region}:${account}:function:${name}`;

/** Example values for every substitution the template passes (the deployed stack passes ARNs). */
export const EXAMPLE_SUBSTITUTIONS = {
  ScanFunctionArn: lambdaArn("costradar-scan"),
  CurQueryFunctionArn: lambdaArn("costradar-cur-query"),
  MaxConcurrency: "10",
  ToleratedFailurePercentage: "10",
};

export function aslFiles() {
  return readdirSync(ASL_DIR)
    .filter((f) => f.endsWith(".asl.json"))
    .sort()
    .map((f) => join(ASL_DIR, f));
}

/** `${Name}` placeholders in a definition's text, in order of first use. */
export function placeholders(text) {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))];
}

/** The definition with its substitutions applied; a placeholder without a value is an error. */
export function render(path, substitutions = EXAMPLE_SUBSTITUTIONS) {
  const text = readFileSync(path, "utf8");
  const missing = placeholders(text).filter((p) => !(p in substitutions));
  if (missing.length) throw new Error(`${path}: no value for \${${missing.join("}, ${")}}`);
  const rendered = text.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name) => String(substitutions[name]));
  return JSON.parse(rendered);
}
