#!/usr/bin/env node
// The `gradc` command. The CLI itself is compiled TypeScript in dist/ (built by `npm run build`,
// or by `prepare` on install): dist/cli.cjs, the CLI bundled into one file, or else the modules
// under dist/compiler/. The packages it loads go through a V8 code cache (see
// compiler/cli/compile-cache.ts), which saves most of the time spent compiling TypeScript's
// own JavaScript on every run.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const dist = new URL("../dist/", import.meta.url);
let main;
/** @type {() => void} */
let saveCache = () => {};
try {
  const { installCompileCache } = await import(new URL("compiler/cli/compile-cache.js", dist).href);
  saveCache = installCompileCache();
  const bundle = new URL("cli.cjs", dist);
  if (existsSync(bundle)) ({ main } = createRequire(import.meta.url)(bundle.pathname));
  else ({ main } = await import(new URL("compiler/cli/main.js", dist).href));
} catch (/** @type {any} */ e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.message).includes(dist.pathname)) throw e;
  console.error("gradc: the compiled CLI in dist/ is missing or incomplete; run `npm run build` in the gradc package.");
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2), undefined, { version });
saveCache();
