// The load hook behind `gradc/register`, for modules loaded with `import` (it runs on Node's
// hooks thread). For a file: module whose source mentions "gradc" and binds
// `grad(...)`/`valueAndGrad(...)`, it returns the compiled JavaScript of compile.ts. Every other
// module is left to the next loader (Node's own, or tsx's), which runs the rest of the program.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MENTIONS_GRADC, modulePath } from "../plugin/core.js";
import { compileModule, formatOf } from "./compile.js";

interface LoadContext {
  readonly format?: string | null;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface LoadResult {
  readonly format: string;
  readonly source?: string | ArrayBuffer | Uint8Array;
  readonly shortCircuit?: boolean;
}
type NextLoad = (url: string, context?: LoadContext) => Promise<LoadResult>;

/** Node's load hook. */
export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  if (!url.startsWith("file:")) return nextLoad(url, context);
  const path = fileURLToPath(url);
  if (modulePath(path) === undefined) return nextLoad(url, context);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return nextLoad(url, context);
  }
  if (!MENTIONS_GRADC.test(text)) return nextLoad(url, context);
  const format = formatOf(path);
  const source = compileModule(path, text, format);
  if (source === undefined) return nextLoad(url, context);
  return { format, source, shortCircuit: true };
}
