// The run-time check of an index that is not known to be in range (passes/indexrange.ts says
// which): a GradcError with the eager op's words (ops/index-check.ts `indexProblem`, prefixed
// with the op's name as the runtime does), before anything is read or written at it.

import type { Node } from "../ir/types.js";
import type { IndexRanges } from "../passes/indexrange.js";
import { indexProblem } from "../ops/index-check.js";
import { CodegenError } from "./errors.js";

/** The helper the checks call; emitted once per module that has any. */
export const BAD_INDEX_HELPER = `function $gradc_badIndex(i, n) {
  throw new $gradc_GradcError(\`at: index \${i} is out of range [0, \${n})\`);
}`;

export const BAD_INDEX_HELPER_TS = BAD_INDEX_HELPER.replace("function $gradc_badIndex(i, n) {", "function $gradc_badIndex(i: number, n: number): never {");

/**
 * The statement guarding the indexing `node` whose index is written `index` and whose axis
 * size is written `size`, or undefined when the index is always in range. A constant index
 * out of range (the frontend normally refuses it) throws unconditionally where it is reached.
 */
export function indexGuard(ranges: IndexRanges, node: Node, index: string, size: string): string | undefined {
  if (ranges.inRange(node)) return undefined;
  const c = ranges.constantIndex(node);
  if (c !== undefined && /^\d+$/.test(size)) {
    if (indexProblem(c, Number(size)) === undefined) throw new CodegenError(`index ${c} judged out of range [0, ${size})`);
    return `$gradc_badIndex(${index}, ${size});`;
  }
  // `i >>> 0 === i` holds exactly for the integers in [0, 2³²): no NaN, fraction or negative.
  return `if ((${index} >>> 0) !== ${index} || ${index} >= ${size}) $gradc_badIndex(${index}, ${size});`;
}
