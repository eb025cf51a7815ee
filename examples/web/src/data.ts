// Two interleaved half-moons, the classic toy problem a straight line cannot separate.
import { tensor, type Tensor } from "gradc";

export interface Moons {
  /** Points, one row each, centred on the origin. */
  readonly x: Tensor<[number, 2]>;
  /** Labels: +1 for the upper moon, −1 for the lower one. */
  readonly y: Tensor<[number, 1]>;
}

/** A seeded uniform generator in [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` points (half per moon) with Gaussian noise of standard deviation `noise`. */
export function moons(n = 200, noise = 0.2, seed = 7): Moons {
  const u = uniform(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const upper = i % 2 === 0;
    const t = Math.PI * u();
    const px = upper ? Math.cos(t) : 1 - Math.cos(t);
    const py = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    // Centred and scaled so both coordinates span about [−1.5, 1.5].
    xs.push((px - 0.5 + noise * gauss()) * 1.2, (py - 0.25 + noise * gauss()) * 2);
    ys.push(upper ? 1 : -1);
  }
  return { x: tensor(Float64Array.from(xs), [n, 2]), y: tensor(Float64Array.from(ys), [n, 1]) };
}
