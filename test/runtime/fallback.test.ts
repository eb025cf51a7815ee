// The uncompiled `grad` fallback: models written as ordinary functions with JS operators,
// interpreted on the tape. Expected values are worked out by hand in each test.

import { describe, expect, it } from "vitest";
import {
  type Tensor,
  GradcError,
  add,
  grad,
  matmul,
  mul,
  sigmoid,
  square,
  sub,
  sum,
  tensor,
  valueAndGrad,
} from "../../runtime/index.js";
import * as gradc from "../../runtime/index.js";

const data = (t: unknown): number[] => [...(t as Tensor).data];

describe("the worked values of the two circuits (f = (x + y)·z and the sigmoid neuron)", () => {
  function fxyz(x: number, y: number, z: number): number {
    return (x + y) * z;
  }

  it("fxyz = (x + y) * z at (-2, 5, -4)", () => {
    const [f, [dx, dy, dz]] = valueAndGrad(fxyz, { argnums: [0, 1, 2] })(-2, 5, -4);
    expect(f).toBe(-12);
    expect(dx).toBe(-4);
    expect(dy).toBe(-4);
    expect(dz).toBe(3);
  });

  it("the sigmoid neuron", () => {
    function neuron(w: number[], x: number[]): number {
      return 1 / (1 + Math.exp(-(w[0]! * x[0]! + w[1]! * x[1]! + w[2]!)));
    }
    const w = [2, -3, -3];
    const x = [-1, -2];
    const [f, [dw, dx]] = valueAndGrad(neuron, { argnums: [0, 1] })(w, x);
    // By hand: the pre-activation is 2·(-1) + (-3)·(-2) - 3 = 1, f = σ(1), and the local
    // gradient of σ at 1 is σ(1)(1 - σ(1)); each input's gradient is that times its partner.
    const s = 1 / (1 + Math.exp(-1));
    const local = s * (1 - s);
    expect(f).toBeCloseTo(0.7311, 4);
    expect(Math.abs(f - s)).toBeLessThan(1e-12);
    const expectedDw = [x[0]! * local, x[1]! * local, local];
    const expectedDx = [w[0]! * local, w[1]! * local];
    dw.forEach((g, i) => expect(Math.abs(g - expectedDw[i]!)).toBeLessThan(1e-12));
    dx.forEach((g, i) => expect(Math.abs(g - expectedDx[i]!)).toBeLessThan(1e-12));
    // The rounded values the worked example quotes.
    expect(dw.map((g) => Math.round(g * 100) / 100)).toEqual([-0.2, -0.39, 0.2]);
    expect(dx.map((g) => Math.round(g * 100) / 100)).toEqual([0.39, -0.59]);
  });

  it("the two-layer net L = (W2 · σ(W1 · x) - y)², by the chain rule", () => {
    const loss = (p: { W1: Tensor<[2, 2]>; W2: Tensor<[1, 2]> }, x: Tensor<[2, 1]>, y: number) =>
      sum(square(sub(matmul(p.W2, sigmoid(matmul(p.W1, x))), y)));
    const W1 = tensor([[0.5, -1], [2, 0.25]]);
    const W2 = tensor([[1.5, -0.5]]);
    const x = tensor([[1], [2]]);
    const g = grad(loss)({ W1, W2 }, x, 0.3);
    // By hand: h = σ(W1 x), ŷ = W2 h, dL/dŷ = 2(ŷ - y); dW2 = dŷ hᵀ; dh = W2ᵀ dŷ;
    // dz = dh ⊙ h(1 - h); dW1 = dz xᵀ.
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const h = [sig(0.5 * 1 - 1 * 2), sig(2 * 1 + 0.25 * 2)];
    const yHat = 1.5 * h[0]! - 0.5 * h[1]!;
    const dy = 2 * (yHat - 0.3);
    const dz = [1.5 * dy * h[0]! * (1 - h[0]!), -0.5 * dy * h[1]! * (1 - h[1]!)];
    const expectW1 = [dz[0]! * 1, dz[0]! * 2, dz[1]! * 1, dz[1]! * 2];
    const expectW2 = [dy * h[0]!, dy * h[1]!];
    data(g.W1).forEach((v, i) => expect(Math.abs(v - expectW1[i]!)).toBeLessThan(1e-12));
    data(g.W2).forEach((v, i) => expect(Math.abs(v - expectW2[i]!)).toBeLessThan(1e-12));
    expect(g.W1.shape).toEqual([2, 2]);
    expect(g.W2.shape).toEqual([1, 2]);
  });
});

describe("argnums and pytrees", () => {
  const f = (a: number, b: number, c: number) => a * a * b + c * 10;

  it("defaults to argument 0 and returns a single gradient", () => {
    expect(grad(f)(3, 2, 1)).toBe(12); // d(a²b)/da = 2ab
  });

  it("a single number gives a single gradient, an array a tuple", () => {
    expect(grad(f, { argnums: 1 })(3, 2, 1)).toBe(9);
    expect(grad(f, { argnums: [0, 2] })(3, 2, 1)).toEqual([12, 10]);
    expect(grad(f, { argnums: [2] })(3, 2, 1)).toEqual([10]);
  });

  it("refuses argnums that name no argument, or one twice", () => {
    expect(() => grad(f, { argnums: [] })).toThrow(GradcError);
    expect(() => grad(f, { argnums: [1, 1] })).toThrow(/twice/);
    expect(() => grad(f, { argnums: 3 })(3, 2, 1)).toThrow(/out of range/);
  });

  it("valueAndGrad returns [value, grads]", () => {
    expect(valueAndGrad(f, { argnums: [1, 0] })(3, 2, 1)).toEqual([28, [9, 12]]);
  });

  it("gives gradients in the structure of an object with a tuple and a tensor", () => {
    type P = { pair: [number, number]; w: Tensor<[2]>; name: string; nested: { k: number }[] };
    const loss = (p: P, x: Tensor<[2]>) => p.pair[0] * p.pair[1] + sum(mul(p.w, x)) + p.nested[0]!.k ** 2;
    const p: P = { pair: [2, 5], w: tensor([1, 2]), name: "layer", nested: [{ k: 3 }] };
    const x = tensor([10, 20]);
    const g = grad(loss)(p, x);
    expect(g.pair).toEqual([5, 2]);
    expect(g.w.shape).toEqual([2]);
    expect(g.w.data).toBeInstanceOf(Float64Array);
    expect(data(g.w)).toEqual([10, 20]);
    expect(g.nested[0]!.k).toBe(6);
    expect(g.name).toBe("layer"); // non-numeric leaves ride along unchanged
    // Fresh objects, the parameters untouched.
    expect(g).not.toBe(p);
    expect(g.w).not.toBe(p.w);
    expect(data(p.w)).toEqual([1, 2]);
  });

  it("keeps f32 tensors f32", () => {
    const w = tensor(new Float32Array([1, 2, 3]));
    const g = grad((v: Tensor<[3], "f32">) => sum(square(v)))(w as Tensor<[3], "f32">);
    expect(g.data).toBeInstanceOf(Float32Array);
    expect([...g.data]).toEqual([2, 4, 6]);
  });

  it("gives zeros for parameters the loss does not depend on", () => {
    const g = grad((p: { a: number; t: Tensor<[2]> }) => p.a * 0 + 1)({ a: 1, t: tensor([1, 2]) });
    expect(g.a).toBe(0);
    expect(data(g.t)).toEqual([0, 0]);
  });

  it("does not share buffers between gradients of different leaves", () => {
    const g = grad((p: { a: Tensor<[2]>; b: Tensor<[2]> }) => sum(add(p.a, p.b)))({ a: tensor([1, 2]), b: tensor([3, 4]) });
    expect(g.a.data).not.toBe(g.b.data);
    g.a.data[0] = 100;
    expect(g.b.data[0]).toBe(1);
  });

  it("refuses parameters it cannot take apart, rather than dropping their gradients", () => {
    class Layer {
      w = 2;
    }
    expect(() => grad((p: { layer: Layer }) => p.layer.w * 3)({ layer: new Layer() })).toThrow(/\.layer is an instance of Layer/);
    expect(() => grad((p: { d: Float64Array }) => p.d[0]!)({ d: new Float64Array(2) })).toThrow(/wrap it with tensor/);
  });

  it("refuses a non-scalar result", () => {
    expect(() => grad((t: Tensor<[2]>) => mul(t, 2) as unknown as number)(tensor([1, 2]))).toThrow(GradcError);
  });
});

describe("control flow runs on plain values", () => {
  it("takes only one branch of a conditional: the untaken one cannot leak NaN", () => {
    const f = (x: number) => (x > 0 ? Math.sqrt(x) : 0);
    expect(grad(f)(-1)).toBe(0);
    expect(grad(f)(4)).toBe(0.25); // 1 / (2·√4)
  });

  it("if/else with let reassignment and compound assignment", () => {
    function f(x: number): number {
      let y = x;
      if (x < 1) {
        y *= 3;
      } else if (x < 10) {
        y = y * y;
      } else {
        y -= 1;
      }
      y += 1;
      return y;
    }
    expect(grad(f)(0.5)).toBe(3);
    expect(grad(f)(4)).toBe(8);
    expect(grad(f)(20)).toBe(1);
  });

  it("for loops of any bound, while loops, break and continue", () => {
    function power(x: number, n: number): number {
      let acc = 1;
      for (let i = 0; i < n; i++) acc = acc * x;
      return acc;
    }
    expect(grad(power)(2, 5)).toBe(80); // 5·2⁴
    function skip(x: number): number {
      let s = 0;
      let i = 0;
      while (true) {
        i++;
        if (i % 2 === 0) continue;
        if (i > 7) break;
        s += i * x; // i = 1, 3, 5, 7
      }
      return s;
    }
    expect(grad(skip)(1)).toBe(16);
  });

  it("a 1000-step simulation loop", () => {
    function pendulum(theta0: number, dt: number): number {
      let theta = theta0;
      let omega = 0;
      for (let step = 0; step < 1000; step++) {
        omega = omega - dt * Math.sin(theta);
        theta = theta + dt * omega;
      }
      return theta;
    }
    // Against a central difference of the same plain function.
    const eps = 1e-6;
    const numeric = (pendulum(0.5 + eps, 0.01) - pendulum(0.5 - eps, 0.01)) / (2 * eps);
    expect(Math.abs(grad(pendulum)(0.5, 0.01) - numeric)).toBeLessThan(1e-6);
  });

  it("&&, || and ! combine conditions, which are booleans as the compiler requires", () => {
    const f = (x: number, flag: boolean) => (flag && x > 0 ? x * 2 : !flag || x < -10 ? x * 5 : x);
    expect(grad(f)(1, true)).toBe(2);
    expect(grad(f)(1, false)).toBe(5);
    expect(grad(f)(-1, true)).toBe(1);
    // A number is not a condition: GRADC2005, as compiled.
    const g = (x: number, y: number) => (x || y) * 3;
    expect(() => grad(g)(0, 2)).toThrow(/^GRADC2005: Type mismatch: a condition must be a comparison or a boolean/);
  });

  it("Math.max and Math.min route the gradient, ties to the first argument", () => {
    expect(grad((x: number, y: number) => Math.max(x, y), { argnums: [0, 1] })(1, 2)).toEqual([0, 1]);
    expect(grad((x: number, y: number) => Math.max(x, y), { argnums: [0, 1] })(2, 2)).toEqual([1, 0]);
    expect(grad((x: number, y: number) => Math.min(x, y), { argnums: [0, 1] })(2, 2)).toEqual([1, 0]);
    expect(grad((x: number, y: number, z: number) => Math.max(x, y, z), { argnums: [0, 1, 2] })(1, 3, 3)).toEqual([0, 1, 0]);
  });

  it("differentiates Math.exp log sqrt pow tanh sin cos abs and **", () => {
    const x = 0.7;
    const f = (t: number) =>
      Math.exp(t) + Math.log(t) + Math.sqrt(t) + Math.pow(t, 3) + Math.tanh(t) + Math.sin(t) + Math.cos(t) + Math.abs(-t) + t ** 2;
    const expected =
      Math.exp(x) + 1 / x + 0.5 / Math.sqrt(x) + 3 * x * x + (1 - Math.tanh(x) ** 2) + Math.cos(x) - Math.sin(x) + 1 + 2 * x;
    expect(Math.abs(grad(f)(x) - expected)).toBeLessThan(1e-12);
    expect(grad((t: number) => -t + +t)(x)).toBe(0);
    expect(grad((t: number) => Math.floor(t) * t)(2.5)).toBe(2); // floor is a constant
  });
});

describe("the syntax a model is written in", () => {
  it("destructuring of objects and arrays in declarations and in helpers' parameters", () => {
    function f(o: { a: number; b: [number, number] }, es: [number]): number {
      const { a, b: [c, d] } = o;
      const [e] = es;
      const { x, y } = { x: a * c, y: d };
      const [p, q] = [x, y * e];
      const h = ({ u }: { u: number }) => u * 2;
      return p + q + h({ u: a });
    }
    expect(grad(f)({ a: 2, b: [3, 4] }, [5])).toEqual({ a: 5, b: [2, 5] });
  });

  it("refuses a destructured parameter of the differentiated function, as the compiler does", () => {
    const f = ({ a }: { a: number }) => a * 2;
    expect(() => grad(f)({ a: 1 })).toThrow(/^GRADC1001: A destructured parameter is not supported/);
  });

  it("property and index access on pytrees, shapes of traced tensors", () => {
    const f = (p: { layers: { w: number }[] }, t: Tensor<[3]>) => p.layers[1]!.w * t.shape[0]! + sum(t) * p.layers.length;
    const [v, [gp, gt]] = valueAndGrad(f, { argnums: [0, 1] })({ layers: [{ w: 1 }, { w: 2 }] }, tensor([1, 2, 3]));
    expect(v).toBe(2 * 3 + 6 * 2);
    expect(gp).toEqual({ layers: [{ w: 0 }, { w: 3 }] });
    expect(data(gt)).toEqual([2, 2, 2]);
  });

  it("closures and nested functions; array methods and recursion are refused with the compiler's codes", () => {
    function f(xs: [number, number]): number {
      function cube(v: number): number {
        return v * v * v;
      }
      const k = 6;
      const scaled = (v: number): number => cube(v) * k;
      let s = 0;
      for (const v of xs) s = s + scaled(v);
      return s;
    }
    expect(grad(f)([1, 2])).toEqual([18, 72]); // 6·3v²
    const mapped = (xs: number[]) => xs.map((v) => v * 2).length;
    expect(() => grad(mapped)([1])).toThrow(/^GRADC1029: 'xs.map' exists, but gradc does not support it/);
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    expect(() => grad(fact, { scope: { fact } })(3)).toThrow(/^GRADC1010: 'fact' calls itself/);
  });

  it("for...of, switch, update expressions; template strings and typeof are refused", () => {
    function f(xs: number[], mode: number): number {
      let s = 0;
      for (const v of xs) s += v;
      let k = 0;
      k++;
      k += 1;
      switch (mode) {
        case 2:
          s = s * 2;
          break;
        default:
          s = s * 3;
      }
      return s * k;
    }
    expect(grad(f)([1, 2], 2)).toEqual([4, 4]);
    expect(grad(f)([1, 2], 0)).toEqual([6, 6]);
    expect(() => grad((x: number) => `${x}`.length)(1)).toThrow(/^GRADC1001: A template string is not supported/);
    expect(() => grad((x: number) => (typeof x === "number" ? x : 0))(1)).toThrow(/^GRADC1001: 'TypeOfExpression' is not supported/);
  });

  it("methods and arrow functions as the differentiated function", () => {
    const model = {
      loss(x: number) {
        return x * x;
      },
    };
    expect(grad(model.loss)(3)).toBe(6);
    expect(grad((x: number) => x * 4)(3)).toBe(4);
    expect(
      grad(function named(x: number) {
        return x / 2;
      })(3),
    ).toBe(0.5);
  });

  it("code as older compilers and bundlers emit it: var, __name", () => {
    const f = new Function(`return function loss(p, x) {
      var acc = 0;
      for (var i = 0; i < 2; i++) { acc = acc + x * p.w; }
      var sq = __name(function (v) { return v * v; }, "sq");
      return sq(acc) * p.scale;
    };`)() as (p: { w: number; scale: number }, x: number) => number;
    // acc = 2xw, loss = 4x²w²·scale, so d/dw = 8x²w·scale and d/dscale = 4x²w².
    expect(grad(f)({ w: 0.5, scale: 2 }, 2)).toEqual({ w: 8 * 4 * 0.5 * 2, scale: 4 * 4 * 0.25 });
    // Assignments inside expressions (a downleveled `?.`) are outside the language, compiled or not.
    const g = new Function(`return function loss(p) { var _a; return (_a = p.w) * 2; };`)() as (p: { w: number }) => number;
    expect(() => grad(g)({ w: 1 })).toThrow(/^GRADC1013: The operator '=' is not supported/);
  });

  it("models written only with gradc tensor ops", () => {
    const loss = (w: Tensor<[2, 2]>, x: Tensor<[1, 2]>) => sum(sigmoid(matmul(x, w)));
    const g = grad(loss)(tensor([[0, 0], [0, 0]]), tensor([[1, 2]]));
    // σ'(0) = 1/4, dW = xᵀ · (1/4)
    expect(data(g)).toEqual([0.25, 0.25, 0.5, 0.5]);
  });

  it("the namespace forms bundlers and vitest produce: X.add(...) and (0, X.add)(...)", () => {
    const f = (a: Tensor<[2]>) => gradc.sum(gradc.mul(a, a)) + (0, gradc.sum)(a);
    const g = grad(f)(tensor([1, 2]));
    expect(data(g)).toEqual([3, 5]);
    // The source refers to a namespace the interpreter cannot see.
    expect(f.toString()).toMatch(/\.sum/);
  });

  it("calls through a bound function (no readable source) work for op-only models", () => {
    const loss = function (this: { k: number }, t: Tensor<[2]>) {
      return sum(mul(t, this.k));
    }.bind({ k: 3 });
    expect(data(grad(loss)(tensor([1, 1])))).toEqual([3, 3]);
  });
});

describe("helpers and free identifiers", () => {
  function helper(a: number, b: number): number {
    return a * b + inner(a);
  }
  function inner(a: number): number {
    return a * a;
  }
  const SCALE = 10;

  it("interprets helpers passed in scope, recursively", () => {
    const f = (x: number, y: number) => helper(x, y) * SCALE;
    // d/dx (xy + x²)·10 = (y + 2x)·10
    expect(grad(f, { scope: { helper, inner, SCALE } })(2, 3)).toBe(70);
  });

  it("throws a GradcError naming an unresolvable helper", () => {
    const f = (x: number, y: number) => helper(x, y);
    let error: unknown;
    try {
      grad(f)(2, 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradcError);
    expect((error as Error).name).toBe("GradcError");
    expect((error as Error).message).toMatch(/^GRADC1011: 'helper' is not defined here/);
    // The two ways out: pass it, or compile.
    expect((error as Error).message).toMatch(/grad\(f, \{ scope: \{ helper \} \}\)/);
    expect((error as Error).message).toMatch(/compile the model with gradc: run the gradc CLI, or add its plugin/);
  });

  it("names the inner helper when the outer one is given", () => {
    const f = (x: number, y: number) => helper(x, y);
    expect(() => grad(f, { scope: { helper } })(2, 3)).toThrow(/^GRADC1011: 'inner'.*scope: \{ inner \}/);
  });

  it("throws a GradcError naming unsupported syntax", () => {
    const f = (x: number) => {
      class K {}
      return x + (K ? 0 : 1);
    };
    expect(() => grad(f)(1)).toThrow(GradcError);
    expect(() => grad(f)(1)).toThrow(/^GRADC1001: A class declaration is not supported in a differentiable function/);
  });

  it("refuses JS operators on tensors, naming the op to use", () => {
    const f = (t: Tensor<[2]>) => sum((t as unknown as number) * 2 as unknown as Tensor<[2]>);
    expect(() => grad(f)(tensor([1, 2]))).toThrow(/^GRADC1027: The operator '\*' takes numbers, but 't' is a tensor of shape \[2\]\. Write mul\(t, 2\)\./);
  });
});
