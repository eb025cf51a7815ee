// A reference interpreter for IR: runs a function on concrete values, node by node, with each
// op's registry evaluation. `if` runs only the branch taken. Tests use it to check that a pass
// keeps a function's meaning and that differentiated IR computes true gradients.

import type { Block, Func, Node, Value } from "../../compiler/ir/types.js";
import { getOp } from "../../compiler/ops/index.js";
import type { Val } from "../../compiler/ops/values.js";

/** The function's results at `args` (one value per parameter); `dims` sizes symbolic dimensions. */
export function evalFunc(fn: Func, args: readonly Val[], dims: Readonly<Record<string, number>> = {}): Val[] {
  if (args.length !== fn.body.params.length) throw new Error(`${fn.name} takes ${fn.body.params.length} arguments, got ${args.length}`);
  const env = new Map<Value, Val>();
  fn.body.params.forEach((p, i) => env.set(p, args[i]!));
  return run(fn.body, env, dims);
}

function run(block: Block, env: Map<Value, Val>, dims: Readonly<Record<string, number>>): Val[] {
  const get = (v: Value): Val => {
    const x = env.get(v);
    if (x === undefined) throw new Error(`value ${v.id} (${v.name ?? "unnamed"}) read before it is defined`);
    return x;
  };
  for (const node of block.nodes) {
    if (node.op === "if") {
      const taken = node.blocks[get(node.args[0]!) ? 0 : 1]!;
      run(taken, env, dims).forEach((r, i) => env.set(node.outs[i]!, r));
    } else if (node.op === "dim") {
      const name = String(node.attrs["name"]);
      if (!(name in dims)) throw new Error(`no size given for dimension ${name}`);
      env.set(node.outs[0]!, dims[name]!);
    } else if (node.op === "loop" || node.op === "while") {
      runLoop(node, env, dims, get);
    } else if (node.blocks.length > 0) {
      throw new Error(`ir-eval: region op '${node.op}' is not supported yet`);
    } else {
      env.set(node.outs[0]!, getOp(node.op).evaluate(node.args.map(get), sized(node.attrs, dims)));
    }
  }
  return block.results.map(get);
}

/**
 * `loop` (trips from the attribute, or a `while`'s recorded count) and `while` (until its
 * condition fails; `do` runs the body once first). Recorded carries are stacked per trip.
 */
function runLoop(node: Node, env: Map<Value, Val>, dims: Readonly<Record<string, number>>, get: (v: Value) => Val): void {
  const isWhile = node.op === "while";
  const body = node.blocks[isWhile ? 1 : 0]!;
  const m = node.args.length;
  const record = (node.attrs["record"] as readonly number[] | undefined) ?? [];
  const t = node.attrs["trips"];
  const trips = isWhile ? Infinity : typeof t === "number" ? t : (dims[t as string] ?? tripCounts.get(t as string));
  if (trips === undefined) throw new Error(`no size given for dimension ${String(t)}`);
  let carries = node.args.map(get);
  const hist: Val[][] = record.map(() => []);
  const order = node.attrs["reverse"] === true ? -1 : 1;
  let k = 0;
  for (; k < trips; k++) {
    if (isWhile && !(node.attrs["do"] === true && k === 0)) {
      const inner = new Map(env);
      node.blocks[0]!.params.forEach((p, j) => inner.set(p, carries[j]!));
      if (!run(node.blocks[0]!, inner, dims)[0]) break;
    }
    // Row i of a history is the carry at the start of the trip whose counter is i.
    const counter = order > 0 ? k : (trips as number) - 1 - k;
    record.forEach((j, h) => (hist[h]![counter] = carries[j]!));
    const inner = new Map(env);
    inner.set(body.params[0]!, counter);
    body.params.slice(1).forEach((p, j) => inner.set(p, carries[j]!));
    carries = run(body, inner, dims);
  }
  if (isWhile) tripCounts.set(t as string, k);
  carries.slice(0, m).forEach((c, j) => env.set(node.outs[j]!, c));
  record.forEach((j, h) => env.set(node.outs[m + h]!, stack(hist[h]!, node.outs[m + h]!.type.dtype === "f32")));
}

/** Trip counts of the while loops run so far, by their trip dimension. */
const tripCounts = new Map<string, number>();

/** Attributes with symbolic dimensions (a shape over a while loop's trips) given their sizes. */
function sized(attrs: Node["attrs"], dims: Readonly<Record<string, number>>): Node["attrs"] {
  const size = (d: unknown): unknown => (typeof d === "string" ? (dims[d] ?? tripCounts.get(d) ?? d) : d);
  let out: Record<string, unknown> | undefined;
  for (const [k, a] of Object.entries(attrs))
    if (Array.isArray(a) && a.some((d) => typeof d === "string" && (d in dims || tripCounts.has(d)))) (out ??= { ...attrs })[k] = a.map(size);
  return (out ?? attrs) as Node["attrs"];
}

function stack(rows: readonly Val[], f32: boolean): Val {
  const first = rows[0];
  const rowShape = first === undefined || typeof first === "number" || typeof first === "boolean" ? [] : [...first.shape];
  const n = rowShape.reduce((a, b) => a * b, 1);
  const data = f32 ? new Float32Array(rows.length * n) : new Float64Array(rows.length * n);
  rows.forEach((r, i) => {
    if (typeof r === "number" || typeof r === "boolean") data[i] = Number(r);
    else data.set(r.data, i * n);
  });
  return { shape: [rows.length, ...rowShape], data } as Val;
}
