#!/usr/bin/env node
// The `gradc` command. The CLI itself is compiled TypeScript in dist/ (built by `npm run build`,
// or by `prepare` on install).
import { readFileSync } from "node:fs";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const dist = new URL("../dist/", import.meta.url);
let main;
try {
  ({ main } = await import(new URL("compiler/cli/main.js", dist).href));
} catch (/** @type {any} */ e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.message).includes(dist.pathname)) throw e;
  console.error("gradc: the compiled CLI in dist/ is missing or incomplete; run `npm run build` in the gradc package.");
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2), undefined, { version });
