// The part of the WebAssembly JavaScript API that tests, benchmarks and (later) the compiler's
// self-checks use, typed here because the project's TypeScript libraries (ES2023 and Node 20's
// types) do not declare it. Generated code does not import this: it reaches WebAssembly
// through `globalThis` itself (see embed.ts).

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export type WasmModule = object;

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule, imports: object) => WasmInstance;
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ module: WasmModule; instance: WasmInstance }>;
}

export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Compiles and instantiates synchronously over `memory` imported as `env.memory`. */
export function instantiateSync(bytes: Uint8Array, memory: WasmMemory): WasmInstance {
  return new WA.Instance(new WA.Module(bytes), { env: { memory } });
}
