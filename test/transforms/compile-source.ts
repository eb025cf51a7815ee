// Compiles one source text as `model.ts` in a fresh folder and returns its diagnostics.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { compile } from "../../compiler/program.js";

export function compileSource(source: string): Diagnostic[] {
  const dir = mkdtempSync(join(tmpdir(), "gradc-transforms-"));
  writeFileSync(join(dir, "model.ts"), source);
  return [...compile(["model.ts"], { cwd: dir }).diagnostics];
}
