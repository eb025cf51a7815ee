// Builds dist/ (JavaScript + .d.ts) with the TypeScript compiler that ts-morph ships, so the
// project installs a single copy of TypeScript. `--noEmit` only type-checks. The output is
// emitted into a fresh folder and swapped in by rename, so a concurrent reader (a test running
// the bin) never sees a half-written dist/.
import { renameSync, rmSync } from "node:fs";
import { Project } from "ts-morph";

const noEmit = process.argv.includes("--noEmit");
const root = new URL("..", import.meta.url).pathname;
const staging = `${root}dist.build-${process.pid}`;
const project = new Project({
  tsConfigFilePath: `${root}tsconfig.json`,
  compilerOptions: noEmit ? {} : { outDir: staging },
});
const diagnostics = project.getPreEmitDiagnostics();
if (diagnostics.length > 0) {
  console.error(project.formatDiagnosticsWithColorAndContext(diagnostics));
  process.exit(1);
}
if (!noEmit) {
  rmSync(staging, { recursive: true, force: true });
  const result = project.emitSync();
  if (result.getEmitSkipped()) {
    rmSync(staging, { recursive: true, force: true });
    console.error("build: emit skipped");
    process.exit(1);
  }
  const old = `${root}dist.old-${process.pid}`;
  try {
    renameSync(`${root}dist`, old);
  } catch {
    // No previous build.
  }
  renameSync(staging, `${root}dist`);
  rmSync(old, { recursive: true, force: true });
}
