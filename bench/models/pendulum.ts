// A damped pendulum θ'' = −(g/L)·sin θ − k·ω, integrated for 1000 steps of semi-implicit Euler
// (dt = 0.01); the loss sums the squared distance of every new angle from a target angle.
// Differentiated with respect to the damping k, the length L and the initial state θ0, ω0.
import { valueAndGrad } from "gradc";

export function pendulum(k: number, L: number, theta0: number, omega0: number, target: number): number {
  const g = 9.81;
  const dt = 0.01;
  let theta = theta0;
  let omega = omega0;
  let loss = 0;
  for (let t = 0; t < 1000; t++) {
    omega = omega + dt * (-(g / L) * Math.sin(theta) - k * omega);
    theta = theta + dt * omega;
    const d = theta - target;
    loss = loss + d * d;
  }
  return loss;
}

// Reused results: each call overwrites the same result objects, as hand-written code writes
// into buffers it owns. lossAndGradFresh returns new ones each call (the default).
export const lossAndGrad = valueAndGrad(pendulum, { argnums: [0, 1, 2, 3], reuse: true });
export const lossAndGradFresh = valueAndGrad(pendulum, { argnums: [0, 1, 2, 3] });
