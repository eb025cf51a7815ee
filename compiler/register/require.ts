// gradc/register for modules loaded with `require()`, which Node 20's module hooks do not see
// (a CommonJS project: tsx compiles its TypeScript through require's extension handlers). Each
// handler is wrapped, as TypeScript loaders do: a file with grad bindings is compiled here, on
// the main thread; any other goes to the handler that was there before (tsx's, or Node's).

import { readFileSync } from "node:fs";
import Module from "node:module";
import { MENTIONS_GRADC, modulePath } from "../plugin/core.js";
import { compileModule } from "./compile.js";

interface CommonJSModule {
  _compile(code: string, filename: string): unknown;
}
type Handler = (this: unknown, module: CommonJSModule, filename: string) => unknown;

const extensions = (Module as unknown as { _extensions: Record<string, Handler | undefined> })._extensions;

/** Wraps require's handler for each of `exts` (installed once). */
export function hookRequire(exts: readonly string[] = [".ts", ".cts", ".tsx", ".js", ".cjs", ".jsx"]): void {
  for (const ext of exts) {
    const previous = extensions[ext];
    if (previous && (previous as { gradc?: boolean }).gradc) continue;
    const handler: Handler = function (module, filename) {
      if (modulePath(filename) !== undefined) {
        const text = readFileSync(filename, "utf8");
        const code = MENTIONS_GRADC.test(text) ? compileModule(filename, text, "commonjs") : undefined;
        if (code !== undefined) return module._compile(code, filename);
      }
      return (previous ?? extensions[".js"]!).call(this, module, filename);
    };
    extensions[ext] = Object.assign(handler, { gradc: true });
  }
}
