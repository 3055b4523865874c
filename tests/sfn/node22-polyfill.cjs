// aws-local-stepfunctions 3.0.0 declares node >=22; the only node 22 API it calls is
// Promise.withResolvers (its Task timeout). This supplies it on node 20, the machine's node.
// Loaded with `node --require tests/sfn/node22-polyfill.cjs`; a no-op on node >= 22.
"use strict";
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
