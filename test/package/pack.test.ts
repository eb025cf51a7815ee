// The packed package (what `npm pack` ships: package.json without the repository's build
// lifecycle scripts, bin/, dist/) installs into a project `npm init -y` made without a warning,
// and every entry point works there: the runtime, each plugin, gradc/register, and the CLI
// writing CommonJS that the project can require().

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NEURON, ROOT, packageDir, removeTempProjects } from "../cli/helpers.js";

const made: string[] = [];
afterAll(() => {
  removeTempProjects();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const npm = (args: readonly string[], cwd: string) =>
  spawnSync("npm", args, { cwd, encoding: "utf8", timeout: 240_000, env: { ...process.env, npm_config_update_notifier: "false" } });

describe("npm pack", () => {
  it("installs in a fresh CommonJS project without warnings, and every entry point loads", () => {
    const work = mkdtempSync(join(tmpdir(), "gradc-pack-"));
    made.push(work);
    // The package as the repository has it, with the script prepack runs on the manifest.
    const pkg = join(work, "pkg");
    mkdirSync(join(pkg, "scripts"), { recursive: true });
    for (const part of ["package.json", "bin", "dist"]) cpSync(join(packageDir(), part), join(pkg, part), { recursive: true });
    cpSync(join(ROOT, "scripts", "pack-manifest.mjs"), join(pkg, "scripts", "pack-manifest.mjs"));
    const original = readFileSync(join(pkg, "package.json"), "utf8");
    expect(JSON.parse(original).scripts.prepare).toBeDefined();

    execFileSync(process.execPath, ["scripts/pack-manifest.mjs", "strip"], { cwd: pkg });
    const packed = npm(["pack", "--ignore-scripts", "--pack-destination", work], pkg);
    execFileSync(process.execPath, ["scripts/pack-manifest.mjs", "restore"], { cwd: pkg });
    expect(packed.status).toBe(0);
    expect(readFileSync(join(pkg, "package.json"), "utf8")).toBe(original);
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
    const manifest = JSON.parse(execFileSync("tar", ["xzf", join(work, tarball), "-O", "package/package.json"], { encoding: "utf8" })) as {
      scripts: Record<string, string>;
    };
    expect(Object.keys(manifest.scripts).filter((s) => /^(pre|post)?(install|prepare|pack)$|^prepack|^postpack/.test(s))).toEqual([]);

    const app = join(work, "app");
    mkdirSync(app);
    expect(npm(["init", "-y"], app).status).toBe(0);
    const install = npm(["install", join(work, tarball), "--prefer-offline", "--no-audit", "--no-fund"], app);
    expect(install.status).toBe(0);
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/warn/i);

    const entries = ["gradc", "gradc/compiler", "gradc/esbuild", "gradc/vite", "gradc/rollup", "gradc/webpack", "gradc/rspack"];
    const probe = `Promise.all(${JSON.stringify(entries)}.map((e) => import(e))).then((ms) => console.log(JSON.stringify(ms.map((m, i) => i < 2 ? typeof m : [typeof m.default, m.default === m.gradc]))))`;
    const loaded = spawnSync(process.execPath, ["-e", probe], { cwd: app, encoding: "utf8", timeout: 60_000 });
    expect(loaded.stderr).toBe("");
    expect(JSON.parse(loaded.stdout)).toEqual(["object", "object", ...entries.slice(2).map(() => ["function", true])]);

    const hook = spawnSync(process.execPath, ["--import", "gradc/register", "-e", "console.log('hooked')"], { cwd: app, encoding: "utf8", timeout: 60_000 });
    expect(hook.stderr).toBe("");
    expect(hook.stdout.trim()).toBe("hooked");

    // The CLI in a CommonJS project: .grad.cjs, required as is.
    writeFileSync(join(app, "model.ts"), NEURON);
    const cli = spawnSync(process.execPath, [join(app, "node_modules", ".bin", "gradc"), "model.ts", "--emit", "js"], { cwd: app, encoding: "utf8", timeout: 120_000 });
    expect(cli.stderr).toBe("");
    expect(cli.status).toBe(0);
    const run = spawnSync(process.execPath, ["-e", `console.log(require("./model.grad.cjs").neuronGrad([2, -3, -3], [-1, -2])[0].toFixed(4))`], { cwd: app, encoding: "utf8" });
    expect(run.stdout.trim()).toBe("0.7311");
  });
});
