// Real builds with esbuild, Vite, Rollup and webpack, each with its gradc plugin, of a project
// whose model has a helper in another module, tensors and a loop. Each bundle runs: its
// gradients equal the tape's, it holds no tape, interpreter, acorn or TypeScript, and a bad
// argument's stack trace (node --enable-source-maps) lands on the model's line through the
// tool's own source map chained with gradc's.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, removeTempProjects } from "../cli/helpers.js";
import { badCallStack, bundlerProject, expectNoTape, expectStackAtModel, expectTapeGradients } from "./project.js";

afterAll(removeTempProjects);

/** The package as a user installs it (the built dist/), imported from the temporary project. */
const plugin = async <T>(dir: string, tool: string): Promise<T> =>
  ((await import(pathToFileURL(join(dir, "node_modules", "gradc", "dist", "compiler", tool, "index.js")).href)) as { default: T }).default;

type Bundle = Parameters<typeof expectTapeGradients>[0];

describe("esbuild (gradc/esbuild)", () => {
  it("bundles the model compiled, with the tape's gradients, no fallback, and stacks at the model", async () => {
    const dir = bundlerProject();
    const { build } = await import("esbuild");
    const gradc = await plugin<typeof import("../../compiler/esbuild/index.js").gradc>(dir, "esbuild");
    const outfile = join(dir, "out", "esbuild.mjs");
    const result = await build({ entryPoints: ["train.ts"], absWorkingDir: dir, bundle: true, format: "esm", platform: "node", sourcemap: true, minify: true, metafile: true, outfile, logLevel: "silent", plugins: [gradc()] });
    const modules = Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p));
    expectNoTape(readFileSync(outfile, "utf8"), modules);
    await expectTapeGradients((await import(pathToFileURL(outfile).href)) as Bundle, dir);
    expectStackAtModel(badCallStack(outfile, dir));
  });
});

describe("Vite (gradc/vite)", () => {
  it("builds for production with the model compiled: the tape's gradients, no fallback or acorn, stacks at the model", async () => {
    const dir = bundlerProject();
    const { build } = await import("vite");
    const gradc = await plugin<typeof import("../../compiler/vite/index.js").gradc>(dir, "vite");
    const out = (await build({
      root: dir,
      configFile: false,
      logLevel: "silent",
      plugins: [gradc()],
      build: { outDir: "out", emptyOutDir: true, sourcemap: true, lib: { entry: "train.ts", formats: ["es"], fileName: "vite" } },
    })) as { output: { type: string; fileName: string; modules?: Record<string, { renderedLength: number }> }[] }[] | { output: { type: string; fileName: string; modules?: Record<string, { renderedLength: number }> }[] };
    const chunk = (Array.isArray(out) ? out[0]! : out).output.find((o) => o.type === "chunk")!;
    const outfile = join(dir, "out", chunk.fileName);
    const modules = Object.entries(chunk.modules ?? {}).filter(([, m]) => m.renderedLength > 0).map(([id]) => id);
    expectNoTape(readFileSync(outfile, "utf8"), modules);
    await expectTapeGradients((await import(pathToFileURL(outfile).href)) as Bundle, dir);
    expectStackAtModel(badCallStack(outfile, dir));
  });
});

describe("Rollup (gradc/rollup)", () => {
  it("bundles the model compiled, with the tape's gradients, no fallback, and stacks at the model", async () => {
    const dir = bundlerProject();
    const { rollup } = await import("rollup");
    const { nodeResolve } = await import("@rollup/plugin-node-resolve");
    const { transform } = await import("esbuild");
    const gradc = await plugin<typeof import("../../compiler/rollup/index.js").gradc>(dir, "rollup");
    // Rollup reads JavaScript only: a minimal type-stripping plugin after gradc's.
    const stripTypes = {
      name: "strip-types",
      async transform(code: string, id: string) {
        if (!id.endsWith(".ts")) return null;
        const r = await transform(code, { loader: "ts", sourcemap: true, sourcefile: id });
        return { code: r.code, map: r.map };
      },
    };
    const bundle = await rollup({ input: join(dir, "train.ts"), plugins: [gradc(), nodeResolve({ extensions: [".ts", ".js"] }), stripTypes], logLevel: "silent" });
    const outfile = join(dir, "out", "rollup.mjs");
    const { output } = await bundle.write({ file: outfile, format: "es", sourcemap: true });
    await bundle.close();
    const modules = Object.entries(output[0].modules).filter(([, m]) => m.renderedLength > 0).map(([id]) => id);
    expectNoTape(readFileSync(outfile, "utf8"), modules);
    await expectTapeGradients((await import(pathToFileURL(outfile).href)) as Bundle, dir);
    expectStackAtModel(badCallStack(outfile, dir));
  });
});

describe("webpack (gradc/webpack)", () => {
  it("bundles the model compiled, with the tape's gradients, no fallback, and stacks at the model", async () => {
    const dir = bundlerProject({
      // A minimal TypeScript loader (esbuild's transform), so the test needs no ts-loader. Like
      // any loader that keeps source maps right, it chains the map it is given (gradc's).
      "strip-types.cjs": `const { transformSync } = require(${JSON.stringify(join(ROOT, "node_modules", "esbuild"))});
const remapping = require(${JSON.stringify(join(ROOT, "node_modules", "@jridgewell", "remapping"))});
module.exports = function (source, map) {
  const r = transformSync(source, { loader: "ts", sourcemap: true, sourcefile: this.resourcePath });
  this.callback(null, r.code, map ? remapping([r.map, map], () => null) : r.map);
};
`,
    });
    const webpack = (await import("webpack")).default;
    const gradc = await plugin<typeof import("../../compiler/webpack/index.js").gradc>(dir, "webpack");
    const stats = await new Promise<import("webpack").Stats>((resolve, reject) =>
      webpack(
        {
          context: dir,
          mode: "production",
          target: "node",
          entry: "./train.ts",
          devtool: "source-map",
          output: { path: join(dir, "out"), filename: "webpack.cjs", library: { type: "commonjs2" } },
          resolve: { extensions: [".ts", ".js"] },
          module: { rules: [{ test: /\.ts$/, loader: join(dir, "strip-types.cjs") }] },
          plugins: [gradc()],
        },
        (err, s) => (err || !s ? reject(err) : resolve(s)),
      ),
    );
    expect(stats.compilation.errors.map((e) => e.message)).toEqual([]);
    const outfile = join(dir, "out", "webpack.cjs");
    const modules = [...stats.compilation.modules].flatMap((m) => ("resource" in m && typeof m.resource === "string" ? [m.resource as string] : []));
    expectNoTape(readFileSync(outfile, "utf8"), modules);
    await expectTapeGradients(createRequire(import.meta.url)(outfile) as Bundle, dir);
    expectStackAtModel(badCallStack(outfile, dir));
  });
});

