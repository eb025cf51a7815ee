// TEMPORARY: a minimal Vite plugin over gradc's compiler, until `gradc/vite` lands. It compiles
// the grad/valueAndGrad bindings of each module in place, as the esbuild plugin does.
import { compileSourceFile, createProject, formatDiagnostic } from "gradc/compiler";
import { rewriteSource } from "gradc/esbuild";
import type { Plugin } from "vite";

export function gradcInterim(): Plugin {
  return {
    name: "gradc-interim",
    enforce: "pre",
    transform(code, id) {
      if (!/\.[cm]?tsx?$/.test(id) || id.includes("/node_modules/") || !/["']gradc["']/.test(code)) return null;
      const cwd = process.cwd();
      const { project, rootDir } = createProject([id], { cwd });
      const sf = project.createSourceFile(id, code, { overwrite: true });
      const result = compileSourceFile(sf, rootDir, { cwd, emit: "js" }, cwd);
      if (result.diagnostics.length > 0) this.error(result.diagnostics.map((d) => formatDiagnostic(d)).join("\n"));
      if (!result.module) return null;
      return { code: rewriteSource(sf, result.module), map: null };
    },
  };
}
