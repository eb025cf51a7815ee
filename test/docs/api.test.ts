// The API reference (docs/api.md) is generated from the sources by scripts/api-docs.mjs. It must
// cover every entry point package.json exports, every export must carry a doc comment, and the
// committed file must be what the sources give now: an export added, moved or re-documented
// without `npm run docs:api` fails here.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { API_DOC, collectApi, entryPoints, renderApi, undocumented } from "../../scripts/api-docs.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const REGENERATE = "run `npm run docs:api` and commit docs/api.md";

let sections: ReturnType<typeof collectApi> = [];

beforeAll(() => {
  sections = collectApi();
}, 120_000);

const exportsOf = (entry: string): string[] => sections.find((s) => s.entry.name === entry)?.exports.map((e) => e.name) ?? [];

describe("the API reference", () => {
  it("has a section for every entry point of package.json, in its order", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, unknown> };
    const wanted = Object.keys(pkg.exports)
      .filter((k) => k !== "./package.json")
      .map((k) => (k === "." ? "gradc" : `gradc/${k.slice(2)}`));
    expect(entryPoints().map((e) => e.name)).toEqual(wanted);
    expect(sections.map((s) => s.entry.name)).toEqual(wanted);
    expect(wanted).toEqual(expect.arrayContaining(["gradc", "gradc/compiler", "gradc/esbuild", "gradc/vite", "gradc/rollup", "gradc/webpack", "gradc/rspack", "gradc/register"]));
  });

  it("reads the exports themselves, values and types, re-exports included", () => {
    expect(exportsOf("gradc")).toEqual(expect.arrayContaining(["grad", "valueAndGrad", "jvp", "Tensor", "GradcError", "adam", "sgd", "matmul"]));
    expect(exportsOf("gradc/compiler")).toEqual(expect.arrayContaining(["compile", "createIncrementalCompiler", "Diagnostic", "GradcPluginOptions"]));
    for (const plugin of ["esbuild", "vite", "rollup", "webpack", "rspack"])
      expect(exportsOf(`gradc/${plugin}`)).toEqual(expect.arrayContaining(["gradc", "default", "GradcPluginOptions"]));
    expect(exportsOf("gradc/register")).toEqual([]);
    const grad = sections[0]!.exports.find((e) => e.name === "grad")!;
    expect(grad.kind).toBe("function");
    expect(grad.signature).toMatch(/^function grad</);
    expect(grad.doc).toContain("```ts");
  });

  it("every export has a doc comment", () => {
    expect(undocumented(sections), `add a /** … */ comment to each of these exports, then ${REGENERATE}`).toEqual([]);
  });

  it("docs/api.md is up to date with the sources", () => {
    const committed = readFileSync(join(ROOT, API_DOC), "utf8");
    expect(committed, `${API_DOC} is out of date with the sources' exports or doc comments: ${REGENERATE}`).toBe(renderApi(sections));
  });

  it("would notice a missing doc comment and a changed export", () => {
    const [first, ...rest] = sections;
    const changed = { ...first!, exports: first!.exports.map((e, i) => (i === 0 ? { ...e, doc: "" } : e)) };
    expect(undocumented([changed, ...rest])).toEqual([`gradc: ${first!.exports[0]!.name} (${first!.exports[0]!.where})`]);
    expect(renderApi([changed, ...rest])).not.toBe(renderApi(sections));
  });
});
