// Timing by batches: a single call of a small model takes nanoseconds, far below the clock's
// resolution, so calls run in batches sized to last a few milliseconds, and the statistic is
// the median over batches of (batch time / calls per batch).

export interface TimingOptions {
  /** Minimum warm-up time before calibrating (the JIT tiers up meanwhile). */
  warmupMs: number;
  /** Target duration of one timed batch. */
  batchMs: number;
  /** Timed batches per engine, at most… */
  rounds: number;
  /** …and fewer when an engine's batches would exceed this budget (never below 5 rounds). */
  maxMs: number;
}

export const DEFAULT_TIMING: TimingOptions = { warmupMs: 250, batchMs: 5, rounds: 21, maxMs: 2500 };

/**
 * What a batch is timed by: `wall` (the default) or `cpu`, the process's CPU time. On a machine
 * shared with other work, wall time counts the time the process waited for a core; CPU time
 * does not, so for single-threaded engines (hand, gradc, tape; see the CPU/wall table) it is
 * the time the work itself took. Engines using several threads are overcounted by CPU time.
 */
export type Clock = "wall" | "cpu";
let clock: Clock = "wall";

export function setClock(c: Clock): void {
  clock = c;
}

/** Milliseconds for `n` back-to-back calls, by the clock chosen. */
export function timeBatch(fn: () => void, n: number): number {
  if (clock === "cpu") {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return performance.now() - t0;
}

/** Runs `fn` for at least `ms` and at least `minCalls` times. */
export function warmUp(fn: () => void, ms: number, minCalls = 3): void {
  const t0 = performance.now();
  for (let i = 0; i < minCalls || performance.now() - t0 < ms; i++) fn();
}

/** Calls per batch so that one batch lasts at least `batchMs`. */
export function calibrate(fn: () => void, batchMs: number): number {
  let n = 1;
  for (;;) {
    const t = timeBatch(fn, n);
    if (t >= batchMs || n >= 1 << 24) return n;
    // Jump close to the target instead of doubling all the way.
    n = t <= 0 ? n * 16 : Math.min(n * 16, Math.max(n * 2, Math.ceil((n * batchMs * 1.2) / t)));
  }
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
