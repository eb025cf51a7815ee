// The memory contract between generated JavaScript (the host) and the kernels.
//
// - One linear memory, imported by the kernel module as `env.memory`. The host creates it
//   (`new WebAssembly.Memory`, or a shared one for threads) with enough pages for every buffer
//   the buffer planner places in it, sized for the largest dimension values seen so far.
// - The host decides every address: kernels take byte offsets and sizes as arguments, keep no
//   state between calls, and allocate nothing. The module contains no `memory.grow`, so memory
//   never grows during a call; the host grows it only between calls (and must then re-create its
//   typed-array views, which growth detaches).
// - Alignment: every buffer starts on a 16-byte boundary (`ALIGN`). Kernels are correct at any
//   element-aligned address (SIMD loads in WebAssembly may be unaligned) but faster aligned.
// - An output must not overlap its inputs (C is written while A and B are still being read);
//   elementwise kernels may write in place (out = x) since each element is read before written.
// - Tensors are row-major; f32 buffers hold Float32Array data, f64 buffers Float64Array data.
//
// `Arena` is the simplest planner honouring this: a bump allocator for tests and benchmarks.

export const PAGE = 65536;
export const ALIGN = 16;

export const alignUp = (n: number, to = ALIGN): number => Math.ceil(n / to) * to;

export const pagesFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / PAGE));

export class Arena {
  private top: number;

  /** Starts at `base` (default 16, so that no buffer sits at address 0). */
  constructor(base = ALIGN) {
    this.top = alignUp(base);
  }

  /** Reserves `bytes` and returns the 16-byte-aligned address. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = alignUp(at + bytes);
    return at;
  }

  /** Bytes in use so far (the memory must have at least this many). */
  get size(): number {
    return this.top;
  }
}
