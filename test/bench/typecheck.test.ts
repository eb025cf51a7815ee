// The benchmark suite is bundled by esbuild, which strips types without checking them; this
// keeps bench/ (harness, engines, hand-written models and the gradc model sources) type-correct.

import { Project } from "ts-morph";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("bench/ type-checks under bench/tsconfig.json", { timeout: 300_000 }, () => {
  const project = new Project({ tsConfigFilePath: fileURLToPath(new URL("../../bench/tsconfig.json", import.meta.url)) });
  const diagnostics = project.getPreEmitDiagnostics();
  expect(project.formatDiagnosticsWithColorAndContext(diagnostics)).toBe("");
});
