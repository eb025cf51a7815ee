// The encoder: LEB128 against the values worked in the WebAssembly specification's examples and
// by hand, instruction bytes, modules that WA.validate accepts and that compute what
// they say, and the text listing.

import { describe, expect, it } from "vitest";
import { signedLeb, unsignedLeb } from "../../compiler/wasm/bytes.js";
import { ModuleBuilder, type Local } from "../../compiler/wasm/encoder.js";
import { buildKernelModule } from "../../compiler/wasm/module.js";
import { OPCODES } from "../../compiler/wasm/opcodes.js";
import { instantiateSync, WA, type WasmMemory } from "../../compiler/wasm/webassembly.js";

describe("LEB128", () => {
  it("encodes unsigned integers", () => {
    expect(unsignedLeb(0)).toEqual([0x00]);
    expect(unsignedLeb(127)).toEqual([0x7f]);
    expect(unsignedLeb(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(unsignedLeb(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => unsignedLeb(-1)).toThrow(RangeError);
  });

  it("encodes signed integers", () => {
    expect(signedLeb(0)).toEqual([0x00]);
    expect(signedLeb(63)).toEqual([0x3f]);
    expect(signedLeb(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb(-1)).toEqual([0x7f]);
    expect(signedLeb(-64)).toEqual([0x40]);
    expect(signedLeb(-65)).toEqual([0xbf, 0x7f]);
    expect(signedLeb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });
});

describe("opcodes", () => {
  it("prefixes SIMD instructions with 0xFD and a LEB128 opcode", () => {
    expect(OPCODES["v128.load"].bytes).toEqual([0xfd, 0x00]);
    expect(OPCODES["v128.store"].bytes).toEqual([0xfd, 0x0b]);
    expect(OPCODES["f32x4.add"].bytes).toEqual([0xfd, 0xe4, 0x01]);
    expect(OPCODES["f64x2.mul"].bytes).toEqual([0xfd, 0xf2, 0x01]);
    expect(OPCODES["i32.add"].bytes).toEqual([0x6a]);
  });
});

/** A one-function module over an exported memory. */
function single(build: (m: ModuleBuilder) => void): Record<string, unknown> {
  const m = new ModuleBuilder({ kind: "export", name: "memory", min: 1 });
  build(m);
  const bytes = m.encode();
  expect(WA.validate(bytes)).toBe(true);
  return new WA.Instance(new WA.Module(bytes), {}).exports;
}

describe("modules", () => {
  it("computes with locals, loops and constants (sum of 1..n, negative constants)", () => {
    const ex = single((m) =>
      m.func("sum", [["n", "i32"]], ["i32"], (f) => {
        const n = f.param("n");
        const i = f.local("i", "i32");
        const s = f.local("s", "i32");
        f.set(s, f.i32(-1000));
        f.set(i, f.i32(1));
        f.whileLoop(f.op("i32.le_s", f.get(i), f.get(n)), () => {
          f.bump(s, f.get(i));
          f.bump(i, 1);
        });
        f.emit(f.get(s));
      }),
    );
    expect((ex["sum"] as (n: number) => number)(100)).toBe(5050 - 1000);
    expect((ex["sum"] as (n: number) => number)(0)).toBe(-1000);
  });

  it("writes SIMD through the exported memory (f32x4 splat-multiply-add, lane extraction)", () => {
    const ex = single((m) =>
      m.func("axpy", [["y", "i32"], ["x", "i32"], ["a", "f32"]], ["f32"], (f) => {
        const [y, x, a] = ["y", "x", "a"].map((n) => f.param(n)) as [Local, Local, Local];
        const r = f.op("f32x4.add", f.load("v128.load", f.get(y)), f.op("f32x4.mul", f.op("f32x4.splat", f.get(a)), f.load("v128.load", f.get(x))));
        f.store("v128.store", f.get(y), r);
        f.emit(f.lane("f32x4.extract_lane", 3, f.load("v128.load", f.get(y))));
      }),
    );
    const mem = new Float32Array((ex["memory"] as WasmMemory).buffer);
    mem.set([1, 2, 3, 4], 4); // y at byte 16
    mem.set([10, 20, 30, 40], 8); // x at byte 32
    const last = (ex["axpy"] as (y: number, x: number, a: number) => number)(16, 32, 0.5);
    expect(Array.from(mem.subarray(4, 8))).toEqual([6, 12, 18, 24]);
    expect(last).toBe(24);
  });

  it("shares one type between functions of the same signature", () => {
    const m = new ModuleBuilder({ kind: "import", module: "env", name: "memory", min: 1 });
    for (const name of ["f", "g"]) m.func(name, [["x", "f64"]], ["f64"], (f) => f.emit(f.op("f64.add", f.get(f.param("x")), f.f64(1.5))));
    const bytes = m.encode();
    // type section: id 1, size 6, one type: 0x60, (f64) → (f64)
    expect(Array.from(bytes.subarray(8, 16))).toEqual([0x01, 0x06, 0x01, 0x60, 0x01, 0x7c, 0x01, 0x7c]);
    const ex = instantiateSync(bytes, new WA.Memory({ initial: 1 })).exports;
    expect((ex["g"] as (x: number) => number)(2)).toBe(3.5);
  });

  it("imports a shared memory (for workers) and refuses one without a maximum", () => {
    const m = new ModuleBuilder({ kind: "import", module: "env", name: "memory", min: 1, max: 4, shared: true });
    m.func("noop", [], [], () => {});
    expect(WA.validate(m.encode())).toBe(true);
    expect(() => new ModuleBuilder({ kind: "import", module: "env", name: "memory", min: 1, shared: true })).toThrow(/maximum/);
  });

  it("refuses unbalanced blocks", () => {
    const m = new ModuleBuilder({ kind: "export", name: "memory", min: 1 });
    m.func("bad", [], [], (f) => f.instr({ op: "block", blockType: null }));
    expect(() => m.encode()).toThrow(/unbalanced/);
  });
});

describe("the kernel module", () => {
  it("validates, in every configuration", () => {
    for (const options of [{}, { kc: 5 }, { shared: true, maxPages: 256 }, { minPages: 17 }]) {
      expect(WA.validate(buildKernelModule(options).bytes)).toBe(true);
    }
  });

  it("lists what it encoded: imports, exports, named locals, SIMD with offsets", () => {
    const { text, exports } = buildKernelModule({ minPages: 3 });
    expect(text.startsWith('(module\n  (import "env" "memory" (memory 3))\n')).toBe(true);
    expect(exports).toContain("matmul_tn_f64");
    expect(text).toContain('(func $matmul_nn_f32 (export "matmul_nn_f32") (param $c i32) (param $a i32) (param $b i32) (param $m i32) (param $n i32) (param $k i32) (param $acc i32)');
    expect(text).toContain("    (local $acc0 v128)");
    expect(text).toMatch(/\n +v128\.load offset=16\n/);
    expect(text).toMatch(/\n +v128\.load32_splat\n/);
    expect(text).toMatch(/\n +f64x2\.add\n/);
    expect(text).toContain(";; matmul_nt_f32_rows: rows [r0, r1) of C = A·Bᵀ, sizes at run time");
    // Every function is closed and the listing ends the module.
    expect(text.match(/\n  \(func /g)!.length).toBe(exports.length);
    expect(text.endsWith("  )\n)\n")).toBe(true);
  });

  it("is byte-stable: two builds give the same bytes", () => {
    expect(buildKernelModule().bytes).toEqual(buildKernelModule().bytes);
  });
});
