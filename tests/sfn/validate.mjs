// asl-validator on every state machine in infra/statemachines/, after substitution (the raw
// files hold `${MaxConcurrency}` where a number goes, so they are not JSON until rendered).
// Exit 1 on any invalid definition. Run by `make validate` and by tests/templates (pytest).
import { createRequire } from "node:module";
import { relative } from "node:path";
import { aslFiles, render, ROOT } from "./asl.mjs";

const aslValidator = createRequire(import.meta.url)("asl-validator");
let failed = 0;
const files = aslFiles();
if (files.length === 0) {
  console.error("asl-validator: no infra/statemachines/*.asl.json found");
  process.exit(1);
}
for (const file of files) {
  const name = relative(ROOT, file);
  let definition;
  try {
    definition = render(file);
  } catch (e) {
    console.error(`✕ ${name}: ${e.message}`);
    failed++;
    continue;
  }
  const { isValid, errorsText } = aslValidator(definition, { checkPaths: true, checkArn: true });
  if (isValid) {
    console.log(`✓ ${name}: valid (asl-validator)`);
  } else {
    console.error(`✕ ${name}: ${errorsText("\n  ")}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
