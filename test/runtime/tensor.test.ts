// Tensor constructors, the shared GradcError, and what the runtime may import.

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { GradcError, gradcErrorPrelude, ones, randn, tensor, zeros } from "../../runtime/index.js";

describe("constructors", () => {
  it("tensor infers the shape of nested arrays, row-major", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.data).toBeInstanceOf(Float64Array);
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("tensor takes typed arrays with an optional shape, copying them", () => {
    const src = new Float32Array([1, 2, 3, 4]);
    const t = tensor(src, [2, 2]);
    expect(t.shape).toEqual([2, 2]);
    expect(t.data).toBeInstanceOf(Float32Array);
    src[0] = 9;
    expect(t.data[0]).toBe(1);
    expect(tensor(new Float64Array([1, 2])).shape).toEqual([2]);
    expect(tensor([1, 2], [2, 1]).shape).toEqual([2, 1]);
    expect(tensor([1, 2], undefined, "f32").data).toBeInstanceOf(Float32Array);
  });

  it("tensor rejects ragged arrays and sizes that do not fit", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(GradcError);
    expect(() => tensor([[1, 2], [3, [4]]] as unknown as number[][])).toThrow(GradcError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
  });

  it("zeros and ones, f64 by default or f32", () => {
    const z = zeros([2, 3]);
    expect(z.shape).toEqual([2, 3]);
    expect([...z.data]).toEqual([0, 0, 0, 0, 0, 0]);
    const o = ones([3], "f32");
    expect(o.data).toBeInstanceOf(Float32Array);
    expect([...o.data]).toEqual([1, 1, 1]);
    expect(() => zeros([2, -1])).toThrow(GradcError);
  });

  it("randn is deterministic per seed and roughly standard normal", () => {
    const a = randn([1000], 42);
    const b = randn([1000], 42);
    const c = randn([1000], 43);
    expect([...a.data]).toEqual([...b.data]);
    expect([...a.data]).not.toEqual([...c.data]);
    const mean = a.data.reduce((s, x) => s + x, 0) / 1000;
    const variance = a.data.reduce((s, x) => s + (x - mean) ** 2, 0) / 1000;
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(Math.abs(variance - 1)).toBeLessThan(0.15);
    expect(randn([3, 3], 1, "f32").data).toBeInstanceOf(Float32Array);
    expect(randn([5], 7).data.every((x) => Number.isFinite(x))).toBe(true);
  });
});

describe("GradcError", () => {
  it("is an Error named GradcError", () => {
    const e = new GradcError("boom");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("GradcError");
    expect(e.message).toBe("boom");
  });

  it("is the class generated code gets from the prelude, so instanceof holds across them", () => {
    // A generated module runs the prelude in the same realm and throws its GradcError.
    const generated = new Function(`${gradcErrorPrelude()}\nreturn () => { throw new GradcError("from generated code"); };`)() as () => never;
    let caught: unknown;
    try {
      generated();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GradcError);
    expect((caught as Error).name).toBe("GradcError");
  });

  it("the prelude defines the class when no copy of gradc has (one line, standalone)", () => {
    const prelude = gradcErrorPrelude();
    expect(prelude.split("\n")).toHaveLength(1);
    const context = vm.createContext({});
    const result = vm.runInContext(`${prelude}\nconst e = new GradcError("x"); [e instanceof Error, e.name, globalThis[Symbol.for("gradc.GradcError")] === GradcError]`, context);
    expect(result).toEqual([true, "GradcError", true]);
  });
});

describe("the runtime ships without the compiler", () => {
  it("imports nothing but runtime/, compiler/ops/, the IR types, the message table and acorn", () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      // Comments may quote imports (`import { add } from "gradc"`); only code counts.
      const source = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      for (const m of source.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"|import\s*\(\s*"([^"]+)"\s*\)/g)) {
        const spec = m[1] ?? m[2]!;
        if (!spec.startsWith(".")) {
          if (spec !== "acorn") bad.push(`${file}: ${spec}`);
          continue;
        }
        const target = join(dirname(file), spec.replace(/\.js$/, ".ts"));
        const rel = target.slice(root.length + 1);
        // The message table is data: the fallback refuses with the compiler's codes and texts.
        if (!/^(runtime\/|compiler\/ops\/|compiler\/ir\/types\.ts$|compiler\/diagnostics\/messages\.ts$)/.test(rel)) bad.push(`${file}: ${spec}`);
        visit(target);
      }
    };
    for (const f of readdirSync(join(root, "runtime"))) if (f.endsWith(".ts")) visit(join(root, "runtime", f));
    expect(bad).toEqual([]);
  });
});
