// gradc/register: a training script with no build step runs the compiled code. With tsx (Node
// 20 runs no TypeScript by itself) in an ES module project and in a CommonJS one (`require()`
// goes through require's handlers, not the module hooks), and with plain `node --import` on a
// JSDoc-typed JavaScript model. What shows the compiled path ran: the binding is the generated
// function (it validates its arguments and names itself), not the fallback's closure over the
// tape; its gradients equal the tape's; a bad argument's stack lands on the model's line.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, removeTempProjects, tempProject } from "../cli/helpers.js";
import { ENTRY, HELPERS, MODEL, MODEL_SIGNATURE_LINE, bundlerProject, expectTapeGradients } from "../plugins/project.js";

afterAll(removeTempProjects);

const TSX = join(ROOT, "node_modules", ".bin", "tsx");

/** Prints what the test checks: the binding's code, its result, the weights, a bad call's stack. */
const SCRIPT = `import { lossGrad } from "./model";
import { bad, run, w } from "./train";

const [value, [dw, db, dk]] = run();
let stack = "";
try {
  bad();
} catch (e) {
  stack = String((e as Error).stack);
}
console.log(JSON.stringify({ code: String(lossGrad), value, dw: Array.from(dw.data), db: Array.from(db.data), dk, w: Array.from(w.data), stack }));
`;

interface Report {
  code: string;
  value: number;
  dw: number[];
  db: number[];
  dk: number;
  w: number[];
  stack: string;
}

function runScript(command: string, args: readonly string[], cwd: string): Report {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Report;
}

/** The bundle-shaped view of a report, for the shared gradient check. */
function asEntry(r: Report): Parameters<typeof expectTapeGradients>[0] {
  const t = (data: number[], shape: number[]) => ({ shape, data: Float64Array.from(data) });
  return { run: () => [r.value, [t(r.dw, [3, 4]), t(r.db, [4]), r.dk]], bad: () => undefined, w: { data: Float64Array.from(r.w) } };
}

function expectCompiled(r: Report, dir: string): void {
  // The generated function, not the fallback's `(...args) => { ... record(...) ... }`.
  expect(r.code).toMatch(/^function lossGrad\(w, b, x, y, k\) \{/);
  expect(r.code).toContain("$gradc_lossGrad_args(w, b, x, y, k)"); // the argument checks' cold twin
  expect(r.code).not.toMatch(/record|traced|Var\b/);
  expect(r.stack).toContain("lossGrad: argument w must be a f64 tensor of shape [3, 4]");
  expect(r.stack).toContain(`at lossGrad (${join(dir, "model.ts")}:${MODEL_SIGNATURE_LINE}:`);
}

describe("gradc/register", () => {
  it("tsx --import gradc/register runs an ES module project's training script compiled", async () => {
    const dir = bundlerProject({ "main.ts": SCRIPT });
    const report = runScript(TSX, ["--import", "gradc/register", "main.ts"], dir);
    expectCompiled(report, dir);
    await expectTapeGradients(asEntry(report), dir);
  });

  it("tsx --import gradc/register runs a CommonJS project's script compiled (modules loaded by require)", () => {
    const dir = tempProject({
      "package.json": JSON.stringify({ name: "app", version: "1.0.0", main: "index.js", license: "ISC" }),
      "helpers.ts": HELPERS,
      "model.ts": MODEL,
      "train.ts": ENTRY,
      "main.ts": SCRIPT,
    });
    const report = runScript(TSX, ["--import", "gradc/register", "main.ts"], dir);
    expectCompiled(report, dir);
    // Without the hook the same script runs on the tape.
    const plain = runScript(TSX, ["main.ts"], dir);
    expect(plain.code).not.toMatch(/^function lossGrad/);
    expect(plain.value).toBeCloseTo(report.value, 12);
    plain.dw.forEach((v, i) => expect(report.dw[i]).toBeCloseTo(v, 12));
    expect(report.dk).toBeCloseTo(plain.dk, 12);
  });

  it("node --import gradc/register runs a JSDoc-typed JavaScript model compiled, no TypeScript runner needed", () => {
    const dir = tempProject({
      "package.json": JSON.stringify({ type: "module" }),
      "model.js": `import { grad } from "gradc";

/**
 * @param {number} x
 * @param {number} y
 * @param {number} z
 * @returns {number}
 */
export function f(x, y, z) {
  return (x + y) * z;
}

export const df = grad(f, { argnums: [0, 1, 2] });
`,
      "main.js": `import { df } from "./model.js";
let stack = "";
try { df(1, "2", 3); } catch (e) { stack = e.stack; }
console.log(JSON.stringify({ code: String(df), grads: df(-2, 5, -4), stack }));
`,
    });
    const r = spawnSync(process.execPath, ["--import", "gradc/register", "main.js"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { code: string; grads: number[]; stack: string };
    expect(out.code).toMatch(/^function df\(x, y, z\)/);
    // d/dx (x+y)z = z, d/dy = z, d/dz = x + y at (-2, 5, -4), by hand.
    expect(out.grads).toEqual([-4, -4, 3]);
    expect(out.stack).toContain("df: argument y must be a number");
    expect(out.stack).toContain(`at df (${join(dir, "model.js")}:9:`);
  });

  it("reports a model it cannot compile with gradc's diagnostic, file and line", () => {
    const dir = bundlerProject({
      "bad.ts": `import { grad } from "gradc";\n\nexport function f(x: number): number {\n  return x.toFixed(2).length;\n}\n\nexport const df = grad(f);\n`,
      "main.ts": `import { df } from "./bad";\nconsole.log(df(1));\n`,
    });
    const r = spawnSync(TSX, ["--import", "gradc/register", "main.ts"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/bad\.ts\(4,\d+\): error GRADC\d{4}: /);
  });
});
