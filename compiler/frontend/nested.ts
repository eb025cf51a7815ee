// Transformations inside a differentiable function: `grad(g)(x)`, `valueAndGrad(g)(x)`,
// `jvp(g)([x], [t])` and calls to `customVjp(f, vjp)` functions, at any depth.
//
// A nested `grad(g)(args)` lowers g's body as a sub-function (fresh parameters for the
// differentiated arguments, the other arguments and g's closure read from the enclosing
// function), runs reverse-mode AD on it (forward mode for `jvp`), and splices the result into
// the enclosing IR with the real arguments in place of the fresh parameters. The enclosing
// function's own AD then differentiates that backward pass like any other IR: second
// derivatives need every op's VJP to be built from differentiable ops, which the registry's
// rules are. A `customVjp` call becomes a `custom_vjp` region holding the forward body and the
// user's backward body (see passes/custom.ts).

import { type CallExpression, Node } from "ts-morph";
import { splice } from "../ir/substitute.js";
import { type Func, type Value, CUSTOM } from "../ir/types.js";
import { sumTo } from "../ops/index.js";
import { differentiate } from "../passes/ad.js";
import { forwardDerivative } from "../passes/jvp.js";
import { LowerError } from "./errors.js";
import type { IRBuilder } from "../ir/builder.js";
import type { LV } from "./types.js";
import type { Loc } from "../ir/types.js";

type TransformLV = LV & { k: "transform" | "transformed" | "custom" };

/** What nested lowering needs from the Lowerer. */
export interface NestedHost {
  readonly b: IRBuilder;
  asValue(lv: LV, at: Node): Value;
  callLV(callee: LV, args: readonly LV[], at: CallExpression): LV;
  loc(node: Node): Loc;
}

/**
 * The options object of a transformation, lowered: `scope` (read only by the uncompiled
 * fallback) is not evaluated, so it may name anything.
 */
export function transformOptions(node: Node, lower: (e: Node) => LV): LV {
  if (!Node.isObjectLiteralExpression(node)) return lower(node);
  const fields = new Map<string, LV>();
  for (const p of node.getProperties()) {
    const name = Node.isPropertyAssignment(p) || Node.isShorthandPropertyAssignment(p) ? p.getName().replace(/^["']|["']$/g, "") : undefined;
    if (name === "scope") fields.set(name, { k: "undefined" });
    else if (name !== undefined && Node.isPropertyAssignment(p)) fields.set(name, lower(p.getInitializerOrThrow()));
    else if (name !== undefined) fields.set(name, { k: "undefined" });
    else throw new LowerError("GRADC1032", p, ["an option", "write each option as key: value."]);
  }
  return { k: "obj", fields };
}

export const isTransformLV = (lv: LV): lv is TransformLV => lv.k === "transform" || lv.k === "transformed" || lv.k === "custom";

const misuse = (name: string, at: Node, message: string): LowerError => new LowerError("GRADC1032", at, [name, message]);

export function callTransform(host: NestedHost, callee: TransformLV, args: readonly LV[], at: CallExpression): LV {
  if (callee.k === "transform") return applyTransform(callee.name, args, at);
  // Nodes built after the call belong to the caller's line, not to the inlined function's.
  const saved = host.b.loc;
  try {
    if (callee.k === "custom") return callCustom(host, callee, args, at);
    return callee.name === "jvp" ? callJvp(host, callee, args, at) : callGrad(host, callee, args, at);
  } finally {
    host.b.loc = saved;
  }
}

const isCallable = (lv: LV | undefined): boolean => lv !== undefined && (lv.k === "fn" || lv.k === "transformed" || lv.k === "custom");

/** `grad(f, opts)` and friends: the transformed function, options read at compile time. */
function applyTransform(name: "grad" | "valueAndGrad" | "jvp" | "customVjp", args: readonly LV[], at: CallExpression): LV {
  if (name === "customVjp") {
    if (args.length !== 2 || !isCallable(args[0]) || !isCallable(args[1]))
      throw new LowerError("GRADC1033", at, ["write customVjp(f, vjp) with two functions of this program: f(...args) and vjp(...args, out, g)"]);
    return { k: "custom", f: args[0]!, vjp: args[1]! };
  }
  if (!isCallable(args[0])) throw misuse(name, at, "its first argument must be a function of this program.");
  if (args.length > 2) throw misuse(name, at, `it takes a function and an options object, got ${args.length} arguments.`);
  let argnums: number[] = [0];
  let isArray = false;
  const opts = args[1];
  if (opts !== undefined) {
    if (opts.k !== "obj") throw misuse(name, at, "its options must be an object literal such as { argnums: [0, 1] }.");
    for (const [key, v] of opts.fields) {
      if (key === "scope") continue;
      if (key !== "argnums") throw misuse(name, at, `'${key}' is not an option it supports here (only argnums).`);
      const position = (x: LV): number => {
        if (x.k !== "num" || !Number.isInteger(x.n) || x.n < 0) throw misuse(name, at, "argnums must be argument positions written as numbers.");
        return x.n;
      };
      if (v.k === "arr") {
        argnums = v.items.map(position);
        isArray = true;
        if (argnums.length === 0 || new Set(argnums).size !== argnums.length) throw misuse(name, at, "argnums must list distinct positions.");
      } else argnums = [position(v)];
    }
  }
  return { k: "transformed", name, fn: args[0]!, argnums, isArray };
}

/** Replaces every leaf of `lv` by a fresh parameter of its type; the real leaves go to `actual`. */
function freshLeaves(host: NestedHost, lv: LV, at: Node, fresh: Value[], actual: Value[], what: string): LV {
  switch (lv.k) {
    case "val":
    case "num": {
      const v = host.asValue(lv, at);
      if (v.type.dtype === "bool") throw misuse(what, at, "a boolean cannot be differentiated.");
      if (v.type.dtype === "i32") throw misuse(what, at, "an i32 tensor (labels, indices) cannot be differentiated; leave it out of argnums.");
      const p = host.b.param(v.type, v.name);
      fresh.push(p);
      actual.push(v);
      return { k: "val", v: p };
    }
    case "arr":
      return { k: "arr", items: lv.items.map((x) => freshLeaves(host, x, at, fresh, actual, what)) };
    case "obj":
      return { k: "obj", fields: new Map([...lv.fields].map(([key, x]) => [key, freshLeaves(host, x, at, fresh, actual, what)])) };
    default:
      throw misuse(what, at, "a differentiated argument must be a number, a tensor, or an object or array of them.");
  }
}

/** `lv`'s structure with its leaves taken from `next`. */
function rebuild(lv: LV, next: () => Value): LV {
  if (lv.k === "arr") return { k: "arr", items: lv.items.map((x) => rebuild(x, next)) };
  if (lv.k === "obj") return { k: "obj", fields: new Map([...lv.fields].map(([key, x]) => [key, rebuild(x, next)])) };
  return { k: "val", v: next() };
}

/**
 * Lowers `fn` on `args` into a block with `params`, as the body of a sub-function. With
 * `structured` (jvp), a result of objects and arrays yields its leaves, and its shape is kept
 * in `structured.lv`.
 */
function subFunction(host: NestedHost, t: TransformLV & { k: "transformed" }, args: readonly LV[], params: Value[], at: CallExpression, structured?: { lv?: LV }): Func {
  const body = host.b.block(() => {
    const result = host.callLV(t.fn, args, at);
    if (structured && (result.k === "arr" || result.k === "obj")) {
      structured.lv = result;
      const leaves: Value[] = [];
      const walk = (lv: LV): void => {
        if (lv.k === "arr") return lv.items.forEach(walk);
        if (lv.k === "obj") return lv.fields.forEach(walk);
        const v = lv.k === "val" || lv.k === "num" ? host.asValue(lv, at) : undefined;
        if (v === undefined || v.type.dtype === "bool") throw misuse(t.name, at, "a structured result may hold only numbers and tensors (in objects and arrays).");
        leaves.push(v);
      };
      walk(result);
      return leaves;
    }
    const out = host.asValue(result, at);
    if (out.type.dtype === "bool" || (t.name !== "jvp" && out.type.shape.length !== 0))
      throw misuse(t.name, at, `the function must return a number (a scalar loss), but it returns ${out.type.dtype === "bool" ? "a boolean" : `a tensor of shape [${out.type.shape.join(", ")}]`}.`);
    return [out];
  }, params);
  return { name: "nested", body, loc: host.loc(at) };
}

function checkArgnums(t: TransformLV & { k: "transformed" }, count: number, at: Node): void {
  for (const n of t.argnums) if (n >= count) throw misuse(t.name, at, `argnums ${n} is out of range: it is called with ${count} arguments.`);
}

function callGrad(host: NestedHost, t: TransformLV & { k: "transformed" }, args: readonly LV[], at: CallExpression): LV {
  checkArgnums(t, args.length, at);
  const fresh: Value[] = [];
  const actual: Value[] = [];
  const inner = [...args];
  for (const n of t.argnums) inner[n] = freshLeaves(host, args[n]!, at, fresh, actual, t.name);
  const fn = subFunction(host, t, inner, fresh, at);
  const grad = differentiate(fn, fresh, "nested_grad", host.b.ids);
  const [value, ...grads] = splice((n) => host.b.push(n), grad.body, actual);
  let k = 0;
  const perArg = t.argnums.map((n) => rebuild(args[n]!, () => grads[k++]!));
  const g: LV = t.isArray ? { k: "arr", items: perArg } : perArg[0]!;
  return t.name === "valueAndGrad" ? { k: "arr", items: [{ k: "val", v: value! }, g] } : g;
}

/** `jvp(f, opts)(primals, tangents)`: forward mode on the sub-function, spliced. */
function callJvp(host: NestedHost, t: TransformLV & { k: "transformed" }, args: readonly LV[], at: CallExpression): LV {
  const [primals, tangents] = args;
  if (args.length !== 2 || primals?.k !== "arr" || tangents?.k !== "arr")
    throw misuse("jvp", at, "call the transformed function with two arrays: jvp(f)([...primals], [...tangents]).");
  checkArgnums(t, primals.items.length, at);
  if (tangents.items.length !== t.argnums.length)
    throw misuse("jvp", at, `it needs one tangent per differentiated argument (${t.argnums.length}), got ${tangents.items.length}.`);
  const fresh: Value[] = [];
  const actual: Value[] = [];
  const inner = [...primals.items];
  for (const n of t.argnums) inner[n] = freshLeaves(host, primals.items[n]!, at, fresh, actual, "jvp");
  const tangentValues: Value[] = [];
  const collect = (lv: LV): void => {
    if (lv.k === "arr") lv.items.forEach(collect);
    else if (lv.k === "obj") lv.fields.forEach(collect);
    else tangentValues.push(host.asValue(lv, at));
  };
  tangents.items.forEach(collect);
  if (tangentValues.length !== fresh.length || tangentValues.some((v, i) => v.type.shape.join() !== fresh[i]!.type.shape.join()))
    throw misuse("jvp", at, "each tangent must have the structure and shapes of its argument.");
  const structured: { lv?: LV } = {};
  const fn = subFunction(host, t, inner, fresh, at, structured);
  const n = fn.body.results.length;
  const forward = forwardDerivative(fn, fresh, host.b.ids, "nested_jvp", n);
  const outs = splice((node) => host.b.push(node), forward.body, [...actual, ...tangentValues]);
  if (structured.lv === undefined) return { k: "arr", items: [{ k: "val", v: outs[0]! }, { k: "val", v: outs[1]! }] };
  // A structured result: the values, then the tangents, each rebuilt in its shape.
  const side = (offset: number): LV => {
    let k = offset;
    return rebuild(structured.lv!, () => outs[k++]!);
  };
  return { k: "arr", items: [side(0), side(n)] };
}

/** A call of a `customVjp(f, vjp)` function: a `custom_vjp` region over its arguments. */
function callCustom(host: NestedHost, c: TransformLV & { k: "custom" }, args: readonly LV[], at: CallExpression): LV {
  const { b } = host;
  const xs = args.map((a) => {
    if (a.k !== "val" && a.k !== "num") throw new LowerError("GRADC1033", at, ["the arguments of a customVjp function must be numbers or tensors."]);
    return host.asValue(a, at);
  });
  const fwdParams = xs.map((x) => b.param(x.type, x.name));
  const fwd = b.block(() => {
    const out = host.asValue(host.callLV(c.f, fwdParams.map((v) => ({ k: "val", v })), at), at);
    if (out.type.dtype === "bool") throw new LowerError("GRADC1033", at, ["f must return a number or a tensor."]);
    return [out];
  }, fwdParams);
  const outType = fwd.results[0]!.type;
  const bwdParams = [...xs.map((x) => b.param(x.type, x.name)), b.param(outType, "out"), b.param(outType, "g")];
  const bwd = b.block(() => {
    const r = host.callLV(c.vjp, bwdParams.map((v) => ({ k: "val", v })), at);
    const items = r.k === "arr" ? r.items : xs.length === 1 ? [r] : undefined;
    if (items === undefined || items.length !== xs.length)
      throw new LowerError("GRADC1033", at, [`vjp must return one cotangent per argument of f (${xs.length}), as an array.`]);
    return items.map((item, i) => {
      const ct = host.asValue(item, at);
      const shape = xs[i]!.type.shape;
      if (ct.type.shape.join() === shape.join()) return ct;
      if (ct.type.shape.length === 0) return b.op("broadcast_to", [ct], { shape });
      try {
        return sumTo(b, ct, shape);
      } catch {
        throw new LowerError("GRADC1033", at, [`the cotangent ${i} returned by vjp has shape [${ct.type.shape.join(", ")}], its argument [${shape.join(", ")}].`]);
      }
    });
  }, bwdParams);
  const out = b.ids.value(outType);
  b.push({ op: CUSTOM, args: xs, attrs: {}, outs: [out], blocks: [fwd, bwd], loc: host.loc(at) });
  return { k: "val", v: out };
}
