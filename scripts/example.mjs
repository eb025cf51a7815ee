// `npm run example -- <name>`: bundles examples/<name>.ts with gradc's esbuild plugin, so its
// grad/valueAndGrad bindings are replaced by compiled code, then runs its main().
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { gradc } from "gradc/esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const names = ["fxyz", "neuron", "mlp", "iris", "mnist-mlp", "mnist-cnn", "attention", "pendulum", "newton"];
const name = process.argv[2] ?? "mlp";
if (!names.includes(name)) {
  console.error(`unknown example '${name}'; one of: ${names.join(", ")}`);
  process.exit(2);
}
const result = await build({
  stdin: { contents: `import { main } from "./examples/${name}.ts";\nmain();\n`, resolveDir: root, loader: "ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  logLevel: "error",
  plugins: [gradc()],
});
// Written under node_modules so the bundle resolves packages (the Iris data) from the project.
const out = join(root, "node_modules", ".cache", "gradc-examples", `${name}.mjs`);
mkdirSync(dirname(out), { recursive: true });
const [bundled] = result.outputFiles ?? [];
if (!bundled) throw new Error("esbuild produced no bundle");
writeFileSync(out, bundled.text);
console.log(`examples/${name}.ts, compiled by gradc:`);
await import(pathToFileURL(out).href);
