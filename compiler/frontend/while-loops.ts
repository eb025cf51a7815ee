// `while (c) { … }` and `do { … } while (c)`: loops whose trip count is decided at run time
// (`while (err > tol)`). The outer variables the body assigns are the carries, as for a rolled
// `for` loop; the condition becomes the `while` node's condition block over the carries and
// the body its body block (ir/while.ts). A `break` in the body is a carried flag the condition
// tests first, so the condition is not evaluated once the loop has been left.

import { type DoStatement, type Expression, Node, type WhileStatement } from "ts-morph";
import type { Value } from "../ir/types.js";
import { whileNode } from "../ir/while.js";
import { LowerError } from "./errors.js";
import type { Host } from "./host.js";
import { assignedOuter, describeType } from "./lower-support.js";
import { assignMerged, merge, region } from "./merge.js";
import { leaves, rebuild } from "./pytrees.js";
import { breaksOut, tripBody, withLoopFrame } from "./jumps.js";
import type { LV, Var } from "./types.js";

export function whileStatement(h: Host, s: WhileStatement | DoStatement): void {
  const doFirst = Node.isDoStatement(s);
  const what = doFirst ? "do-while" : "while";
  const condition = s.getExpression();
  const body = s.getStatement();
  if (assignedOuter(condition, h.scope).length > 0)
    throw new LowerError("GRADC1001", condition, ["An assignment in a loop condition", "Assign in the loop body and test the variable in the condition."]);
  withLoopFrame(h, s, (frame) => {
    const carries: Var[] = [...assignedOuter(body, h.scope), ...(breaksOut(body) ? [frame.brk] : [])];
    if (carries.length === 0) {
      // Nothing the condition reads can change: the loop runs no trip, or never ends.
      const c = h.condition(condition);
      if (c.k === "bool" && !c.b) {
        if (doFirst) tripBody(h, frame, s, body);
        return;
      }
      throw new LowerError("GRADC1034", s, [what, "its body assigns no variable declared before the loop and has no break, so its condition cannot change"]);
    }
    const shapes = carries.map((v) => h.store.get(v) ?? { k: "undefined" as const });
    const leavesOf = (lv: LV): Value[] => leaves(lv, (leaf) => h.asValue(leaf, s));
    const inits = shapes.flatMap(leavesOf);
    if (inits.length === 0) throw new LowerError("GRADC1034", s, [what, "the variables its body assigns hold no numbers or tensors, so its condition cannot change"]);
    const names = carries.flatMap((v, i) => {
      const n = leavesOf(shapes[i]!).length;
      return Array.from({ length: n }, (_x, j) => (n === 1 ? v.name : `${v.name}_${j}`));
    });
    const bind = (params: readonly Value[]): void => {
      let pos = 0;
      carries.forEach((v, i) => h.store.set(v, rebuild(shapes[i]!, () => params[pos++]!)));
    };
    const condParams = inits.map((v, j) => h.b.param(v.type, names[j]));
    const test = region(h, condition, () => h.withStore(() => [testAfterBreak(h, frame.brk, carries.includes(frame.brk), condition, () => bind(condParams))]).result, condParams);
    const k = h.b.param({ dtype: "f64", shape: [] }, "k");
    const params = inits.map((v, j) => h.b.param(v.type, names[j]));
    const trip = region(
      h,
      s,
      () =>
        h.withStore(() => {
          bind(params);
          // A trip starts only while the loop has not broken out (the condition tests that).
          h.store.set(frame.brk, { k: "bool", b: false });
          tripBody(h, frame, s, body);
          return carries.map((v) => h.store.get(v) ?? { k: "undefined" as const });
        }).result,
      [k, ...params],
    );
    const outs = merge(h, s, {
      shapes: [shapes, trip.yields],
      leaves: [params, trip.block.results],
      what: (i) => `'${carries[i]!.name}'`,
      typeMismatch: (p, r) => `a loop variable starts as ${describeType(p)} and becomes ${describeType(r)}`,
      build: () => whileNode(h.b, inits, test.block, trip.block, doFirst, names),
    });
    assignMerged(h, carries, outs);
  });
}

/**
 * The condition block's value: the loop's condition, or, when the body may break, false once
 * it has (an `if` on the carried flag, so the condition is not evaluated after a break).
 */
function testAfterBreak(h: Host, brk: Var, carried: boolean, condition: Expression, bind: () => void): LV {
  bind();
  const lower = (): Value => {
    const c = h.condition(condition);
    return c.k === "bool" ? h.asValue(c, condition) : c.v;
  };
  if (!carried) return { k: "val", v: lower() };
  const flag = h.asValue(h.store.get(brk)!, condition);
  const stopped = h.b.block(() => [h.asValue({ k: "bool", b: false }, condition)]);
  const tested = h.b.block(() => [lower()]);
  h.b.loc = h.loc(condition);
  return { k: "val", v: h.b.ifNode(flag, stopped, tested)[0]! };
}
