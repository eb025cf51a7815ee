// Tensor code generation: the one small interface the function emitter calls for anything
// that is not a scalar expression. Loops run over row-major typed arrays; fused elementwise
// trees are inlined into one loop body; matrix products keep the innermost loop contiguous.
// A WebAssembly backend can implement the same interface for heavy kernels.

import { type Dim, type Node, type Type, type Value, walkNodes, walkValues } from "../ir/types.js";
import { getOp, type KernelBackend } from "../ops/index.js";
import { reducedAxes } from "../ops/reduce.js";
import type { FunctionEmitter } from "./js.js";
import { CodegenError } from "./errors.js";
import { type TensorPlan, planTensors } from "./plan.js";
import { indexRanges, indexedSize } from "../passes/indexrange.js";
import { indexGuard, loopPrechecks } from "./indexcheck.js";
import { reusedBuffers } from "./results.js";
import { emitLoops } from "./loops.js";

export interface KernelEmitter {
  /** JS expression for the run-time value of a symbolic dimension. */
  dimension(name: string): string;
  /** Emits a tensor node (elementwise loop, reduction, matmul, movement). */
  emit(node: Node): void;
  /** Validates a tensor argument and binds its IR parameter. */
  bindTensorArg(param: Value, access: string, fnName: string, argText: string): void;
  /** After argument checks: (re)allocates the planned buffers when dimensions changed. */
  prologue(): void;
  /** Module-level declarations: the planned buffers. */
  declarations(): string[];
  /** The expression that returns a value to the caller, converted to dtype `as` if given. */
  returned(v: Value, as?: Type["dtype"]): string;
  /** Emits a loop node. */
  loop(node: Node): void;
}

/** Loop counters and accumulators: reserved so user-derived names never collide with them. */
export const LOOP_NAMES = [
  ...["i", "j", "p", "o", "r", "acc", "best", "at", "a", "ci", "bp", "ao", "bo", "next"],
  ...Array.from({ length: 8 }, (_x, k) => `i${k}`),
  ...[0, 1, 2, 3].flatMap((r) => [`a${r}`, `b${r}`, `ar${r}`, `br${r}`, ...[0, 1, 2, 3].map((c) => `c${r}${c}`)]),
];

/** The typed array holding a tensor of `dtype`. */
export const typedArrayOf = (dtype: Type["dtype"]): string =>
  dtype === "f32" ? "Float32Array" : dtype === "bool" ? "Uint8Array" : dtype === "i32" ? "Int32Array" : "Float64Array";

/** Tensor kernels per function beyond which each kernel is emitted as a function of its own. */
export const OUTLINE_AFTER = 64;

const CALL_FORM = new Set(["exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "sign", "maximum", "minimum", "relu"]);

interface Expr {
  readonly text: string;
  readonly atomic: boolean;
}

export function createKernelEmitter(e: FunctionEmitter): KernelEmitter {
  const fn = e.unit.fn;
  let tensors = false;
  walkValues(fn.body, (v) => (tensors ||= v.type.shape.length > 0));
  const plan: TensorPlan = tensors ? planTensors(fn) : { inlined: new Set(), storage: new Map(), slots: [] };
  const prefix = `$gradc_${e.unit.spec.exportName}`;
  const dimVars = new Map<string, string>();
  const producers = new Map<Value, Node>();
  const walk = (nodes: readonly Node[]): void =>
    nodes.forEach((n) => {
      n.outs.forEach((o) => producers.set(o, n));
      n.blocks.forEach((b) => walk(b.nodes));
    });
  walk(fn.body.nodes);
  // Past this many tensor kernels a function outgrows what V8 optimizes: kernels are outlined.
  const outlined: string[] = [];
  let kernelCount = 0;
  walkNodes(fn.body, (n) => {
    if (n.outs.some((o) => o.type.shape.length > 0 && !plan.inlined.has(o))) kernelCount++;
  });
  const outline = kernelCount > OUTLINE_AFTER;
  const outlinable = (node: Node): boolean =>
    node.outs[0]!.type.shape.length > 0 && !(node.op === "reshape" && node.args[0]!.type.shape.length > 0);
  const symbolic = new Set<string>();
  plan.slots.forEach((s) => s.shape.forEach((d) => typeof d === "string" && symbolic.add(d)));

  const dimText = (d: Dim): string => {
    if (typeof d === "number") return String(d);
    const v = dimVars.get(d);
    if (!v) throw new CodegenError(`dimension ${d} is not bound by any argument`);
    return v;
  };
  /** The product of dims as a JS expression, constants folded. */
  const sizeText = (shape: readonly Dim[]): string => {
    let n = 1;
    const syms: string[] = [];
    for (const d of shape) typeof d === "number" ? (n *= d) : syms.push(dimText(d));
    if (syms.length === 0) return String(n);
    return [...syms, ...(n !== 1 ? [String(n)] : [])].join(" * ");
  };
  const arrayType = (t: Type): string => typedArrayOf(t.dtype);
  const slotName = (i: number): string => `${prefix}_b${i}`;

  const buf = (v: Value): string => e.operand(v);
  const ranges = indexRanges(fn);
  /** Per indexing node in a loop, the flag saying its whole range was checked before the loop. */
  const prechecked = new Map<Node, string>();
  /** Checks an index not known to be in range before it is used (the eager op's error). */
  const guard = (node: Node): void => {
    const check = indexGuard(ranges, node, e.operand(node.args[1]!), dimText(indexedSize(node)), prechecked.get(node));
    if (check === undefined) return;
    e.line(check);
    e.checksIndices = true;
  };

  // With reuse, returned tensors are computed straight into the result's buffers (results.ts).
  const reused = e.unit.spec.reuse ? reusedBuffers(e.unit.spec, fn.body.results, prefix) : new Map<Value, string>();
  // Returned tensors of one dtype share one ArrayBuffer per call: V8 allocates each typed
  // array's backing store separately and slowly, views on one buffer are cheap.
  const returnedTogether = new Map<Value, { buffer: string; width: number; before: Value[] }>();
  const returnBuffers: { name: string; bytes: () => string }[] = [];
  for (const dtype of e.unit.spec.reuse ? [] : (["f64", "f32"] as const)) {
    const group = [...plan.storage].filter(([v, s]) => s.kind === "fresh" && v.type.dtype === dtype).map(([v]) => v);
    if (group.length < 2) continue;
    const name = `$gradc_out_${dtype}`;
    const width = dtype === "f64" ? 8 : 4;
    group.forEach((v, i) => returnedTogether.set(v, { buffer: name, width, before: group.slice(0, i) }));
    returnBuffers.push({ name, bytes: () => `${width} * (${group.map((v) => sizeText(v.type.shape)).join(" + ")})` });
  }

  /** Index of an operand of shape `leaf` inside a loop nest over `space` with counters `cs`. */
  const leafIndex = (leaf: readonly Dim[], space: readonly Dim[], cs: readonly string[]): string => {
    const offset = space.length - leaf.length;
    const terms: string[] = [];
    for (let k = 0; k < leaf.length; k++) {
      if (leaf[k] === 1) continue;
      const stride = sizeText(leaf.slice(k + 1));
      terms.push(stride === "1" ? cs[k + offset]! : `${cs[k + offset]} * ${stride}`);
    }
    return terms.length === 0 ? "0" : terms.join(" + ");
  };

  /** The stored tensors a fused tree reads. */
  const treeLeaves = (v: Value, out: Value[] = []): Value[] => {
    if (v.type.shape.length === 0) return out;
    if (!plan.inlined.has(v)) {
      out.push(v);
      return out;
    }
    producers.get(v)!.args.forEach((a) => treeLeaves(a, out));
    return out;
  };

  /** The expression computing one element of `v` (inlining fused producers). */
  const treeExpr = (v: Value, index: (leaf: Value) => string): Expr => {
    if (v.type.shape.length === 0) {
      const text = e.operand(v);
      return { text, atomic: !/[\s(]/.test(text) || /^\(-?[\d.e+-]+\)$/.test(text) };
    }
    if (!plan.inlined.has(v)) return { text: e.read(buf(v), index(v)), atomic: true };
    return nodeExpr(producers.get(v)!, index);
  };
  const nodeExpr = (node: Node, index: (leaf: Value) => string): Expr => {
    if (node.op === "broadcast_to" || node.op === "reshape") return treeExpr(node.args[0]!, index);
    const def = getOp(node.op);
    if (def.kind !== "elementwise") throw new CodegenError(`${node.op} cannot be fused`);
    const callForm = CALL_FORM.has(node.op);
    const operands = node.args.map((a) => {
      const x = treeExpr(a, index);
      return x.atomic || callForm ? x.text : `(${x.text})`;
    });
    return { text: def.expr(operands, node.attrs), atomic: callForm };
  };

  /** Opens a loop; a loop of one trip is just a block with its counter at 0. */
  const openLoop = (counter: string, bound: string): void =>
    e.line(bound === "1" ? `{ const ${counter} = 0;` : `for (let ${counter} = 0; ${counter} < ${bound}; ${counter}++) {`);

  /** Opens a loop nest over `space`; returns the counters and a closer. */
  const openNest = (space: readonly Dim[], counters?: string[]): { cs: string[]; close: () => void } => {
    const cs = counters ?? space.map((_d, k) => `i${k}`);
    const saved: (() => void)[] = [];
    space.forEach((d, k) => {
      openLoop(cs[k]!, dimText(d));
      const restore = e.enter();
      saved.push(() => {
        restore();
        e.line("}");
      });
    });
    return { cs, close: () => saved.reverse().forEach((f) => f()) };
  };

  /** Declares the storage of a node's result and returns its name. */
  const allocate = (out: Value): string => {
    if (e.has(out)) return e.operand(out);
    const s = plan.storage.get(out);
    if (!s) throw new CodegenError(`no storage planned for value ${out.id}`);
    if (s.kind === "slot") {
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
      const size = sizeText(out.type.shape);
      if (shared) {
        const offset = shared.before.length === 0 ? "0" : `${shared.width} * (${shared.before.map((b) => sizeText(b.type.shape)).join(" + ")})`;
        e.line(`const ${name} = new ${arrayType(out.type)}(${shared.buffer}, ${offset}, ${size});`);
      } else e.line(`const ${name} = new ${arrayType(out.type)}(${size});`);
      e.bind(out, name);
      return name;
    }
    throw new CodegenError(`value ${out.id} has storage ${s.kind}, not a buffer of its own`);
  };

  const pointwise = (node: Node): void => {
    const out = node.outs[0]!;
    const space = out.type.shape;
    const target = allocate(out);
    const stored = node.args.flatMap((a) => treeLeaves(a));
    const flat = stored.every((l) => l.type.shape.length === space.length && l.type.shape.every((d, k) => d === space[k]));
    if (flat) {
      e.line(`for (let i = 0; i < ${sizeText(space)}; i++) {`);
      e.nested(() => e.line(`${target}[i] = ${nodeExpr(node, () => "i").text};`));
      e.line("}");
      return;
    }
    const { cs, close } = openNest(space);
    e.line(`${target}[${leafIndex(space, space, cs)}] = ${nodeExpr(node, (l) => leafIndex(l.type.shape, space, cs)).text};`);
    close();
  };

  const reduce = (node: Node, kind: "sum" | "max"): void => {
    const x = node.args[0]!;
    const out = node.outs[0]!;
    const space = x.type.shape;
    const axes = reducedAxes(node.attrs, space.length);
    const kept = space.map((_d, k) => k).filter((k) => !axes.includes(k));
    const init = kind === "sum" ? "0" : "-Infinity";
    const cs = space.map((_d, k) => `i${k}`);
    const element = (): string => treeExpr(x, (l) => leafIndex(l.type.shape, space, cs)).text;
    const accumulate = (acc: string): void =>
      e.line(kind === "sum" ? `${acc} += ${element()};` : `${acc} = Math.max(${acc}, ${element()});`);
    if (out.type.shape.length === 0) {
      // A full reduction to a number accumulates in a local of its own.
      const total = e.freshName(out);
      e.line(`let ${total} = ${init};`);
      const nest = openNest(space, cs);
      accumulate(total);
      nest.close();
      if (out.type.dtype === "f32") e.line(`${total} = Math.fround(${total});`);
      e.bind(out, total);
      return;
    }
    // Outer loops over the kept axes (the output, in order), inner loops over the reduced ones.
    const target = allocate(out);
    e.line("{");
    e.nested(() => {
      e.line("let o = 0;");
      const outer = openNest(kept.map((k) => space[k]!), kept.map((k) => cs[k]!));
      e.line(`let acc = ${init};`);
      const inner = openNest(axes.map((k) => space[k]!), axes.map((k) => cs[k]!));
      accumulate("acc");
      inner.close();
      e.line(`${target}[o++] = acc;`);
      outer.close();
    });
    e.line("}");
  };

  const argmaxMask = (node: Node): void => {
    const x = node.args[0]!;
    const out = node.outs[0]!;
    const space = x.type.shape;
    const axes = reducedAxes(node.attrs, space.length);
    const kept = space.map((_d, k) => k).filter((k) => !axes.includes(k));
    const cs = space.map((_d, k) => `i${k}`);
    const target = allocate(out);
    const index = leafIndex(space, space, cs);
    e.line(`${target}.fill(0);`);
    e.line("{");
    e.nested(() => {
      const outer = openNest(kept.map((k) => space[k]!), kept.map((k) => cs[k]!));
      // The first maximal entry of each slice gets the gradient, as with the max gate.
      e.line("let best = -Infinity;");
      e.line("let at = -1;");
      const inner = openNest(axes.map((k) => space[k]!), axes.map((k) => cs[k]!));
      e.line(`if (at < 0 || ${e.read(buf(x), index)} > best) {`);
      e.nested(() => {
        e.line(`best = ${e.read(buf(x), index)};`);
        e.line(`at = ${index};`);
      });
      e.line("}");
      inner.close();
      e.line(`${target}[at] = 1;`);
      outer.close();
    });
    e.line("}");
  };

  const matmul = (node: Node): void => {
    const [A, B] = node.args as [Value, Value];
    const out = node.outs[0]!;
    const ta = node.attrs["ta"] === true;
    const tb = node.attrs["tb"] === true;
    const [M, N] = out.type.shape.map(dimText) as [string, string];
    const K = dimText(ta ? A.type.shape[0]! : A.type.shape[1]!);
    const C = allocate(out);
    const a = buf(A);
    const b = buf(B);
    const aAt = ta ? e.read(a, `p * ${M} + i`) : e.read(a, `i * ${K} + p`);
    const loop = (counter: string, bound: string, body: () => void): void => {
      openLoop(counter, bound);
      e.nested(body);
      e.line("}");
    };
    if (/^\d+$/.test(M) && /^\d+$/.test(N) && Number(M) % 4 === 0 && Number(N) % 4 === 0 && K !== "1") {
      // 4×4 register blocks: sixteen accumulators, each operand element loaded once per block
      // row or column, and C written once (no zero fill, no read-modify-write).
      const R = [0, 1, 2, 3];
      e.line(`for (let i = 0; i < ${M}; i += 4) {`);
      e.nested(() => {
        if (!ta) R.forEach((r) => e.line(`const ar${r} = (i + ${r}) * ${K};`));
        e.line(`for (let j = 0; j < ${N}; j += 4) {`);
        e.nested(() => {
          if (tb) R.forEach((c) => e.line(`const br${c} = (j + ${c}) * ${K};`));
          e.line(`let ${R.flatMap((r) => R.map((c) => `c${r}${c} = 0`)).join(", ")};`);
          e.line(`for (let p = 0; p < ${K}; p++) {`);
          e.nested(() => {
            if (ta) e.line(`const ao = p * ${M} + i;`);
            if (!tb) e.line(`const bo = p * ${N} + j;`);
            e.line(`const ${R.map((r) => `a${r} = ${ta ? e.read(a, `ao + ${r}`) : e.read(a, `ar${r} + p`)}`).join(", ")};`);
            e.line(`const ${R.map((c) => `b${c} = ${tb ? e.read(b, `br${c} + p`) : e.read(b, `bo + ${c}`)}`).join(", ")};`);
            R.forEach((r) => e.line(R.map((c) => `c${r}${c} += a${r} * b${c};`).join(" ")));
          });
          e.line("}");
          R.forEach((r) => e.line(`{ const o = (i + ${r}) * ${N} + j; ${R.map((c) => `${C}[o + ${c}] = c${r}${c};`).join(" ")} }`));
        });
        e.line("}");
      });
      e.line("}");
      return;
    }
    if (!tb && N !== "1") {
      // C[i,:] += A(i,p) * B[p,:]: the innermost loop walks rows of B and C contiguously.
      loop("i", M, () => {
        e.line(`const ci = i * ${N};`);
        e.line(`for (let j = 0; j < ${N}; j++) ${C}[ci + j] = 0;`);
        loop("p", K, () => {
          e.line(`const a = ${aAt};`);
          e.line(`const bp = p * ${N};`);
          e.line(`for (let j = 0; j < ${N}; j++) ${C}[ci + j]${e.bang} += a * ${e.read(b, "bp + j")};`);
        });
      });
      return;
    }
    // C[i,j] = dot(A(i,:), B(:,j)) with B(:,j) contiguous: B transposed, or a single column.
    const bAt = tb ? e.read(b, `j * ${K} + p`) : e.read(b, "p");
    loop("i", M, () =>
      loop("j", N, () => {
        e.line("let acc = 0;");
        if (K === "1") e.line(`{ const p = 0; acc += ${aAt} * ${bAt}; }`);
        else e.line(`for (let p = 0; p < ${K}; p++) acc += ${aAt} * ${bAt};`);
        e.line(`${C}[i * ${N} + j] = acc;`);
      }),
    );
  };

  const transpose = (node: Node): void => {
    const x = node.args[0]!;
    const [M, N] = x.type.shape.map(dimText) as [string, string];
    const target = allocate(node.outs[0]!);
    e.line(`for (let i = 0; i < ${M}; i++) {`);
    e.nested(() => e.line(`for (let j = 0; j < ${N}; j++) ${target}[j * ${M} + i] = ${e.read(buf(x), `i * ${N} + j`)};`));
    e.line("}");
  };

  /** x[i] along the leading axis: a number read, or a slice copied. */
  const take = (node: Node): void => {
    const [x, i] = node.args as [Value, Value];
    const out = node.outs[0]!;
    const n = sizeText(out.type.shape);
    const at = e.operand(i);
    guard(node);
    if (out.type.shape.length === 0) {
      const name = e.freshName(out);
      e.line(`const ${name} = ${e.read(buf(x), at)};`);
      e.bind(out, name);
      return;
    }
    const target = allocate(out);
    e.line(`for (let j = 0; j < ${n}; j++) ${target}[j] = ${e.read(buf(x), `${at} * ${n} + j`)};`);
  };

  const put = (node: Node): void => {
    const [g, i] = node.args as [Value, Value];
    const out = node.outs[0]!;
    const n = sizeText(g.type.shape);
    guard(node);
    const target = allocate(out);
    e.line(`${target}.fill(0);`);
    if (g.type.shape.length === 0) e.line(`${target}[${e.operand(i)}] = ${e.operand(g)};`);
    else e.line(`for (let j = 0; j < ${n}; j++) ${target}[${e.operand(i)} * ${n} + j] = ${e.read(buf(g), "j")};`);
  };

  /** A loop node: carries in locals (numbers) or carry buffers (tensors), histories stored per trip. */
  const loop = (node: Node): void => {
    const body = node.blocks[0]!;
    const m = node.args.length;
    const trips = dimText(node.attrs["trips"] as Dim);
    const record = (node.attrs["record"] as readonly number[] | undefined) ?? [];
    const carries = node.args.map((init, j) => {
      const out = node.outs[j]!;
      if (out.type.shape.length === 0) {
        const name = e.freshName(out);
        e.line(`let ${name} = ${e.operand(init)};`);
        e.bind(out, name);
        return name;
      }
      const name = allocate(out);
      e.line(`${name}.set(${buf(init)});`);
      return name;
    });
    const hists = record.map((j, h) => {
      const out = node.outs[m + h]!;
      return { j, name: allocate(out), size: sizeText(node.args[j]!.type.shape) };
    });
    const k = e.names.fresh("k");
    const pre = loopPrechecks(ranges, node, { operand: (v) => e.operand(v), size: (n) => dimText(indexedSize(n)), trips, fresh: (hint) => e.names.fresh(hint) });
    pre.lines.forEach((l) => e.line(l));
    pre.flags.forEach((flag, n) => prechecked.set(n, flag));
    e.line(
      node.attrs["reverse"] === true
        ? `for (let ${k} = ${trips} - 1; ${k} >= 0; ${k}--) {`
        : `for (let ${k} = 0; ${k} < ${trips}; ${k}++) {`,
    );
    e.nested(() => {
      for (const h of hists) {
        const c = carries[h.j]!;
        e.line(node.args[h.j]!.type.shape.length === 0 ? `${h.name}[${k}] = ${c};` : `${h.name}.set(${c}, ${k} * ${h.size});`);
      }
      e.bind(body.params[0]!, k);
      body.params.slice(1).forEach((p, j) => e.bind(p, carries[j]!));
      e.emitBlock(body);
      // Next carries: through temporaries when one carry's next value is another's current one.
      const nexts = body.results.map((r) => e.operand(r));
      const crossed = body.results.some((r, j) => body.params.slice(1).some((p, i) => p === r && i !== j));
      const assign = (j: number, src: string): void => {
        if (src === carries[j]) return;
        e.line(node.outs[j]!.type.shape.length === 0 ? `${carries[j]} = ${src};` : `${carries[j]}.set(${src});`);
      };
      if (crossed) {
        const temps = nexts.map((src, j) => {
          if (node.outs[j]!.type.shape.length > 0) return src;
          const t = e.names.fresh("next");
          e.line(`const ${t} = ${src};`);
          return t;
        });
        temps.forEach((t, j) => assign(j, t));
      } else nexts.forEach((src, j) => assign(j, src));
    });
    e.line("}");
  };

  const backend: KernelBackend<Node> = {
    take,
    put,
    loops: (node, write) => emitLoops({ e, allocate, buf, dim: dimText, size: sizeText }, node, getOp(node.op).label ?? node.op, write),
    pointwise,
    reduce,
    argmaxMask,
    matmul,
    transpose,
    alias(node) {
      const [x, out] = [node.args[0]!, node.outs[0]!];
      if (x.type.shape.length === 0) return pointwise(node);
      if (out.type.shape.length === 0) {
        // A one-element tensor reshaped to a number.
        const name = e.freshName(out);
        e.line(`const ${name} = ${e.read(buf(x), "0")};`);
        return e.bind(out, name);
      }
      e.bind(out, buf(x));
    },
  };

  return {
    loop,
    dimension: dimText,
    emit(node) {
      const out = node.outs[0]!;
      if (plan.inlined.has(out)) return;
      const def = getOp(node.op);
      if (def.kind !== "elementwise" && def.kind !== "kernel") throw new CodegenError(`${node.op} has no tensor code`);
      const run = (): void => (def.kind === "elementwise" ? pointwise(node) : def.emit(backend, node));
      if (!outline || !outlinable(node)) return run();
      // A function too large for V8 to optimize runs in its interpreter: each kernel's loops go
      // into a module-level function of their own, which V8 optimizes, called with the locals
      // they read.
      allocate(out);
      const body = e.capture(run);
      const text = body.join("\n");
      const locals = [...new Set(text.match(/\b[A-Za-z_]\w*\b/g) ?? [])].filter((n) => e.names.handed.has(n));
      const name = `${prefix}_k${outlined.length}`;
      outlined.push(`function ${name}(${locals.map((l) => l + e.typed(e.localType(l))).join(", ")}) {`, ...body, "}");
      e.line(`${name}(${locals.join(", ")});`);
    },
    bindTensorArg(param, access, fnName, argText) {
      const t = param.type;
      const plain = /^[A-Za-z_$][\w$]*$/.test(access);
      const name = plain ? access : e.freshName(param);
      if (!plain) e.line(`const ${name} = ${access};`);
      const checks = [`${name} === null`, `typeof ${name} !== "object"`, `!(${name}.data instanceof ${arrayType(t)})`, `!Array.isArray(${name}.shape)`, `${name}.shape.length !== ${t.shape.length}`];
      t.shape.forEach((d, k) => {
        if (typeof d === "number") checks.push(`${name}.shape[${k}] !== ${d}`);
        else if (dimVars.has(d)) checks.push(`${name}.shape[${k}] !== ${dimVars.get(d)}`);
      });
      // The first argument that mentions a symbolic dimension fixes it for the call.
      t.shape.forEach((d, k) => {
        if (typeof d === "string" && !dimVars.has(d)) {
          const v = e.names.fresh(d);
          dimVars.set(d, v);
          e.line(`const ${v} = ${name}?.shape?.[${k}];`);
          checks.push(`!Number.isInteger(${v})`, `${v} < 0`);
        }
      });
      checks.push(`${name}.data.length !== ${sizeText(t.shape)}`);
      const expected = `a ${t.dtype} tensor of shape [${t.shape.join(", ")}]`;
      e.line(`if (${checks.join(" || ")}) $gradc_badArg(${fnName}, ${argText}, ${JSON.stringify(expected)}, ${name});`);
      const data = e.names.fresh(`${param.name ?? "x"}_d`);
      e.line(`const ${data} = ${name}.data;`);
      e.bind(param, data);
    },
    prologue() {
      for (const r of returnBuffers) e.line(`const ${r.name} = new ArrayBuffer(${r.bytes()});`);
      if (plan.slots.length === 0 || symbolic.size === 0) return;
      const dims = [...symbolic];
      const changed = dims.map((d) => `${dimVars.get(d)} !== ${prefix}_dim_${d}`).join(" || ");
      e.line(`if (${changed}) {`);
      e.nested(() => {
        dims.forEach((d) => e.line(`${prefix}_dim_${d} = ${dimVars.get(d)};`));
        plan.slots.forEach((s, i) => e.line(`${slotName(i)} = new ${arrayType({ dtype: s.dtype, shape: [] })}(${sizeText(s.shape)});`));
      });
      e.line("}");
    },
    declarations() {
      if (outlined.length > 0) return [...buffers(), "// Kernels of a function too large for V8 to optimize whole.", ...outlined];
      return buffers();
    },
    returned(v, as = v.type.dtype) {
      if (v.type.shape.length === 0) return e.operand(v);
      const fresh = plan.storage.get(v)?.kind === "fresh";
      const data = as !== v.type.dtype ? `${arrayType({ dtype: as, shape: [] })}.from(${buf(v)})` : fresh ? buf(v) : `${buf(v)}.slice()`;
      return `{ shape: [${v.type.shape.map(dimText).join(", ")}], data: ${data} }`;
    },
  };

  function buffers(): string[] {
    if (plan.slots.length === 0) return [];
    if (symbolic.size === 0)
      return [
        "// Buffers for intermediates, planned once and reused across calls.",
        ...plan.slots.map((s, i) => `const ${slotName(i)} = new ${arrayType({ dtype: s.dtype, shape: [] })}(${sizeText(s.shape)});`),
      ];
    return [
      "// Buffers for intermediates, allocated once per set of dimension values.",
      ...[...symbolic].map((d) => `let ${prefix}_dim_${d} = -1;`),
      ...plan.slots.map((sl, i) => `let ${slotName(i)}${e.typed(arrayType({ dtype: sl.dtype, shape: [] }))};`),
    ];
  }
}
