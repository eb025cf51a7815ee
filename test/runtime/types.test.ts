// Shapes and dtypes in the types: a snippet of user code is type-checked against the runtime's
// declarations. Lines marked @ts-expect-error must fail; everything else must pass.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Project } from "ts-morph";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

const snippet = `
import { type Tensor, abs, add, grad, logSumExp, matmul, max, mean, mul, ones, randn, relu, reshape, sigmoid,
  softmax, sub, sum, tensor, transpose, valueAndGrad, zeros } from "../../runtime/index.js";

const a = zeros([2, 3]);
const a1: Tensor<[2, 3]> = a;
const b: Tensor<[3, 4]> = ones([3, 4]);
const c: Tensor<[2, 4]> = matmul(a, b);
const f32: Tensor<[2, 3], "f32"> = zeros([2, 3], "f32");
const unaryKeepsShapeAndDtype: Tensor<[2, 3], "f32"> = relu(sigmoid(abs(f32)));
const withNumber: Tensor<[2, 3], "f32"> = add(f32, 1);
const numberFirst: Tensor<[2, 3], "f32"> = sub(1, f32);
const scalars: number = mul(2, 3);
const all: number = sum(a);
const perAxis: Tensor<[2]> = sum(a, 1);
const kept: Tensor<[2, 1]> = sum(a, -1, true);
const first: Tensor<[3]> = max(a, 0);
const toNumber: number = sum(tensor([1, 2, 3]), 0);
const m: Tensor<[1, 3]> = mean(a, 0, true);
const lse: number = logSumExp(a);
const t: Tensor<[3, 2]> = transpose(a);
const r: Tensor<[6]> = reshape(a, [6]);
const s: Tensor<[2, 3]> = softmax(a);
const nested: Tensor<[2, 2]> = tensor([[1, 2], [3, 4]]);
const seeded: Tensor<[4, 5], "f32"> = randn([4, 5], 1, "f32");
const broadcast: Tensor<number[]> = add(zeros([2, 1]), zeros([1, 3]));

function symbolic<B extends number>(x: Tensor<[B, 4]>, w: Tensor<[4, 8]>): Tensor<[B, 8]> {
  return matmul(x, w);
}

const g0 = grad((w: Tensor<[3]>, x: number) => sum(mul(w, x)));
const dw: Tensor<[3]> = g0(zeros([3]), 2);
const g1 = grad((w: Tensor<[3]>, x: number) => sum(mul(w, x)), { argnums: 1 });
const dx: number = g1(zeros([3]), 2);
const g2 = grad((w: Tensor<[3]>, x: number) => sum(mul(w, x)), { argnums: [0, 1] });
const both: [Tensor<[3]>, number] = g2(zeros([3]), 2);
const vg = valueAndGrad((p: { w: Tensor<[3]>; b: number }) => sum(p.w) + p.b);
const [value, dp]: [number, { w: Tensor<[3]>; b: number }] = vg({ w: zeros([3]), b: 1 });
const auxFn = (w: Tensor<[3]>, x: number) => [sum(mul(w, x)), { y: mul(w, x), n: x }] as const;
const va = valueAndGrad(auxFn, { hasAux: true });
const [[auxLoss, aux], auxGrad]: [[number, { readonly y: Tensor<[3]>; readonly n: number }], Tensor<[3]>] = va(zeros([3]), 2);
const ga = grad(auxFn, { argnums: [0, 1], hasAux: true, reuse: true });
const [[gw, gx], gaux]: [[Tensor<[3]>, number], { readonly y: Tensor<[3]>; readonly n: number }] = ga(zeros([3]), 2);
const reused: [number, Tensor<[3]>] = valueAndGrad((w: Tensor<[3]>) => sum(w), { reuse: true })(zeros([3]));

// @ts-expect-error inner dimensions differ
matmul(a, a);
// @ts-expect-error elementwise ops keep the shape
const wrongShape: Tensor<[3, 2]> = add(a, a);
// @ts-expect-error f32 stays f32
const wrongDtype: Tensor<[2, 3]> = add(f32, 1);
// @ts-expect-error a reduction over everything is a number
const notATensor: Tensor<[1]> = sum(a);
// @ts-expect-error gradients have the parameter's type
const wrongGrad: number = g0(zeros([3]), 2);
// @ts-expect-error a function returning [loss, aux] needs hasAux
valueAndGrad(auxFn);
// @ts-expect-error with hasAux the function returns a pair
grad((w: Tensor<[3]>) => sum(w), { hasAux: true });
// @ts-expect-error with hasAux the value comes with aux
const noAux: [number, Tensor<[3]>] = va(zeros([3]), 2);
`;

it("keeps shapes and dtypes in the types", () => {
  const project = new Project({ tsConfigFilePath: join(here, "../../tsconfig.json"), skipAddingFilesFromTsConfig: true });
  const file = project.createSourceFile(join(here, "__types_snippet.ts"), snippet, { overwrite: true });
  const messages = file.getPreEmitDiagnostics().map((d) => `line ${d.getLineNumber()}: ${String(d.getMessageText())}`);
  expect(messages).toEqual([]);
}, 120_000);
