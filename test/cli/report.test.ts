// The CLI's printed forms, in-process: tsc's error summary in its three shapes, and the code
// frame a terminal gets (the bin's own tests run on pipes, where there is none).

import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { errorSummary, formatDiagnostics } from "../../compiler/cli/report.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { formatWithFrame } from "../../compiler/diagnostics/diagnostic.js";
import { removeTempProjects, tempProject } from "./helpers.js";

afterAll(removeTempProjects);

const at = (file: string, line: number): Diagnostic => ({
  code: "GRADC1002",
  message: "'for-in' loops are not supported in a differentiable function.",
  file,
  line,
  col: 3,
  length: 5,
  lineText: "  for (const k in o) x = x / 2;",
});

describe("errorSummary (tsc's wording)", () => {
  it("names the file and line of a single error", () => {
    expect(errorSummary([at("src/model.ts", 12)])).toBe("\nFound 1 error in src/model.ts:12\n\n");
  });

  it("says where the first of several errors in one file is", () => {
    expect(errorSummary([at("a.ts", 4), at("a.ts", 9)])).toBe("\nFound 2 errors in the same file, starting at: a.ts:4\n\n");
  });

  it("counts files and tabulates them, right-aligning the counts", () => {
    const many = [...Array.from({ length: 12 }, (_, i) => at("a.ts", 3 + i)), at("lib/b.ts", 7)];
    expect(errorSummary(many)).toBe("\nFound 13 errors in 2 files.\n\nErrors  Files\n    12  a.ts:3\n     1  lib/b.ts:7\n");
  });

  it("is empty when there is nothing to report", () => {
    expect(errorSummary([])).toBe("");
  });
});

describe("terminal output", { timeout: 300_000 }, () => {
  it("frames each diagnostic with its source line underlined; plain otherwise", () => {
    const d = at("a.ts", 5);
    expect(formatDiagnostics([d], { pretty: true, color: false })).toBe(formatWithFrame(d) + "\n");
    expect(formatWithFrame(d)).toContain("5   for (const k in o) x = x / 2;\n    ~~~~~\n");
    expect(formatDiagnostics([d], { pretty: false, color: false })).toBe("a.ts(5,3): error GRADC1002: 'for-in' loops are not supported in a differentiable function.\n");
    const colored = formatDiagnostics([d], { pretty: true, color: true });
    expect(colored).toContain("\u001b[91merror\u001b[0m");
    expect(colored.replace(/\u001b\[\d+m/g, "")).toBe(formatWithFrame(d) + "\n");
  });

  it("main() prints frames and the summary when its output is a terminal", async () => {
    const dir = tempProject({
      "model.ts": `import { grad } from "gradc";\n\nexport function f(x: number): number {\n  for (const k in { a: 1 }) x = x / 2;\n  return x;\n}\n\nexport const df = grad(f);\n`,
    });
    let stdout = "";
    let stderr = "";
    const code = await main([join(dir, "model.ts")], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      cwd: dir,
      pretty: true,
      color: false,
    });
    expect(code).toBe(1);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^model\.ts\(4,3\): error GRADC1002: .*\n\n4 {3}for \(const k in \{ a: 1 \}\) x = x \/ 2;\n {4}~+\n\n\nFound 1 error in model\.ts:4\n\n$/);
  });
});
