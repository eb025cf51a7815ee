// What the harness needs from an engine: set up once per model (outside any timing), then a
// `call()` that does one forward + backward pass ending with the value and every gradient
// readable from JavaScript, and a `result()` that reads the last call's output (not timed).

import type { ModelCase } from "../cases.js";
import type { Tree } from "../lib/tree.js";

export const ENGINE_NAMES = ["hand", "gradc", "gradc-js", "gradc-fresh", "tape", "tfjs-cpu", "tfjs-wasm", "jax-js"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
/**
 * What `npm run bench` runs without `--engine`: every engine but `gradc-js` (gradc with the
 * JavaScript-only backend, which `npm run bench:scaling` compares with the default one).
 */
export const DEFAULT_ENGINES: readonly EngineName[] = ENGINE_NAMES.filter((e) => e !== "gradc-js");

export interface EngineResult {
  value: number;
  /** One entry per argnum, each with the structure of that argument. */
  grads: Tree[];
}

export interface EngineInstance {
  call(): void;
  result(): EngineResult;
  /**
   * The same engine computing the value alone (no derivatives), when it can: timed against
   * `call` for the cost of derivatives.
   */
  valueOnly?(): void;
  /** Engine-specific facts for the report, e.g. gradc's compile time and code size. */
  info?: Record<string, number | string>;
  dispose?(): void;
}

export interface Engine {
  name: EngineName;
  /** Shown under the table, e.g. a precision caveat. */
  note?: string;
  /** Untimed preparation that belongs to the harness, not the engine (e.g. bundling). */
  prepare?(model: ModelCase): Promise<void>;
  setup(model: ModelCase, inputs: Tree[]): Promise<EngineInstance>;
}

/** The engine cannot run this model; `message` goes into the table verbatim. */
export class Unavailable extends Error {
  override name = "Unavailable";
}

/** Unavailable when the runtime lacks an op the model needs: the table shows "n/a (needs …)". */
export function needsMessage(missing: readonly string[]): string {
  return `needs ${missing.join(", ")}`;
}
