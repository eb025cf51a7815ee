// Programs for fuzzing the compiler, as TypeScript source: valid models of every construct
// the compiler accepts (scalars, Math.*, ternaries, if/else, let reassignment, helpers and
// closures, pytree parameters, short and long `for` loops, tensors with gradc ops and
// symbolic dimensions), and hostile ones: each valid model with something unsupported, badly
// typed, misshapen, recursive or malformed put at one of many positions, plus identifiers,
// keys and literals chosen to break a code generator, empty files and syntax errors.
//
// Generation is imperative over fast-check's `fc.gen()`, so a program is one draw and runs
// are reproducible from a seed. Every case says what the compiler must do with it.

import fc from "fast-check";
import { CHECK_FAMILIES } from "./programs-checks.js";

export interface Case {
  /** Unique file stem. */
  readonly name: string;
  readonly source: string;
  /** What it exercises, for the report: "valid:tensor", "hostile:statement", ... */
  readonly family: string;
  /** compile: must compile; diagnose: must be refused with diagnostics; either: both are fine. */
  readonly expect: "compile" | "diagnose" | "either";
  /** Nested deeply enough that GRADC1021 ("nested too deeply") is a fair answer. */
  readonly deep?: boolean;
  /**
   * Compiled, it must behave as the same program uncompiled (the tape): the same GradcError,
   * or the same value and gradients, each in its parameter's dtype.
   */
  readonly reference?: boolean;
  /** It has a grad binding: neither diagnostics nor a compiled binding means it was ignored. */
  readonly mustAnswer?: boolean;
}

type G = fc.GeneratorValue;

export class Draw {
  constructor(private readonly g: G) {}
  int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }
  bool(p = 0.5): boolean {
    return this.int(0, 999) < p * 1000;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    const total = xs.reduce((s, [w]) => s + w, 0);
    let r = this.int(0, total - 1);
    for (const [w, x] of xs) {
      if (r < w) return x;
      r -= w;
    }
    return xs[xs.length - 1]![1];
  }
}

// ---- the valid language -------------------------------------------------------------------

type Dim = number | string;
type Shape = readonly Dim[];

interface Var {
  readonly name: string;
  /** [] for a number. */
  readonly shape: Shape;
  readonly dtype: "f64" | "f32";
  readonly mutable: boolean;
}

const IMPORTS =
  "grad, valueAndGrad, add, sub, mul, div, neg, exp, log, sqrt, square, pow, tanh, sigmoid, relu, maximum, minimum, abs, matmul, transpose, reshape, sum, mean, max, softmax, logSumExp, at, type Tensor";

const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
const size = (s: Shape): number | undefined => (s.every((d) => typeof d === "number") ? (s as number[]).reduce((a, b) => a * b, 1) : undefined);
const shapeType = (s: Shape, dtype: "f64" | "f32"): string => (s.length === 0 ? "number" : `Tensor<[${s.join(", ")}]${dtype === "f32" ? ', "f32"' : ""}>`);

const LITERALS = ["0.5", "2", "3", "1.5", "0.25", "1e-3", "10", "0.1", "4"];

/** One model and its helpers, built statement by statement over an environment of typed variables. */
/** What a model and the helpers built for it share: names and module-level declarations. */
interface Module {
  counter: number;
  readonly helpers: string[];
  readonly scalarHelpers: { name: string; arity: number }[];
  readonly tensorHelpers: { name: string; shape: Shape }[];
}

class ModelBuilder {
  private readonly module: Module;
  /** Variables in scope, innermost last. */
  vars: Var[] = [];
  /** Loop counters in scope (numbers known per iteration). */
  counters: string[] = [];
  dims: string[] = [];
  usesF32 = false;

  constructor(
    readonly d: Draw,
    readonly tensors: boolean,
    module?: Module,
  ) {
    this.module = module ?? { counter: 0, helpers: [], scalarHelpers: [], tensorHelpers: [] };
  }

  get helpers(): string[] {
    return this.module.helpers;
  }
  private get scalarHelpers(): { name: string; arity: number }[] {
    return this.module.scalarHelpers;
  }
  private get tensorHelpers(): { name: string; shape: Shape }[] {
    return this.module.tensorHelpers;
  }

  fresh(prefix: string): string {
    return `${prefix}${this.module.counter++}`;
  }

  scalars(): Var[] {
    return this.vars.filter((v) => v.shape.length === 0);
  }

  tensorsOf(shape: Shape, dtype: "f64" | "f32"): Var[] {
    return this.vars.filter((v) => v.shape.length > 0 && v.dtype === dtype && sameShape(v.shape, shape));
  }

  /** A shape for a new tensor value: one already in scope mostly, so values combine. */
  someShape(): Shape {
    const seen = this.vars.filter((v) => v.shape.length > 0 && v.dtype === "f64").map((v) => v.shape);
    if (seen.length > 0 && this.d.bool(0.8)) return this.d.pick(seen);
    return this.d.pick<Shape>([[3], [2, 3], [3, 2], [4], [2, 2]]);
  }

  literal(): string {
    return this.d.pick(LITERALS);
  }

  scalar(depth: number): string {
    const d = this.d;
    const leaf = (): string => {
      const vs = this.scalars();
      const options: (readonly [number, () => string])[] = [[2, () => this.literal()]];
      if (vs.length > 0) options.push([8, () => d.pick(vs).name]);
      if (this.counters.length > 0) options.push([2, () => d.pick(this.counters)]);
      if (this.tensors && this.vars.some((v) => v.shape.length > 0 && v.dtype === "f64")) options.push([2, () => this.reduce(this.someShape(), 1)]);
      return d.weighted(options)();
    };
    if (depth <= 0) return leaf();
    const s = (): string => this.scalar(depth - 1);
    return d.weighted<() => string>([
      [6, leaf],
      [6, () => `${s()} ${d.pick(["+", "-", "*"])} ${s()}`],
      [2, () => `${s()} / (${s()} * ${s()} + 1)`],
      [2, () => `(${s()}) ** ${d.pick(["2", "3", "0.5"])}`],
      [1, () => `-(${s()})`],
      [4, () => `Math.${d.pick(["exp", "tanh", "sin", "cos", "abs"])}(${s()})`],
      [2, () => `Math.${d.pick(["log", "sqrt"])}(${s()} * ${s()} + 1)`],
      [2, () => `Math.${d.pick(["max", "min"])}(${s()}, ${s()}${d.bool(0.3) ? `, ${s()}` : ""})`],
      [1, () => `Math.pow(${s()}, 2)`],
      [2, () => `(${comparison(d, s(), s())} ? ${s()} : ${s()})`],
      [1, () => `(${s()} > 0 && ${s()} < 1 ? ${s()} : ${s()})`],
      [1, () => `Math.PI * ${s()}`],
      [2, () => this.helperCall(depth - 1)],
      [this.tensors ? 4 : 0, () => this.reduce(this.someShape(), depth - 1)],
    ])();
  }

  /** A scalar from a tensor expression. */
  reduce(shape: Shape, depth: number): string {
    const d = this.d;
    const t = this.tensor(shape, "f64", depth);
    if (shape.length === 1 && typeof shape[0] === "number" && d.bool(0.2)) return `at(${t}, ${d.int(0, shape[0] - 1)})`;
    return `${d.pick(["sum", "sum", "mean", "max", "logSumExp"])}(${t})`;
  }

  tensor(shape: Shape, dtype: "f64" | "f32", depth: number): string {
    const d = this.d;
    const vs = this.tensorsOf(shape, dtype);
    const leaf = (): string => (vs.length > 0 ? d.pick(vs).name : `add(mul(${this.literalTensorBase(shape, dtype)}, 0), ${this.literal()})`);
    if (depth <= 0 || (vs.length > 0 && d.bool(0.25))) return leaf();
    const t = (): string => this.tensor(shape, dtype, depth - 1);
    const s = (): string => this.scalar(Math.min(1, depth - 1));
    const options: (readonly [number, () => string])[] = [
      [4, leaf],
      [5, () => `${d.pick(["add", "sub", "mul", "maximum", "minimum"])}(${t()}, ${t()})`],
      [2, () => `div(${t()}, add(square(${t()}), 1))`],
      [3, () => (d.bool() ? `mul(${t()}, ${s()})` : `add(${s()}, ${t()})`)],
      [1, () => `sub(1, ${t()})`],
      [5, () => `${d.pick(["exp", "tanh", "sigmoid", "relu", "abs", "neg", "square"])}(${t()})`],
      [1, () => `${d.pick(["log", "sqrt"])}(add(square(${t()}), 1))`],
      [1, () => `pow(${t()}, 2)`],
      [2, () => `(${s()} > ${s()} ? ${t()} : ${t()})`],
    ];
    if (shape.length > 0 && dtype === "f64") options.push([2, () => `softmax(${t()})`]);
    if (shape.length === 2 && dtype === "f64") {
      const [a, b] = shape as [Dim, Dim];
      const k = d.pick([2, 3]);
      options.push([3, () => `matmul(${this.tensor([a, k], dtype, depth - 1)}, ${this.tensor([k, b], dtype, depth - 1)})`]);
      options.push([2, () => `${d.pick(["add", "mul", "sub"])}(${t()}, ${this.tensor([b], dtype, depth - 1)})`]);
      options.push([1, () => `sum(${this.tensor([a, b, 2], dtype, depth - 1)}, 2)`]);
      if (typeof a === "number" && typeof b === "number") {
        options.push([2, () => `transpose(${this.tensor([b, a], dtype, depth - 1)})`]);
        options.push([1, () => `reshape(${this.tensor([a * b], dtype, depth - 1)}, [${a}, ${b}])`]);
      }
    }
    if (shape.length === 1 && dtype === "f64") {
      const [a] = shape as [Dim];
      const k = d.pick([2, 3]);
      options.push([2, () => `${d.pick(["sum", "mean", "max", "logSumExp"])}(${this.tensor([a, k], dtype, depth - 1)}, 1)`]);
      options.push([1, () => `${d.pick(["sum", "mean"])}(${this.tensor([k, a], dtype, depth - 1)}, 0)`]);
      options.push([1, () => `at(${this.tensor([2, a], dtype, depth - 1)}, ${d.int(0, 1)})`]);
      if (typeof a === "number" && a % 2 === 0) options.push([1, () => `reshape(${this.tensor([2, a / 2], dtype, depth - 1)}, [${a}])`]);
    }
    if (this.tensorHelpers.some((h) => sameShape(h.shape, shape)) && dtype === "f64") {
      const h = d.pick(this.tensorHelpers.filter((x) => sameShape(x.shape, shape)));
      options.push([2, () => `${h.name}(${t()})`]);
    }
    return d.weighted(options)();
  }

  /** A tensor of `shape` when nothing of that shape is in scope: from the first tensor parameter's data, reshaped. */
  literalTensorBase(shape: Shape, dtype: "f64" | "f32"): string {
    // A tensor of the right shape built from what is in scope: broadcast a scalar into it.
    const anyOf = this.vars.find((v) => v.shape.length > 0 && v.dtype === dtype && sameShape(v.shape, shape));
    if (anyOf) return anyOf.name;
    const n = size(shape);
    const src = this.vars.find((v) => v.dtype === dtype && v.shape.length > 0 && size(v.shape) !== undefined && n !== undefined && size(v.shape)! >= n);
    if (src && n !== undefined && size(src.shape) === n) return `reshape(${src.name}, [${shape.join(", ")}])`;
    // Fall back to a same-shaped parameter the model is given for this purpose.
    return this.ensureParam(shape, dtype);
  }

  readonly extraParams: Var[] = [];
  ensureParam(shape: Shape, dtype: "f64" | "f32"): string {
    const existing = this.extraParams.find((v) => v.dtype === dtype && sameShape(v.shape, shape));
    if (existing) return existing.name;
    const v: Var = { name: this.fresh("z"), shape, dtype, mutable: false };
    this.extraParams.push(v);
    return v.name;
  }

  helperCall(depth: number): string {
    const d = this.d;
    if (this.scalarHelpers.length === 0 || d.bool(0.15)) {
      // A new module-level helper (sometimes calling an earlier one).
      const name = this.fresh("h");
      const arity = d.int(1, 3);
      const ps = Array.from({ length: arity }, (_x, i) => `a${i}`);
      // A helper's body may call helpers declared before it (never itself).
      const inner = new ModelBuilder(d, false, { ...this.module, scalarHelpers: [...this.scalarHelpers] });
      inner.vars = ps.map((p) => ({ name: p, shape: [], dtype: "f64", mutable: false }));
      const body = inner.scalar(2);
      this.module.counter = inner.module.counter;
      const arrow = d.bool(0.3);
      this.helpers.push(
        arrow
          ? `const ${name} = (${ps.map((p) => `${p}: number`).join(", ")}): number => ${body};`
          : `function ${name}(${ps.map((p) => `${p}: number`).join(", ")}): number {\n  const r = ${body};\n  return r * ${this.literal()};\n}`,
      );
      this.scalarHelpers.push({ name, arity });
    }
    const h = d.pick(this.scalarHelpers);
    return `${h.name}(${Array.from({ length: h.arity }, () => this.scalar(depth)).join(", ")})`;
  }

  tensorHelper(shape: Shape): void {
    const name = this.fresh("th");
    const body = `${this.d.pick(["sigmoid", "tanh", "relu", "exp"])}(mul(x, ${this.literal()}))`;
    this.helpers.push(`function ${name}(x: ${shapeType(shape, "f64")}): ${shapeType(shape, "f64")} {\n  return ${body};\n}`);
    this.tensorHelpers.push({ name, shape });
  }

  /** Statements of a body; declares what they define in `vars`. */
  statements(n: number, indent: string, depth: number): string[] {
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(...this.statement(indent, depth).map((l) => indent + l));
    return out;
  }

  private declare(shape: Shape, dtype: "f64" | "f32", mutable: boolean, expr: string): string {
    const name = this.fresh(shape.length === 0 ? "s" : "t");
    this.vars.push({ name, shape, dtype, mutable });
    return `${mutable ? "let" : "const"} ${name} = ${expr};`;
  }

  statement(indent: string, depth: number): string[] {
    const d = this.d;
    const mutables = this.vars.filter((v) => v.mutable && v.shape.length === 0);
    const tmut = this.vars.filter((v) => v.mutable && v.shape.length > 0 && v.dtype === "f64");
    const kind = d.weighted<string>([
      [6, "const"],
      [3, "let"],
      [mutables.length > 0 ? 4 : 0, "assign"],
      [tmut.length > 0 ? 2 : 0, "tassign"],
      [this.tensors ? 4 : 0, "tconst"],
      [depth > 0 && mutables.length > 0 ? 3 : 0, "if"],
      [depth > 0 && mutables.length > 0 ? 3 : 0, "for"],
      [depth > 0 && tmut.length > 0 ? 2 : 0, "tfor"],
      [2, "closure"],
      [1, "block"],
    ]);
    switch (kind) {
      case "const":
        return [this.declare([], "f64", false, this.scalar(3))];
      case "let":
        return [this.declare([], "f64", true, this.scalar(2))];
      case "assign": {
        const v = d.pick(mutables);
        return [`${v.name} ${d.pick(["=", "+=", "-=", "*="])} ${this.scalar(2)};`];
      }
      case "tassign": {
        const v = d.pick(tmut);
        return [`${v.name} = ${d.pick(["add", "mul", "sub"])}(${v.name}, ${this.tensor(v.shape, "f64", 2)});`];
      }
      case "tconst": {
        const shape = this.someShape();
        if (d.bool(0.2)) this.tensorHelper(shape);
        return [this.declare(shape, "f64", d.bool(0.4), this.tensor(shape, "f64", 3))];
      }
      case "if": {
        const v = d.pick(mutables);
        const cond = comparison(d, this.scalar(1), this.scalar(1), false);
        const saved = this.vars.length;
        const then = [`  ${v.name} = ${this.scalar(2)};`, ...this.block(depth)];
        this.vars.length = saved;
        const lines = [`if (${cond}) {`, ...then, "}"];
        if (d.bool(0.6)) {
          const other = [`  ${v.name} ${d.pick(["=", "+="])} ${this.scalar(2)};`, ...this.block(depth)];
          this.vars.length = saved;
          lines[lines.length - 1] = d.bool(0.3) ? `} else if (${this.scalar(1)} < ${this.scalar(1)}) {` : "} else {";
          lines.push(...other, "}");
        }
        return lines;
      }
      case "for":
      case "tfor": {
        // Short loops unroll, long ones (more than 16 trips) stay loops.
        const trips = d.pick([2, 3, 5, 16, 17, 24, 40, 100]);
        const i = this.fresh("i");
        const v = kind === "for" ? d.pick(mutables) : d.pick(tmut);
        this.counters.push(i);
        const saved = this.vars.length;
        const update =
          kind === "for"
            ? `${v.name} = ${v.name} * ${d.pick(["0.5", "0.9", "1"])} + ${this.scalar(2)};`
            : `${v.name} = add(mul(${v.name}, 0.5), ${this.tensor(v.shape, "f64", 1)});`;
        const body = [`  ${update}`, ...(d.bool(0.3) ? this.block(depth) : [])];
        this.vars.length = saved;
        this.counters.pop();
        return [`for (let ${i} = 0; ${i} < ${trips}; ${i}++) {`, ...body, "}"];
      }
      case "closure": {
        const name = this.fresh("c");
        const captured = this.scalars();
        const inner = `(u: number): number => u * ${captured.length > 0 ? d.pick(captured).name : this.literal()} + ${this.literal()}`;
        const use = this.declare([], "f64", false, `${name}(${this.scalar(1)})`);
        return [`const ${name} = ${inner};`, use];
      }
      default: {
        const saved = this.vars.length;
        const inner = this.block(depth);
        this.vars.length = saved;
        return ["{", ...inner, "}"];
      }
    }
  }

  /** A nested block's statements (indented by two), not assigning outer tensors' shapes. */
  block(depth: number): string[] {
    const n = this.d.int(0, 2);
    return this.statements(n, "", depth - 1).map((l) => `  ${l}`);
  }
}

interface ParamDecl {
  readonly text: string;
  /** Variables the body can read for this parameter. */
  readonly access: Var[];
  /** Statements binding them (destructuring). */
  readonly prelude: string[];
  /** f32 numbers, added to the result only: f32 and f64 numbers do not meet in conditionals. */
  readonly late?: string;
}

/**
 * `a op b` for a random comparison. `a < b` is written `b > a`: TypeScript reads `a < (b > (c) …`
 * as a call with type arguments (`a<T>(…)`), so a generated `<` could make a valid-looking
 * program a syntax error.
 */
function comparison(d: Draw, a: string, b: string, equality = true): string {
  const op = d.pick(equality ? ["<", ">", "<=", ">=", "==="] : ["<", ">", ">=", "<="]);
  return op === "<" ? `${b} > ${a}` : `${a} ${op} ${b}`;
}

function param(b: ModelBuilder, k: number): ParamDecl {
  const d = b.d;
  const name = `x${k}`;
  const kind = d.weighted<string>([
    [6, "number"],
    [b.tensors ? 5 : 0, "tensor"],
    [b.tensors ? 2 : 0, "symbolic"],
    [b.tensors ? 1 : 0, "f32"],
    [2, "object"],
    [2, "tuple"],
    [1, "nested"],
  ]);
  const num = (n: string): Var => ({ name: n, shape: [], dtype: "f64", mutable: false });
  switch (kind) {
    case "number":
      return { text: `${name}: number`, access: [num(name)], prelude: [] };
    case "tensor": {
      const shape = d.pick<Shape>([[3], [2, 3], [3, 2], [4], [2, 2]]);
      return { text: `${name}: ${shapeType(shape, "f64")}`, access: [{ name, shape, dtype: "f64", mutable: false }], prelude: [] };
    }
    case "symbolic": {
      const dim = b.dims[0] ?? "B";
      if (!b.dims.includes(dim)) b.dims.push(dim);
      const shape: Shape = d.pick<Shape>([[dim, 3], [dim], [3, dim]]);
      return { text: `${name}: ${shapeType(shape, "f64")}`, access: [{ name, shape, dtype: "f64", mutable: false }], prelude: [] };
    }
    case "f32": {
      b.usesF32 = true;
      const shape: Shape = d.pick<Shape>([[3], [2, 3]]);
      // f32 values are only summed to a number, so that mixing with f64 is never needed.
      const s = `${name}_sum`;
      const wrap = d.pick(["", "sigmoid", "square", "tanh"]);
      return {
        text: `${name}: ${shapeType(shape, "f32")}`,
        access: [],
        prelude: [`const ${s} = sum(${wrap ? `${wrap}(${name})` : name});`],
        late: s,
      };
    }
    case "object": {
      const shape: Shape = d.pick<Shape>([[3], [2, 3]]);
      const fields = b.tensors ? `{ w: ${shapeType(shape, "f64")}; b: number }` : "{ w: number; b: number }";
      const wVar: Var = b.tensors ? { name: `${name}_w`, shape, dtype: "f64", mutable: false } : num(`${name}_w`);
      const destructure = d.bool(0.5);
      return {
        text: `${name}: ${fields}`,
        access: [wVar, num(`${name}_b`)],
        prelude: destructure
          ? [`const { w: ${name}_w, b: ${name}_b } = ${name};`]
          : [`const ${name}_w = ${name}.w;`, `const ${name}_b = ${name}["b"];`],
      };
    }
    case "tuple":
      return {
        text: `${name}: [number, number]`,
        access: [num(`${name}_0`), num(`${name}_1`)],
        prelude: d.bool(0.5) ? [`const [${name}_0, ${name}_1] = ${name};`] : [`const ${name}_0 = ${name}[0];`, `const ${name}_1 = ${name}[1];`],
      };
    default:
      return {
        text: `${name}: { layer: [{ a: number }, { a: number }]; scale: number }`,
        access: [num(`${name}_a0`), num(`${name}_a1`), num(`${name}_s`)],
        prelude: [`const ${name}_a0 = ${name}.layer[0].a;`, `const ${name}_a1 = ${name}.layer[1].a;`, `const ${name}_s = ${name}.scale;`],
      };
  }
}

/** The parts of a valid program, so hostile variants can change one of them. */
export interface Parts {
  helpers: string[];
  generics: string;
  params: string[];
  prelude: string[];
  body: string[];
  ret: string;
  bindings: string[];
  /** Names of a scalar variable and a tensor variable (if any) in scope at the end. */
  scalarVar: string;
  tensorVar: string | undefined;
  tensorShape: Shape | undefined;
}

export function renderParts(p: Parts, modelName = "model"): string {
  return [
    `import { ${IMPORTS} } from "gradc";`,
    "",
    ...p.helpers,
    "",
    `export function ${modelName}${p.generics}(${p.params.join(", ")}): number {`,
    ...p.prelude.map((l) => `  ${l}`),
    ...p.body.map((l) => `  ${l}`),
    `  return ${p.ret};`,
    "}",
    "",
    ...p.bindings,
    "",
  ].join("\n");
}

export function validParts(d: Draw, tensors: boolean): Parts {
  const b = new ModelBuilder(d, tensors);
  const arity = d.int(1, 4);
  const decls = Array.from({ length: arity }, (_x, k) => param(b, k));
  b.vars = decls.flatMap((p) => p.access);
  const body = b.statements(d.int(0, 6), "", 2);
  const late = decls.flatMap((p) => (p.late ? [p.late] : []));
  const ret = [tensors && d.bool(0.6) ? `${b.scalar(1)} + ${b.reduce(b.someShape(), 2)}` : b.scalar(3), ...late].join(" + ");
  // Tensors no variable had the shape of come in as extra parameters.
  const extra = b.extraParams.map((v) => `${v.name}: ${shapeType(v.shape, v.dtype)}`);
  const params = [...decls.map((p) => p.text), ...extra];
  const n = params.length;
  const bindings: string[] = [];
  const count = d.int(1, 2);
  for (let k = 0; k < count; k++) {
    const mode = d.pick(["grad", "valueAndGrad"]);
    const argnums = d.weighted<string>([
      [4, ""],
      [2, `, { argnums: ${d.int(0, n - 1)} }`],
      [2, `, { argnums: [${[...new Set(Array.from({ length: d.int(1, n) }, () => d.int(0, n - 1)))].join(", ")}] }`],
    ]);
    bindings.push(`export const g${k} = ${mode}(model${argnums});`);
  }
  const scalarVar = b.scalars().at(-1)?.name ?? "0";
  const tv = b.vars.filter((v) => v.shape.length > 0 && v.dtype === "f64").at(-1);
  return {
    helpers: b.helpers,
    generics: b.dims.length > 0 ? `<${b.dims.map((x) => `${x} extends number`).join(", ")}>` : "",
    params,
    prelude: decls.flatMap((p) => p.prelude),
    body,
    ret,
    bindings,
    scalarVar,
    tensorVar: tv?.name,
    tensorShape: tv?.shape,
  };
}

// ---- hostile variants ---------------------------------------------------------------------

/**
 * Statements the compiler may not accept, with `S` a scalar in scope. Those marked `!` must be
 * refused wherever they stand in the body (some others are legal in some contexts, or folded
 * away when S is a compile-time constant).
 */
const BAD_STATEMENTS = [
  // while and do compile now; bounded by a counter, so no argument makes them run forever.
  "{ let w = 0; while (w < 3 && S < 10) { S = S + 1; w = w + 1; } }",
  "{ let w = 0; do { S = S * 2; w = w + 1; if (S > 100) break; } while (w < 3 && S < 1); }",
  "!switch (S) { case 1: S = 2; break; default: S = 3; }",
  "!try { S = S * 2; } catch (e) { S = 0; }",
  "!try { S = S * 2; } finally { S = 1; }",
  '!throw new Error("no");',
  "!class K { v = 1; }",
  // for-of over an array literal is unrolled now (one copy of the body per item).
  "for (const q of [1, 2, 3]) { S = S + q; }",
  "!for (const q in { a: 1 }) { S = S + 1; }",
  "!lbl: for (let q = 0; q < 3; q++) { S = S + q; }",
  "for (let q = 0; q < 3; q++) { if (S > 1) break; S = S + q; }",
  "for (let q = 0; q < 3; q++) { if (S > 1) continue; S = S + q; }",
  "for (let q = 0; q < 30; q++) { if (S > 1) break; S = S + q; }",
  "for (let q = 0; q < 3; q++) { return S; }",
  "for (let q = 0; S < 3; q++) { S = S + q; }",
  "for (let q = 0; q < S; q++) { S = S + q; }",
  "!for (;;) { S = S + 1; }",
  "for (let q = 0; q < 3; q += S) { S = S + 1; }",
  "!debugger;",
  "x0 = 3;",
  "x0++;",
  "S++;",
  "var V = S;",
  "async function af() { return 1; }",
  "function* gf() { yield 1; }",
  "!S = S | 2;",
  "!S = S & 1;",
  'S = S + Number("1");',
  "S = (S, 2);",
  "S ||= 1;",
  "S ??= 1;",
  "S **= 2;",
  "S /= 2;",
  "!S <<= 1;",
  "!console.log(S);",
  "!S = undefinedFunction(S);",
  "!S = Math.random();",
  "!S = Math.atan2(S, 1);",
  "S = Math.hypot(S, S);",
  "S = Math.max(...[S, 1]);",
  "S = parseFloat(String(S));",
  "!S = new Number(S).valueOf();",
  "S = [S][0] + [S].length;",
  "S = ({ a: S }).a;",
  "S = typeof S === 'number' ? S : 0;",
  "S = void 0;",
  "S = null;",
  "S = delete (globalThis as any).x ? 1 : 0;",
  "S = 'a' in { a: 1 } ? 1 : 0;",
  "S = S instanceof Object ? 1 : 0;",
  "!S = (this as any).v;",
  "!S = arguments.length;",
  "S = 1n as unknown as number;",
  "!S = /a/.test('a') ? 1 : 0;",
  "!S = `${S}`.length;",
  'S = "str" as unknown as number;',
  "S = S! + (S as number) + (<number>S);",
  "S = ((): number => S)();",
  "const fnv = (): number => S; S = fnv;",
  "S = model(S);",
  "!S = g0(S);",
  "!S = import.meta.url.length;",
  "S = S ?? 1;",
  "S = (S > 1 || S) ? 1 : 0;",
  "S = (S > 1) + 1;",
  "S = [1, 2, 3].length;",
  "S = Number.MAX_VALUE;",
  "S = Infinity - NaN;",
  "const { qq } = { qq: S }; S = qq;",
  "!S = ~S;",
  "!S = S >>> 1;",
  "S = !S ? 1 : 0;",
  "S = -S ** 2;",
];

/** Expressions in place of a scalar operand (`S` a scalar, `T` a tensor when there is one); `!`: must be refused. */
const BAD_EXPRESSIONS = [
  "!S ^ 3",
  "!S & 7",
  "!S | 0",
  "!S ^ 2",
  "!~S",
  "!S << 1",
  "!S >> 1",
  "!S >>> 1",
  '!"text"',
  "!`t${S}`",
  "!new Number(S)",
  "!await S",
  "(() => S)",
  "S ?? 1",
  "(S, S)",
  "!typeof S",
  "!void S",
  "!this",
  "!null",
  "undefined",
  "![S, S]",
  "!({ a: S })",
  "!Math.random()",
  "!Math.atan2(S, 1)",
  "!Math.cbrt(S)",
  "Math.SQRT1_2 * S",
  "!Number(S)",
  "!S.toFixed(2)",
  "!unknownFunction(S)",
  "model(S)",
  "!g0(S)",
  "!Math.exp()",
  "!Math.exp(S, S)",
  "!Math.pow(S)",
  "!Math.max()",
  "Math.exp(...[S])",
  "!sum()",
  "sum(S, 0, true, 1)",
  "!add(S)",
  "!matmul(S)",
  "softmax(S, S)",
  "sum(T, S)",
  "sum(T, 5)",
  "sum(T, -5)",
  'sum(T, "0")',
  "sum(T, 0, S > 1)",
  "mean(T, [0, 0])",
  "softmax(T, 3)",
  "logSumExp(T, 9)",
  "max(T, 1.5)",
  "at(T, 99)",
  "at(T, -1)",
  "at(T, S)",
  "at(T, 0.5)",
  "sum(add(T, [1, 2, 3]))",
  "sum(matmul(T, T))",
  "sum(add(T, matmul(T, transpose(T))))",
  "sum(reshape(T, [7]))",
  "sum(reshape(T, [S]))",
  "sum(reshape(T, [-1]))",
  "sum(transpose(T))",
  "sum(transpose(reshape(T, [1, 1, 1])))",
  "sum(add(T, reshape(T, [1, 1, 1, 1, 1])))",
  "sum(T.data)",
  "T.data[0]",
  "T.shape[7]",
  "T.length",
  "sum(T) + T",
  "T",
  "Math.exp(T)",
  "!S > 1",
  "S > T",
  "(S > 1 ? S : T)",
  "(S > 1 ? S : [S])",
  "(T > 1 ? S : S)",
  "x0 = 2",
  "x0++",
  "(x0 as any).field",
  "S!",
  "!1n",
  "!/re/",
  "S?.valueOf()",
  "globalThis.Math.exp(S)",
  "Math['exp'](S)",
  "(Math.exp)(S)",
  "(0, Math.exp)(S)",
];

/** Parameter lists the layout must refuse (or accept: `either`). */
const BAD_PARAMS: readonly (readonly [string, Case["expect"]])[] = [
  ["x0: string", "either"],
  ["x0: boolean", "either"],
  ["x0: any", "diagnose"],
  ["x0: unknown", "diagnose"],
  ["x0: number[]", "diagnose"],
  ["x0: Array<number>", "diagnose"],
  ["x0: number | string", "diagnose"],
  ["x0?: number", "either"],
  ["x0: number = 1", "either"],
  ["...x0: number[]", "diagnose"],
  ["{ a }: { a: number }", "diagnose"],
  ["[a, b]: [number, number]", "diagnose"],
  ["x0: Tensor<number[]>", "diagnose"],
  ["x0: Tensor<[3], \"i32\">", "either"],
  ["x0: Tensor<[3.5]>", "diagnose"],
  ["x0: Tensor<[-1]>", "either"],
  ["x0: Tensor<[0]>", "either"],
  ["x0: Tensor<[]>", "either"],
  ["x0: Tensor<[1e9, 1e9]>", "either"],
  ["x0: Tensor<[number]>", "diagnose"],
  ["x0: Tensor", "diagnose"],
  ["x0: {}", "diagnose"],
  ["x0: { f(): number }", "diagnose"],
  ["x0: () => number", "diagnose"],
  ["x0: Map<string, number>", "diagnose"],
  ["x0: Float64Array", "diagnose"],
  ["x0: [number, ...number[]]", "diagnose"],
  ["x0: never", "either"],
  ["x0: null", "diagnose"],
  ["x0: 3", "either"],
  ["x0: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: number } } } } } } } } } } } } } } } } } } } } } } } } } } } } } } } } }", "either"],
  ["this: number, x0: number", "either"],
];

/** Module-level hostile additions, and other whole-program oddities. */
const BAD_RETURNS = ["T", "S > 1", "[S]", "{ v: S }", "undefined", '"s"', "null", "sum", "model"];

/** A template without its `!` mark, and whether it had one. */
function marked(template: string): [string, boolean] {
  return template.startsWith("!") ? [template.slice(1), true] : [template, false];
}

function substitute(template: string, s: string, t: string | undefined): string {
  // Without a tensor in scope, T is an array: just as wrong where a tensor is expected.
  return template.replace(/\bS\b/g, s).replace(/\bT\b/g, t ?? `[${s}, ${s}]`).replace(/\bV\b/g, "vv");
}

/** A valid program with one hostile change. */
function hostile(d: Draw, index: number): Case {
  const parts = validParts(d, d.bool(0.6));
  const s = parts.scalarVar === "0" ? "x0" : parts.scalarVar;
  const t = parts.tensorVar;
  const where = d.weighted<string>([
    [5, "statement"],
    [5, "expression"],
    [2, "return"],
    [2, "param"],
    [1, "helper"],
    [1, "binding"],
    [2, "recursion"],
    [1, "module"],
  ]);
  let expect: Case["expect"] = "diagnose";
  switch (where) {
    case "statement": {
      const [template, must] = marked(d.pick(BAD_STATEMENTS));
      const stmt = substitute(template, s, t);
      // Into the body at some position, or inside an if / a loop / a block.
      const wrap = d.pick(["", "if", "for", "longfor", "block"]);
      const line =
        wrap === "if"
          ? `if (${s} > 0) { ${stmt} }`
          : wrap === "for"
            ? `for (let k = 0; k < 3; k++) { ${stmt} }`
            : wrap === "longfor"
              ? `for (let k = 0; k < 20; k++) { ${stmt} }`
              : wrap === "block"
                ? `{ ${stmt} }`
                : stmt;
      const at = d.int(0, parts.body.length);
      // Uses of a scalar declared later would be a different error; put it at the end when it reads S.
      parts.body.splice(parts.scalarVar === "0" ? at : parts.body.length, 0, line);
      // In the body or a block it always runs; under an if or in a loop it may be folded away.
      expect = must && (wrap === "" || wrap === "block") ? "diagnose" : "either";
      break;
    }
    case "expression": {
      const [template, must] = marked(d.pick(BAD_EXPRESSIONS));
      const e = substitute(template, s, t);
      parts.ret = d.bool() ? `${parts.ret} + (${e})` : `Math.exp(${e}) * ${parts.ret}`;
      expect = must ? "diagnose" : "either";
      break;
    }
    case "return":
      parts.ret = substitute(d.pick(BAD_RETURNS), s, t);
      break;
    case "param": {
      const [text, e] = d.pick(BAD_PARAMS);
      parts.params = [text, ...parts.params.slice(1)];
      expect = e;
      break;
    }
    case "helper": {
      const e = substitute(marked(d.pick(BAD_EXPRESSIONS))[0], "a", t);
      parts.helpers.push(`function bad(a: number): number {\n  return ${e};\n}`);
      parts.ret = `${parts.ret} + bad(${s})`;
      expect = "either";
      break;
    }
    case "binding": {
      const n = parts.params.length;
      parts.bindings = [
        d.pick([
          "export const gb = grad(model, { argnums: 99 });",
          "export const gb = grad(model, { argnums: [] });",
          "export const gb = grad(model, { argnums: [0, 0] });",
          "export const gb = grad(model, { argnums: -1 });",
          "export const gb = grad(model, { argnums: 0.5 });",
          `export const gb = grad(model, { argnums: ${n} });`,
          "export const gb = grad(model, { argnums: [0], ...{} });",
          "export const gb = grad(model, opts);",
          "export const gb = grad(model, { argnums: x });",
          "export const gb = grad(Math.exp);",
          "export const gb = grad(undefinedModel);",
          "export const gb = grad();",
          "export const gb = grad(42 as any);",
          "export const gb = grad((x: number) => x % 2);",
          "export const gb = grad(function (x: number) { return x * x; });",
          "export const gb = grad((x: number) => x * x);",
          "export const gb = valueAndGrad(grad(model) as any);",
          "export const [gb] = grad(model);",
          "export const { gb } = grad(model) as any;",
          "export let gb = grad(model);",
          "export var gb = grad(model);",
          "const gb = grad(model); export { gb };",
          "export const gb = grad(model), gc = valueAndGrad(model);",
        ]),
      ];
      expect = "either";
      break;
    }
    case "recursion": {
      // Refused, unless the argument is a compile-time constant: then the conditions decide
      // at compile time and the calls end (that is not recursion at run time).
      expect = "either";
      const kind = d.pick(["direct", "mutual", "self", "closure"]);
      if (kind === "direct") {
        parts.helpers.push("function rec(a: number): number {\n  return a < 0 ? a : rec(a - 1) * 0.5;\n}");
        parts.ret = `${parts.ret} + rec(${s})`;
      } else if (kind === "mutual") {
        parts.helpers.push("function even(a: number): number {\n  return a <= 0 ? 1 : odd(a - 1);\n}", "function odd(a: number): number {\n  return a <= 0 ? 0 : even(a - 1);\n}");
        parts.ret = `${parts.ret} + even(${s})`;
      } else if (kind === "self") {
        parts.ret = `${s} > 100 ? ${parts.ret} : model(${parts.params.map((_p, i) => `x${i}`).join(", ")})`;
      } else {
        parts.body.push(`const loop = (a: number): number => (a > 0 ? loop(a - 1) : a);`);
        parts.ret = `${parts.ret} + loop(${s})`;
      }
      break;
    }
    default: {
      parts.helpers.push(
        d.pick([
          "class Model { w = 1; }",
          "enum E { A, B }",
          "namespace N { export const a = 1; }",
          "declare function ext(a: number): number;",
          "let counter = 0;",
          "const table = [1, 2, 3];",
          "export default 1;",
          "const K = 1 % 2;",
        ]),
      );
      expect = "either";
    }
  }
  return { name: `hostile${index}`, source: renderParts(parts), family: `hostile:${where}`, expect };
}

// ---- names, keys and literals -------------------------------------------------------------

/** Identifiers from user source that must not break the generated module. */
export const HOSTILE_IDENTIFIERS = [
  "ñ", "π", "λ1", "Ωmega", "变量", "\\u0078", "x\\u0031", "$", "_", "$$", "__proto__", "constructor", "toString", "valueOf",
  "hasOwnProperty", "Math", "Float64Array", "Float32Array", "Array", "Object", "Number", "Symbol", "Error", "globalThis",
  "undefined", "NaN", "Infinity", "$gradc_badArg", "$gradc_describe", "$gradc_GradcError", "$gradc_x", "$gradc_g0_b0",
  "i", "j", "acc", "best", "at", "o", "r", "p", "ci", "bp", "i0", "k", "next", "t", "out", "of", "async", "get", "set",
  "static", "implements", "interface", "package", "private", "protected", "public", "yield", "let", "enum", "await",
  "eval", "arguments", "g0", "model", "sum", "add", "grad", "Tensor", "require", "module", "exports", "process", "self",
  "window", "document", "x_d", "x0_d", "dx", "data", "shape",
];

/** Pytree keys: quoted where they must be. */
export const HOSTILE_KEYS = [
  "__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "prototype", "a\\\"b", "a\\\\b", "*/", "/*", "\\u2028",
  "\\u2029", "</script>", "${x}", "'", "", "1", "0", "-1", "1e3", "a b", "ñ", "😀", "\\uD800", "\\n", "\\r", "\\t", "\\0",
  "length", "shape", "data", "then", "__defineGetter__", "`", "\\\\", "x\\u2028y",
];

function identifierCase(d: Draw, index: number): Case {
  const id = d.pick(HOSTILE_IDENTIFIERS);
  const role = d.pick(["param", "local", "helper", "model", "binding", "helper-param", "dim"]);
  let src: string;
  const header = `import { grad, valueAndGrad, sum, mul, sigmoid, type Tensor } from "gradc";\n`;
  switch (role) {
    case "param":
      src = `${header}export function model(${id}: number, y: Tensor<[3]>): number {\n  return ${id} * ${id} + sum(mul(y, ${id}));\n}\nexport const g = valueAndGrad(model, { argnums: [0, 1] });\n`;
      break;
    case "local":
      src = `${header}export function model(x: number): number {\n  const ${id} = x * 2;\n  let w = ${id} + 1;\n  w = w * ${id};\n  return w;\n}\nexport const g = grad(model);\n`;
      break;
    case "helper":
      src = `${header}function ${id}(a: number): number {\n  return a * a;\n}\nexport function model(x: number): number {\n  return ${id}(x) + 1;\n}\nexport const g = grad(model);\n`;
      break;
    case "model":
      src = `${header}export function ${id}(x: number, y: Tensor<[2]>): number {\n  return Math.exp(x) * sum(sigmoid(y));\n}\nexport const g = valueAndGrad(${id}, { argnums: [0, 1] });\n`;
      break;
    case "binding":
      src = `${header}export function model(x: number, y: Tensor<[2]>): number {\n  return Math.exp(x) + sum(sigmoid(mul(y, x)));\n}\nexport const ${id} = valueAndGrad(model, { argnums: [0, 1] });\n`;
      break;
    case "helper-param":
      src = `${header}const h = (${id}: number): number => ${id} * 3;\nexport function model(x: number): number {\n  return h(x);\n}\nexport const g = grad(model);\n`;
      break;
    default:
      src = `${header}export function model<${id} extends number>(x: Tensor<[${id}, 2]>): number {\n  return sum(sigmoid(x));\n}\nexport const g = grad(model);\n`;
  }
  return { name: `ident${index}`, source: src, family: `names:identifier-${role}`, expect: "either" };
}

function keyCase(d: Draw, index: number): Case {
  const keys = [...new Set(Array.from({ length: d.int(1, 4) }, () => d.pick(HOSTILE_KEYS)))];
  const tensorKey = d.bool(0.4);
  const fields = keys.map((k, i) => `"${k}": ${tensorKey && i === 0 ? "Tensor<[2]>" : "number"}`);
  const reads = keys.map((k, i) => (tensorKey && i === 0 ? `sum(sigmoid(p["${k}"]))` : `p["${k}"] * ${i + 2}`));
  const src = `import { grad, valueAndGrad, sum, sigmoid, type Tensor } from "gradc";\nexport function model(p: { ${fields.join("; ")} }, q: number): number {\n  return ${reads.join(" + ")} + q * q;\n}\nexport const g = ${d.pick(["grad", "valueAndGrad"])}(model);\n`;
  return { name: `key${index}`, source: src, family: "names:pytree-key", expect: "either" };
}

const HUGE_LITERALS = [
  "1e308", "1e309", "-1e309", "1.7976931348623157e308", "5e-324", "1e-400", "0x1fffffffffffff", "0xffffffffffffffffffff",
  "123456789012345678901234567890", "1_000_000", "0b1010", "0o777", ".5", "5.", "0", "-0", "NaN", "Infinity", "-Infinity",
  "0.1 + 0.2", "2 ** 1024", "(-8) ** (1 / 3)", "1 / 0", "0 / 0", "Math.PI", "Math.E", "Math.LN2", "Number.EPSILON",
  "9007199254740993", "1e21", "1e-7", "4.35", "0.000001",
];

function literalCase(d: Draw, index: number): Case {
  const lit = d.pick(HUGE_LITERALS);
  const pos = d.pick(["mul", "add", "pow", "exp", "cond", "const", "tensor", "loop"]);
  const body =
    pos === "mul" ? `return x * (${lit});`
    : pos === "add" ? `return x + (${lit}) * x;`
    : pos === "pow" ? `return x ** (${lit}) + x;`
    : pos === "exp" ? `return Math.exp(x * (${lit}));`
    : pos === "cond" ? `return x > (${lit}) ? x * x : -x;`
    : pos === "const" ? `const c = ${lit};\n  return c * x + c;`
    : pos === "tensor" ? `return sum(mul(y, ${lit})) * x;`
    : `let s = x;\n  for (let i = 0; i < 20; i++) s = s * (${lit}) + x;\n  return s;`;
  const src = `import { grad, valueAndGrad, sum, mul, type Tensor } from "gradc";\nexport function model(x: number, y: Tensor<[3]>): number {\n  ${body}\n}\nexport const g = valueAndGrad(model, { argnums: [0, 1] });\n`;
  return { name: `lit${index}`, source: src, family: "literals", expect: "either" };
}

// ---- malformed files ----------------------------------------------------------------------

function malformed(d: Draw, index: number): Case {
  const valid = renderParts(validParts(d, d.bool(0.5)));
  const kind = d.pick(["empty", "truncate", "insert", "delete", "swap", "crlf", "cr", "ls", "bom", "noimport", "comments", "unterminated"]);
  let src: string;
  let expect: Case["expect"] = "either";
  switch (kind) {
    case "empty":
      src = d.pick(["", " ", "\n\n\n", "\t\r\n", "\uFEFF", "// nothing\n", "/* */", "export {};\n", ";;;", 'import { grad } from "gradc";\n']);
      expect = "compile"; // nothing to compile is not an error
      break;
    case "truncate":
      src = valid.slice(0, d.int(0, valid.length - 1));
      break;
    case "insert": {
      const at = d.int(0, valid.length);
      src = valid.slice(0, at) + d.pick(["{", "}", "(", ")", "[", "]", ";", ",", "'", '"', "`", "/*", "*/", "//", "\\", "@", "#", "=>", "<", "?", ":", "\u2028", "\u0000", "\uFFFF", "\uD800"]) + valid.slice(at);
      break;
    }
    case "delete": {
      const at = d.int(0, valid.length - 1);
      src = valid.slice(0, at) + valid.slice(at + d.int(1, 20));
      break;
    }
    case "swap": {
      const lines = valid.split("\n");
      const a = d.int(0, lines.length - 1);
      const b = d.int(0, lines.length - 1);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      src = lines.join("\n");
      break;
    }
    case "crlf":
      src = valid.replace(/\n/g, "\r\n");
      expect = "compile";
      break;
    case "cr":
      src = valid.replace(/\n/g, "\r");
      break;
    case "ls":
      src = valid.replace(/\n/g, d.pick(["\u2028", "\u2029"]));
      break;
    case "bom":
      src = "\uFEFF" + valid;
      expect = "compile";
      break;
    case "noimport":
      src = valid.replace(/^import .*\n/, "");
      break;
    case "comments":
      src = valid.replace(/;\n/g, () => d.pick([";\n", "; // */ \u2028 comment\n", "; /* \n */\n", ";\n/** @gradc checkpoint */\n"]));
      break;
    default:
      src = valid + d.pick(['"unterminated', "`unterminated ${", "/* unterminated", "function (", "export const = grad(model);", "}}}}", "<<<<<<< HEAD\n"]);
  }
  return { name: `malformed${index}`, source: src, family: `malformed:${kind}`, expect };
}

// ---- deep and large programs ----------------------------------------------------------------

/** Very deep or very long programs, `n` levels or statements (up to 10⁵). */
export function deepCase(kind: string, n: number, index = 0): Case {
  const H = `import { grad, add, mul, sum, sigmoid, type Tensor } from "gradc";\n`;
  const fn = (body: string, params = "x: number"): string => `${H}export function model(${params}): number {\n${body}\n}\nexport const g = grad(model);\n`;
  const sources: Record<string, () => string> = {
    parens: () => fn(`  return ${"(".repeat(n)}x${" * 1.5)".repeat(n)};`),
    calls: () => fn(`  return ${"Math.sin(".repeat(n)}x${")".repeat(n)};`),
    unary: () => fn(`  return ${"- ".repeat(n)}x;`),
    ternaries: () => fn(`  return ${"x > 0 ? x : ".repeat(n)}x;`),
    chain: () => fn(`  return ${Array(n).fill("x").join(" + ")};`),
    power: () => fn(`  return ${Array(n).fill("x").join(" ** ")};`),
    statements: () => fn(`  let y = x;\n${"  y = y * 1.0001 + x;\n".repeat(n)}  return y;`),
    blocks: () => fn(`  let y = x;\n${"{".repeat(n)} y = y * 2; ${"}".repeat(n)}\n  return y;`),
    ifs: () => fn(`  let y = x;\n${"if (y > 0) {\n".repeat(n)} y = y * 2;\n${"}\n".repeat(n)}  return y;`),
    arrays: () => fn(`  return ${"[".repeat(n)}x${"]".repeat(n)} as unknown as number;`),
    tensorChain: () => fn(`  let y = x;\n${"  y = sigmoid(add(y, x));\n".repeat(n)}  return sum(y);`, "x: Tensor<[4]>"),
    tensorNested: () => fn(`  return sum(${"sigmoid(".repeat(n)}x${")".repeat(n)});`, "x: Tensor<[4]>"),
    helpers: () => {
      // Each helper calls the previous twice: inlining doubles per level.
      const hs = [`function h0(a: number): number { return a * 1.01; }`];
      for (let k = 1; k < n; k++) hs.push(`function h${k}(a: number): number { return h${k - 1}(a) + h${k - 1}(a * 0.5); }`);
      return `${H}${hs.join("\n")}\nexport function model(x: number): number {\n  return h${n - 1}(x);\n}\nexport const g = grad(model);\n`;
    },
    nestedLoops: () => {
      let body = "s = s * 0.999 + x;";
      for (let k = 0; k < n; k++) body = `for (let i${k} = 0; i${k} < 16; i${k}++) { ${body} }`;
      return fn(`  let s = x;\n  ${body}\n  return s;`);
    },
    longLoop: () => fn(`  let s = x;\n  for (let i = 0; i < ${n}; i++) { s = s * 0.999 + Math.sin(x + i); }\n  return s;`),
    wideCall: () => fn(`  return Math.max(${Array(n).fill("x").join(", ")});`),
    manyParams: () => fn(`  return ${Array.from({ length: Math.min(n, 5000) }, (_x, k) => `p${k}`).join(" + ")};`, Array.from({ length: Math.min(n, 5000) }, (_x, k) => `p${k}: number`).join(", ")),
    typeDepth: () => fn(`  return x;`, `x: number, y: ${"{ a: ".repeat(n)}number${" }".repeat(n)}`),
    longLine: () => fn(`  return x${" + x * 0.5".repeat(0)};${" ".repeat(n)}// ${"z".repeat(n)}`),
    longName: () => fn(`  const ${"v".repeat(n)} = x * x;\n  return ${"v".repeat(n)};`),
  };
  return { name: `deep-${kind}-${n}-${index}`, source: sources[kind]!(), family: `deep:${kind}`, expect: "either", deep: true };
}

export const DEEP_KINDS = [
  "parens", "calls", "unary", "ternaries", "chain", "power", "statements", "blocks", "ifs", "arrays", "tensorChain",
  "tensorNested", "helpers", "nestedLoops", "longLoop", "wideCall", "manyParams", "typeDepth", "longLine", "longName",
] as const;

// ---- the mix ------------------------------------------------------------------------------

export function validCase(d: Draw, index: number): Case {
  const tensors = d.bool(0.55);
  return { name: `valid${index}`, source: renderParts(validParts(d, tensors)), family: tensors ? "valid:tensor" : "valid:scalar", expect: "compile" };
}

/** One program of any family, for fc.sample / fc.assert. */
export const caseArb: fc.Arbitrary<Omit<Case, "name">> = fc.gen().map((g) => {
  const d = new Draw(g);
  const family = d.weighted<(d: Draw, i: number) => Case>([
    [40, validCase],
    [35, hostile],
    [6, identifierCase],
    [6, keyCase],
    [5, literalCase],
    [8, malformed],
    ...CHECK_FAMILIES,
  ]);
  const { name: _n, ...rest } = family(d, 0);
  return rest;
});

/** `count` programs from `seed`, named uniquely. */
export function sampleCases(seed: number, count: number): Case[] {
  return fc.sample(caseArb, { seed, numRuns: count }).map((c, i) => ({ ...c, name: `${c.family.replace(/[^\w]+/g, "_")}_${seed}_${i}` }));
}
