// The browser demo's build: gradc's Vite plugin compiles the models' grad bindings, and a
// small local plugin draws the neuron's computational graph at build time.
import { fileURLToPath } from "node:url";
import gradc from "gradc/vite";
import { defineConfig } from "vite";
import { gradcGraph } from "./graph-plugin.js";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [
    gradc(),
    gradcGraph([
      {
        name: "neuron",
        file: "src/neuron.ts",
        fn: "neuron",
        at: [
          [2, -3, -3],
          [-1, -2],
        ],
      },
    ]),
  ],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
