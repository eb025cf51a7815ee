// Threads in a real browser (headless Chromium through Playwright): a page served with the two
// headers that make it cross-origin isolated imports the generated loader on its main thread,
// where it must stay single-threaded (a page's main thread may not Atomics.wait), and in a
// module worker, where it must start its Blob-URL workers and give the single-threaded bytes
// with them; the same page without the headers has no SharedArrayBuffer and runs the same
// kernels over an ordinary memory.

import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARED_MAX_PAGES } from "../../compiler/codegen/wasm-backend.js";
import { wasmModuleSource } from "../../compiler/wasm/embed.js";
import { buildKernelModule } from "../../compiler/wasm/module.js";
import { findChromium, missingChromiumMessage } from "./chromium.js";

/** Products through `par` and through one whole call, compared byte for byte (page-side code). */
const CHECK = `
export async function check(wasm, workers) {
  if (workers) {
    // The first large call starts the workers; they are ready once this worker's event loop has run.
    const f32 = new Float32Array(wasm.memory.buffer);
    wasm.par(wasm.get().matmul_nn_f32, 16, 1 << 30, [4096, 16, 2048, 16, 16, 16, 0]);
    for (let i = 0; i < 2000 && wasm.running() < wasm.threads; i++) await new Promise((r) => setTimeout(r, 10));
  }
  const sizes = [[64, 128, 784], [784, 128, 64], [200, 37, 129]];
  let same = true;
  for (let round = 0; round < 20; round++)
    for (const v of ["nn", "nt", "tn"])
      for (const [m, n, k] of sizes) {
        const a = 16, b = a + m * k * 4, c = b + k * n * 4, d = c + m * n * 4, end = d + m * n * 4;
        if (end > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((end - wasm.memory.buffer.byteLength) / 65536));
        const f32 = new Float32Array(wasm.memory.buffer);
        for (let i = 0; i < m * k + k * n; i++) f32[a / 4 + i] = Math.sin(i * 0.37 + m);
        const kernel = wasm.get()["matmul_" + v + "_f32"];
        kernel(c, a, b, m, n, k, 0);
        wasm.par(kernel, m, m * n * k, [d, a, b, m, n, k, 0]);
        const x = new Uint8Array(wasm.memory.buffer, c, m * n * 4), y = new Uint8Array(wasm.memory.buffer, d, m * n * 4);
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) same = false;
      }
  return {
    threads: wasm.threads, running: wasm.running(), helped: wasm.helped(), same,
    shared: typeof SharedArrayBuffer === "function" && wasm.memory.buffer instanceof SharedArrayBuffer,
    isolated: self.crossOriginIsolated === true,
  };
}
`;

const WORKER = `import { wasm } from "./kernels.mjs";
import { check } from "./check.mjs";
check(wasm, true).then((r) => postMessage(r), (e) => postMessage({ error: String(e && e.stack || e) }));
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>threads</title>
<script type="module">
import { wasm } from "./kernels.mjs";
import { check } from "./check.mjs";
window.mainResult = await check(wasm, false);
const worker = new Worker("./worker.mjs", { type: "module" });
worker.onmessage = (e) => (window.workerResult = e.data);
worker.onerror = (e) => (window.workerResult = { error: e.message });
</script>`;

interface Result {
  threads: number;
  running: number;
  helped: number;
  same: boolean;
  shared: boolean;
  isolated: boolean;
  error?: string;
}

let browser: Browser | undefined;
let server: Server | undefined;
let base = "";

beforeAll(async () => {
  const shared = buildKernelModule({ shared: true, maxPages: SHARED_MAX_PAGES });
  const files: Record<string, string> = {
    "/index.html": PAGE,
    "/kernels.mjs": wasmModuleSource(shared.bytes, { pages: 2, maxPages: SHARED_MAX_PAGES, threads: { threads: 2, minWork: 1 } }),
    "/check.mjs": CHECK,
    "/worker.mjs": WORKER,
  };
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const body = files[url.pathname === "/" || url.pathname === "/plain/" ? "/index.html" : url.pathname.replace(/^\/plain/, "")];
    if (body === undefined) return void res.writeHead(404).end();
    const headers: Record<string, string> = { "content-type": url.pathname.endsWith(".mjs") ? "text/javascript" : "text/html" };
    // /plain/… is the same site without cross-origin isolation.
    if (!url.pathname.startsWith("/plain")) {
      headers["cross-origin-opener-policy"] = "same-origin";
      headers["cross-origin-embedder-policy"] = "require-corp";
    }
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((done) => server!.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const executablePath = findChromium();
  if (!executablePath) throw new Error(missingChromiumMessage());
  browser = await chromium.launch({ executablePath, headless: true, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [], timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done));
});

async function results(path: string): Promise<{ main: Result; worker: Result }> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}${path}`, { waitUntil: "load", timeout: 60_000 });
  await page.waitForFunction("window.workerResult !== undefined", undefined, { timeout: 120_000 });
  const main = await page.evaluate<Result>("window.mainResult");
  const worker = await page.evaluate<Result>("window.workerResult");
  await page.close();
  expect(errors).toEqual([]);
  return { main, worker };
}

describe("threads in Chromium", () => {
  it("cross-origin isolated: one thread on the page's main thread, two in a worker, the same bytes", { timeout: 240_000 }, async () => {
    const { main, worker } = await results("/");
    expect(worker.error).toBeUndefined();
    expect(main).toMatchObject({ isolated: true, shared: true, threads: 1, running: 1, same: true });
    expect(worker).toMatchObject({ isolated: true, shared: true, threads: 2, running: 2, same: true });
    expect(worker.helped).toBeGreaterThan(0);
  });

  it("not isolated: no SharedArrayBuffer, the same kernels over an ordinary memory, one thread", { timeout: 240_000 }, async () => {
    const { main, worker } = await results("/plain/");
    expect(worker.error).toBeUndefined();
    expect(main).toMatchObject({ isolated: false, shared: false, threads: 1, same: true });
    expect(worker).toMatchObject({ isolated: false, shared: false, threads: 1, running: 1, same: true });
  });
});
