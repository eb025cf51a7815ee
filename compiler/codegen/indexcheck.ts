// The run-time check of an index that is not known to be in range (passes/indexrange.ts says
// which): a GradcError with the eager op's words (ops/index-check.ts `indexProblem`, prefixed
// with the op's name as the runtime does), before anything is read or written at it.

import { type Node, type Value, walkNodes } from "../ir/types.js";
import type { IndexRanges, Term } from "../passes/indexrange.js";
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
export function indexGuard(ranges: IndexRanges, node: Node, index: string, size: string, checked?: string): string | undefined {
  if (ranges.inRange(node)) return undefined;
  const c = ranges.constantIndex(node);
  if (c !== undefined && /^\d+$/.test(size)) {
    if (indexProblem(c, Number(size)) === undefined) throw new CodegenError(`index ${c} judged out of range [0, ${size})`);
    return `$gradc_badIndex(${index}, ${size});`;
  }
  // `i >>> 0 === i` holds exactly for the integers in [0, 2³²): no NaN, fraction or negative.
  const test = `(${index} >>> 0) !== ${index} || ${index} >= ${size}`;
  return `if (${checked === undefined ? test : `!${checked} && (${test})`}) $gradc_badIndex(${index}, ${size});`;
}

function offsetText(terms: readonly Term[], operand: (v: Value) => string): string {
  if (terms.length === 0) return "0";
  return terms.map((t, i) => `${t.negated ? (i === 0 ? "-" : " - ") : i === 0 ? "" : " + "}${operand(t.value)}`).join("");
}

/**
 * Hoisting for the common `at(x, k + b)` in a loop over k with b fixed outside it: before the
 * loop, one test that b .. b + trips - 1 all lie in [0, n) (`ok`); inside, each check is then
 * skipped while `ok` holds, and when it does not, the per-trip check throws at the first bad
 * index, as the eager op would. Returns the lines to emit before the loop and, per indexing
 * node, the name of its flag.
 */
export function loopPrechecks(
  ranges: IndexRanges,
  loop: Node,
  text: { operand(v: Value): string; size(node: Node): string; trips: string; fresh(hint: string): string },
): { lines: string[]; flags: Map<Node, string> } {
  const lines: string[] = [];
  const flags = new Map<Node, string>();
  const byTest = new Map<string, string>();
  walkNodes(loop.blocks[0]!, (n) => {
    if (ranges.inRange(n)) return;
    const form = ranges.counterPlusInvariant(n);
    if (form?.loop !== loop) return;
    // Constant terms are summed here; what is left is read at run time.
    let sum = 0;
    const rest = form.terms.filter((t) => {
      const c = ranges.constantOf(t.value);
      if (c !== undefined) sum += t.negated ? -c : c;
      return c === undefined;
    });
    const base = rest.length === 0 ? String(sum) : offsetText(rest, text.operand) + (sum === 0 ? "" : sum > 0 ? ` + ${sum}` : ` - ${-sum}`);
    let flag = byTest.get(`${base} ${text.size(n)}`);
    if (flag === undefined) {
      flag = text.fresh("inRange");
      byTest.set(`${base} ${text.size(n)}`, flag);
      // The base first, so that the test reads it once.
      const b = /^[\w$.]+$/.test(base) ? base : text.fresh("base");
      if (b !== base) lines.push(`const ${b} = ${base};`);
      const integral = rest.length === 0 ? (Number.isInteger(sum) && sum >= 0 ? "" : "false && ") : `(${b} >>> 0) === ${b} && `;
      lines.push(`const ${flag} = ${integral}${b} + ${text.trips} <= ${text.size(n)};`);
    }
    flags.set(n, flag);
  });
  return { lines, flags };
}
