#!/usr/bin/env node
// The `gradc` command. The CLI itself is compiled TypeScript in dist/ (built by `npm run build`,
// or by `prepare` on install).
import { readFileSync } from "node:fs";
import { main } from "../dist/compiler/cli/main.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
process.exitCode = await main(process.argv.slice(2), undefined, { version });
