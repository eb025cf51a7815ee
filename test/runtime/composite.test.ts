// The composites of compiler/ops/composite.ts built as IR (what the frontend lowers), including
// symbolic dimensions, which the runtime never sees.

import { describe, expect, it } from "vitest";
import { IRBuilder } from "../../compiler/ir/builder.js";
import type { Node, Type } from "../../compiler/ir/types.js";
import { logSumExp, mean, softmax } from "../../compiler/ops/composite.js";
import { opTypes } from "../../compiler/ops/index.js";

function build(type: Type, make: (b: IRBuilder, x: ReturnType<IRBuilder["param"]>) => ReturnType<IRBuilder["param"]>) {
  const b = new IRBuilder(opTypes);
  const x = b.param(type, "x");
  const out = make(b, x);
  const block = b.finish([out], [x]);
  return { out, ops: block.nodes.map((n: Node) => n.op), nodes: block.nodes };
}

describe("composites as IR", () => {
  it("mean over a symbolic dimension divides by its run-time value", () => {
    const { out, nodes } = build({ dtype: "f32", shape: ["B", 3] }, (b, x) => mean(b, x, 0));
    expect(out.type).toEqual({ dtype: "f32", shape: [3] });
    const dim = nodes.find((n) => n.op === "dim");
    expect(dim?.attrs).toEqual({ name: "B" });
    expect(nodes.at(-1)?.op).toBe("div");
  });

  it("mean over static and symbolic axes multiplies the counts", () => {
    const { out, ops } = build({ dtype: "f64", shape: ["B", 4, 5] }, (b, x) => mean(b, x));
    expect(out.type.shape).toEqual([]);
    expect(ops).toEqual(["sum", "dim", "const", "mul", "div"]);
  });

  it("mean over static axes divides by a constant", () => {
    const { nodes } = build({ dtype: "f64", shape: [2, 3] }, (b, x) => mean(b, x, [0, 1], true));
    expect(nodes.map((n) => n.op)).toEqual(["sum", "const", "div"]);
    expect(nodes[1]!.attrs).toEqual({ value: 6 });
    expect(nodes[2]!.outs[0]!.type.shape).toEqual([1, 1]);
  });

  it("softmax subtracts a stop-gradient max along the axis", () => {
    const { out, ops } = build({ dtype: "f64", shape: ["B", 10] }, (b, x) => softmax(b, x));
    expect(out.type).toEqual({ dtype: "f64", shape: ["B", 10] });
    expect(ops).toEqual(["max", "stop_gradient", "sub", "exp", "sum", "div"]);
  });

  it("logSumExp without keepdims drops the reduced axis", () => {
    const { out, ops, nodes } = build({ dtype: "f64", shape: ["B", 10] }, (b, x) => logSumExp(b, x, -1));
    expect(out.type.shape).toEqual(["B"]);
    expect(ops).toEqual(["max", "stop_gradient", "sub", "exp", "sum", "log", "reshape", "add"]);
    expect(nodes[0]!.attrs).toEqual({ axes: [1], keepdims: true });
    const kept = build({ dtype: "f64", shape: ["B", 10] }, (b, x) => logSumExp(b, x, 1, true));
    expect(kept.out.type.shape).toEqual(["B", 1]);
  });
});
