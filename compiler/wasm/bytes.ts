// Byte-level pieces of the WebAssembly binary format: LEB128 integers, IEEE floats, names and
// length-prefixed vectors. Everything the encoder writes goes through `ByteWriter`.

export class ByteWriter {
  readonly bytes: number[] = [];

  u8(b: number): this {
    this.bytes.push(b & 0xff);
    return this;
  }

  raw(bs: readonly number[]): this {
    for (const b of bs) this.bytes.push(b & 0xff);
    return this;
  }

  /** Unsigned LEB128 (u32: lengths, indices, alignments, offsets, SIMD opcodes). */
  u32(n: number): this {
    return this.raw(unsignedLeb(n));
  }

  /** Signed LEB128 (the immediate of i32.const). */
  s32(n: number): this {
    return this.raw(signedLeb(n));
  }

  f32(x: number): this {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, x, true);
    return this.raw([...new Uint8Array(view.buffer)]);
  }

  f64(x: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x, true);
    return this.raw([...new Uint8Array(view.buffer)]);
  }

  /** A UTF-8 name, length first. */
  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u32(utf8.length).raw([...utf8]);
  }

  /** A section or function body: its size in bytes, then the bytes. */
  sized(inner: ByteWriter): this {
    return this.u32(inner.bytes.length).raw(inner.bytes);
  }
}

export function unsignedLeb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a u32: ${n}`);
  const out: number[] = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function signedLeb(n: number): number[] {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`not an i32: ${n}`);
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7; // arithmetic shift keeps the sign
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}
