// Comparing two results of the same model (compiled against tape, one backend against the
// other): every number of a result tree, leaf by leaf, in the order the tree is walked.

import { expect } from "vitest";

/** The numbers of a result tree, one array per leaf (a number, or a tensor's data), depth first. */
export function numericLeaves(v: unknown, out: number[][] = []): number[][] {
  if (typeof v === "number") out.push([v]);
  else if (Array.isArray(v)) v.forEach((x) => numericLeaves(x, out));
  else if (v !== null && typeof v === "object" && "data" in v) out.push(Array.from((v as { data: ArrayLike<number> }).data));
  else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => numericLeaves(x, out));
  return out;
}

/**
 * Normwise per leaf: every number of `got` is finite and within `rel` of `want`'s, relative to
 * the largest magnitude in that leaf of `want` (so a sum's rounding is judged at its scale).
 */
export function expectAgree(got: unknown, want: unknown, rel: number, what = "result"): void {
  const [xs, ys] = [numericLeaves(got), numericLeaves(want)];
  expect(xs.map((l) => l.length), `${what}: leaf sizes`).toEqual(ys.map((l) => l.length));
  xs.forEach((leaf, k) => {
    const scale = Math.max(1e-30, ...ys[k]!.map(Math.abs));
    leaf.forEach((x, i) => {
      expect(Number.isFinite(x), `${what}: leaf ${k}[${i}] is finite`).toBe(true);
      expect(Math.abs(x - ys[k]![i]!) / scale, `${what}: leaf ${k}[${i}]`).toBeLessThan(rel);
    });
  });
}

/** Entry by entry: every number of `got` is finite and within `rel`·max(1, |want|) of `want`'s. */
export function expectClose(got: unknown, want: unknown, rel: number): void {
  const [xs, ys] = [numericLeaves(got).flat(), numericLeaves(want).flat()];
  expect(xs.length).toBe(ys.length);
  expect(xs.length).toBeGreaterThan(0);
  xs.forEach((x, i) => {
    const y = ys[i]!;
    expect(Number.isFinite(x)).toBe(true);
    expect(Math.abs(x - y)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(y)));
  });
}
