// `npm run typecheck`: type-checks the whole repository with the TypeScript that ts-morph ships
// (the one copy the project installs). tsconfig.repo.json covers compiler/, runtime/, examples/,
// test/, scripts/ and bin/ on the build's strict settings; bench/tsconfig.json covers the
// benchmark suite (its numeric kernels read typed arrays without `!`); examples/web/tsconfig.json
// the browser demo (DOM library). Exits 1 on any error.
import { Project } from "ts-morph";

const root = new URL("..", import.meta.url).pathname;
const configs = ["tsconfig.repo.json", "bench/tsconfig.json", "examples/web/tsconfig.json"];
let errors = 0;
for (const config of configs) {
  const project = new Project({ tsConfigFilePath: `${root}${config}` });
  const diagnostics = project.getPreEmitDiagnostics();
  if (diagnostics.length > 0) console.error(project.formatDiagnosticsWithColorAndContext(diagnostics));
  console.log(`typecheck: ${config}: ${project.getSourceFiles().length} files, ${diagnostics.length} errors`);
  errors += diagnostics.length;
}
process.exit(errors > 0 ? 1 : 0);
