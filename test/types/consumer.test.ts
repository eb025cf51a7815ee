// A project that installs gradc, as a user's would: `npm pack` of this repository unpacked as
// node_modules/gradc, and TypeScript, with no @types/node and skipLibCheck off. It type-checks
// a model written with the dense-layer idiom and exact annotations, with `tsc` itself. Nothing
// is downloaded: TypeScript is the copy ts-morph ships (its compiler and its lib files).

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRICT_CHECKS } from "./strict.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TMP = join(tmpdir(), `gradc-consumer-${process.pid}`);
const PROJECT = join(TMP, "project");
const require = createRequire(import.meta.url);

const MODEL = `
import { type Tensor, GradcError, add, matmul, mean, randn, relu, sgd, square, sub, valueAndGrad } from "gradc";

export interface Dense<I extends number, O extends number> {
  W: Tensor<[I, O]>;
  b: Tensor<[O]>;
}

export function dense<B extends number, I extends number, O extends number>(layer: Dense<I, O>, x: Tensor<[B, I]>): Tensor<[B, O]> {
  const h: Tensor<[B, O]> = add(matmul(x, layer.W), layer.b);
  return h;
}

export interface Net {
  l1: Dense<4, 16>;
  l2: Dense<16, 3>;
}

export function loss<B extends number>(net: Net, x: Tensor<[B, 4]>, y: Tensor<[B, 3]>): number {
  const h: Tensor<[B, 16]> = relu(dense(net.l1, x));
  const out: Tensor<[B, 3]> = dense(net.l2, h);
  return mean(square(sub(out, y)));
}

export const lossGrad = valueAndGrad(loss);

const net: Net = { l1: { W: randn([4, 16], 1), b: randn([16], 2) }, l2: { W: randn([16, 3], 3), b: randn([3], 4) } };
const [value, grads]: [number, Net] = lossGrad(net, randn([8, 4], 5), randn([8, 3], 6));
sgd(net, grads, 0.1);
export const trained: number = value;
export const isGradcError = (e: unknown): boolean => e instanceof GradcError;
`;

// The second layer written out, with its weights the wrong way round.
const MISTAKE = MODEL.replace("l2: Dense<16, 3>;", "l2: Dense<3, 16>;").replace(
  "const out: Tensor<[B, 3]> = dense(net.l2, h);",
  "const out = add(matmul(h, net.l2.W), net.l2.b);",
);

/** node_modules/typescript from the compiler ts-morph bundles, with a `tsc` that runs it. */
function installTypeScript(into: string): void {
  const common = dirname(require.resolve("@ts-morph/common/package.json"));
  const lib = join(into, "typescript/lib");
  mkdirSync(lib, { recursive: true });
  mkdirSync(join(into, "typescript/bin"), { recursive: true });
  execFileSync("cp", [join(common, "dist/typescript.js"), join(common, "lib/typescript.d.ts"), lib]);
  const { getLibFiles } = require("@ts-morph/common") as { getLibFiles(): { fileName: string; text: string }[] };
  for (const f of getLibFiles()) writeFileSync(join(lib, f.fileName), f.text);
  writeFileSync(
    join(into, "typescript/package.json"),
    JSON.stringify({ name: "typescript", main: "./lib/typescript.js", types: "./lib/typescript.d.ts", bin: { tsc: "./bin/tsc" } }),
  );
  writeFileSync(
    join(into, "typescript/bin/tsc"),
    `#!/usr/bin/env node\nconst ts = require("../lib/typescript.js");\nts.executeCommandLine(ts.sys, ts.noop, ts.sys.args);\n`,
  );
}

function tsconfig(lib: string[], include: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib,
      ...STRICT_CHECKS,
    },
    include,
  });
}

/** Runs the project's tsc on `config`: its exit status and what it printed. */
function tsc(config: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(PROJECT, "node_modules/typescript/bin/tsc"), "-p", config], {
    cwd: PROJECT,
    encoding: "utf8",
    timeout: 300_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(join(PROJECT, "node_modules/gradc"), { recursive: true });
  // dist/ is fresh: the suite's global setup has just built it.
  execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", TMP], { cwd: ROOT, stdio: "pipe", timeout: 300_000 });
  const tarball = readdirSync(TMP).find((f) => f.endsWith(".tgz"))!;
  execFileSync("tar", ["-xzf", join(TMP, tarball), "-C", join(PROJECT, "node_modules/gradc"), "--strip-components=1"]);
  installTypeScript(join(PROJECT, "node_modules"));
  writeFileSync(join(PROJECT, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(join(PROJECT, "model.ts"), MODEL);
}, 600_000);

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe("a project with only typescript and gradc installed", () => {
  it("has no @types/node to lean on", () => {
    expect(readdirSync(join(PROJECT, "node_modules")).sort()).toEqual(["gradc", "typescript"]);
  });

  it.each([
    ["ES2022", ["ES2022"]],
    ["ES2022 + DOM", ["ES2022", "DOM"]],
  ])("type-checks the dense-layer model with lib %s", (name, lib) => {
    const config = `tsconfig.${name.replace(/\W+/g, "-")}.json`;
    writeFileSync(join(PROJECT, config), tsconfig(lib, ["model.ts"]));
    expect(tsc(config)).toEqual({ status: 0, output: "" });
  });

  it("reports a layer of the wrong shape as a readable shape error", () => {
    mkdirSync(join(PROJECT, "mistake"), { recursive: true });
    writeFileSync(join(PROJECT, "mistake/model.ts"), MISTAKE);
    writeFileSync(join(PROJECT, "tsconfig.mistake.json"), tsconfig(["ES2022"], ["mistake/model.ts"]));
    const r = tsc("tsconfig.mistake.json");
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('ShapeError<"matmul: inner dimensions differ: 16 (axis 1 of a) vs 3 (axis 0 of b)">');
  });

  it("type-checks the compiler and esbuild entries too, given gradc's own dependencies", () => {
    // A real install brings them; linked here from this repository's node_modules.
    const modules = join(PROJECT, "node_modules");
    const deps = ["acorn", "commander", "ts-morph", "@ts-morph/common", "@viz-js/viz", "esbuild", "minimatch", "path-browserify", "tinyglobby"];
    // And the integrations' (source maps, the unplugin adapters).
    for (const extra of ["@jridgewell/gen-mapping", "@jridgewell/remapping", "@jridgewell/trace-mapping", "@jridgewell/sourcemap-codec", "magic-string", "unplugin"])
      if (existsSync(join(ROOT, "node_modules", extra))) deps.push(extra);
    for (const dep of deps) {
      mkdirSync(dirname(join(modules, dep)), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", dep), join(modules, dep));
    }
    writeFileSync(
      join(PROJECT, "tools.ts"),
      `import { compile } from "gradc/compiler";\nimport { gradc } from "gradc/esbuild";\nexport const result = compile([]);\nexport const plugin = gradc();\n`,
    );
    writeFileSync(join(PROJECT, "tsconfig.tools.json"), tsconfig(["ES2022"], ["tools.ts"]));
    expect(tsc("tsconfig.tools.json")).toEqual({ status: 0, output: "" });
  });
});
