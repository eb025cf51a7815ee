// Loop kernels of convolution and pooling (the ops of ops/conv.ts and ops/pool.ts). They loop
// directly over each window, in the order the reference evaluation visits it, and store
// nothing but their result: no im2col copy, no scratch buffer. (With the WebAssembly backend,
// large convolutions and max pooling run as kernels instead: wasm-conv.ts.) A convolution's innermost loop
// runs along a row of the output, its bounds clipped so the padded border costs no test.

import type { Node, Value } from "../ir/types.js";
import { type ConvGeometry, convGeometry } from "../ops/conv.js";
import { type PoolGeometry, poolGeometry } from "../ops/pool.js";
import type { LoopKernel, LoopWriter } from "./loops.js";
import { emitWindowKernel } from "./wasm-conv.js";

const block = (w: LoopWriter, body: () => void): void => {
  w.line("{");
  w.nested(body);
  w.line("}");
};

const loop = (w: LoopWriter, counter: string, bound: string | number, body: () => void): void => {
  w.line(`for (let ${counter} = 0; ${counter} < ${bound}; ${counter}++) {`);
  w.nested(body);
  w.line("}");
};

/**
 * The loops every convolution kernel shares: over batch, output channel, input channel and
 * kernel tap (`$wv` the weight index), then over output rows and the clipped run of columns
 * whose input is in range. `inner(xIndex, yIndex)` writes the innermost statement; `afterTap`
 * wraps the row loops (the weight gradient sums them in a local).
 */
function taps(w: LoopWriter, g: ConvGeometry, inner: (xi: string, yi: string) => string, around?: { before: string; after: string }): void {
  const { c, h, w: W, o, kh, kw, oh, ow, stride, pad } = g;
  const s = stride === 1 ? "" : ` * ${stride}`;
  loop(w, "$n", w.dim(g.n), () =>
    loop(w, "$o", o, () => {
      w.line(`const $yo = ($n * ${o} + $o) * ${oh * ow};`);
      loop(w, "$c", c, () => {
        w.line(`const $xr = ($n * ${c} + $c) * ${g.h * W};`);
        loop(w, "$u", kh, () =>
          loop(w, "$v", kw, () => {
            w.line(`const $wv = (($o * ${c} + $c) * ${kh} + $u) * ${kw} + $v;`);
            // Columns z whose input column z·stride − left + v lies in [0, W).
            w.line(`const $z0 = Math.max(0, Math.ceil((${pad[2]} - $v) / ${stride})), $z1 = Math.min(${ow}, Math.floor((${W - 1 + pad[2]} - $v) / ${stride}) + 1);`);
            if (around) w.line(around.before);
            loop(w, "$y", oh, () => {
              w.line(`const $iy = $y${s} - ${pad[0]} + $u;`);
              w.line(`if ($iy < 0 || $iy >= ${h}) continue;`);
              w.line(`const $i = $xr + $iy * ${W} - ${pad[2]} + $v;`);
              w.line(`const $j = $yo + $y * ${ow};`);
              w.line(`for (let $z = $z0; $z < $z1; $z++) ${inner(`$i + $z${s}`, "$j + $z")}`);
            });
            if (around) w.line(around.after);
          }),
        );
      });
    }),
  );
}

const conv2d: LoopKernel = (w, node) => {
  const [x, k] = node.args as [Value, Value];
  const g = convGeometry(x.type.shape, k.type.shape, node.attrs);
  const out = w.allocate(node.outs[0]!);
  const [X, K] = [w.buf(x), w.buf(k)];
  // Large convolutions run as WebAssembly kernels (wasm-conv.ts), the rest as these loops.
  emitWindowKernel(w, node, out, [X, K], () => {
    w.line(`${out}.fill(0);`);
    block(w, () => taps(w, g, (xi, yi) => `${out}[${yi}]${w.bang} += ${w.read(K, "$wv")} * ${w.read(X, xi)};`));
  });
};

const conv2dDx: LoopKernel = (w, node) => {
  const [y, k] = node.args as [Value, Value];
  const out = node.outs[0]!;
  const g = convGeometry(out.type.shape, k.type.shape, node.attrs);
  const target = w.allocate(out);
  const [Y, K] = [w.buf(y), w.buf(k)];
  emitWindowKernel(w, node, target, [Y, K], () => {
    w.line(`${target}.fill(0);`);
    block(w, () => taps(w, g, (xi, yi) => `${target}[${xi}]${w.bang} += ${w.read(Y, yi)} * ${w.read(K, "$wv")};`));
  });
};

const conv2dDw: LoopKernel = (w, node) => {
  const [x, y] = node.args as [Value, Value];
  const out = node.outs[0]!;
  const g = convGeometry(x.type.shape, out.type.shape, node.attrs);
  const target = w.allocate(out);
  const [X, Y] = [w.buf(x), w.buf(y)];
  emitWindowKernel(w, node, target, [X, Y], () => {
    w.line(`${target}.fill(0);`);
    block(w, () =>
      taps(w, g, (xi, yi) => `$s += ${w.read(X, xi)} * ${w.read(Y, yi)};`, { before: "let $s = 0;", after: `${target}[$wv]${w.bang} += $s;` }),
    );
  });
};

/** One pass over the windows, `$o` the output index; `body` sees `$t`, the window's top-left. */
function windows(w: LoopWriter, x: Value, g: PoolGeometry, body: () => void): void {
  block(w, () => {
    w.line("let $o = 0;");
    loop(w, "$p", w.size([g.n, g.c]), () =>
      loop(w, "$y", g.oh, () =>
        loop(w, "$z", g.ow, () => {
          w.line(`const $t = ($p * ${g.h} + $y * ${g.stride}) * ${g.w} + $z * ${g.stride};`);
          body();
          w.line("$o++;");
        }),
      ),
    );
  });
  void x;
}

/** Finds `$at`, the index of the first maximal entry of the window at `$t` (the max gate's rule). */
function argmax(w: LoopWriter, X: string, g: PoolGeometry): void {
  w.line("let $best = -Infinity;");
  w.line("let $at = -1;");
  loop(w, "$u", g.k, () =>
    loop(w, "$v", g.k, () => {
      w.line(`const $i = $t + $u * ${g.w} + $v;`);
      w.line(`if ($at < 0 || ${w.read(X, "$i")} > $best) {`);
      w.nested(() => {
        w.line(`$best = ${w.read(X, "$i")};`);
        w.line("$at = $i;");
      });
      w.line("}");
    }),
  );
}

const poolOf = (node: Node, x: Value): PoolGeometry => poolGeometry(x.type.shape, node.attrs, node.op);

const maxPool2d: LoopKernel = (w, node) => {
  const x = node.args[0]!;
  const g = poolOf(node, x);
  const target = w.allocate(node.outs[0]!);
  const X = w.buf(x);
  emitWindowKernel(w, node, target, [X], () =>
    windows(w, x, g, () => {
      argmax(w, X, g);
      w.line(`${target}[$o] = ${w.read(X, "$at")};`);
    }),
  );
};

const maxPool2dGrad: LoopKernel = (w, node) => {
  const [x, y] = node.args as [Value, Value];
  const g = poolOf(node, x);
  const target = w.allocate(node.outs[0]!);
  const [X, Y] = [w.buf(x), w.buf(y)];
  emitWindowKernel(w, node, target, [X, Y], () => {
    w.line(`${target}.fill(0);`);
    windows(w, x, g, () => {
      argmax(w, X, g);
      w.line(`${target}[$at]${w.bang} += ${w.read(Y, "$o")};`);
    });
  });
};

const maxPool2dPick: LoopKernel = (w, node) => {
  const [x, h] = node.args as [Value, Value];
  const g = poolOf(node, x);
  const target = w.allocate(node.outs[0]!);
  const [X, H] = [w.buf(x), w.buf(h)];
  windows(w, x, g, () => {
    argmax(w, X, g);
    w.line(`${target}[$o] = ${w.read(H, "$at")};`);
  });
};

const avgPool2d: LoopKernel = (w, node) => {
  const x = node.args[0]!;
  const g = poolOf(node, x);
  const target = w.allocate(node.outs[0]!);
  const X = w.buf(x);
  windows(w, x, g, () => {
    w.line("let $s = 0;");
    loop(w, "$u", g.k, () => loop(w, "$v", g.k, () => w.line(`$s += ${w.read(X, `$t + $u * ${g.w} + $v`)};`)));
    w.line(`${target}[$o] = $s / ${g.k * g.k};`);
  });
};

const avgPool2dGrad: LoopKernel = (w, node) => {
  const y = node.args[0]!;
  const out = node.outs[0]!;
  const g = poolGeometry(out.type.shape, node.attrs, "avgPool2d");
  const target = w.allocate(out);
  const Y = w.buf(y);
  w.line(`${target}.fill(0);`);
  windows(w, out, g, () => {
    w.line(`const $s = ${w.read(Y, "$o")} / ${g.k * g.k};`);
    loop(w, "$u", g.k, () => loop(w, "$v", g.k, () => w.line(`${target}[$t + $u * ${g.w} + $v]${w.bang} += $s;`)));
  });
};

export const WINDOW_KERNELS: Readonly<Record<string, LoopKernel>> = {
  conv2d,
  conv2d_dx: conv2dDx,
  conv2d_dw: conv2dDw,
  max_pool2d: maxPool2d,
  max_pool2d_grad: maxPool2dGrad,
  max_pool2d_pick: maxPool2dPick,
  avg_pool2d: avgPool2d,
  avg_pool2d_grad: avgPool2dGrad,
};
