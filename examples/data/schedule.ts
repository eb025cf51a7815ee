// Learning-rate schedules for the examples' training loops, as `adam({ lr })` takes them: the
// step size of each step as a function of its number (1 for the first).

/**
 * Cosine decay from `lr` at the first step to 0 after `steps` steps (half a cosine period):
 * large steps while the loss falls fast, small ones at the end, so the last epochs settle
 * instead of moving the held-out accuracy by a point from one epoch to the next.
 *
 * ```ts
 * const opt = adam({ lr: cosineDecay(3e-3, epochs * stepsPerEpoch) });
 * ```
 */
export function cosineDecay(lr: number, steps: number): (step: number) => number {
  return (step) => 0.5 * lr * (1 + Math.cos((Math.PI * Math.min(step - 1, steps)) / steps));
}
