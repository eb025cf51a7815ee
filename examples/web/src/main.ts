// The page: trains the two-moons network live (compiled gradients, Adam), plots the loss with
// uPlot and draws the decision regions; shows the neuron's graph drawn at build time next to
// the compiled neuron's gradients. The state is also published on `window.gradcDemo` (and as
// data attributes) so a test can read what the page shows.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { adam, tensor } from "gradc";
import { inputs as graphInputs, output as graphOutput, svg as neuronSvg } from "virtual:gradc-graph/neuron";
import { moons } from "./data.js";
import { initParams, logits, lossGrad, type Params } from "./model.js";
import { WORKED_POINT, neuronGrad } from "./neuron.js";
import "./style.css";

/** Training schedule: Adam steps in all, and how many run between two frames. */
const STEPS = 1000;
const STEPS_PER_FRAME = 4;
const LEARNING_RATE = 0.01;

/** What the page shows, for people and for tests. */
export interface DemoState {
  step: number;
  /** The loss before each step: `losses[k]` at step k. */
  losses: number[];
  accuracy: number;
  done: boolean;
  /** Animation frames the training has run over so far (it yields to the page between them). */
  frames: number;
  /** The compiled neuron at the worked point, computed in this page. */
  neuron: { value: number; grads: number[] };
}

declare global {
  interface Window {
    gradcDemo: DemoState;
  }
}

const $ = <T extends Element>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
};

const data = moons();
const N = data.x.shape[0];

// ---- the neuron: the build-time picture, and the compiled gradient run here -------------

function showNeuron(): DemoState["neuron"] {
  $("#graph-svg").innerHTML = neuronSvg;
  const [w, x] = WORKED_POINT;
  const [value, [dw, dx]] = neuronGrad(w, x);
  const compiled = [...dw, ...dx];
  const row = (cells: string[]): string => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  const fmt = (v: unknown): string => (typeof v === "number" ? v.toFixed(4) : String(v));
  $("#neuron-check tbody").innerHTML =
    graphInputs.map((leaf, i) => row([leaf.name, fmt(leaf.value), fmt(leaf.grad), fmt(compiled[i])])).join("") +
    row(["f", fmt(graphOutput), "", fmt(value)]);
  return { value, grads: compiled };
}

// ---- the decision regions ---------------------------------------------------------------

const canvas = $<HTMLCanvasElement>("#boundary");
const ctx = canvas.getContext("2d")!;
const EXTENT = 2.2;
const GRID = 64;
const toPixel = (v: number, size: number): number => ((v + EXTENT) / (2 * EXTENT)) * size;
const gridPoints = (() => {
  const pts = new Float64Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++)
    for (let c = 0; c < GRID; c++) {
      pts[2 * (r * GRID + c)] = -EXTENT + ((c + 0.5) / GRID) * 2 * EXTENT;
      pts[2 * (r * GRID + c) + 1] = EXTENT - ((r + 0.5) / GRID) * 2 * EXTENT;
    }
  return tensor(pts, [GRID * GRID, 2]);
})();
const regions = ctx.createImageData(GRID, GRID);
const offscreen = document.createElement("canvas");
offscreen.width = offscreen.height = GRID;

/** Draws the regions (the same `logits` function the loss uses, run eagerly) and the points. */
function drawBoundary(p: Params): void {
  const z = logits(p, gridPoints).data;
  for (let i = 0; i < GRID * GRID; i++) {
    const s = 1 / (1 + Math.exp(-z[i]!)); // P(upper moon): light orange at 1, light blue at 0
    regions.data.set([204 + 49 * s, 226 + 1 * s, 251 - 49 * s, 255], 4 * i);
  }
  offscreen.getContext("2d")!.putImageData(regions, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  for (let i = 0; i < N; i++) {
    ctx.beginPath();
    ctx.arc(toPixel(data.x.data[2 * i]!, canvas.width), canvas.height - toPixel(data.x.data[2 * i + 1]!, canvas.height), 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = data.y.data[i]! > 0 ? "#e8710a" : "#1a73e8";
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  }
}

function accuracy(p: Params): number {
  const z = logits(p, data.x).data;
  let right = 0;
  for (let i = 0; i < N; i++) if (z[i]! > 0 === data.y.data[i]! > 0) right++;
  return right / N;
}

// ---- the loss curve -----------------------------------------------------------------------

const chartEl = $<HTMLDivElement>("#chart");
const chart = new uPlot(
  {
    width: 560,
    height: 300,
    scales: { x: { time: false }, y: { distr: 3 } },
    legend: { show: false },
    series: [{ label: "step" }, { label: "loss", stroke: "#c62828", width: 2 }],
    axes: [{ label: "step" }, { label: "loss", size: 60 }],
  },
  [[], []],
  chartEl,
);

// ---- training -----------------------------------------------------------------------------

const state: DemoState = { step: 0, losses: [], accuracy: 0, done: false, frames: 0, neuron: showNeuron() };
window.gradcDemo = state;
const section = $<HTMLElement>("#training");
let run = 0;

function publish(p: Params, msPerStep: number): void {
  state.accuracy = accuracy(p);
  const last = state.losses[state.losses.length - 1];
  $("#step").textContent = String(state.step);
  $("#loss").textContent = last === undefined ? "–" : last.toFixed(4);
  $("#accuracy").textContent = `${(100 * state.accuracy).toFixed(1)}%`;
  $("#speed").textContent = `${(1000 * msPerStep).toFixed(0)} µs`;
  section.dataset.step = String(state.step);
  section.dataset.loss = String(last);
  section.dataset.firstLoss = String(state.losses[0]);
  section.dataset.accuracy = String(state.accuracy);
  section.dataset.done = String(state.done);
  chart.setData([state.losses.map((_l, k) => k), state.losses]);
}

function train(): void {
  const id = ++run;
  const params = initParams();
  const opt = adam({ lr: LEARNING_RATE });
  Object.assign(state, { step: 0, losses: [], accuracy: 0, done: false, frames: 0 });
  const tick = (): void => {
    if (id !== run) return; // a restart replaced this run
    const t0 = performance.now();
    for (let k = 0; k < STEPS_PER_FRAME && state.step < STEPS; k++) {
      const [loss, grads] = lossGrad(params, data.x, data.y);
      opt.step(params, grads);
      state.losses.push(loss);
      state.step++;
    }
    const msPerStep = (performance.now() - t0) / STEPS_PER_FRAME;
    state.done = state.step >= STEPS;
    if (state.frames++ % 6 === 0 || state.done) drawBoundary(params);
    publish(params, msPerStep);
    if (!state.done) requestAnimationFrame(tick);
  };
  drawBoundary(params);
  requestAnimationFrame(tick);
}

$("#restart").addEventListener("click", train);
train();
