// `npm run fuzz`: bundles test/robustness/fuzz-main.ts (TypeScript, with the compiler's
// sources) with esbuild into test/.tmp/ and runs it, passing the arguments through.
// See fuzz-main.ts for the options: npm run fuzz -- --count 20000 --seed 7
import { build } from "esbuild";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outfile = `${root}test/.tmp/fuzz-bin/fuzz-main.mjs`;
await build({
  entryPoints: [`${root}test/robustness/fuzz-main.ts`],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  outfile,
  logLevel: "warning",
});
process.chdir(root);
await import(pathToFileURL(outfile).href);
