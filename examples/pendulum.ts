// A damped pendulum θ'' = −(g/L)·sin θ − k·ω simulated for 1000 steps of semi-implicit Euler
// (dt = 0.01) in a `for` loop that stays a loop in the compiled code. Training fits the
// damping k to a target trajectory read step by step with at(target, t).
import { at, valueAndGrad, type Tensor } from "gradc";

const STEPS = 1000;

export function trajectoryLoss(k: number, L: number, theta0: number, target: Tensor<[1000]>): number {
  const g = 9.81;
  const dt = 0.01;
  let theta = theta0;
  let omega = 0;
  let loss = 0;
  for (let t = 0; t < 1000; t++) {
    omega = omega + dt * (-(g / L) * Math.sin(theta) - k * omega);
    theta = theta + dt * omega;
    const d = theta - at(target, t);
    loss = loss + d * d;
  }
  return loss / 1000;
}

export const lossGrad = valueAndGrad(trajectoryLoss);

/** The trajectory a pendulum of damping k traces (plain code, for making targets). */
export function simulate(k: number, L: number, theta0: number): Tensor<[1000]> {
  const data = new Float64Array(STEPS);
  let theta = theta0;
  let omega = 0;
  for (let t = 0; t < STEPS; t++) {
    omega = omega + 0.01 * (-(9.81 / L) * Math.sin(theta) - k * omega);
    theta = theta + 0.01 * omega;
    data[t] = theta;
  }
  return { shape: [1000], data };
}

/** Recovers the damping 0.8 from its trajectory by gradient descent from k = 0.2. */
export function main(g = lossGrad, steps = 200, lr = 2): number {
  const target = simulate(0.8, 1.5, 1.0);
  let k = 0.2;
  for (let step = 0; step <= steps; step++) {
    const [loss, dk] = g(k, 1.5, 1.0, target);
    if (step % 40 === 0) console.log(`step ${String(step).padStart(3)}  loss ${loss.toExponential(3)}  k ${k.toFixed(4)}`);
    k -= lr * dk;
  }
  console.log(`fitted k = ${k.toFixed(4)} (true 0.8)`);
  return k;
}
