// Loads every primitive into the registry. Import this, not the individual files.

export * from "./registry.js";
export * as elementwise from "./elementwise.js";
export * as rounding from "./rounding.js";
export * as compare from "./compare.js";
export * as elementwiseMore from "./elementwise-more.js";
export * as leaf from "./leaf.js";
export * as reduce from "./reduce.js";
export * as movement from "./movement.js";
export * as linalg from "./linalg.js";
export * as structure from "./structure.js";
export * as conv from "./conv.js";
export * as pool from "./pool.js";
export * as indexing from "./indexing.js";
export * as convert from "./convert.js";
export * as gather from "./gather.js";
export * as labels from "./labels.js";
export { sumTo } from "./broadcast.js";
export { numberLiteral } from "./leaf.js";
export * from "./exposure.js";
export { opTypes } from "./optypes.js";
