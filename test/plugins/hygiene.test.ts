// What a bundle holds without gradc's plugin. Eager ops outside a compiled model (weight
// initialisation) bring in neither the tape nor the fallback interpreter and its parser; an
// uncompiled grad that a minifier has reached fails with advice naming the plugin to add,
// never with a name the minifier made up.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempProjects, tempProject } from "../cli/helpers.js";

afterAll(removeTempProjects);

const FALLBACK = /runtime[\\/](tape|interpret|grad|checkgrad|bundled)\.js$|[\\/]acorn[\\/]/;

describe("bundles without the plugin", () => {
  it("eager ops alone (mul(randn(shape, seed), 0.5)) pull in no tape, interpreter or acorn, with esbuild and Rollup", async () => {
    const dir = tempProject({
      "init.mjs": `import { mul, randn } from "gradc";\nexport const w = mul(randn([3, 4], 7), 0.5);\n`,
    });
    const result = await build({ entryPoints: [join(dir, "init.mjs")], bundle: true, minify: true, format: "esm", write: false, metafile: true, logLevel: "silent" });
    const inputs = Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p));
    expect(inputs.some((p) => /runtime[\\/]ops\.js$/.test(p))).toBe(true);
    expect(inputs.filter((p) => FALLBACK.test(p))).toEqual([]);

    const { rollup } = await import("rollup");
    const { nodeResolve } = await import("@rollup/plugin-node-resolve");
    const bundle = await rollup({ input: join(dir, "init.mjs"), plugins: [nodeResolve()], logLevel: "silent" });
    const { output } = await bundle.generate({ format: "es" });
    await bundle.close();
    const modules = Object.entries(output[0].modules).filter(([, m]) => m.renderedLength > 0).map(([id]) => id);
    expect(modules.some((p) => /runtime[\\/]ops\.js$/.test(p))).toBe(true);
    expect(modules.filter((p) => FALLBACK.test(p))).toEqual([]);
  });

  it("a minified uncompiled grad fails with a message naming the plugin, not a mangled name", async () => {
    const dir = tempProject({
      "train.mjs": `import { grad, mul, sum, tanh, tensor } from "gradc";
function scaled(x) {
  return tanh(mul(x, 2));
}
function loss(x) {
  return sum(scaled(x));
}
const dloss = grad(loss);
try {
  dloss(tensor([1, 2]));
} catch (e) {
  console.log(e.message);
}
`,
    });
    const run = (minify: boolean): string => {
      const outfile = join(dir, minify ? "min.mjs" : "plain.mjs");
      return spawnSync(process.execPath, [outfile], { encoding: "utf8", timeout: 60_000 }).stdout.trim() || outfile;
    };
    for (const minify of [true, false])
      await build({ entryPoints: [join(dir, "train.mjs")], bundle: true, minify, format: "esm", outfile: join(dir, minify ? "min.mjs" : "plain.mjs"), logLevel: "silent" });
    const minified = run(true);
    expect(minified).toMatch(/^grad\/valueAndGrad ran uncompiled on a function whose source a bundler has minified/);
    expect(minified).toContain("gradc/vite, gradc/esbuild, gradc/rollup or gradc/webpack");
    expect(minified).not.toMatch(/cannot resolve|`/);
    // Unminified, the fallback names the user's own helper, and still points at the plugins.
    const plain = run(false);
    expect(plain).toMatch(/^GRADC1011: 'scaled' is not defined here/);
    expect(plain).toContain("grad(f, { scope: { scaled } })");
    expect(plain).toContain("gradc/vite");
  });

  it("an uncompiled grad still traces through the bundled ops (the tape switches them on when it loads)", async () => {
    const dir = tempProject({
      "train.mjs": `import { grad, mul, sum, tanh, tensor } from "gradc";
function scaled(x) {
  return tanh(mul(x, 2));
}
export const dloss = grad((x) => sum(scaled(x)), { scope: { scaled } });
export const dx = Array.from(dloss(tensor([0.5, -1])).data);
`,
    });
    const outfile = join(dir, "out.mjs");
    await build({ entryPoints: [join(dir, "train.mjs")], bundle: true, format: "esm", outfile, logLevel: "silent" });
    const { rollup } = await import("rollup");
    const { nodeResolve } = await import("@rollup/plugin-node-resolve");
    const bundle = await rollup({ input: join(dir, "train.mjs"), plugins: [nodeResolve()], logLevel: "silent" });
    await bundle.write({ file: join(dir, "rollup.mjs"), format: "es" });
    await bundle.close();
    // d/dx Σ tanh(2x) = 2 (1 − tanh²(2x)), by hand.
    const want = [0.5, -1].map((x) => 2 * (1 - Math.tanh(2 * x) ** 2));
    for (const file of [outfile, join(dir, "rollup.mjs")]) {
      const { dx } = (await import(pathToFileURL(file).href)) as { dx: number[] };
      dx.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    }
  });
});
