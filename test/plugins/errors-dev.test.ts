// Each tool reports a model gradc cannot compile the way it reports its own errors (file, line,
// column, code frame), and Vite's dev server keeps one compile state across edits: changing a
// helper module recompiles the model that inlines it.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { formatMessage } from "../../compiler/diagnostics/messages.js";
import { removeTempProjects } from "../cli/helpers.js";
import { bundlerProject } from "./project.js";

afterAll(removeTempProjects);

/** A model with a `for...in` loop (GRADC1002) on line 5, column 3. */
const BAD = `import { grad } from "gradc";

export function f(x: number): number {
  let y = x;
  for (const k in { a: 1 }) y = y / 2;
  return y * x;
}

export const df = grad(f);
`;
const MESSAGE = `GRADC1002: ${formatMessage("GRADC1002", ["for-in"])}`;

const plugin = async <T>(dir: string, tool: string): Promise<T> =>
  ((await import(pathToFileURL(join(dir, "node_modules", "gradc", "dist", "compiler", tool, "index.js")).href)) as { default: T }).default;

interface ToolError {
  message: string;
  plugin?: string;
  id?: string;
  loc?: { file?: string; line: number; column: number };
  frame?: string;
}

describe("errors in each tool's conventions", () => {
  it("Rollup: a RollupError from plugin gradc with loc and frame", async () => {
    const dir = bundlerProject({ "bad.ts": BAD });
    const { rollup } = await import("rollup");
    const gradc = await plugin<typeof import("../../compiler/rollup/index.js").gradc>(dir, "rollup");
    const error = (await rollup({ input: join(dir, "bad.ts"), plugins: [gradc()], logLevel: "silent" }).then(
      () => undefined,
      (e: unknown) => e,
    )) as ToolError;
    expect(error.plugin).toBe("gradc");
    expect(error.message).toContain(MESSAGE);
    expect(error.id).toBe(join(dir, "bad.ts"));
    expect(error.loc).toEqual({ file: join(dir, "bad.ts"), line: 5, column: 2 });
    expect(error.frame).toMatch(/^5 \|   for \(const k in \{ a: 1 \}\) y = y \/ 2;\n  \|   \^+$/);
  });

  it("webpack: a module build error with tsc's line and the code frame, no gradc stack", async () => {
    const dir = bundlerProject({ "bad.ts": BAD });
    const webpack = (await import("webpack")).default;
    const gradc = await plugin<typeof import("../../compiler/webpack/index.js").gradc>(dir, "webpack");
    const stats = await new Promise<import("webpack").Stats>((resolve, reject) =>
      webpack({ context: dir, mode: "development", target: "node", entry: "./bad.ts", output: { path: join(dir, "out") }, plugins: [gradc()] }, (err, s) =>
        err || !s ? reject(err) : resolve(s),
      ),
    );
    const messages = stats.compilation.errors.map((e) => e.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`bad.ts(5,3): error ${MESSAGE.replace(": ", ": ")}`);
    expect(messages[0]).toContain("5   for (const k in { a: 1 }) y = y / 2;\n    ~~~~~");
    expect(messages[0]).not.toMatch(/\n\s+at /);
  });

  it("Vite dev server: an error with loc and frame for its overlay", async () => {
    const dir = bundlerProject({ "bad.ts": BAD });
    const { createServer } = await import("vite");
    const gradc = await plugin<typeof import("../../compiler/vite/index.js").gradc>(dir, "vite");
    const server = await createServer({ root: dir, configFile: false, logLevel: "silent", plugins: [gradc()], server: { middlewareMode: true, hmr: false, watch: null } });
    try {
      const error = (await server.transformRequest("/bad.ts").then(
        () => undefined,
        (e: unknown) => e,
      )) as ToolError;
      expect(error.plugin).toBe("gradc");
      expect(error.message).toContain(MESSAGE);
      expect(error.loc).toMatchObject({ line: 5, column: 2 });
      expect(error.frame).toContain("for (const k in { a: 1 })");
    } finally {
      await server.close();
    }
  });
});

describe("Vite dev server across edits", () => {
  it("recompiles a model when the helper module it inlines changes", async () => {
    const dir = bundlerProject();
    const { createServer } = await import("vite");
    const gradc = await plugin<typeof import("../../compiler/vite/index.js").gradc>(dir, "vite");
    const server = await createServer({ root: dir, configFile: false, logLevel: "silent", plugins: [gradc()], server: { middlewareMode: true, hmr: false } });
    try {
      const first = await server.transformRequest("/model.ts");
      expect(first?.code).toContain("Math.tanh(");
      expect(first?.map).toBeTruthy();
      // tanh → sigmoid in the helper: the model's compiled code must follow.
      writeFileSync(join(dir, "helpers.ts"), readFileSync(join(dir, "helpers.ts"), "utf8").replace(/tanh/g, "sigmoid"));
      let code = first!.code;
      for (let k = 0; k < 100 && code.includes("Math.tanh("); k++) {
        await new Promise((r) => setTimeout(r, 100));
        code = (await server.transformRequest("/model.ts"))!.code;
      }
      expect(code).not.toContain("Math.tanh(");
      expect(code).toContain("Math.exp(");
    } finally {
      await server.close();
    }
  });
});
