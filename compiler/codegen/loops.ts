// Kernels with loop nests of their own, written against a narrow view of the function emitter
// (LoopWriter): batched matmul, any-rank transpose, concat, slice and its adjoint pad here,
// convolution and pooling in windows.ts. Every kernel is one block `{ … }` whose counters
// start with `$`, so they never meet the names of the user's values or of other kernels.

import type { Dim, Node, Value } from "../ir/types.js";
import { matmulDims } from "../ops/linalg.js";
import { permOf } from "../ops/movement.js";
import { CodegenError } from "./errors.js";
import { emitBatchedMatmul } from "./wasm-batched.js";
import { WINDOW_KERNELS } from "./windows.js";

/** What a loop kernel may use of the function emitter. */
export interface LoopWriter {
  line(text: string): void;
  nested(body: () => void): void;
  /** Declares the storage of a node's result (fresh, a planned buffer, or a reused result). */
  allocate(out: Value): string;
  /** The array holding a stored tensor value. */
  buf(v: Value): string;
  /** An element read, `a[i]` (`a[i]!` in TypeScript). */
  read(array: string, index: string): string;
  /** `!` in generated TypeScript before a compound assignment to an element. */
  readonly bang: string;
  /** A dimension as JS text (a number or the variable holding a symbolic one). */
  dim(d: Dim): string;
  /** The product of dimensions as JS text, constants folded. */
  size(shape: readonly Dim[]): string;
  /** Where heavy kernels run, and from how many multiply-adds WebAssembly pays (wasm-backend.ts). */
  readonly backend: "js" | "wasm";
  readonly wasmMinWork: number;
}

export type LoopKernel = (w: LoopWriter, node: Node) => void;

/** Counter and temporary names of the loop kernels: reserved in every function with tensors. */
export const LOOP_KERNEL_NAMES = ["$n", "$o", "$c", "$u", "$v", "$y", "$z", "$z0", "$z1", "$i", "$j", "$p", "$k", "$s", "$t", "$a", "$b", "$at", "$best", "$xr", "$yr", "$yo", "$wv", "$iy", "$ao", "$bo", "$co",
  ...Array.from({ length: 8 }, (_x, k) => `$d${k}`),
  ...[0, 1, 2, 3].flatMap((r) => [`$a${r}`, `$b${r}`, ...[0, 1, 2, 3].map((c) => `$c${r}${c}`)]),
];

/** Opens `for` loops over `dims` with counters `$d0…`, runs `body`, closes them. */
export function nest(w: LoopWriter, dims: readonly string[], body: (cs: string[]) => void): void {
  const cs = dims.map((_d, k) => `$d${k}`);
  const open = (k: number): void => {
    if (k === dims.length) return body(cs);
    w.line(`for (let ${cs[k]} = 0; ${cs[k]} < ${dims[k]}; ${cs[k]}++) {`);
    w.nested(() => open(k + 1));
    w.line("}");
  };
  open(0);
}

/** Row-major flat index of counters `cs` plus `offsets` in a tensor of shape `shape`. */
function flatIndex(w: LoopWriter, shape: readonly Dim[], cs: readonly string[], offsets?: readonly Dim[]): string {
  const terms = shape.map((_d, k) => {
    const off = offsets?.[k];
    const coord = off === undefined || off === 0 ? cs[k]! : `(${cs[k]} + ${w.dim(off)})`;
    const stride = w.size(shape.slice(k + 1));
    return stride === "1" ? coord : `${coord} * ${stride}`;
  });
  return terms.length === 0 ? "0" : terms.join(" + ");
}

const block = (w: LoopWriter, body: () => void): void => {
  w.line("{");
  w.nested(body);
  w.line("}");
};

/** `[..., M, K] · [..., K, N]`: large ones as WebAssembly kernels (wasm-batched.ts), else the loops below. */
const batchedMatmul: LoopKernel = (w, node) => {
  const C = w.allocate(node.outs[0]!);
  emitBatchedMatmul(w, node, C, () => batchedLoops(w, node, C));
};

/** Per batch entry an i-p-j product (rows of B and C contiguous), or 4×4 register blocks. */
function batchedLoops(w: LoopWriter, node: Node, C: string): void {
  const [A, B] = node.args as [Value, Value];
  const ta = node.attrs["ta"] === true;
  const tb = node.attrs["tb"] === true;
  const { batch, m, k, n } = matmulDims(A.type.shape, B.type.shape, node.attrs);
  const [M, K, N] = [w.dim(m), w.dim(k), w.dim(n)];
  const a = w.buf(A);
  const b = w.buf(B);
  /** The offset of a batch entry in an operand whose batch dims broadcast against `batch`. */
  const offset = (shape: readonly Dim[], cs: readonly string[], matrix: string): string => {
    const own = shape.slice(0, -2);
    const lead = batch.length - own.length;
    const terms: string[] = [];
    own.forEach((d, j) => {
      if (d === 1) return;
      const stride = w.size(own.slice(j + 1));
      terms.push(stride === "1" ? cs[j + lead]! : `${cs[j + lead]} * ${stride}`);
    });
    return terms.length === 0 ? "0" : `(${terms.join(" + ")}) * ${matrix}`;
  };
  block(w, () => {
    w.line("let $co = 0;");
    nest(w, batch.map((d) => w.dim(d)), (cs) => {
      w.line(`const $ao = ${offset(A.type.shape, cs, `${M} * ${K}`)};`);
      w.line(`const $bo = ${offset(B.type.shape, cs, `${K} * ${N}`)};`);
      const aAt = ta ? w.read(a, `$ao + $p * ${M} + $i`) : w.read(a, `$ao + $i * ${K} + $p`);
      if (/^\d+$/.test(M) && /^\d+$/.test(N) && Number(M) % 4 === 0 && Number(N) % 4 === 0 && K !== "1") {
        // 4×4 register blocks, as for 2-D products (matmul.ts): sixteen accumulators, C written once.
        const R = [0, 1, 2, 3];
        const aRead = (r: number): string => (ta ? w.read(a, `$ao + $p * ${M} + $i + ${r}`) : w.read(a, `$ao + ($i + ${r}) * ${K} + $p`));
        const bRead = (c: number): string => (tb ? w.read(b, `$bo + ($j + ${c}) * ${K} + $p`) : w.read(b, `$bo + $p * ${N} + $j + ${c}`));
        w.line(`for (let $i = 0; $i < ${M}; $i += 4) {`);
        w.nested(() => {
          w.line(`for (let $j = 0; $j < ${N}; $j += 4) {`);
          w.nested(() => {
            w.line(`let ${R.flatMap((r) => R.map((c) => `$c${r}${c} = 0`)).join(", ")};`);
            w.line(`for (let $p = 0; $p < ${K}; $p++) {`);
            w.nested(() => {
              w.line(`const ${R.map((r) => `$a${r} = ${aRead(r)}`).join(", ")};`);
              w.line(`const ${R.map((c) => `$b${c} = ${bRead(c)}`).join(", ")};`);
              R.forEach((r) => w.line(R.map((c) => `$c${r}${c} += $a${r} * $b${c};`).join(" ")));
            });
            w.line("}");
            R.forEach((r) => w.line(`{ const $o = $co + ($i + ${r}) * ${N} + $j; ${R.map((c) => `${C}[$o + ${c}] = $c${r}${c};`).join(" ")} }`));
          });
          w.line("}");
        });
        w.line("}");
        w.line(`$co += ${M} * ${N};`);
        return;
      }
      w.line(`for (let $i = 0; $i < ${M}; $i++, $co += ${N}) {`);
      w.nested(() => {
        if (tb) {
          w.line(`for (let $j = 0; $j < ${N}; $j++) {`);
          w.nested(() => {
            w.line("let $s = 0;");
            w.line(`for (let $p = 0; $p < ${K}; $p++) $s += ${aAt} * ${w.read(b, `$bo + $j * ${K} + $p`)};`);
            w.line(`${C}[$co + $j] = $s;`);
          });
          w.line("}");
          return;
        }
        w.line(`for (let $j = 0; $j < ${N}; $j++) ${C}[$co + $j] = 0;`);
        w.line(`for (let $p = 0; $p < ${K}; $p++) {`);
        w.nested(() => {
          w.line(`const $a = ${aAt};`);
          w.line(`const $b = $bo + $p * ${N};`);
          w.line(`for (let $j = 0; $j < ${N}; $j++) ${C}[$co + $j]${w.bang} += $a * ${w.read(b, "$b + $j")};`);
        });
        w.line("}");
      });
      w.line("}");
    });
  });
}

/** Any permutation of the axes: the result walked row-major, x read through permuted strides. */
const transposeAny: LoopKernel = (w, node) => {
  const x = node.args[0]!;
  const shape = x.type.shape;
  const perm = permOf(node.attrs, shape.length);
  const target = w.allocate(node.outs[0]!);
  block(w, () => {
    w.line("let $o = 0;");
    nest(w, perm.map((a) => w.dim(shape[a]!)), (cs) => {
      const index = perm
        .map((a, k) => {
          const stride = w.size(shape.slice(a + 1));
          return stride === "1" ? cs[k]! : `${cs[k]} * ${stride}`;
        })
        .join(" + ");
      w.line(`${target}[$o++] = ${w.read(w.buf(x), index)};`);
    });
  });
};

/** Operands copied row by row: rows are the axes before `axis`, each operand a run of each row. */
const concat: LoopKernel = (w, node) => {
  const axis = node.attrs["axis"] as number;
  const out = node.outs[0]!;
  const target = w.allocate(out);
  const rows = w.size(out.type.shape.slice(0, axis));
  const rowOut = w.size(out.type.shape.slice(axis));
  const rest = out.type.shape.slice(axis + 1);
  let at = 0;
  block(w, () => {
    for (const x of node.args) {
      const run = w.size(x.type.shape.slice(axis));
      const start = at === 0 ? "" : ` + ${w.size([at, ...rest])}`;
      w.line(`for (let $i = 0; $i < ${rows}; $i++) for (let $j = 0; $j < ${run}; $j++) ${target}[$i * ${rowOut}${start} + $j] = ${w.read(w.buf(x), `$i * ${run} + $j`)};`);
      at += x.type.shape[axis] as number;
    }
  });
};

const slice: LoopKernel = (w, node) => {
  const x = node.args[0]!;
  const out = node.outs[0]!;
  const target = w.allocate(out);
  block(w, () => {
    w.line("let $o = 0;");
    nest(w, out.type.shape.map((d) => w.dim(d)), (cs) =>
      w.line(`${target}[$o++] = ${w.read(w.buf(x), flatIndex(w, x.type.shape, cs, node.attrs["start"] as readonly Dim[]))};`),
    );
  });
};

const pad: LoopKernel = (w, node) => {
  const x = node.args[0]!;
  const out = node.outs[0]!;
  const target = w.allocate(out);
  w.line(`${target}.fill(0);`);
  block(w, () => {
    w.line("let $i = 0;");
    nest(w, x.type.shape.map((d) => w.dim(d)), (cs) =>
      w.line(`${target}[${flatIndex(w, out.type.shape, cs, node.attrs["start"] as readonly Dim[])}] = ${w.read(w.buf(x), "$i++")};`),
    );
  });
};

const KERNELS: Readonly<Record<string, LoopKernel>> = {
  matmul: batchedMatmul,
  transpose: transposeAny,
  concat,
  slice,
  pad,
  ...WINDOW_KERNELS,
};

/** Emits the loop kernel of `node`'s op. */
export function emitLoops(w: LoopWriter, node: Node): void {
  const kernel = Object.hasOwn(KERNELS, node.op) ? KERNELS[node.op] : undefined;
  if (!kernel) throw new CodegenError(`${node.op} has no loop kernel`);
  kernel(w, node);
}
