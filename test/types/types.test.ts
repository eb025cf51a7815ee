// The pinned result types (test/types/pinned.ts) hold, and a shape mistake reads as a sentence
// in the editor. Both are checked with the TypeScript compiler on the repository's settings.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Project, type SourceFile, ts } from "ts-morph";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PINNED = `${ROOT}test/types/pinned.ts`;

let project: Project;
beforeAll(() => {
  project = new Project({ tsConfigFilePath: `${ROOT}tsconfig.json`, skipAddingFilesFromTsConfig: true });
});

/** Each diagnostic of `file` as `line N: message`, the message chain flattened. */
function messages(file: SourceFile): string[] {
  return file
    .getPreEmitDiagnostics()
    .map((d) => `line ${d.getLineNumber()}: ${ts.flattenDiagnosticMessageText(d.compilerObject.messageText, "\n")}`);
}

describe("pinned types", () => {
  it("every pin in test/types/pinned.ts holds", { timeout: 120_000 }, () => {
    const file = project.addSourceFileAtPath(PINNED);
    expect(messages(file)).toEqual([]);
  });

  it("a pin that names the wrong type fails", { timeout: 120_000 }, () => {
    const text = `${readFileSync(PINNED, "utf8")}\nexpectTypeOf(add(a, a)).toEqualTypeOf<Tensor<[3, 2]>>();\nexpectTypeOf(sum(a, 0)).toEqualTypeOf<Tensor<[2]>>();\n`;
    const file = project.createSourceFile(`${ROOT}test/types/__pinned_wrong.ts`, text, { overwrite: true });
    const lines = text.split("\n").length;
    expect(messages(file).map((m) => Number(/^line (\d+)/.exec(m)![1]))).toEqual([lines - 2, lines - 1]);
  });
});

// Each mistake, and the sentence the editor must show for it.
const MISTAKES: [code: string, says: string][] = [
  ["add(zeros([2, 3]), zeros([4]))", 'ShapeError<"add: shapes do not broadcast: 3 (axis 1 of x) vs 4 (axis 0 of y)">'],
  ["mul(zeros([5, 2, 3]), zeros([4, 1]))", 'ShapeError<"mul: shapes do not broadcast: 2 (axis 1 of x) vs 4 (axis 0 of y)">'],
  ["matmul(zeros([2, 3]), zeros([2, 3]))", 'ShapeError<"matmul: inner dimensions differ: 3 (axis 1 of a) vs 2 (axis 0 of b)">'],
  ["matmul(zeros([3]), zeros([3, 2]))", 'ShapeError<"matmul takes tensors of rank 2 or more: a has rank 1">'],
  ["matmul(zeros([2, 3, 4]), zeros([3, 4, 2]))", 'ShapeError<"matmul: shapes do not broadcast: 2 (axis 0 of x) vs 3 (axis 0 of y)">'],
  ["sum(zeros([2, 3]), 2)", 'ShapeError<"sum: axis 2 is out of range for rank 2">'],
  ["logSumExp(zeros([2, 3]), [0, -3], true)", 'ShapeError<"logSumExp: axis -3 is out of range for rank 2">'],
  [
    "function f<B extends number>(x: Tensor<[B, 4]>, w: Tensor<[3, 8]>) { return matmul(x, w); }",
    'ShapeError<"matmul: inner dimensions differ: 4 (axis 1 of a) vs 3 (axis 0 of b)">',
  ],
];

describe("shape mistakes read as sentences", () => {
  it.each(MISTAKES)("%s", { timeout: 120_000 }, (code, says) => {
    const text = `import { type Tensor, add, logSumExp, matmul, mul, sum, transpose, zeros } from "gradc";\nexport const r = () => { ${code}; };\n`;
    const file = project.createSourceFile(`${ROOT}test/types/__mistake.ts`, text, { overwrite: true });
    const found = messages(file);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(says);
    // The error is the sentence, not the conditional type that computed it.
    expect(found[0]).not.toMatch(/ extends | \? /);
  });
});
