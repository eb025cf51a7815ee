// Matrix-product kernels: C (M×N) = op(A)·op(B), or C += … when `acc` is non-zero, for the
// three forms reverse mode needs without transposed copies:
//   nn  C = A·B    A is M×K, B is K×N   (forward Y = X·W)
//   nt  C = A·Bᵀ   A is M×K, B is N×K   (dX = dY·Wᵀ)
//   tn  C = Aᵀ·B   A is K×M, B is K×N   (dW = Xᵀ·dY)
// All row-major, addresses in bytes. M, N and K are call arguments, so one kernel serves every
// size: blocked main loops run over the largest blocks that fit and remainder loops finish the
// edges, chosen at run time — a symbolic dimension costs nothing.
//
// Structure (per kernel), cache tiling on the outside, register blocking inside:
//   for each K tile of at most `kc` steps (256)
//     for each column tile of 1 KiB of B's row (256 f32 / 128 f64 columns)
//       for row blocks i (4 rows, then single rows)       the B panel (K tile × column tile)
//         for column blocks j (widest first, then 1)      stays in L2; the A block in L1
//           micro-kernel: accumulators in registers over the K tile, C read (accumulate, or
//           a later K tile) or not, and written once per K tile.
// nn/tn: register block 4 rows × 2 vectors (8 or 4 columns), one element of A splatted
// across a vector times a vector of B's row. nt: 4 rows of A × 2 rows of B, both walked along
// K in vectors, reduced across lanes at the end of the tile (plus a scalar K tail).
// Per C element the nn/tn products are added in K order, so f32 rounding is the one a
// sequential f32 loop gives; nt adds lane-wise partial sums.
//
// Row ranges (threads): `matmul_<v>_<p>_rows(c, a, b, m, n, k, acc, r0, r1)` computes only rows
// [r0, r1) of C (for tn, the columns r0…r1 of A: its row stride stays M). Each element's sum is
// formed the same way whichever block it falls in, so any split of the rows gives the whole
// product bit for bit. `matmul_<v>_<p>(…)` is the same call with the range [0, m).

import type { Expr, FunctionBuilder, Local, ModuleBuilder } from "./encoder.js";
import type { Precision } from "./precision.js";

export type Variant = "nn" | "nt" | "tn";
export const VARIANTS: readonly Variant[] = ["nn", "nt", "tn"];

/** Default K tile: 256 steps keep a 4-row A tile and an 8-column B panel within 32 KiB. */
export const DEFAULT_KC = 256;

export const MATMUL_PARAMS = [
  ["c", "i32"],
  ["a", "i32"],
  ["b", "i32"],
  ["m", "i32"],
  ["n", "i32"],
  ["k", "i32"],
  ["acc", "i32"],
] as const;

/** The kernel over a range of rows: the parameters above, then r0 and r1. */
export const MATMUL_ROWS_PARAMS = [...MATMUL_PARAMS, ["r0", "i32"], ["r1", "i32"]] as const;

export function matmulName(variant: Variant, p: Precision): string {
  return `matmul_${variant}_${p.name}`;
}

/** Suffix of a kernel's row-range variant (the host's parallel loop looks it up by name). */
export const ROWS_SUFFIX = "_rows";

export function addMatmul(mod: ModuleBuilder, variant: Variant, p: Precision, kc = DEFAULT_KC): void {
  const name = matmulName(variant, p);
  mod.func(name + ROWS_SUFFIX, MATMUL_ROWS_PARAMS, [], (f) => new MatmulWriter(f, variant, p, kc).write());
  mod.func(name, MATMUL_PARAMS, [], (f) => {
    f.comment(`${name}: every row, ${name}${ROWS_SUFFIX}(…, 0, m)`);
    f.call(name + ROWS_SUFFIX, ...MATMUL_PARAMS.map(([n]) => f.get(f.param(n))), f.i32(0), f.get(f.param("m")));
  });
}

const ROW_BLOCK = 4;
/** Column tile: 1 KiB of each B row (256 f32 or 128 f64 columns), so a K tile × column tile
 *  panel of B (256 KiB at most) stays in L2 while the row blocks sweep it. */
const NC_BYTES = 1024;

class MatmulWriter {
  private readonly c: Local;
  private readonly a: Local;
  private readonly b: Local;
  private readonly m: Local;
  private readonly n: Local;
  private readonly k: Local;
  private readonly acc: Local;
  private readonly r0: Local;
  private readonly r1: Local;
  private readonly i: Local;
  private readonly j: Local;
  private readonly jc: Local;
  private readonly je: Local;
  private readonly pc: Local;
  private readonly pe: Local;
  private readonly load: Local;
  private readonly count: Local;
  private readonly nb: Local; // n · bytes: row stride of B (nn, tn) and C
  private readonly kb: Local; // k · bytes: row stride of A (nn, nt) and of B (nt)
  private readonly mb: Local; // m · bytes: row stride of A (tn)
  private readonly cp: Local;
  private readonly pa: Local[];
  private readonly pb: Local[];
  private readonly vacc: Local[];
  private readonly sacc: Local[];
  private readonly va: Local;
  private readonly vb: Local[];
  private readonly sa: Local;
  private readonly sb: Local[];

  constructor(
    private readonly f: FunctionBuilder,
    private readonly variant: Variant,
    private readonly p: Precision,
    private readonly kc: number,
  ) {
    [this.c, this.a, this.b, this.m, this.n, this.k, this.acc, this.r0, this.r1] = MATMUL_ROWS_PARAMS.map(([name]) => f.param(name)) as
      [Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const i32 = (name: string): Local => f.local(name, "i32");
    this.i = i32("i");
    this.j = i32("j");
    this.jc = i32("jc");
    this.je = i32("je");
    this.pc = i32("pc");
    this.pe = i32("pe");
    this.load = i32("load");
    this.count = i32("count");
    this.nb = i32("nb");
    this.kb = i32("kb");
    this.mb = i32("mb");
    this.cp = i32("cp");
    this.pa = [0, 1, 2, 3].map((r) => i32(`pa${r}`));
    this.pb = [0, 1].map((c) => i32(`pb${c}`));
    this.vacc = [0, 1, 2, 3, 4, 5, 6, 7].map((x) => f.local(`acc${x}`, "v128"));
    this.va = f.local("va", "v128");
    this.vb = [0, 1].map((x) => f.local(`vb${x}`, "v128"));
    this.sacc = [0, 1, 2, 3, 4, 5, 6, 7].map((x) => f.local(`s${x}`, p.type));
    this.sa = f.local("sa", p.type);
    this.sb = [0, 1].map((x) => f.local(`sb${x}`, p.type));
  }

  write(): void {
    const { f, p } = this;
    const g = (l: Local): Expr => f.get(l);
    f.comment(`${matmulName(this.variant, p)}${ROWS_SUFFIX}: rows [r0, r1) of C = ${formula(this.variant)}, sizes at run time`);
    f.ifElse(f.op("i32.eqz", g(this.k)), () => {
      f.comment("K = 0: the product is zero");
      f.ifElse(f.op("i32.eqz", g(this.acc)), () => this.zeroFill());
      f.ret();
    });
    f.set(this.nb, f.op("i32.mul", g(this.n), f.i32(p.bytes)));
    f.set(this.kb, f.op("i32.mul", g(this.k), f.i32(p.bytes)));
    f.set(this.mb, f.op("i32.mul", g(this.m), f.i32(p.bytes)));
    f.set(this.pc, f.i32(0));
    f.doWhile(() => {
      f.comment(`K tile [pc, pe), at most ${this.kc} steps`);
      const next = f.op("i32.add", g(this.pc), f.i32(this.kc));
      f.set(this.pe, f.op("select", next, g(this.k), f.op("i32.lt_s", next, g(this.k))));
      f.set(this.load, f.op("i32.or", f.op("i32.ne", g(this.acc), f.i32(0)), f.op("i32.ne", g(this.pc), f.i32(0))));
      f.set(this.jc, f.i32(0));
      f.whileLoop(f.op("i32.lt_s", g(this.jc), g(this.n)), () => {
        const nc = NC_BYTES / p.bytes;
        f.comment(`column tile [jc, je), at most ${nc} columns`);
        const nextJ = f.op("i32.add", g(this.jc), f.i32(nc));
        f.set(this.je, f.op("select", nextJ, g(this.n), f.op("i32.lt_s", nextJ, g(this.n))));
        f.set(this.i, g(this.r0));
        for (const rows of [ROW_BLOCK, 1]) {
          f.comment(`row blocks of ${rows}`);
          f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(this.i), f.i32(rows)), g(this.r1)), () => {
            f.set(this.j, g(this.jc));
            for (const width of this.columnSteps()) {
              f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(this.j), f.i32(width)), g(this.je)), () => {
                if (this.variant === "nt") this.microNT(rows, width);
                else this.microNN(rows, width);
                f.bump(this.j, width);
              });
            }
            f.bump(this.i, rows);
          });
        }
        f.set(this.jc, g(this.je));
      });
      f.set(this.pc, g(this.pe));
    }, f.op("i32.lt_s", g(this.pc), g(this.k)));
  }

  /** Widths of the column blocks, widest first; the last is 1 so every column is covered. */
  private columnSteps(): number[] {
    return this.variant === "nt" ? [2, 1] : [2 * this.p.lanes, this.p.lanes, 1];
  }

  /** Rows [r0, r1) of C set to zero. */
  private zeroFill(): void {
    const { f, p } = this;
    const end = this.cp;
    const rowAt = (r: Local): Expr => f.op("i32.add", f.get(this.c), f.op("i32.mul", f.op("i32.mul", f.get(r), f.get(this.n)), f.i32(p.bytes)));
    f.set(end, rowAt(this.r1));
    f.set(this.pa[0]!, rowAt(this.r0));
    f.whileLoop(f.op("i32.lt_u", f.get(this.pa[0]!), f.get(end)), () => {
      f.store(p.store, f.get(this.pa[0]!), p.name === "f32" ? f.f32(0) : f.f64(0));
      f.bump(this.pa[0]!, p.bytes);
    });
  }

  /** Address of C row `r` of the block: cp + r·nb. */
  private cRow(r: number): Expr {
    const { f } = this;
    return r === 0 ? f.get(this.cp) : f.op("i32.add", f.get(this.cp), f.op("i32.mul", f.get(this.nb), f.i32(r)));
  }

  private setBlockOrigin(): void {
    const { f, p } = this;
    // cp = c + i·nb + j·bytes
    f.set(this.cp, f.op("i32.add", f.get(this.c),
      f.op("i32.add", f.op("i32.mul", f.get(this.i), f.get(this.nb)), f.op("i32.mul", f.get(this.j), f.i32(p.bytes)))));
  }

  /** nn and tn: rows × width block, A splatted per row, B's row read in vectors. */
  private microNN(rows: number, width: number): void {
    const { f, p } = this;
    const g = (l: Local): Expr => f.get(l);
    const vectors = width === 1 ? 0 : width / p.lanes;
    const cols = Math.max(vectors, 1);
    const accOf = (r: number, v: number): Local => (vectors ? this.vacc : this.sacc)[r * cols + v]!;
    const pcBytes = f.op("i32.mul", g(this.pc), f.i32(p.bytes));
    this.setBlockOrigin();
    if (this.variant === "nn") {
      // pa_r = a + (i + r)·kb + pc·bytes
      f.set(this.pa[0]!, f.op("i32.add", g(this.a), f.op("i32.add", f.op("i32.mul", g(this.i), g(this.kb)), pcBytes)));
      for (let r = 1; r < rows; r++) f.set(this.pa[r]!, f.op("i32.add", g(this.pa[r - 1]!), g(this.kb)));
    } else {
      // pa = a + pc·mb + i·bytes; row r of the block is at offset r·bytes
      f.set(this.pa[0]!, f.op("i32.add", g(this.a),
        f.op("i32.add", f.op("i32.mul", g(this.pc), g(this.mb)), f.op("i32.mul", g(this.i), f.i32(p.bytes)))));
    }
    // pb = b + pc·nb + j·bytes
    f.set(this.pb[0]!, f.op("i32.add", g(this.b),
      f.op("i32.add", f.op("i32.mul", g(this.pc), g(this.nb)), f.op("i32.mul", g(this.j), f.i32(p.bytes)))));
    f.ifElse(g(this.load), () => {
      for (let r = 0; r < rows; r++) {
        for (let v = 0; v < cols; v++) {
          f.set(accOf(r, v), f.load(vectors ? "v128.load" : p.load, this.cRow(r), v * 16));
        }
      }
    }, () => {
      for (let r = 0; r < rows; r++) {
        for (let v = 0; v < cols; v++) f.set(accOf(r, v), vectors ? f.zero128() : p.name === "f32" ? f.f32(0) : f.f64(0));
      }
    });
    f.set(this.count, f.op("i32.sub", g(this.pe), g(this.pc)));
    f.doWhile(() => {
      const bv = vectors ? this.vb : this.sb;
      for (let v = 0; v < cols; v++) f.set(bv[v]!, f.load(vectors ? "v128.load" : p.load, g(this.pb[0]!), v * 16));
      for (let r = 0; r < rows; r++) {
        const aAddr = this.variant === "nn" ? g(this.pa[r]!) : g(this.pa[0]!);
        const aOffset = this.variant === "nn" ? 0 : r * p.bytes;
        const av = vectors ? this.va : this.sa;
        f.set(av, f.load(vectors ? p.loadSplat : p.load, aAddr, aOffset));
        for (let v = 0; v < cols; v++) {
          const add = vectors ? p.vadd : p.add;
          const mul = vectors ? p.vmul : p.mul;
          f.set(accOf(r, v), f.op(add, g(accOf(r, v)), f.op(mul, g(av), g(bv[v]!))));
        }
      }
      if (this.variant === "nn") for (let r = 0; r < rows; r++) f.bump(this.pa[r]!, p.bytes);
      else f.bump(this.pa[0]!, g(this.mb));
      f.bump(this.pb[0]!, g(this.nb));
      f.set(this.count, f.op("i32.sub", g(this.count), f.i32(1)));
    }, g(this.count));
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < cols; v++) f.store(vectors ? "v128.store" : p.store, this.cRow(r), g(accOf(r, v)), v * 16);
    }
  }

  /** nt: rows of A × cols rows of B, dot products along K in vectors, then lanes summed. */
  private microNT(rows: number, cols: number): void {
    const { f, p } = this;
    const g = (l: Local): Expr => f.get(l);
    const pcBytes = f.op("i32.mul", g(this.pc), f.i32(p.bytes));
    const at = (r: number, c: number): number => r * cols + c;
    this.setBlockOrigin();
    f.set(this.pa[0]!, f.op("i32.add", g(this.a), f.op("i32.add", f.op("i32.mul", g(this.i), g(this.kb)), pcBytes)));
    for (let r = 1; r < rows; r++) f.set(this.pa[r]!, f.op("i32.add", g(this.pa[r - 1]!), g(this.kb)));
    f.set(this.pb[0]!, f.op("i32.add", g(this.b), f.op("i32.add", f.op("i32.mul", g(this.j), g(this.kb)), pcBytes)));
    for (let c = 1; c < cols; c++) f.set(this.pb[c]!, f.op("i32.add", g(this.pb[c - 1]!), g(this.kb)));
    for (let x = 0; x < rows * cols; x++) f.set(this.vacc[x]!, f.zero128());
    f.set(this.count, f.op("i32.sub", g(this.pe), g(this.pc)));
    const bumpAll = (by: number): void => {
      for (let r = 0; r < rows; r++) f.bump(this.pa[r]!, by);
      for (let c = 0; c < cols; c++) f.bump(this.pb[c]!, by);
    };
    f.whileLoop(f.op("i32.ge_s", g(this.count), f.i32(p.lanes)), () => {
      for (let c = 0; c < cols; c++) f.set(this.vb[c]!, f.load("v128.load", g(this.pb[c]!)));
      for (let r = 0; r < rows; r++) {
        f.set(this.va, f.load("v128.load", g(this.pa[r]!)));
        for (let c = 0; c < cols; c++) {
          const acc = this.vacc[at(r, c)]!;
          f.set(acc, f.op(p.vadd, g(acc), f.op(p.vmul, g(this.va), g(this.vb[c]!))));
        }
      }
      bumpAll(16);
      f.set(this.count, f.op("i32.sub", g(this.count), f.i32(p.lanes)));
    });
    f.comment("sum the lanes, then the K tail one element at a time");
    for (let x = 0; x < rows * cols; x++) {
      const lane = (l: number): Expr => f.lane(p.extract, l, g(this.vacc[x]!));
      const sum = p.lanes === 4
        ? f.op(p.add, f.op(p.add, lane(0), lane(1)), f.op(p.add, lane(2), lane(3)))
        : f.op(p.add, lane(0), lane(1));
      f.set(this.sacc[x]!, sum);
    }
    f.whileLoop(g(this.count), () => {
      for (let c = 0; c < cols; c++) f.set(this.sb[c]!, f.load(p.load, g(this.pb[c]!)));
      for (let r = 0; r < rows; r++) {
        f.set(this.sa, f.load(p.load, g(this.pa[r]!)));
        for (let c = 0; c < cols; c++) {
          const s = this.sacc[at(r, c)]!;
          f.set(s, f.op(p.add, g(s), f.op(p.mul, g(this.sa), g(this.sb[c]!))));
        }
      }
      bumpAll(p.bytes);
      f.set(this.count, f.op("i32.sub", g(this.count), f.i32(1)));
    });
    f.ifElse(g(this.load), () => {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const s = this.sacc[at(r, c)]!;
          f.set(s, f.op(p.add, f.load(p.load, this.cRow(r), c * p.bytes), g(s)));
        }
      }
    });
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) f.store(p.store, this.cRow(r), g(this.sacc[at(r, c)]!), c * p.bytes);
    }
  }
}

function formula(v: Variant): string {
  return v === "nn" ? "A·B" : v === "nt" ? "A·Bᵀ" : "Aᵀ·B";
}
