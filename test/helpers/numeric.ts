// Numeric references for gradient tests: a seeded generator for reproducible points, central
// finite differences, and a relative error that does not blow up near zero.

/** Deterministic uniform numbers in [0, 1) (mulberry32), so failures reproduce from the seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [lo, hi). */
export const uniform = (next: () => number, lo: number, hi: number): number => lo + (hi - lo) * next();

/**
 * Central difference (f(x + h) - f(x - h)) / 2h with a step scaled to |x|, of `f` as a
 * function of one number.
 */
export function centralDifference(f: (x: number) => number, x: number, h = 1e-6): number {
  const step = h * Math.max(1, Math.abs(x));
  return (f(x + step) - f(x - step)) / (2 * step);
}

/** |a - b| relative to the larger magnitude, with an absolute floor of `floor` near zero. */
export function relErr(a: number, b: number, floor = 1): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}
