// The one wording of an index out of range, shared by the eager `at` (runtime) and the
// compiler's check of indices it knows at compile time, so both say the same thing.

import type { Dim } from "../ir/types.js";

/** What is wrong with index `i` into a leading dimension of size `n`, or undefined if nothing. */
export function indexProblem(i: number, n: Dim): string | undefined {
  const bad = !Number.isInteger(i) || i < 0 || (typeof n === "number" && i >= n);
  return bad ? `index ${i} is out of range [0, ${n})` : undefined;
}
