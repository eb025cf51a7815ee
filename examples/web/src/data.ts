// Two interleaved half-moons, the classic toy problem a straight line cannot separate.
import { randn, tensor, type Tensor } from "gradc";

export interface Moons {
  /** Points, one row each, centred on the origin. */
  readonly x: Tensor<[number, 2]>;
  /** Labels: +1 for the upper moon, −1 for the lower one. */
  readonly y: Tensor<[number, 1]>;
}

/**
 * `n` points (half per moon) with Gaussian noise of standard deviation `noise`. All randomness
 * comes from gradc's seeded `randn`, four standard normals per point: the direction of a 2-D
 * standard normal is uniform, so |atan2| of the first two is an angle uniform on [0, π] along
 * the moon; the other two are the noise.
 */
export function moons(n = 200, noise = 0.2, seed = 7): Moons {
  const z = randn([n, 4], seed).data;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const upper = i % 2 === 0;
    const [a, b, nx, ny] = [z[4 * i]!, z[4 * i + 1]!, z[4 * i + 2]!, z[4 * i + 3]!];
    const t = Math.abs(Math.atan2(b, a));
    const px = upper ? Math.cos(t) : 1 - Math.cos(t);
    const py = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    // Centred and scaled so both coordinates span about [−1.5, 1.5].
    xs.push((px - 0.5 + noise * nx) * 1.2, (py - 0.25 + noise * ny) * 2);
    ys.push(upper ? 1 : -1);
  }
  return { x: tensor(Float64Array.from(xs), [n, 2]), y: tensor(Float64Array.from(ys), [n, 1]) };
}
