// The module the gradc-graph plugin (graph-plugin.ts) generates at build time.
declare module "virtual:gradc-graph/*" {
  type Json = number | boolean | { shape: number[]; data: number[] };
  /** The computational graph as SVG: forward values and gradients on every edge. */
  export const svg: string;
  /** The function's value at the drawn point. */
  export const output: number;
  /** Each leaf of the arguments (`w[0]`, …): its value and the output's gradient with respect to it. */
  export const inputs: { name: string; value: Json; grad: Json }[];
  export default svg;
}
declare module "*.css";
