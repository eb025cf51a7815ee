// Kepler's equation E − e·sin E = M, solved for the eccentric anomaly E by Newton's method run
// until the residual is below 1e-13: a `while` loop whose trip count depends on e and M, which
// gradc differentiates through the iterations that ran (the forward loop records them in
// storage that grows as needed; the backward loop replays them in reverse). For a converged
// root that is the implicit-function theorem's dE/de = sin E / (1 − e·cos E). Training fits
// the eccentricity of an orbit to observed positions, solving Kepler's equation 48 times per
// step.
import { at, valueAndGrad, type Tensor } from "gradc";

const SAMPLES = 48;

/** The eccentric anomaly of mean anomaly M on an orbit of eccentricity e (0 ≤ e < 1). */
export function eccentricAnomaly(e: number, M: number): number {
  let E = M;
  let r = E - e * Math.sin(E) - M;
  let trips = 0;
  // Newton converges from E = M for e < 1; the trip cap only guards training from a wild step.
  while (Math.abs(r) > 1e-13 && trips < 60) {
    E = E - r / (1 - e * Math.cos(E));
    r = E - e * Math.sin(E) - M;
    trips = trips + 1;
  }
  return E;
}

export const anomalyGrad = valueAndGrad(eccentricAnomaly, { argnums: [0, 1] });

/** Mean squared distance between the orbit's x positions (semi-major axis 1) and the observed ones. */
export function orbitLoss(e: number, observed: Tensor<[48]>): number {
  let loss = 0;
  for (let t = 0; t < 48; t++) {
    const E = eccentricAnomaly(e, (2 * Math.PI * t) / 48);
    const d = Math.cos(E) - e - at(observed, t);
    loss = loss + d * d;
  }
  return loss / 48;
}

export const lossGrad = valueAndGrad(orbitLoss);

/** Observed x positions of an orbit of eccentricity e (plain code, for making targets). */
export function observe(e: number): Tensor<[48]> {
  const data = new Float64Array(SAMPLES);
  for (let t = 0; t < SAMPLES; t++) {
    const M = (2 * Math.PI * t) / SAMPLES;
    let E = M;
    for (let k = 0; k < 100; k++) E = E - (E - e * Math.sin(E) - M) / (1 - e * Math.cos(E));
    data[t] = Math.cos(E) - e;
  }
  return { shape: [48], data };
}

/** Recovers the eccentricity 0.6 from its positions by gradient descent from e = 0.1. */
export function main(g = lossGrad, steps = 100, lr = 0.2): number {
  const observed = observe(0.6);
  let e = 0.1;
  for (let step = 0; step <= steps; step++) {
    const [loss, de] = g(e, observed);
    if (step % 20 === 0) console.log(`step ${String(step).padStart(3)}  loss ${loss.toExponential(3)}  e ${e.toFixed(4)}`);
    e -= lr * de;
  }
  console.log(`fitted e = ${e.toFixed(4)} (true 0.6)`);
  return e;
}
