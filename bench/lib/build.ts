// Bundling at benchmark time, with esbuild: the gradc compiler (compiler/index.ts) and, for the
// tape engine, a model source with `gradc` resolved to the runtime (runtime/index.ts). Output
// goes to node_modules/.cache/gradc-bench/ so that external packages resolve from there.

import { build, type Plugin } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root: the nearest ancestor whose package.json is named "gradc". */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
export const CACHE = path.join(ROOT, "node_modules", ".cache", "gradc-bench");

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    const pkg = path.join(d, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "gradc") return d;
    if (path.dirname(d) === d) throw new Error(`no gradc package.json above ${dir}`);
  }
}

/** Thrown when a file the build needs does not exist yet; the message says which. */
export class Missing extends Error {}

const externalPackages: Plugin = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^gradc$/ }, () => {
      const runtime = path.join(ROOT, "runtime", "index.ts");
      if (!existsSync(runtime)) throw new Missing("runtime/index.ts does not exist yet");
      return { path: runtime };
    });
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("node:") ? undefined : { path: args.path, external: true }));
  },
};

async function bundle(options: { entry?: string; stdin?: string; outName: string }): Promise<string> {
  const outfile = path.join(CACHE, options.outName);
  try {
    await build({
      ...(options.entry ? { entryPoints: [options.entry] } : {}),
      ...(options.stdin ? { stdin: { contents: options.stdin, resolveDir: ROOT, loader: "ts" as const } } : {}),
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      plugins: [externalPackages],
      logLevel: "silent",
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null; detail?: unknown }[] }).errors;
    const missing = errors?.find((x) => x.detail instanceof Missing);
    if (missing) throw missing.detail as Missing;
    const text = errors?.map((x) => (x.location ? `${x.location.file}(${x.location.line},${x.location.column + 1}): ${x.text}` : x.text)).join("; ");
    throw new Error(`esbuild: ${text ?? (e as Error).message}`);
  }
  return pathToFileURL(outfile).href;
}

/** Bundles compiler/index.ts (its dependencies stay external) and returns its file URL. */
export async function bundleCompiler(): Promise<string> {
  const entry = path.join(ROOT, "compiler", "index.ts");
  if (!existsSync(entry)) throw new Missing("compiler/index.ts does not exist yet");
  return bundle({ entry, outName: "compiler.mjs" });
}

/**
 * Bundles a model source for the runtime tape: re-exports the source's bindings and the whole
 * runtime as `gradc`, so the harness builds its tensors with the same runtime instance.
 */
export async function bundleForTape(source: string, outName: string): Promise<string> {
  const rel = "./" + path.relative(ROOT, path.join(ROOT, source)).split(path.sep).join("/");
  return bundle({ stdin: `export * from ${JSON.stringify(rel)};\nexport * as gradc from "gradc";\n`, outName });
}

/** Bundles the runtime alone (what a program imports from "gradc") and returns its file URL. */
export async function bundleRuntime(): Promise<string> {
  return bundle({ stdin: `export * from "gradc";\n`, outName: "runtime.mjs" });
}
