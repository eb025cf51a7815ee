// What a compiled function returns, built from the optimized IR's results and the binding's
// layout: `[value, grads]` (valueAndGrad), `grads` (grad), with hasAux `[[value, aux], grads]`
// and `[grads, aux]`; grads one tree per differentiated argument, a tuple for `argnums: [...]`;
// `[value, tangent]` for jvp.
//
// By default each call returns fresh objects. With `reuse` the result is built once, at module
// level (containers, tensor objects and their typed arrays), and each call overwrites it in
// place: numbers are assigned into their containers, tensors computed straight into their
// result buffer (the kernel writes there) or copied into it, so a call allocates nothing. For
// symbolic dimensions the buffers are reallocated only when a dimension changes.

import { type GradSpec, type Tree, leavesOf, resultLayout } from "../ir/signature.js";
import type { DType, Type, Value } from "../ir/types.js";
import type { Buffers } from "./buffers.js";
import type { Emitter } from "./emitter.js";
import { objectKey, propertyAccess } from "./names.js";

/** The result's structure with the IR value of each leaf. */
export type ResultTree =
  /** `dtype`: what the caller gets (a gradient has its parameter's dtype, whatever the cotangent's). */
  | { readonly kind: "leaf"; readonly value: Value; readonly dtype?: DType }
  | { readonly kind: "array"; readonly items: readonly ResultTree[] }
  | { readonly kind: "object"; readonly fields: readonly { readonly key: string; readonly tree: ResultTree }[] };

/** `tree` with leaf `i` replaced by `leaf(i)`, where leaves are numbered in traversal order. */
function mapLeaves<T>(tree: Tree, leaf: (ordinal: number, index: number) => T, wrap: (t: Tree, kids: T[]) => T, next = { n: 0 }): T {
  if (tree.kind === "leaf") return leaf(next.n++, tree.index);
  if (tree.kind === "array") return wrap(tree, tree.items.map((t) => mapLeaves(t, leaf, wrap, next)));
  return wrap(tree, tree.fields.map((f) => mapLeaves(f.tree, leaf, wrap, next)));
}

const rebuild = (t: Tree, kids: ResultTree[]): ResultTree =>
  t.kind === "array" ? { kind: "array", items: kids } : { kind: "object", fields: (t as Extract<Tree, { kind: "object" }>).fields.map((f, i) => ({ key: f.key, tree: kids[i]! })) };

/** Generic assembly of the result: `leaf` for value/aux/gradient leaves, `pair` for tuples. */
function assemble<T>(spec: GradSpec, value: () => T, aux: (tree: Tree) => T, grads: () => T, pair: (items: T[]) => T): T {
  const withAux = (v: T): T => (spec.aux ? pair([v, aux(spec.aux)]) : v);
  if (spec.forwardOnly) return withAux(value());
  if (spec.mode === "valueAndGrad") return pair([withAux(value()), grads()]);
  return spec.aux ? pair([grads(), aux(spec.aux)]) : grads();
}

/** The dtype of the parameter leaf `index` (its gradient comes back in it). */
function paramDType(spec: GradSpec, index: number): DType | undefined {
  for (const p of spec.params) for (const l of leavesOf(p.tree)) if (l.index === index) return l.type.dtype;
  return undefined;
}

export function resultTree(spec: GradSpec, results: readonly Value[]): ResultTree {
  // jvp: [value, tangent], both shaped like the function's result.
  if (spec.mode === "jvp" && !spec.forwardOnly) {
    const tree = spec.resultTree;
    if (!tree) return { kind: "array", items: [0, 1].map((i) => ({ kind: "leaf", value: results[i]! })) };
    // A structured result: the values' leaves, then the tangents' in the same order.
    const n = leavesOf(tree).length;
    const side = (offset: number): ResultTree => mapLeaves<ResultTree>(tree, (_o, i) => ({ kind: "leaf", value: results[offset + i]! }), rebuild);
    return { kind: "array", items: [side(0), side(n)] };
  }
  const at = resultLayout(spec);
  const pair = (items: ResultTree[]): ResultTree => ({ kind: "array", items });
  let k = at.gradStart;
  const grads = (): ResultTree => {
    const per = spec.argnums.map((n) =>
      mapLeaves<ResultTree>(spec.params[n]!.tree, (_o, index) => ({ kind: "leaf", value: results[k++]!, dtype: paramDType(spec, index) }), rebuild),
    );
    return spec.argnumsIsArray ? pair(per) : per[0]!;
  };
  const aux = (tree: Tree): ResultTree => mapLeaves<ResultTree>(tree, (_n, i) => ({ kind: "leaf", value: results[at.auxStart + i]! }), rebuild);
  return assemble(spec, () => ({ kind: "leaf", value: results[at.value!]! }), aux, grads, pair);
}

/** The TypeScript type of what the compiled function returns. */
export function resultType(spec: GradSpec, treeType: (t: Tree) => string): string {
  const out = spec.resultTree ? treeType(spec.resultTree) : spec.result ? treeType({ kind: "leaf", index: 0, type: spec.result }) : "number";
  if (spec.mode === "jvp") return spec.forwardOnly ? out : `[${out}, ${out}]`;
  const grads = (): string => {
    const per = spec.argnums.map((n) => treeType(spec.params[n]!.tree));
    return spec.argnumsIsArray ? `[${per.join(", ")}]` : per[0]!;
  };
  return assemble(spec, () => out, treeType, grads, (items) => `[${items.join(", ")}]`);
}

const arrayType = (t: Type): string => (t.dtype === "f32" ? "Float32Array" : t.dtype === "i32" ? "Int32Array" : "Float64Array");

/** The tensor leaves of a result, in order, each with the name of its reused buffer. */
export function reusedBuffers(spec: GradSpec, results: readonly Value[], prefix: string): Map<Value, string> {
  const out = new Map<Value, string>();
  let n = 0;
  const walk = (t: ResultTree): void => {
    if (t.kind === "leaf") {
      // A value returned twice is written to its first buffer and copied to the others.
      // (and one of another dtype than its result's is converted by the copy).
      const same = (t.dtype ?? t.value.type.dtype) === t.value.type.dtype;
      if (t.value.type.shape.length > 0 && same && !out.has(t.value)) out.set(t.value, `${prefix}_r${n}`);
      if (t.value.type.shape.length > 0) n++;
    } else if (t.kind === "array") t.items.forEach(walk);
    else t.fields.forEach((f) => walk(f.tree));
  };
  walk(resultTree(spec, results));
  return out;
}

/** Emits the fresh result: one literal, allocated by this call. */
export function emitFreshReturn(e: Emitter, buffers: Buffers): void {
  const expr = (t: ResultTree): string => {
    if (t.kind === "leaf") return buffers.returned(t.value, t.dtype);
    if (t.kind === "array") return `[${t.items.map(expr).join(", ")}]`;
    return `{ ${t.fields.map((f) => `${objectKey(f.key)}: ${expr(f.tree)}`).join(", ")} }`;
  };
  e.line(`return ${expr(resultTree(e.unit.spec, e.unit.fn.body.results))};`);
}

/**
 * A non-enumerable property every reused container that a call writes numbers into gets. It
 * gives the container a hidden class of its own: an array literal starts with the map all
 * arrays of its elements kind share, which other code in the process makes unstable (by
 * transitions from it), so V8 would check the map on every write; a map nobody else has stays
 * stable, and optimized code writes `res[0] = value` without checking it.
 */
const REUSED_MARK = `Symbol.for("gradc.reused")`;

const receivesNumbers = (t: ResultTree): boolean =>
  t.kind === "array" ? t.items.some(isNumberLeaf) : t.kind === "object" && t.fields.some((f) => isNumberLeaf(f.tree));

const isNumberLeaf = (t: ResultTree): boolean => t.kind === "leaf" && t.value.type.shape.length === 0;

/** The reused result of one function: its module-level declarations and per-call code. */
export interface ReusedResult {
  /** Module-level: the containers, tensor objects and buffers. */
  readonly declarations: readonly string[];
  /** After argument checks, before the body: buffers of symbolic shape follow the dimensions. */
  prologue(e: Emitter): void;
  /** At the end of the body: writes what the kernels did not write in place, and returns. */
  emitReturn(e: Emitter): void;
}

/**
 * Plans the reused result. Containers holding numbers get a name of their own, so a call writes
 * `name[k] = value` without walking the tree; writing an own property never calls a setter,
 * even for a key like `__proto__` (the literal defined it as an own property).
 */
export function reusedResult(spec: GradSpec, results: readonly Value[], prefix: string, ts: boolean, ret: string): ReusedResult {
  const decls: string[] = [];
  /** Per call, given how each value is written: the assignments refreshing the result. */
  const writes: ((operand: (v: Value) => string) => string | undefined)[] = [];
  const symbolicTensors: { object: string; buffer: string; type: Type }[] = [];
  let tensors = 0;
  let containers = 0;
  const typeOf = (t: ResultTree): string => {
    // Module level has no symbolic dimensions in scope, and the shape of a symbolic result is reassigned.
    if (t.kind === "leaf") return t.value.type.shape.length === 0 ? "number" : `{ shape: number[]; data: ${arrayType({ dtype: t.dtype ?? t.value.type.dtype, shape: [] })} }`;
    if (t.kind === "array") return `[${t.items.map(typeOf).join(", ")}]`;
    return `{ ${t.fields.map((f) => `${objectKey(f.key)}: ${typeOf(f.tree)}`).join("; ")} }`;
  };
  const firstBuffer = new Map<Value, string>();
  /** The module-level literal of `t`; registers the per-call writes of its leaves. */
  const literal = (t: ResultTree, container: string, key: string | number): string => {
    if (t.kind === "leaf") {
      const v = t.value;
      if (v.type.shape.length === 0) {
        writes.push((operand) => `${container}${propertyAccess(key)} = ${operand(v)};`);
        return "0";
      }
      const buffer = `${prefix}_r${tensors}`;
      const object = `${prefix}_t${tensors++}`;
      const first = firstBuffer.get(v);
      if (!first) firstBuffer.set(v, buffer);
      writes.push((operand) => {
        const source = first ?? operand(v);
        return source === buffer ? undefined : `${buffer}.set(${source});`;
      });
      const type: Type = { dtype: t.dtype ?? v.type.dtype, shape: v.type.shape };
      const dims = v.type.shape;
      const fixed = dims.every((d) => typeof d === "number");
      const size = fixed ? (dims as number[]).reduce((a, d) => a * d, 1) : 0;
      decls.push(`${fixed ? "const" : "let"} ${buffer} = new ${arrayType(type)}(${size});`);
      decls.push(`const ${object}${ts ? `: ${typeOf(t)}` : ""} = { shape: [${dims.map((d) => (typeof d === "number" ? d : 0)).join(", ")}], data: ${buffer} };`);
      if (!fixed) symbolicTensors.push({ object, buffer, type });
      return object;
    }
    const name = `${prefix}_res${containers === 0 ? "" : containers}`;
    containers++;
    const items = t.kind === "array" ? t.items.map((x, i) => literal(x, name, i)) : t.fields.map((f) => `${objectKey(f.key)}: ${literal(f.tree, name, f.key)}`);
    decls.push(`const ${name}${ts ? `: ${typeOf(t)}` : ""} = ${t.kind === "array" ? `[${items.join(", ")}]` : `{ ${items.join(", ")} }`};`);
    if (receivesNumbers(t)) decls.push(`Object.defineProperty(${name}, ${REUSED_MARK}, { value: true });`);
    return name;
  };
  const tree = resultTree(spec, results);
  // A lone number (grad of a function of one number) is returned as it is: nothing to reuse.
  const root = tree.kind === "leaf" && tree.value.type.shape.length === 0 ? undefined : literal(tree, "", 0);
  return {
    declarations: decls.length === 0 ? [] : ["// The result every call returns, overwritten in place (reuse: true).", ...decls],
    prologue(e) {
      for (const { object, buffer, type } of symbolicTensors) {
        const dims = type.shape.map((d) => e.dim(d));
        const size = dims.join(" * ");
        e.line(`if (${dims.map((d, i) => `${object}.shape[${i}] !== ${d}`).join(" || ")} || ${buffer}.length !== ${size}) {`);
        e.nested(() => {
          e.line(`${buffer} = new ${arrayType(type)}(${size});`);
          e.line(`${object}.shape = [${dims.join(", ")}];`);
          e.line(`${object}.data = ${buffer};`);
        });
        e.line("}");
      }
    },
    emitReturn(e) {
      if (root === undefined) {
        e.line(`return ${e.operand((tree as Extract<ResultTree, { kind: "leaf" }>).value)};`);
        return;
      }
      for (const w of writes) {
        const line = w((v) => e.operand(v));
        if (line !== undefined) e.line(line);
      }
      e.line(`return ${root}${ts ? ` as ${ret}` : ""};`);
    },
  };
}
