// --emit js in the package's module system (CommonJS where package.json says nothing, as in a
// project `npm init -y` made), --module to choose, and --sourceMap: a stack trace through the
// generated file lands on the model's lines.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { afterAll, describe, expect, it } from "vitest";
import { NEURON, gradc, neuronExpected, removeTempProjects, tempProject } from "./helpers.js";

afterAll(removeTempProjects);

/** What `npm init -y` writes: no "type", so .js files are CommonJS. */
const NPM_INIT = JSON.stringify(
  { name: "app", version: "1.0.0", main: "index.js", scripts: { test: 'echo "Error: no test specified" && exit 1' }, keywords: [], author: "", license: "ISC", description: "" },
  null,
  2,
);

function node(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const generated = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes(".grad.")).sort();

describe("--emit js follows the package's module type", () => {
  it("writes .grad.cjs with .grad.d.cts in a CommonJS project, loadable with require()", () => {
    const dir = tempProject({ "package.json": NPM_INIT, "model.ts": NEURON });
    expect(gradc(["model.ts", "--emit", "js"], dir)).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(generated(dir)).toEqual(["model.grad.cjs", "model.grad.d.cts"]);
    const code = readFileSync(join(dir, "model.grad.cjs"), "utf8");
    expect(code).not.toMatch(/^export /m);
    expect(code).toMatch(/^exports\.neuronGrad = neuronGrad;$/m);
    expect(readFileSync(join(dir, "model.grad.d.cts"), "utf8")).toMatch(/export declare function neuronGrad\(/);
    const run = node(["-e", `const { neuronGrad } = require("./model.grad.cjs"); console.log(JSON.stringify(neuronGrad([2, -3, -3], [-1, -2])));`], dir);
    expect(run.stderr).toBe("");
    const [f, [dw, dx]] = JSON.parse(run.stdout) as [number, [number[], number[]]];
    const want = neuronExpected();
    expect(f).toBeCloseTo(want.f, 12);
    dw.forEach((v, i) => expect(v).toBeCloseTo(want.dw[i]!, 12));
    dx.forEach((v, i) => expect(v).toBeCloseTo(want.dx[i]!, 12));
  });

  it("--module esm in a CommonJS project writes .grad.mjs; --module cjs in an ES module project .grad.cjs", () => {
    const cjs = tempProject({ "package.json": NPM_INIT, "model.ts": NEURON });
    expect(gradc(["model.ts", "--emit", "js", "--module", "esm"], cjs).status).toBe(0);
    expect(generated(cjs)).toEqual(["model.grad.d.mts", "model.grad.mjs"]);
    expect(readFileSync(join(cjs, "model.grad.mjs"), "utf8")).toMatch(/^export function neuronGrad\(/m);
    const esm = tempProject({ "package.json": JSON.stringify({ type: "module" }), "model.ts": NEURON });
    expect(gradc(["model.ts", "--emit", "js"], esm).status).toBe(0);
    expect(generated(esm)).toEqual(["model.grad.d.ts", "model.grad.js"]);
    expect(gradc(["model.ts", "--emit", "js", "--module", "cjs"], esm).status).toBe(0);
    expect(generated(esm)).toContain("model.grad.cjs");
    const run = node(["-e", `console.log(require("./model.grad.cjs").neuronGrad([2, -3, -3], [-1, -2])[0].toFixed(4))`], esm);
    expect(run.stdout.trim()).toBe("0.7311");
  });

  it("refuses --module without --emit js", () => {
    const dir = tempProject({ "model.ts": NEURON });
    const r = gradc(["model.ts", "--module", "cjs"], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--module applies to --emit js");
  });
});

describe("--sourceMap", () => {
  it("maps the generated JavaScript to the model: a bad argument's stack names model.ts and the model's line", () => {
    const dir = tempProject({ "package.json": JSON.stringify({ type: "module" }), "model.ts": NEURON });
    expect(gradc(["model.ts", "--emit", "js", "--sourceMap"], dir)).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(generated(dir)).toEqual(["model.grad.d.ts", "model.grad.js", "model.grad.js.map"]);
    const code = readFileSync(join(dir, "model.grad.js"), "utf8");
    expect(code.trimEnd().split("\n").at(-1)).toBe("//# sourceMappingURL=model.grad.js.map");
    // The line computing exp maps to the model's `return 1 / (1 + Math.exp(-dot));` (line 5).
    const map = new TraceMap(readFileSync(join(dir, "model.grad.js.map"), "utf8"));
    const lines = code.split("\n");
    const expLine = lines.findIndex((l) => l.includes("Math.exp("));
    expect(expLine).toBeGreaterThan(0);
    expect(originalPositionFor(map, { line: expLine + 1, column: 4 })).toMatchObject({ source: "model.ts", line: 5 });
    const dotLine = lines.findIndex((l) => /w_0 \* x_0|w0 \* x0|\* x/.test(l) && !l.includes("//"));
    expect(originalPositionFor(map, { line: dotLine + 1, column: 4 })).toMatchObject({ source: "model.ts", line: 4 });

    // A bad argument: thrown from inside the generated function, reported at the model.
    const script = `import { neuronGrad } from "./model.grad.js"; try { neuronGrad([2, -3], [-1, -2]); } catch (e) { console.log(e.stack); }`;
    const plain = node(["--input-type=module", "-e", script], dir);
    expect(plain.stdout).toContain("neuronGrad: argument w[2] must be a number");
    expect(plain.stdout).toContain("model.grad.js:");
    const mapped = node(["--enable-source-maps", "--input-type=module", "-e", script], dir);
    expect(mapped.stdout).toMatch(/at neuronGrad \(.*[\\/]model\.ts:3:\d+\)/);
    // Only gradc's shared error helper stays in the generated file.
    expect(mapped.stdout).not.toMatch(/at neuronGrad \(.*model\.grad\.js/);
  });

  it("writes .grad.ts.map for --emit ts, and no map without the flag", () => {
    const dir = tempProject({ "model.ts": NEURON });
    expect(gradc(["model.ts"], dir).status).toBe(0);
    expect(generated(dir)).toEqual(["model.grad.ts"]);
    expect(gradc(["model.ts", "--sourceMap"], dir).status).toBe(0);
    expect(generated(dir)).toEqual(["model.grad.ts", "model.grad.ts.map"]);
    const code = readFileSync(join(dir, "model.grad.ts"), "utf8");
    const map = new TraceMap(readFileSync(join(dir, "model.grad.ts.map"), "utf8"));
    const expLine = code.split("\n").findIndex((l) => l.includes("Math.exp("));
    expect(originalPositionFor(map, { line: expLine + 1, column: 0 })).toMatchObject({ source: "model.ts", line: 5 });
    // --check knows the map is an output too.
    expect(gradc(["model.ts", "--sourceMap", "--check"], dir).status).toBe(0);
    expect(existsSync(join(dir, "model.grad.ts.map"))).toBe(true);
  });
});
