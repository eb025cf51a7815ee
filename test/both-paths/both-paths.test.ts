// One language, two paths. Every fixture (test/fixtures/<case>/input.ts) and a fixed sample of
// fuzz programs is compiled binding by binding, and the same bindings are run uncompiled (the
// program's own module, its `grad`/`valueAndGrad` on the tape, its top-level names passed as
// `scope`). Both paths must give the same verdict: compiled and the fallback runs, with the same
// values and gradients (to f64 or f32 precision); or refused, the fallback's GradcError carrying
// one of the compiler's GRADC codes for that binding. Two tables say where that cannot hold yet:
// EXEMPT and EXEMPT_MESSAGES (what the compiler decides from static types or its own limits,
// which the fallback cannot see on values) and LANDING (constructs the compiler gains in this round of work,
// which the fallback already accepts).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { limits } from "../../runtime/interpret-names.js";
import { refusalCode } from "../../runtime/refusal.js";
import { type ProgramVerdict, type Verdict, argumentFor, fallbackModule, numbersOf, rng, verdicts } from "../helpers/both-paths.js";
import { FIXTURES, ROOT, fixtureNames } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { sampleCases } from "../robustness/programs.js";

// The programs import "gradc": the runtime's source, with transformations that pass the
// module's names to the fallback as `scope` (filled by the line fallbackModule appends).
vi.mock("gradc", async () => {
  const rt = await import("../../runtime/index.js");
  const { registerTransforms } = await import("../../runtime/interpret.js");
  const g = globalThis as unknown as { __gradcScope: object };
  const opt = (o: unknown): object => (o && typeof o === "object" && "scope" in o ? o : { ...(o as object | undefined), scope: g.__gradcScope });
  const wrapped = {
    grad: (f: never, o?: unknown) => rt.grad(f, opt(o) as never),
    valueAndGrad: (f: never, o?: unknown) => rt.valueAndGrad(f, opt(o) as never),
    jvp: (f: never, o?: unknown) => rt.jvp(f, opt(o) as never),
    customVjp: (f: never, v: never, o?: unknown) => rt.customVjp(f, v, opt(o) as never),
  };
  registerTransforms(wrapped);
  return { ...rt, ...wrapped };
});

const TMP = join(ROOT, "test/.tmp/both-paths");
const FUZZ_SEED = 16;
const FUZZ_COUNT = Number(process.env["BOTH_PATHS_FUZZ"] ?? 200);

/**
 * Codes the fallback cannot reproduce, and why. A binding the compiler refuses with one of these
 * may run uncompiled (or be refused with another of its codes).
 */
const EXEMPT: Readonly<Record<string, string>> = {
  GRADC1006: "a parameter's declared type: the fallback sees values, not types",
  GRADC1007: "a loop bound computed from a parameter not differentiated: a plain number on the tape, a run-time value to the compiler",
  GRADC1014: "an index computed from a parameter not differentiated, or the counter of a loop of more than 16 trips: a plain number on the tape",
  GRADC1012: "a path without return: the fallback sees only the path taken",
  GRADC1017: "different structures on the two branches: the fallback runs one branch",
  GRADC1021: "nesting too deep to compile: a limit of the compiler",
  GRADC1023: "a function too large once inlined and unrolled: a limit of the compiler",
  GRADC1008: "the argument of grad is not a function declared in the program: uncompiled it is a function value like any other",
  GRADC1024: "a binding of something that is not a transformation: the fallback never sees the binding",
  GRADC1030: "a loop over a symbolic dimension the compiler cannot roll: a limit of the compiler",
  GRADC2005: "a type the compiler decides before running (the types of both branches, a boolean in arithmetic, a tensor type's dimensions)",
};

/**
 * Refusals the fallback mirrors only in part, by the compiler's message: the message, and why.
 * A switch with fall-through or an early break is mirrored exactly and is not listed.
 */
const EXEMPT_MESSAGES: readonly (readonly [RegExp, string])[] = [
  [
    /GRADC1050: .*case label (must be a number known at compile time|computed at run time)/,
    "whether a case label is known at compile time: the fallback sees plain numbers and decides from the syntax (a label reading a parameter, or a variable computed from one, is not), so a variable carried through a while or rolled loop, a rolled loop's counter, or a symbolic dimension reads as known",
  ],
  [/GRADC1050: .*the value switched on is/, "a switch on a tensor or on something not a number: the fallback sees it when the switch runs, not in a branch not taken"],
];

/**
 * Constructs the compiler refuses today and accepts once the work in progress lands (the branch
 * named): the fallback accepts them already. A binding whose every diagnostic matches one is
 * counted as landing, not as a disagreement. Delete each row once its branch is merged.
 */
const LANDING: readonly (readonly [RegExp, string])[] = [];

/**
 * Codes about the binding's own source, which the fallback never reads; when the uncompiled
 * module cannot even load because of it (`const [a] = grad(f)`, `{ hasAux: flag }` with a
 * declared-only flag), that is the same refusal.
 */
const BINDING_SITE: Readonly<Record<string, string>> = {
  GRADC1022: "a destructured binding of grad's result: uncompiled, destructuring a function throws",
  GRADC1040: "an option not written true or false: uncompiled, its value is read (or is not there to read)",
};

/**
 * The same mistake under another code, because the fallback cannot tell which it is: compiler
 * code, fallback code, why.
 */
const SAME_MISTAKE: readonly (readonly [string, string, string])[] = [
  ["GRADC1003", "GRADC1011", "a function declared without a body (declare function f): at run time nothing defines the name"],
  // Both refuse; the first error differs in order only.
  ["GRADC1011", "GRADC1010", "a recursive call whose arguments name undefined variables: the compiler lowers the arguments (1011) before it meets the recursion, the fallback finds the recursion before it runs the function"],
];

/**
 * Disagreements that are bugs of one path (the compiler's, or gaps of the fallback), found by
 * this test and reported: the program and what is wrong. Each must still disagree (delete the
 * row once the bug is fixed).
 */
const KNOWN_BUGS: Readonly<Record<string, string>> = {
};

interface Program {
  readonly name: string;
  readonly file: string;
  readonly source: string;
  readonly fixture: boolean;
}

type Status = "agree" | "exempt" | "landing" | "disagree";
interface Outcome {
  readonly where: string;
  readonly status: Status;
  readonly detail: string;
}

const fixtures: Program[] = fixtureNames().map((name) => {
  const file = join(FIXTURES, name, "input.ts");
  return { name, file, source: readFileSync(file, "utf8"), fixture: true };
});

let programs: Program[] = [];
let results: Map<string, ProgramVerdict>;

beforeAll(async () => {
  const { writeFileSync, mkdirSync, rmSync } = await import("node:fs");
  const dir = join(TMP, "fuzz-src");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fuzz = sampleCases(FUZZ_SEED, FUZZ_COUNT)
    .filter((c) => !c.deep)
    .map((c): Program => {
      const file = join(dir, `${c.name}.ts`);
      writeFileSync(file, c.source);
      return { name: c.name, file, source: readFileSync(file, "utf8"), fixture: false };
    });
  programs = [...fixtures, ...fuzz];
  results = new Map(verdicts(programs).map((v) => [v.name, v]));
  // A loop that never ends on the tape would hang the test rather than fail it.
  limits.loopTrips = 100_000;
  limits.calls = 200_000;
}, 600_000);

const attempt = (run: () => unknown): { value: unknown } | { threw: unknown } => {
  try {
    return { value: run() };
  } catch (threw) {
    return { threw };
  }
};

const describeError = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e));

/** Runs one program both ways and judges each binding. */
async function judge(p: Program): Promise<Outcome[]> {
  const v = results.get(p.name)!;
  if (v.fileCodes.length > 0) return [{ where: p.name, status: "agree", detail: `refused as a whole: ${v.fileCodes.join(", ")}` }];
  if (v.bindings.length === 0) return [];
  (globalThis as unknown as { __gradcScope: object }).__gradcScope = {};
  const path = fallbackModule(v, p.source, join(TMP, "run", p.name), p.fixture);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ path)) as Record<string, unknown>;
  } catch (e) {
    // A binding refused as the module loads (its options) stops the module: one of its bindings must be refused so.
    const code = refusalCode(e);
    if (code !== undefined && v.bindings.some((b) => b.codes.includes(code)))
      return [{ where: p.name, status: "agree", detail: `the module is refused as it loads: ${code}` }];
    // `const [a] = grad(f)`: the binding itself is what the compiler refuses (GRADC1022).
    const site = v.bindings.flatMap((b) => b.codes).find((c) => BINDING_SITE[c] !== undefined);
    if (site !== undefined) return [{ where: p.name, status: "exempt", detail: `${site}: ${BINDING_SITE[site]}; uncompiled, the module throws ${describeError(e)}` }];
    // Source that is not a module that runs at all: TypeScript takes it, a strict-mode module
    // does not (a reserved word as a name), esbuild cannot transpile it, or it imports a name
    // gradc does not export. Nothing runs uncompiled, so there is no verdict to compare.
    if (e instanceof SyntaxError || /Transform failed|export is defined on the "gradc" mock/.test(String(e)))
      return [{ where: p.name, status: "exempt", detail: `not a module that runs uncompiled: ${describeError(e).split("\n")[0]}` }];
    return [{ where: p.name, status: "disagree", detail: `the module does not load uncompiled: ${describeError(e)}` }];
  }
  const generated = v.code !== undefined ? await importGenerated(v.code, p.name) : {};
  const out: Outcome[] = [];
  for (const b of v.bindings) {
    const o = judgeBinding(p, b, mod[b.exportName], generated[b.exportName]);
    const bug = KNOWN_BUGS[o.where];
    if (bug === undefined) out.push(o);
    else if (o.status === "disagree") out.push({ ...o, status: "exempt", detail: `known compiler bug: ${bug} (${o.detail})` });
    else out.push({ ...o, status: "disagree", detail: `KNOWN_BUGS lists ${o.where}, which now agrees: delete the row` });
  }
  return out;
}

function judgeBinding(p: Program, b: Verdict, uncompiled: unknown, compiled: unknown): Outcome {
  const where = `${p.name}/${b.exportName}`;
  if (typeof uncompiled !== "function") return { where, status: "disagree", detail: "no uncompiled binding of that name" };
  const next = rng([...where].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const args = b.params.map((t) => argumentFor(t, next));
  const number = { kind: "leaf", type: { dtype: "f64", shape: [] } } as const;
  const tangents = b.argnums.map((k) => argumentFor(b.params[k] ?? number, next));
  const call = (fn: unknown) => () => (b.mode === "jvp" ? (fn as (p: unknown[], t: unknown[]) => unknown)(args, tangents) : (fn as (...a: unknown[]) => unknown)(...args));
  const theirs = attempt(call(uncompiled));
  if ("threw" in theirs && !(theirs.threw instanceof Error && theirs.threw.name === "GradcError") && /ran more than|made more than/.test(String(theirs.threw)))
    return { where, status: "exempt", detail: "uncompiled, it runs past the test's budget of loop trips and calls on these arguments" };
  const code = "threw" in theirs ? refusalCode(theirs.threw) : undefined;
  const fallback = "threw" in theirs ? `throws ${describeError(theirs.threw)}` : "runs";

  if (b.codes.length > 0) {
    if (code !== undefined && b.codes.includes(code)) return { where, status: "agree", detail: code };
    const same = SAME_MISTAKE.find(([c, f]) => b.codes.includes(c) && code === f);
    if (same !== undefined) return { where, status: "exempt", detail: `${same[0]} compiled, ${same[1]} uncompiled: ${same[2]}` };
    // The compiler stops at a construct it does not take yet; the fallback runs it (or finds a
    // mistake inside it that the compiler will report once it lowers the construct).
    const usable = "value" in theirs || code !== undefined;
    if (usable && b.messages.length > 0 && b.messages.every((m) => LANDING.some(([re]) => re.test(m))))
      return { where, status: "landing", detail: `${b.messages[0]} (until ${LANDING.find(([re]) => re.test(b.messages[0]!))![1]} lands)` };
    const exempt = b.codes.find((c) => EXEMPT[c] !== undefined);
    // Exempt: the fallback runs, or refuses with a GradcError (never crashes).
    const ranOrRefused = !("threw" in theirs) || (theirs.threw instanceof Error && theirs.threw.name === "GradcError");
    if (exempt !== undefined && ranOrRefused)
      return { where, status: "exempt", detail: `${exempt}: ${EXEMPT[exempt!]}; the fallback ${fallback}` };
    const byMessage = EXEMPT_MESSAGES.find(([re]) => b.messages.some((m) => re.test(m)));
    if (byMessage !== undefined && ranOrRefused) return { where, status: "exempt", detail: `${byMessage[1]}; the fallback ${fallback}` };
    return { where, status: "disagree", detail: `compiler: ${b.messages.join(" | ") || b.codes.join(", ")}; fallback ${fallback}` };
  }
  const mine = attempt(call(compiled));
  if ("threw" in mine) {
    // Generated code checks its arguments at run time; the fallback must refuse them too.
    if ("threw" in theirs && theirs.threw instanceof Error && theirs.threw.name === "GradcError" && mine.threw instanceof Error && mine.threw.name === "GradcError")
      return { where, status: "agree", detail: "both throw a GradcError at run time" };
    return { where, status: "disagree", detail: `compiled throws ${describeError(mine.threw)}; fallback ${fallback}` };
  }
  if ("threw" in theirs) return { where, status: "disagree", detail: `compiled; fallback ${fallback}` };
  const [x, y] = [numbersOf(mine.value), numbersOf(theirs.value)];
  if (x.length !== y.length) return { where, status: "disagree", detail: `${x.length} numbers compiled, ${y.length} uncompiled` };
  const f32 = (b.compiled?.stages ? JSON.stringify(b.params).includes('"f32"') : false) || /Float32Array/.test(results.get(p.name)!.code ?? "");
  for (let i = 0; i < x.length; i++) {
    const [a, c] = [x[i]!, y[i]!];
    if (Number.isNaN(a) && Number.isNaN(c)) continue;
    const err = Math.abs(a - c) / Math.max(1, Math.abs(a), Math.abs(c));
    if (!(err <= (f32 ? 1e-4 : 1e-9))) return { where, status: "disagree", detail: `entry ${i}: ${a} compiled, ${c} uncompiled` };
  }
  return { where, status: "agree", detail: `${x.length} numbers` };
}

describe("both paths: the compiler and the uncompiled fallback agree", () => {
  const all: Outcome[] = [];

  it.each(fixtures.map((f) => f.name))("fixture %s", async (name) => {
    const outcomes = await judge(programs.find((p) => p.name === name) ?? fixtures.find((p) => p.name === name)!);
    all.push(...outcomes);
    expect(outcomes.filter((o) => o.status === "disagree").map((o) => `${o.where}: ${o.detail}`)).toEqual([]);
  }, 60_000);

  it(`${FUZZ_COUNT} fuzz programs (seed ${FUZZ_SEED})`, async () => {
    const outcomes: Outcome[] = [];
    for (const p of programs.filter((q) => !q.fixture)) outcomes.push(...(await judge(p)));
    all.push(...outcomes);
    const count = (s: Status) => outcomes.filter((o) => o.status === s).length;
    // The sample exercises both verdicts.
    expect(count("agree")).toBeGreaterThan(50);
    expect(outcomes.filter((o) => o.status === "disagree").map((o) => `${o.where}: ${o.detail}`)).toEqual([]);
  }, 600_000);

  it("reports what is exempt and what waits for other work", () => {
    const table = (s: Status) => all.filter((o) => o.status === s).map((o) => `  ${o.where}: ${o.detail}`);
    console.log(
      [`both paths: ${all.filter((o) => o.status === "agree").length} agree`, "exempt:", ...table("exempt"), "landing:", ...table("landing")].join("\n"),
    );
    expect(all.length).toBeGreaterThan(0);
  });
});
