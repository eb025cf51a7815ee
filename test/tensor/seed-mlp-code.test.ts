// The shape of the code generated for the seed's MLP (test/fixtures/seed-mlp): the elementwise
// chains are single loops, matrix products read memory contiguously in their inner loops, and
// the only per-call allocations are the two returned gradients.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compile } from "../../compiler/program.js";

const fixture = join(__dirname, "..", "fixtures", "seed-mlp", "input.ts");
const code = compile([fixture], { emit: "js" }).modules[0]!.code;
const body = code.slice(code.indexOf("export function lossGrad")).split("\n");

describe("generated code for the seed MLP", () => {
  test("allocates only the gradients it returns", () => {
    // One ArrayBuffer per call, viewed as the two gradients.
    expect(body.filter((l) => l.includes("new ArrayBuffer"))).toEqual(["  const $gradc_out_f64 = new ArrayBuffer(8 * (16 + 64));"]);
    const views = body.filter((l) => l.includes("new Float64Array"));
    expect(views.map((l) => l.trim().split(" ")[1])).toEqual(["dp_W2", "dp_W1"]);
    views.forEach((l) => expect(l).toContain("new Float64Array($gradc_out_f64, "));
    expect(code).toMatch(/return \[out, \{ W1: \{ shape: \[16, 4\], data: dp_W1 \}, W2: \{ shape: \[1, 16\], data: dp_W2 \} \}\];/);
    // Intermediates are module-level buffers, allocated once at load.
    expect(code.slice(0, code.indexOf("export function"))).toMatch(/const \$gradc_lossGrad_b0 = new Float64Array\(16\);/);
  });

  test("the sigmoid and its backward are one fused loop each, reusing σ", () => {
    const forward = body.filter((l) => /\[i\] = 1 \/ \(1 \+ Math\.exp\(-.*\[i\]\)\);/.test(l));
    expect(forward).toHaveLength(1);
    // dh · σ(1 − σ) over the stored σ, computed once per row of dW1 = (dh · σ(1 − σ)) ⊗ x as
    // that outer product's row factor, dh itself the outer product W2ᵀ ⊗ dŷ: no exp
    // recomputed, no temporaries, no buffer for dh.
    const backward = body.filter((l) => /const a = \(\S+\[i\] \* \S+\) \* \((\S+)\[i\] \* \(1 - \1\[i\]\)\);/.test(l));
    expect(backward).toHaveLength(1);
    expect(body.filter((l) => l.includes("Math.exp"))).toHaveLength(1);
  });

  test("matrix products walk memory contiguously and never copy a transpose", () => {
    const inner = body.filter((l) => /for \(let p = 0; p < \d+; p\+\+\) acc \+=/.test(l));
    expect(inner.length).toBeGreaterThanOrEqual(1);
    for (const l of inner) expect(l).toMatch(/\[(\w+ \* \d+ \+ )?p\] \* \S+\[(\w+ \* \d+ \+ )?p\]/);
    // W1 · x, an inner dimension of 4: one sum per row over a contiguous row of W1, with x's
    // entries read once before the loop.
    expect(body.filter((l) => /= \S+\[i \* 4\] \* x_at0 \+ \S+\[i \* 4 \+ 1\] \* x_at1 \+ \S+\[i \* 4 \+ 2\] \* x_at2 \+ \S+\[i \* 4 \+ 3\] \* x_at3;/.test(l))).toHaveLength(1);
    // The outer products of the backward pass write their rows in order.
    expect(body.filter((l) => /for \(let j = 0; j < 16; j\+\+\) dp_W2\[j\] = a \* /.test(l))).toHaveLength(1);
    expect(body.filter((l) => /dp_W1\[o\] = a \* \w+; dp_W1\[o \+ 1\] = a \* \w+; dp_W1\[o \+ 2\] = a \* \w+; dp_W1\[o \+ 3\] = a \* \w+;/.test(l))).toHaveLength(1);
    expect(body.some((l) => /\[j \* \d+ \+ i\] =/.test(l))).toBe(false);
  });

  test("matches the reviewed fixture", () => {
    expect(code).toBe(readFileSync(join(__dirname, "..", "fixtures", "seed-mlp", "expected.js"), "utf8"));
  });
});
