// Replays every program the fuzzer saved in test/fuzz-crashes/ (see its README): each must now
// come back as a valid module (run, and compared with the uncompiled program where its case
// says so) or as located diagnostics, as its case expects, never a crash, hang or bad output.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/fixtures.js";
import { runBatch } from "./harness.js";
import { type Case, deepCase } from "./programs.js";

const SAVED = join(ROOT, "test/fuzz-crashes");

interface Saved extends Omit<Case, "name" | "source"> {
  readonly status: string;
  readonly detail: string;
  readonly sourceKept: boolean;
}

function savedCases(): Case[] {
  return readdirSync(SAVED)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const name = f.slice(0, -".json".length);
      const { status: _s, detail: _d, sourceKept, ...c } = JSON.parse(readFileSync(join(SAVED, f), "utf8")) as Saved;
      if (sourceKept) return { ...c, name, source: readFileSync(join(SAVED, `${name}.ts`), "utf8") };
      // A deep program, regenerated from its name: deep-<kind>-<size>-<index>.
      const [, kind, n, index] = /^deep-(\w+)-(\d+)-(\d+)$/.exec(name)!;
      return { ...deepCase(kind!, Number(n), Number(index)), ...c, name };
    });
}

describe("saved fuzz crashes", () => {
  const cases = savedCases();

  it("the folder holds the crashes found so far, each with its program", () => {
    expect(cases.map((c) => c.name)).toContain("hostile_param_42936034_149");
    for (const c of cases) expect(c.source.length, c.name).toBeGreaterThan(0);
    for (const c of cases.filter((c) => !c.deep)) expect(existsSync(join(SAVED, `${c.name}.ts`))).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s compiles or is diagnosed, as its case expects", async (name, c) => {
    const [outcome] = await runBatch([c], join(ROOT, "test/.tmp/fuzz-crashes", name), { run: !c.deep });
    expect(["compiled", "diagnosed"], `${outcome!.status}: ${outcome!.detail}`).toContain(outcome!.status);
  }, 300_000);
});
