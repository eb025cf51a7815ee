// Loads generated modules the way users do: the code is written to a .mjs file and imported,
// so what runs is exactly the text the compiler emitted (it imports nothing).

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

let dir: string | undefined;
let counter = 0;

/** Imports generated JavaScript from a fresh file under the OS temp folder. */
export async function importGenerated(code: string, hint = "module"): Promise<Record<string, unknown>> {
  dir ??= mkdtempSync(join(tmpdir(), "gradc-test-"));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${hint.replace(/[^\w-]/g, "_")}-${counter++}.mjs`);
  writeFileSync(file, code);
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
}
