// Fuzz programs for the checks that keep answers honest (issue: no silent wrong answers):
// at() with constant and computed indices in and out of range, f32 and f64 tensors mixed,
// JavaScript operators and Math applied to tensors (which must be refused), type aliases
// (generic too) and every form of export and import of a `grad` binding. Where a program
// compiles, the harness runs it against the same program uncompiled (`reference`): both must
// throw the same GradcError or agree on the value and on every gradient, in its parameter's
// dtype.

import type { Case, Draw } from "./programs.js";

const H = (names: string): string => `import { ${names}, type Tensor } from "gradc";\n`;

/** at() in and out of range: constant, counter-based and parameter indices, rolled and unrolled loops. */
export function indexCase(d: Draw, index: number): Case {
  const n = d.int(2, 24);
  const symbolic = d.bool(0.3);
  const dim = symbolic ? "T" : String(n);
  const bound = d.pick([String(d.int(1, 5)), String(d.int(n - 2, n + 2)), String(d.int(17, 30)), ...(symbolic ? ["x.shape[0]", "x.shape[0]"] : ["x.shape[0]"])]);
  const start = d.pick(["0", "0", "1"]);
  const at = (): string =>
    d.pick(["i", "i", "i + 1", "i - 1", "i / 2", "2 * i", `i + ${d.int(-3, 3)}`, "c", String(d.int(-2, n + 1)), "0", `${n} - 1 - i`]);
  const read = d.bool(0.7) ? `at(x, ${at()})` : `sum(at(m, ${at()}))`;
  const extra = d.bool(0.4) ? ` + at(x, ${d.pick([String(d.int(-1, n)), "0", "0.5", "c"])}) * w` : "";
  const body = d.bool(0.2)
    ? `  const unused = at(x, ${at()});\n  let s = 0;\n  for (let i = ${start}; i < ${bound}; i++) s = s * 0.5 + ${read} * w;`
    : `  let s = 0;\n  for (let i = ${start}; i < ${bound}; i++) {\n    s = s * 0.5 + ${read} * w;\n  }`;
  const generics = symbolic ? "<T extends number>" : "";
  const src =
    H("at, grad, valueAndGrad, sum") +
    `export function model${generics}(x: Tensor<[${dim}]>, m: Tensor<[${dim}, 2]>, w: number, c: number): number {\n${body}\n  return s${extra};\n}\n` +
    `export const g = ${d.pick(["grad(model, { argnums: [0, 1, 2] })", "valueAndGrad(model, { argnums: [0, 2] })", "valueAndGrad(model, { argnums: [1] })"])};\n`;
  return { name: `index${index}`, source: src, family: `index:${symbolic ? "symbolic" : "static"}`, expect: "either", reference: true };
}

/** f32 and f64 tensors and numbers mixed in every kind of op. */
export function dtypeCase(d: Draw, index: number): Case {
  const binary = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"];
  const dt = (): string => (d.bool() ? ', "f32"' : "");
  const [da, db, dm] = [dt(), dt(), dt()];
  const op = d.pick(binary);
  const [l, r] = d.bool() ? ["a", "b"] : ["b", "a"];
  const second = d.pick([`sum(${d.pick(binary)}(a, ${d.pick(["0.5", "s", "sum(b)"])}))`, "sum(matmul(m, reshape(b, [3, 1])))", "sum(tanh(matmul(reshape(a, [1, 3]), m)))", "max(mul(b, s))", "logSumExp(mul(a, b))"]);
  const src =
    H("grad, valueAndGrad, add, sub, mul, div, maximum, minimum, pow, sum, max, tanh, matmul, reshape, logSumExp, sigmoid") +
    `export function model(a: Tensor<[3]${da}>, b: Tensor<[3]${db}>, m: Tensor<[3, 3]${dm}>, s: number): number {\n` +
    `  const u = sigmoid(${op}(${l}, ${r}));\n  return sum(mul(u, s)) + ${second};\n}\n` +
    `export const g = valueAndGrad(model, { argnums: ${d.pick(["[0, 1, 2, 3]", "[0, 1]", "[2]", "[1, 3]"])} });\n`;
  return { name: `dtype${index}`, source: src, family: "dtype:mixed", expect: "either", reference: true };
}

/** JavaScript operators and Math functions on tensors: gradc ops must be used instead. */
export function operatorCase(d: Draw, index: number): Case {
  const misuse = d.pick([
    "x * 2", "2 * x", "x + y", "x - 1", "x / y", "-x", "x ** 2", "Math.exp(x)", "Math.tanh(y)", "Math.max(x, 0)", "Math.abs(x)",
    "Math.pow(x, 2)", "Math.sqrt(x)", "x > 0 ? 1 : 0", "+x", "x * s", "s * y",
  ]);
  const use = d.pick([`sum(${misuse} as any)`, `sum(${misuse} as unknown as Tensor<[3]>)`, `(${misuse} as any)`, `sum(mul(${misuse} as any, y))`]);
  const src =
    H("grad, valueAndGrad, sum, mul") +
    `export function model(x: Tensor<[3]>, y: Tensor<[3]>, s: number): number {\n  return ${use} + s;\n}\n` +
    `export const g = valueAndGrad(model, { argnums: [0, 1, 2] });\n`;
  return { name: `operator${index}`, source: src, family: "operator:tensor", expect: "diagnose" };
}

/** Type aliases of tensor types, plain and generic, in parameters and pytrees. */
export function aliasCase(d: Draw, index: number): Case {
  const decls = [
    "type Vec3 = Tensor<[3]>;",
    "type Vec<N extends number> = Tensor<[N]>;",
    "type Mat<R extends number, C extends number, D extends \"f64\" | \"f32\" = \"f64\"> = Tensor<[R, C], D>;",
    "type Params = { w: Vec3; b: number };",
    "interface Layer { w: Mat<2, 3>; b: Vec<2> }",
    "type Pair = [Vec3, number];",
  ];
  const form = d.pick([
    ["p: Params, x: Vec3", "sum(mul(p.w, x)) + p.b"],
    ["x: Vec<3>, y: Vec3", "sum(mul(x, y))"],
    ["l: Layer, x: Vec<3>", "sum(add(matmul(l.w, reshape(x, [3, 1])), reshape(l.b, [2, 1])))"],
    ["q: Pair, x: Vec3", "sum(mul(q[0], x)) * q[1]"],
    ["m: Mat<2, 3>, x: Vec<3>", "sum(matmul(m, reshape(x, [3, 1])))"],
    ["m: Mat<2, 3, \"f32\">", "sum(square(m))"],
  ] as const);
  const src =
    H("grad, valueAndGrad, add, mul, sum, square, matmul, reshape") +
    `${decls.join("\n")}\nexport function model(${form[0]}): number {\n  return ${form[1]};\n}\n` +
    `export const g = ${d.pick(["grad(model)", "valueAndGrad(model)"])};\n`;
  return { name: `alias${index}`, source: src, family: "alias:type", expect: "either", mustAnswer: true };
}

/** Every way to export a grad binding and to import the transformation, known options or not. */
export function exportCase(d: Draw, index: number): Case {
  const model = "export function model(x: number, y: number): number {\n  return x * x * y + Math.sin(y);\n}\n";
  const [imports, call] = d.pick([
    ['import { grad, valueAndGrad } from "gradc";', "grad"],
    ['import { grad as differentiate } from "gradc";', "differentiate"],
    ['import { valueAndGrad as vg } from "gradc";', "vg"],
    ['import * as gc from "gradc";', "gc.grad"],
    ['import * as gc from "gradc";', "gc.valueAndGrad"],
    ['import { grad } from "gradc";\nconst mine = grad;', "mine"],
  ] as const);
  const options = d.pick(["", ", { argnums: [0, 1] }", ", { argnums: 1 }", ", { reuse: true }", ", { argnums: [0], unknown: 1 }", ", { hasAux: false }", ", {}"]);
  const binding = d.pick([
    `export const g = ${call}(model${options});`,
    `export default ${call}(model${options});`,
    `const g = ${call}(model${options});\nexport { g };`,
    `const g = ${call}(model${options});\nexport { g as renamed };`,
    `export const g = ${call}(model${options}), h = ${call}(model);`,
    `export let g = ${call}(model${options});`,
    `export const g = ${call}((x: number, y: number) => x * y${options});`,
  ]);
  return { name: `export${index}`, source: `${imports}\n${model}${binding}\n`, family: "export:form", expect: "either", mustAnswer: true };
}

/** The families above with their weights in the fuzz mix. */
export const CHECK_FAMILIES: readonly (readonly [number, (d: Draw, i: number) => Case])[] = [
  [10, indexCase],
  [8, dtypeCase],
  [4, operatorCase],
  [3, aliasCase],
  [4, exportCase],
];
