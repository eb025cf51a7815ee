// The browser demo (examples/web/): built with Vite in production mode, served on 127.0.0.1
// and opened in a real headless Chromium driven by Playwright. The page must train (the loss
// it reports falls), show the neuron's graph with the lecture's values, agree with gradients
// worked by hand, and ship none of the compiler, the tape fallback or its parser.
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { chromium } from "playwright-core";
import type { Rollup } from "vite";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, neuronExpected } from "../cli/helpers.js";
import { findChromium, missingChromiumMessage } from "./chromium.js";
import { serveStatic } from "./serve.js";

const TMP = join(ROOT, "test", ".tmp");
const OUT = join(TMP, "web-dist");
/** The screenshot the test leaves for people to look at (test/.tmp is ignored by git). */
const SCREENSHOT = join(TMP, "web-demo.png");

/** Modules the bundle must not contain: the uncompiled fallback, its parser, the compiler. */
const FORBIDDEN_MODULES =
  /runtime\/(tape|interpret|grad|checkgrad)\.[jt]s$|\/acorn\/|\/typescript\/|\/ts-morph\/|\/@ts-morph\/|\/@viz-js\/|\/compiler\/(frontend|passes|codegen|graph|cli|esbuild|ir)\//;

interface DemoState {
  step: number;
  losses: number[];
  accuracy: number;
  done: boolean;
  frames: number;
  neuron: { value: number; grads: number[] };
}

let chunks: Rollup.OutputChunk[] = [];
let browser: Browser | undefined;
let page: Page;
let close: (() => Promise<void>) | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(missingChromiumMessage());
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  const result = await build({
    configFile: join(ROOT, "examples", "web", "vite.config.ts"),
    mode: "production",
    logLevel: "warn",
    build: { outDir: OUT, emptyOutDir: true },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  chunks = outputs.flatMap((o) => o.output.filter((c): c is Rollup.OutputChunk => c.type === "chunk"));
  const server = await serveStatic(OUT);
  close = server.close;
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // Chromium's sandbox refuses to start as root (CI containers run as root).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    timeout: 60_000,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await page.goto(server.url, { waitUntil: "load", timeout: 60_000 });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
});

// Page-side code is passed as expressions (strings), so this file needs no DOM types.

/** The state the page publishes on `window.gradcDemo`. */
const demoState = (): Promise<DemoState> => page.evaluate<DemoState>("window.gradcDemo");

/** Resolves once the page has run every training step. */
async function trained(): Promise<DemoState> {
  await page.waitForFunction("window.gradcDemo?.done === true", undefined, { timeout: 120_000, polling: 250 });
  return demoState();
}

describe("browser demo (examples/web, Vite + headless Chromium)", () => {
  it("bundles compiled gradients with no tape, no parser and no compiler", () => {
    expect(chunks.length).toBeGreaterThan(0);
    const ids = chunks.flatMap((c) => c.moduleIds);
    // The page's own modules are there, so the list is the real one.
    expect(ids.some((id) => id.endsWith("examples/web/src/model.ts"))).toBe(true);
    expect(ids.filter((id) => FORBIDDEN_MODULES.test(id))).toEqual([]);
    const code = chunks.map((c) => c.code).join("\n");
    expect(code).not.toMatch(/acorn|ecmaVersion/);
    expect(code).not.toMatch(/ts-morph|Debug Failure|\bSyntaxKind\b/);
    // The compiled models are there: the generated code's header comment is gone after
    // minification, but the loss's and the neuron's gradient functions run (tested below).
    expect(code).not.toMatch(/valueAndGrad\(/);
  });

  it("trains in the page: the loss it shows falls and the moons get separated", async () => {
    const state = await trained();
    expect(pageErrors).toEqual([]);
    expect(state.step).toBe(state.losses.length);
    expect(state.losses.length).toBeGreaterThanOrEqual(500);
    // Live: the steps ran a few per animation frame, the page redrawing in between.
    expect(state.frames).toBeGreaterThanOrEqual(state.step / 10);
    expect(state.losses.every(Number.isFinite)).toBe(true);
    const first = state.losses[0]!;
    const last = state.losses[state.losses.length - 1]!;
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    // A logistic loss starts near log 2 for small weights; training must cut it tenfold, and
    // not by luck of one step: the last 50 steps average far below the first 50.
    expect(first).toBeGreaterThan(0.4);
    expect(last).toBeLessThan(first / 10);
    expect(mean(state.losses.slice(-50))).toBeLessThan(mean(state.losses.slice(0, 50)) / 5);
    expect(state.accuracy).toBeGreaterThanOrEqual(0.95);
    // What the page shows agrees with its state.
    const section = page.locator("#training");
    const shown = {
      step: Number(await section.getAttribute("data-step")),
      loss: Number(await section.getAttribute("data-loss")),
      done: await section.getAttribute("data-done"),
      text: await page.locator("#loss").textContent(),
    };
    expect(shown).toEqual({ step: state.step, loss: last, done: "true", text: last.toFixed(4) });
    // uPlot drew the curve: a canvas of real size inside the chart.
    const canvas = await page.locator("#chart canvas").first().boundingBox();
    expect(canvas?.width).toBeGreaterThan(200);
    expect(canvas?.height).toBeGreaterThan(100);
  }, 150_000);

  it("shows the neuron's graph with the lecture's forward values and gradients", async () => {
    const texts = await page.locator("#graph-svg svg text").allTextContents();
    const labels = texts.map((t) => t.trim());
    // Forward along the chain, then the gradients flowing back (values worked by hand).
    for (const v of ["-2.00", "6.00", "4.00", "1.00", "-1.00", "0.37", "1.37", "0.73"]) expect(labels).toContain(v);
    for (const g of ["-0.53", "-0.20", "0.20", "-0.39", "0.39", "-0.59"]) expect(labels).toContain(g);
  });

  it("computes the neuron's gradients in the page with compiled code, equal to the hand-worked ones", async () => {
    const state = await demoState();
    const want = neuronExpected();
    expect(state.neuron.value).toBeCloseTo(want.f, 12);
    [...want.dw, ...want.dx].forEach((g, i) => expect(state.neuron.grads[i]).toBeCloseTo(g, 12));
    const rows: string[][] = [];
    for (const tr of await page.locator("#neuron-check tbody tr").all()) rows.push(await tr.locator("td").allTextContents());
    const fmt = (v: number): string => v.toFixed(4);
    expect(rows).toEqual([
      ["w[0]", "2.0000", fmt(want.dw[0]!), fmt(want.dw[0]!)],
      ["w[1]", "-3.0000", fmt(want.dw[1]!), fmt(want.dw[1]!)],
      ["w[2]", "-3.0000", fmt(want.dw[2]!), fmt(want.dw[2]!)],
      ["x[0]", "-1.0000", fmt(want.dx[0]!), fmt(want.dx[0]!)],
      ["x[1]", "-2.0000", fmt(want.dx[1]!), fmt(want.dx[1]!)],
      ["f", fmt(want.f), "", fmt(want.f)],
    ]);
  });

  it("saves a screenshot of the trained page", async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it("trains again from the same seed on 'Train again', step for step the same losses", async () => {
    const before = (await demoState()).losses;
    await page.click("#restart");
    expect((await demoState()).done).toBe(false);
    const again = await trained();
    expect(again.losses).toEqual(before);
  }, 150_000);
});
