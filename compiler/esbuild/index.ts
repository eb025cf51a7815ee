// The esbuild plugin: `esbuild.build({ plugins: [gradc()] })` compiles every
// `grad(...)`/`valueAndGrad(...)` binding of the bundle in place (see plugin/rewrite.ts), so the
// output contains the generated code and none of the runtime's tape.
//
// Written against esbuild's own API over the integration core rather than through unplugin:
// unplugin's esbuild adapter drops a hook's errors when it returns no code, and passes no
// `lineText`/`length`, so esbuild could not print its code frame. Here diagnostics come back as
// esbuild messages with the full location, and the files a model's helpers live in are watch
// files. The source map is inlined into the contents, where esbuild chains it with its own.

import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import type { Loader, OnLoadResult, PartialMessage, Plugin } from "esbuild";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { GradcCore, type GradcPluginOptions, InternalCompilerError, modulePath } from "../plugin/core.js";
import { sourceMappingURL } from "../sourcemap.js";

export type { GradcPluginOptions };

/** An esbuild message for a gradc diagnostic: `GRADC1002: message` at its location (0-based column). */
export function toEsbuildMessage(d: Diagnostic, cwd = process.cwd()): PartialMessage {
  return {
    text: `${d.code}: ${d.message}`,
    location: { file: resolve(cwd, d.file), line: d.line, column: d.col - 1, length: d.length, lineText: d.lineText },
  };
}

const LOADERS: Record<string, Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".jsx": "jsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
};

/**
 * The gradc esbuild plugin.
 *
 * @example
 * import { build } from "esbuild";
 * import { gradc } from "gradc/esbuild";
 * await build({ entryPoints: ["train.ts"], bundle: true, outfile: "out.js", sourcemap: true, plugins: [gradc()] });
 */
export function gradc(options: GradcPluginOptions = {}): Plugin {
  return {
    name: "gradc",
    setup(build) {
      // One compile state per build context, kept across onLoad calls and rebuilds.
      const core = new GradcCore(options, build.initialOptions.absWorkingDir ?? process.cwd());
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args): OnLoadResult | undefined => {
        if (args.namespace !== "file" || modulePath(args.path) === undefined) return undefined;
        const text = readFileSync(args.path, "utf8");
        let outcome: ReturnType<GradcCore["transform"]>;
        try {
          outcome = core.transform(text, args.path);
        } catch (e) {
          if (!(e instanceof InternalCompilerError)) throw e;
          return { errors: [{ text: e.message, location: { file: args.path }, detail: e.cause }] };
        }
        if (outcome.kind === "unchanged") return undefined;
        const watchFiles = [...outcome.dependencies];
        if (outcome.kind === "diagnostics") return { errors: outcome.diagnostics.map((d) => toEsbuildMessage(d, core.cwd)), watchFiles };
        return {
          contents: `${outcome.code}${sourceMappingURL(outcome.map)}\n`,
          loader: LOADERS[extname(args.path)] ?? "js",
          resolveDir: dirname(args.path),
          watchFiles,
        };
      });
    },
  };
}

export default gradc;
