#!/usr/bin/env node
// Runs one TypeScript entry point of the benchmark suite under plain Node.js, without a
// TypeScript loader dependency: esbuild bundles bench/*.ts into node_modules/.cache/gradc-bench/
// (inside the project, so bare imports left external still resolve against node_modules), then
// node runs the requested entry with the remaining arguments.
//
//   node bench/run.mjs main [args…]            # what `npm run bench` does
//   node bench/run.mjs compile-scaling [args…] # what `npm run bench:compile` does
//   node bench/run.mjs scaling [args…]         # what `npm run bench:scaling` does
//   node bench/run.mjs mlp-batch [args…]       # literal against symbolic batch
//
// TensorFlow.js is bundled rather than imported: its Node entry points are CommonJS, and the
// gradient registrations (`@tensorflow/tfjs-core/dist/register_all_gradients`) exist only as
// ES modules in a package Node treats as CommonJS, so only a bundle gets one consistent copy.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "node_modules", ".cache", "gradc-bench");
const entries = ["main", "model-process", "compile-scaling", "scaling", "mlp-batch"];

const [entry, ...args] = process.argv.slice(2);
if (!entry || !entries.includes(entry)) {
  console.error(`usage: node bench/run.mjs <${entries.join("|")}> [args…]`);
  process.exit(2);
}

// Everything bare stays external except TensorFlow.js (see above).
const externalExceptTfjs = {
  name: "external-except-tfjs",
  /** @param {import("esbuild").PluginBuild} b */
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@tensorflow/") || args.path.startsWith("node:") ? undefined : { path: args.path, external: true },
    );
  },
};

await build({
  entryPoints: Object.fromEntries(entries.map((e) => [e, path.join(root, "bench", `${e}.ts`)])),
  outdir,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  mainFields: ["module", "main"],
  plugins: [externalExceptTfjs],
  // The Emscripten glue inside tfjs-backend-wasm expects CommonJS globals when it sees Node.
  banner: {
    js: [
      'import { createRequire as __gradcBenchRequire } from "node:module";',
      'import { fileURLToPath as __gradcBenchPath } from "node:url";',
      "const require = __gradcBenchRequire(import.meta.url);",
      "const __filename = __gradcBenchPath(import.meta.url);",
      'const __dirname = __filename.slice(0, __filename.lastIndexOf("/"));',
    ].join("\n"),
  },
  logLevel: "warning",
});

const child = spawnSync(process.execPath, [path.join(outdir, `${entry}.mjs`), ...args], { stdio: "inherit" });
process.exit(child.status ?? 1);
