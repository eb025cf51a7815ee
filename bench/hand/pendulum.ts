// Hand-written adjoint of the 1000-step semi-implicit Euler pendulum: the forward loop stores
// what the reverse loop needs (θ_t, sin θ_t, ω_t and the residual of each step), the reverse
// loop carries the adjoints of θ and ω backwards and accumulates those of k and c = g/L.

const G = 9.81;
const DT = 0.01;

export function createPendulum(steps = 1000) {
  const thetas = new Float64Array(steps);
  const sines = new Float64Array(steps);
  const omegas = new Float64Array(steps);
  const resid = new Float64Array(steps);
  /** dL/dk, dL/dL, dL/dθ0, dL/dω0 */
  const grad = new Float64Array(4);
  function lossAndGrad(k: number, L: number, theta0: number, omega0: number, target: number): number {
    const c = G / L;
    let theta = theta0;
    let omega = omega0;
    let loss = 0;
    for (let t = 0; t < steps; t++) {
      const s = Math.sin(theta);
      thetas[t] = theta;
      sines[t] = s;
      omegas[t] = omega;
      omega = omega + DT * (-c * s - k * omega);
      theta = theta + DT * omega;
      const d = theta - target;
      resid[t] = d;
      loss = loss + d * d;
    }
    let thetaBar = 0, omegaBar = 0, kBar = 0, cBar = 0;
    for (let t = steps - 1; t >= 0; t--) {
      thetaBar += 2 * resid[t]; // loss += d², d = θ_{t+1} − target
      omegaBar += DT * thetaBar; // θ_{t+1} = θ_t + dt·ω_{t+1}
      const accelBar = DT * omegaBar; // ω_{t+1} = ω_t + dt·a
      cBar -= sines[t] * accelBar; // a = −c·sin θ_t − k·ω_t
      kBar -= omegas[t] * accelBar;
      thetaBar -= c * Math.cos(thetas[t]) * accelBar;
      omegaBar -= k * accelBar;
    }
    grad[0] = kBar;
    grad[1] = cBar * (-G / (L * L));
    grad[2] = thetaBar;
    grad[3] = omegaBar;
    return loss;
  }
  return { grad, lossAndGrad };
}
