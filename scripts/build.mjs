// Builds dist/ (JavaScript + .d.ts) with the TypeScript compiler that ts-morph ships, so the
// project installs a single copy of TypeScript. `--noEmit` only type-checks.
import { Project } from "ts-morph";
import { rmSync } from "node:fs";

const noEmit = process.argv.includes("--noEmit");
const project = new Project({ tsConfigFilePath: new URL("../tsconfig.json", import.meta.url).pathname });
const diagnostics = project.getPreEmitDiagnostics();
if (diagnostics.length > 0) {
  console.error(project.formatDiagnosticsWithColorAndContext(diagnostics));
  process.exit(1);
}
if (!noEmit) {
  rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
  const result = project.emitSync();
  if (result.getEmitSkipped()) {
    console.error("build: emit skipped");
    process.exit(1);
  }
}
