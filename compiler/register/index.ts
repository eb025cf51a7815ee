// `node --import gradc/register app.ts` (on a Node that runs TypeScript) or
// `tsx --import gradc/register app.ts`: compiles every grad/valueAndGrad binding of a module as
// it is loaded, so a training script runs the generated code with no build step. Modules
// loaded with `import` go through a module hook (hooks.ts, on Node's hooks thread); in a
// CommonJS project, modules loaded with `require()` go through require's extension handlers
// (require.ts, loaded only there: it brings the compiler onto the main thread). Stack traces
// are source-mapped to the model's lines.

import { register } from "node:module";
import { join } from "node:path";
import { packageType } from "../moduletype.js";

register("./hooks.js", import.meta.url);
if (packageType(join(process.cwd(), "package.json")) !== "module") (await import("./require.js")).hookRequire();
process.setSourceMapsEnabled(true);
