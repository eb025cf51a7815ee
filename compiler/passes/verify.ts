// The IR verifier (ir/verify.ts) with the registry's shape rules: what the pipeline runs after
// each pass in tests, and what `gradc/compiler` exports as `verify`.

import { verify as verifyWith } from "../ir/verify.js";
import type { Func } from "../ir/types.js";
import { opTypes } from "../ops/index.js";

/**
 * Checks a function's IR: every value defined once and before use in its scope, every node's
 * type what its op's shape rule gives, every region consistent. Throws a `VerifyError` naming
 * the first fault.
 */
export function verify(fn: Func): void {
  verifyWith(fn, opTypes);
}
