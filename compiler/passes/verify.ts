// The IR verifier (ir/verify.ts) with the registry's shape rules: what the pipeline runs after
// each pass in tests, and what `gradc/compiler` exports as `verify`.

import { verify as verifyWith } from "../ir/verify.js";
import type { Func } from "../ir/types.js";
import { opTypes } from "../ops/index.js";

/** Throws a VerifyError when `fn` is not well-formed IR (scopes, region shapes, op types). */
export function verify(fn: Func): void {
  verifyWith(fn, opTypes);
}
