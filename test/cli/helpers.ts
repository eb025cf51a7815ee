// Running the real `gradc` bin (bin/gradc.js on the dist/ the global setup built) in throwaway
// folders outside the repository, where "gradc" resolves through a node_modules symlink to the
// package, the way an installed package would.
//
// The package is a private copy (package.json, bin/, dist/) taken once per test file: other
// test runs in the same checkout rebuild dist/ from scratch (delete, then emit), and a bin
// started in that window would fail for reasons that have nothing to do with the test.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const made: string[] = [];

/** The .js files a complete dist/ has: one per source file the build compiles. */
function expectedDist(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(join("dist", rel.replace(/\.ts$/, ".js")));
    }
  };
  walk("compiler");
  walk("runtime");
  return out;
}

let installed: string | undefined;

/** A private, complete copy of the built package; waits while another run is rebuilding dist/. */
export function packageDir(): string {
  if (installed) return installed;
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "gradc-pkg-"));
    made.push(dir);
    try {
      for (const part of ["package.json", "bin", "dist"]) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
      symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
      const missing = expectedDist().filter((f) => !existsSync(join(dir, f)));
      if (missing.length === 0) return (installed = dir);
      if (attempt >= 120) throw new Error(`dist/ stays incomplete (no ${missing[0]}); run npm run build`);
    } catch (e) {
      if (attempt >= 120) throw e;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); // dist/ is being rebuilt
  }
}

/** The package's production dependencies, transitively (folders under node_modules). */
function productionDependencies(): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name) || !existsSync(join(ROOT, "node_modules", name, "package.json"))) return;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
  };
  const own = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(own.dependencies)) visit(dep);
  return [...seen].sort();
}

let standalone: string | undefined;

/**
 * A copy of the built package with its production dependencies copied in (not linked to the
 * checkout), every folder of it open to all users: for a process of another user, who may be
 * unable to enter the checkout (a clone under a 0700 folder such as one `mktemp -d` makes).
 */
export function standalonePackageDir(): string {
  if (standalone) return standalone;
  const dir = mkdtempSync(join(tmpdir(), "gradc-pkg-"));
  made.push(dir);
  const from = packageDir();
  for (const part of ["package.json", "bin", "dist"]) cpSync(join(from, part), join(dir, part), { recursive: true });
  for (const dep of productionDependencies()) cpSync(join(ROOT, "node_modules", dep), join(dir, "node_modules", dep), { recursive: true, dereference: true });
  const open = (d: string): void => {
    chmodSync(d, 0o755);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) open(join(d, e.name));
  };
  open(dir);
  return (standalone = dir);
}

/** The bin of the private package copy. */
export const bin = (): string => join(packageDir(), "bin", "gradc.js");

/** A fresh folder with `files` written into it and `gradc` installed (symlinked to the copy). */
export function tempProject(files: Record<string, string> = {}, pkg: string = packageDir()): string {
  const dir = mkdtempSync(join(tmpdir(), "gradc-test-"));
  made.push(dir);
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(pkg, join(dir, "node_modules", "gradc"), "dir");
  for (const [name, text] of Object.entries(files)) write(dir, name, text);
  return dir;
}

export function write(dir: string, name: string, text: string): void {
  mkdirSync(dirname(join(dir, name)), { recursive: true });
  writeFileSync(join(dir, name), text);
}

export function removeTempProjects(): void {
  installed = undefined;
  standalone = undefined;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `gradc args...` in `cwd` to completion (stdout is a pipe, so no code frames). */
export function gradc(args: readonly string[], cwd: string): Run {
  const r = spawnSync(process.execPath, [bin(), ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running `gradc` (for --watch) whose output can be awaited. */
export class Spawned {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  /** Pending waits; each returns true once it has settled. */
  private waiters: (() => boolean)[] = [];

  constructor(args: readonly string[], cwd: string) {
    this.child = spawn(process.execPath, [bin(), ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    this.child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      this.stdout += s;
      this.check();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      this.stderr += s;
      this.check();
    });
    this.child.on("exit", () => this.check());
  }

  private check(): void {
    this.waiters = this.waiters.filter((settled) => !settled());
  }

  /** Resolves once stdout, from offset `from`, contains `text`; rejects if the process exits first. */
  waitFor(text: string, from = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      const test = (): boolean => {
        const at = this.stdout.indexOf(text, from);
        if (at >= 0) {
          resolve(at + text.length);
          return true;
        }
        if (this.child.exitCode !== null) {
          reject(new Error(`gradc exited (${this.child.exitCode}) before printing ${JSON.stringify(text)}:\n${this.stdout}\n${this.stderr}`));
          return true;
        }
        return false;
      };
      if (!test()) this.waiters.push(test);
    });
  }

  kill(): void {
    this.child.kill("SIGTERM");
  }
}

/** The sigmoid neuron of the worked example: f = σ(w0·x0 + w1·x1 + w2). */
export const NEURON = `import { valueAndGrad } from "gradc";

export function neuron(w: [number, number, number], x: [number, number]): number {
  const dot = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1 / (1 + Math.exp(-dot));
}

export const neuronGrad = valueAndGrad(neuron, { argnums: [0, 1] });
`;

/** The neuron's value and gradients at w = (2, -3, -3), x = (-1, -2), derived by hand. */
export function neuronExpected(): { f: number; dw: number[]; dx: number[] } {
  const w = [2, -3, -3];
  const x = [-1, -2];
  const f = 1 / (1 + Math.exp(-(w[0]! * x[0]! + w[1]! * x[1]! + w[2]!)));
  const local = f * (1 - f); // σ' = σ(1 - σ)
  return { f, dw: [local * x[0]!, local * x[1]!, local], dx: [local * w[0]!, local * w[1]!] };
}
