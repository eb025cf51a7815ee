// Which module system a generated `.js` file is written for. Node decides how to load a `.js`
// file from the nearest package.json: `"type": "module"` means ES modules, anything else
// CommonJS. `--emit js` follows the same rule so that the generated file loads where it lands.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export type ModuleFormat = "esm" | "cjs";

/** The nearest package.json's `type` above `file`: "module", "commonjs", or undefined when there is none. */
export function packageType(file: string): "module" | "commonjs" | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, "utf8")) as { type?: unknown };
        return json.type === "module" ? "module" : "commonjs";
      } catch {
        return "commonjs";
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The format and file extensions of the `--emit js` output for `source`. An explicit format wins;
 * otherwise CommonJS where a package.json without `"type": "module"` governs the file, and ES
 * modules where none does (bundlers and the browser take ES modules). The extension is the one
 * Node loads in that format whatever the package says: `.grad.js` for the package's own format,
 * `.grad.cjs`/`.grad.mjs` otherwise.
 */
export function jsExtensions(
  source: string,
  explicit: ModuleFormat | undefined,
): { format: ModuleFormat; code: string; declarations: string } {
  const type = packageType(source);
  const format = explicit ?? (type === "commonjs" ? "cjs" : "esm");
  if (format === "cjs") return { format, code: ".grad.cjs", declarations: ".grad.d.cts" };
  if (type === "commonjs") return { format, code: ".grad.mjs", declarations: ".grad.d.mts" };
  return { format, code: ".grad.js", declarations: ".grad.d.ts" };
}
