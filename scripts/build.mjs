// Builds dist/ (JavaScript + .d.ts) with the TypeScript compiler that ts-morph ships, so the
// project installs a single copy of TypeScript. `--noEmit` only type-checks. The output is
// emitted into a fresh folder and swapped in by rename, so a concurrent reader (a test running
// the bin) never sees a half-written dist/.
//
// The CLI is also bundled, when esbuild is installed (it is a development dependency), into
// one CommonJS file, dist/cli.cjs, with the packages left as `require`s: the bin then starts
// by reading one file instead of resolving and loading some fifty ES modules, and loads
// ts-morph without Node's scan of its CommonJS exports. Without esbuild the bin uses
// dist/compiler/cli/main.js, which does the same work.
import { renameSync, rmSync } from "node:fs";
import { Project } from "ts-morph";

/** @param {string} outdir */
async function bundleCli(outdir) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    return;
  }
  await esbuild.build({
    entryPoints: [`${root}compiler/cli/main.ts`],
    outfile: `${outdir}/cli.cjs`,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
}

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
  await bundleCli(staging);
  const old = `${root}dist.old-${process.pid}`;
  try {
    renameSync(`${root}dist`, old);
  } catch {
    // No previous build.
  }
  renameSync(staging, `${root}dist`);
  rmSync(old, { recursive: true, force: true });
}
