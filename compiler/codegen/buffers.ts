// Where tensors live in generated code, following the plan of plan.ts: intermediates in
// module-level buffers (allocated once, or once per set of dimension values), returned tensors
// in fresh typed arrays per call (views on one ArrayBuffer per dtype), or with `reuse` straight
// in the reused result's buffers (results.ts).

import { type Block, type DType, type Node, type Value, walkValues } from "../ir/types.js";
import { isTripDim } from "../ir/while.js";
import { type Emitter, arrayType } from "./emitter.js";
import { CodegenError } from "./errors.js";
import { type TensorPlan, planTensors } from "./plan.js";
import { reusedBuffers } from "./results.js";
import { type MemoryPlan, planMemory, staleLayout } from "./wasm-memory.js";
import type { KernelSite } from "./wasm-backend.js";

export interface Buffers {
  readonly plan: TensorPlan;
  /** `$gradc_<export>`: the prefix of this function's module-level names. */
  readonly prefix: string;
  /** Declares the storage of a node's result (once) and returns its name. */
  allocate(out: Value): string;
  /**
   * A module-level typed array for a `while` loop's history, empty until the loop grows it
   * (codegen/while.ts), kept between calls; returns its name.
   */
  history(dtype: DType): string;
  /** After argument checks: (re)allocates the planned buffers when dimensions changed. */
  prologue(): void;
  /** Module-level declarations: the planned buffers. */
  declarations(): string[];
  /** The expression that returns a value to the caller, converted to dtype `as` if given. */
  returned(v: Value, as?: DType): string;
  /** The array a WebAssembly kernel of `node` reads for `v` (wasm-memory.ts). */
  kernelOperand(node: Node, v: Value): string;
  /** The WebAssembly kernel `node` may run as (wasm-backend.ts), if any. */
  kernelSite(node: Node): KernelSite | undefined;
}

export function planBuffers(e: Emitter): Buffers {
  const { fn, spec } = e.unit;
  let tensors = false;
  walkValues(fn.body, (v) => (tensors ||= v.type.shape.length > 0));
  const plan: TensorPlan = tensors ? planTensors(fn) : { inlined: new Set(), storage: new Map(), slots: [] };
  const prefix = `$gradc_${spec.exportName}`;
  const slotName = (i: number): string => `${prefix}_b${i}`;
  const histories: string[] = [];
  const symbolic = new Set<string>();
  // A slot shaped by a while loop's trip count (an adjoint of its history, in reverse over
  // reverse) is sized once the loop has run, where it is first written (`sizedLate`).
  const late = new Set<number>();
  plan.slots.forEach((s, i) => s.shape.forEach((d) => (isTripDim(d) ? late.add(i) : typeof d === "string" && symbolic.add(d))));
  const sizedLate = (i: number): void => {
    const size = e.size(plan.slots[i]!.shape);
    e.line(`if (${slotName(i)}.length !== ${size}) ${slotName(i)} = new ${arrayType(plan.slots[i]!.dtype)}(${size});`);
  };
  // With WebAssembly kernels, the f32/f64 buffers are views on their linear memory (never a
  // late one: the memory is laid out at call entry).
  const memory: MemoryPlan | undefined = tensors ? planMemory(e, plan, slotName, prefix) : undefined;
  const ordinary = plan.slots.flatMap((s, i) => (memory?.has(i) ? [] : [{ s, i }]));

  // With reuse, returned tensors are computed straight into the result's buffers (results.ts).
  const reused = spec.reuse ? reusedBuffers(spec, fn.body.results, prefix) : new Map<Value, string>();
  // Returned tensors of one dtype share one ArrayBuffer per call: V8 allocates each typed
  // array's backing store separately and slowly, views on one buffer are cheap.
  const returnedTogether = new Map<Value, { buffer: string; width: number; before: Value[] }>();
  const returnBuffers: { name: string; bytes: () => string }[] = [];
  for (const dtype of spec.reuse ? [] : (["f64", "f32"] as const)) {
    const group: Value[] = [];
    plan.storage.forEach((s, v) => void (s.kind === "fresh" && v.type.dtype === dtype && group.push(v)));
    if (group.length < 2) continue;
    const name = `$gradc_out_${dtype}`;
    const width = dtype === "f64" ? 8 : 4;
    group.forEach((v, i) => returnedTogether.set(v, { buffer: name, width, before: group.slice(0, i) }));
    returnBuffers.push({ name, bytes: () => `${width} * (${group.map((v) => e.size(v.type.shape)).join(" + ")})` });
  }

  const allocate = (out: Value): string => {
    if (e.has(out)) return e.operand(out);
    const s = plan.storage.get(out);
    if (!s) throw new CodegenError(`no storage planned for value ${out.id}`);
    if (s.kind === "slot") {
      if (late.has(s.slot)) sizedLate(s.slot);
      e.bind(out, slotName(s.slot));
      return slotName(s.slot);
    }
    if (s.kind === "fresh" && reused.has(out)) {
      e.bind(out, reused.get(out)!);
      return reused.get(out)!;
    }
    if (s.kind === "fresh") {
      const name = e.freshName(out);
      const shared = returnedTogether.get(out);
      const size = e.size(out.type.shape);
      if (shared) {
        const offset = shared.before.length === 0 ? "0" : `${shared.width} * (${shared.before.map((b) => e.size(b.type.shape)).join(" + ")})`;
        e.line(`const ${name} = new ${arrayType(out.type.dtype)}(${shared.buffer}, ${offset}, ${size});`);
      } else e.line(`const ${name} = new ${arrayType(out.type.dtype)}(${size});`);
      e.bind(out, name);
      return name;
    }
    throw new CodegenError(`value ${out.id} has storage ${s.kind}, not a buffer of its own`);
  };

  return {
    plan,
    prefix,
    allocate,
    history(dtype) {
      const name = `${prefix}_h${histories.length}`;
      histories.push(`let ${name}${e.typed(arrayType(dtype))} = new ${arrayType(dtype)}(0);`);
      return name;
    },
    prologue() {
      for (const r of returnBuffers) e.line(`const ${r.name} = new ArrayBuffer(${r.bytes()});`);
      const sized = ordinary.filter(({ i }) => !late.has(i));
      // Dimension changes reallocate the ordinary buffers and make the memory's layout stale.
      if ((sized.length > 0 || memory) && symbolic.size > 0) {
        const dims = [...symbolic];
        const changed = dims.map((d) => `${e.dim(d)} !== ${prefix}_dim_${d}`).join(" || ");
        e.line(`if (${changed}) {`);
        e.nested(() => {
          dims.forEach((d) => e.line(`${prefix}_dim_${d} = ${e.dim(d)};`));
          sized.forEach(({ s, i }) => e.line(`${slotName(i)} = new ${arrayType(s.dtype)}(${e.size(s.shape)});`));
          if (memory) e.line(staleLayout(prefix));
        });
        e.line("}");
      }
      memory?.prologue();
    },
    declarations() {
      const grown = histories.length > 0 ? ["// Per-trip storage of while loops, grown as needed and kept between calls.", ...histories] : [];
      const inMemory = memory?.declarations() ?? [];
      if (plan.slots.length === 0) return [...inMemory, ...grown];
      const sizedLater = (i: number, dtype: DType): string => `let ${slotName(i)}${e.typed(arrayType(dtype))} = new ${arrayType(dtype)}(0);`;
      if (symbolic.size === 0)
        return [
          ...(ordinary.length > 0 ? ["// Buffers for intermediates, planned once and reused across calls."] : []),
          ...ordinary.map(({ s, i }) => (late.has(i) ? sizedLater(i, s.dtype) : `const ${slotName(i)} = new ${arrayType(s.dtype)}(${e.size(s.shape)});`)),
          ...inMemory,
          ...grown,
        ];
      return [
        "// Buffers for intermediates, allocated once per set of dimension values.",
        ...[...symbolic].map((d) => `let ${prefix}_dim_${d} = -1;`),
        ...ordinary.map(({ s, i }) => (late.has(i) ? sizedLater(i, s.dtype) : `let ${slotName(i)}${e.typed(arrayType(s.dtype))};`)),
        ...inMemory,
        ...grown,
      ];
    },
    kernelOperand: (node, v) => (memory ? memory.operand(node, v) : e.operand(v)),
    kernelSite: (node) => memory?.site(node),
    returned(v, as = v.type.dtype) {
      if (v.type.shape.length === 0) return e.operand(v);
      const fresh = plan.storage.get(v)?.kind === "fresh";
      const data = as !== v.type.dtype ? `${arrayType(as)}.from(${e.operand(v)})` : fresh ? e.operand(v) : `${e.operand(v)}.slice()`;
      return `{ shape: [${v.type.shape.map((d) => e.dim(d)).join(", ")}], data: ${data} }`;
    },
  };
}

/**
 * Declares a loop node's carries before the loop, from its initial values: numbers in `let`
 * locals bound to the node's results, tensors in their planned buffers. Returns their names.
 */
export function declareCarries(e: Emitter, buffers: Buffers, node: Node): string[] {
  return node.args.map((init, j) => {
    const out = node.outs[j]!;
    if (out.type.shape.length === 0) {
      const name = e.freshName(out);
      e.line(`let ${name} = ${e.operand(init)};`);
      e.bind(out, name);
      return name;
    }
    const name = buffers.allocate(out);
    e.line(`${name}.set(${e.operand(init)});`);
    return name;
  });
}

/**
 * One trip of a loop node's body: binds the counter `k` and the current carries, emits the
 * body, then assigns the next carries, through temporaries when one carry's next value is
 * another's current one (so the swap reads the old values).
 */
export function emitTrip(e: Emitter, node: Node, body: Block, k: string, carries: readonly string[]): void {
  e.bind(body.params[0]!, k);
  body.params.slice(1).forEach((p, j) => e.bind(p, carries[j]!));
  e.emitBlock(body);
  const nexts = body.results.map((r) => e.operand(r));
  const crossed = body.results.some((r, j) => body.params.slice(1).some((p, i) => p === r && i !== j));
  const temps = nexts.map((src, j) => {
    if (!crossed || node.outs[j]!.type.shape.length > 0) return src;
    const t = e.fresh("next");
    e.line(`const ${t} = ${src};`);
    return t;
  });
  temps.forEach((src, j) => {
    if (src === carries[j]) return;
    e.line(node.outs[j]!.type.shape.length === 0 ? `${carries[j]} = ${src};` : `${carries[j]}.set(${src});`);
  });
}
