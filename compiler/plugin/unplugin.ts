// The gradc plugin for Vite, Rollup, Rolldown, webpack and Rspack, written once with unplugin
// (the ecosystem's standard way to target them all) over the integration core. Each tool gets
// its own convention for errors: Rollup and Vite a RollupError with `loc` and `frame` (Vite's
// overlay shows both), webpack and Rspack a module build error whose message is tsc's
// `file(line,col): error GRADCnnnn: message` with the code frame.

import { resolve } from "node:path";
import { type UnpluginInstance, createUnplugin } from "unplugin";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { GradcCore, type GradcPluginOptions, MENTIONS_GRADC, diagnosticsText, modulePath } from "./core.js";

export type { GradcPluginOptions };

/** tsc's code frame under the diagnostic's line, as Rollup's `frame`. */
function frame(d: Diagnostic): string {
  const gutter = String(d.line);
  const width = Math.max(1, Math.min(d.length, d.lineText.length - (d.col - 1)));
  return `${gutter} | ${d.lineText}\n${" ".repeat(gutter.length)} | ${" ".repeat(d.col - 1)}${"^".repeat(width)}`;
}

/** An error thrown for the tool to report: tsc's form in the message, and no gradc stack. */
class GradcBuildError extends Error {
  readonly hideStack = true;
  constructor(message: string) {
    super(message);
    this.name = "GradcError";
    this.stack = `${this.name}: ${message}`;
  }
}

/** What the Vite integration needs of a dev server (Vite 5 to 8). */
interface DevServer {
  watcher: { on(event: "change" | "unlink", listener: (file: string) => void): unknown };
  moduleGraph?: ModuleGraph;
  environments?: Record<string, { moduleGraph: ModuleGraph }>;
}
interface ModuleGraph {
  getModulesByFile(file: string): Set<object> | undefined;
  invalidateModule(mod: never): void;
}

/**
 * Hard-invalidates, in every module graph of a Vite dev server, the models that inline code
 * from `file`. Vite only soft-invalidates the importers of a changed module (it re-runs their
 * import analysis, not their transform), but a model's compiled code contains its helpers'.
 */
function invalidateDependents(server: DevServer, models: Iterable<string>): void {
  const graphs = server.environments ? Object.values(server.environments).map((e) => e.moduleGraph) : server.moduleGraph ? [server.moduleGraph] : [];
  for (const model of models) for (const graph of graphs) for (const mod of graph.getModulesByFile(model) ?? []) graph.invalidateModule(mod as never);
}

/** The plugin factory shared by every unplugin-based adapter. */
export const unplugin: UnpluginInstance<GradcPluginOptions | undefined, false> = createUnplugin((options = {}, meta) => {
  const core = new GradcCore(options, process.cwd());
  /** For each file a compiled model depends on, the models (file paths) that depend on it. */
  const dependents = new Map<string, Set<string>>();
  return {
    name: "gradc",
    // Before TypeScript is stripped: the compiler reads the model's types.
    enforce: "pre",
    transform: {
      filter: { id: { include: /\.[cm]?[jt]sx?(?:[?#].*)?$/, exclude: /[\\/]node_modules[\\/]/ }, code: MENTIONS_GRADC },
      handler(code, id) {
        if (modulePath(id) === undefined) return null;
        const outcome = core.transform(code, id);
        if (outcome.kind === "unchanged") return null;
        for (const dep of outcome.dependencies) {
          this.addWatchFile(dep);
          if (!dependents.has(dep)) dependents.set(dep, new Set());
          dependents.get(dep)!.add(modulePath(id)!);
        }
        if (outcome.kind === "compiled") return { code: outcome.code, map: JSON.stringify(outcome.map) };
        const native = this.getNativeBuildContext?.().framework;
        const d = outcome.diagnostics[0]!;
        const file = resolve(core.cwd, d.file);
        if (native === "webpack" || native === "rspack" || meta.framework === "webpack" || meta.framework === "rspack")
          throw new GradcBuildError(diagnosticsText(outcome.diagnostics));
        const more = outcome.diagnostics.length > 1 ? `\n${diagnosticsText(outcome.diagnostics.slice(1), false)}` : "";
        return this.error({ id: file, message: `${d.code}: ${d.message}${more}`, loc: { file, line: d.line, column: d.col - 1 }, frame: frame(d) } as Parameters<typeof this.error>[0]);
      },
    },
    watchChange(id) {
      core.invalidate(id);
    },
    vite: {
      configureServer(server: DevServer) {
        const changed = (file: string): void => {
          core.invalidate(file);
          const models = dependents.get(file);
          if (models) invalidateDependents(server, models);
        };
        server.watcher.on("change", changed);
        server.watcher.on("unlink", changed);
      },
    },
  };
});
