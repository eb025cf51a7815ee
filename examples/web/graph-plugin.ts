// A small Vite plugin that draws a function's computational graph at build time, with gradc's
// own `gradc graph` machinery: the page imports `virtual:gradc-graph/<name>` and gets the SVG
// (forward values and gradients on every edge) plus the numbers behind it. Nothing of this
// runs in the browser; the bundle holds only the finished SVG text.
import { resolve } from "node:path";
import { drawGraph, formatDiagnostic, leafInputs, loadGraphFunction, renderSvg } from "gradc/compiler";
import type { Plugin } from "vite";

/** Which function to draw, and where. */
export interface GraphSpec {
  /** The module name: the page imports `virtual:gradc-graph/<name>`. */
  readonly name: string;
  /** The model's file, relative to Vite's root. */
  readonly file: string;
  /** The function (or grad binding) to draw. */
  readonly fn: string;
  /** Its arguments, as `gradc graph --at` reads them. */
  readonly at: unknown;
}

const PREFIX = "virtual:gradc-graph/";

/** A value as JSON: a number, or a tensor as `{ shape, data }`. */
type Json = number | boolean | { shape: number[]; data: number[] };
const plain = (v: unknown): Json =>
  typeof v === "number" || typeof v === "boolean"
    ? v
    : { shape: [...(v as { shape: number[] }).shape], data: Array.from((v as { data: ArrayLike<number> }).data) };

export function gradcGraph(specs: readonly GraphSpec[]): Plugin {
  let root = process.cwd();
  return {
    name: "gradc-graph",
    configResolved(config) {
      root = config.root;
    },
    resolveId(id) {
      return id.startsWith(PREFIX) ? `\0${id}` : undefined;
    },
    async load(id) {
      if (!id.startsWith(`\0${PREFIX}`)) return undefined;
      const name = id.slice(PREFIX.length + 1);
      const spec = specs.find((s) => s.name === name);
      if (!spec) this.error(`no graph named '${name}' (known: ${specs.map((s) => s.name).join(", ")})`);
      const file = resolve(root, spec.file);
      this.addWatchFile(file);
      const loaded = loadGraphFunction(file, spec.fn, { cwd: root });
      if ("diagnostics" in loaded) this.error(loaded.diagnostics.map((d) => formatDiagnostic(d)).join("\n"));
      const { dot, evaluation } = drawGraph(loaded, spec.at);
      // Only the <svg> element: the XML prolog and doctype mean nothing inside an HTML page.
      const rendered = await renderSvg(dot);
      const svg = rendered.slice(rendered.indexOf("<svg"));
      const { labels } = leafInputs(loaded.params, spec.at);
      const output = evaluation.values.get(evaluation.output);
      // One entry per leaf of the arguments (`w[0]`, …): its value and the output's gradient.
      const inputs = loaded.fn.body.params.map((p, i) => ({
        name: labels[i] ?? p.name ?? `arg${i}`,
        value: plain(evaluation.values.get(p)),
        grad: plain(evaluation.adjoints.get(p) ?? 0),
      }));
      if (typeof output !== "number") this.error(`${spec.fn} must return a number to be drawn`);
      return [
        `export const svg = ${JSON.stringify(svg)};`,
        `export const output = ${JSON.stringify(output)};`,
        `export const inputs = ${JSON.stringify(inputs)};`,
        "export default svg;",
      ].join("\n");
    },
  };
}
