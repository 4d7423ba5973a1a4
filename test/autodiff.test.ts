// Properties of the autodiff transform beyond first-order correctness: second order (a
// Hessian-vector product of an MLP against finite differences), pytrees, stopGradient, custom
// VJPs and checkpointed calls recomputed in backward.

import { expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { grad, valueAndGrad, vjp, stopGradient, backward } from "../compiler/autodiff.ts";
import { interpret, evaluateTensor, hostArray, type HostArray } from "../compiler/interpret.ts";
import { seededRandom } from "../compiler/gradcheck.ts";
import { toposort, type Tensor } from "../compiler/graph.ts";

const rand = seededRandom(42);
const randomValues = (n: number) => Array.from({ length: n }, () => rand() * 2 - 1);

test("a Hessian-vector product of a two-layer MLP matches finite differences of its gradient", () => {
  const x = ops.input("x", [5, 3]);
  const loss = (w1: Tensor) => nn.mean(nn.square(nn.linear(nn.tanh(nn.linear(x, w1)), ops.param("w2", [2, 4]))));
  const w1 = ops.param("w1", [4, 3]);
  const v = ops.input("v", [4, 3]);
  const g = grad(loss)(w1) as Tensor;
  // HVP = ∇_w (∇_w L · v)
  const hvp = grad((w: Tensor) => ops.sum(ops.mul(grad(loss)(w) as Tensor, v)))(w1) as Tensor;
  const feeds: Record<string, HostArray> = {
    x: hostArray([5, 3], randomValues(15)),
    w2: hostArray([2, 4], randomValues(8)),
    w1: hostArray([4, 3], randomValues(12)),
    v: hostArray([4, 3], randomValues(12)),
  };
  const analytic = evaluateTensor(hvp, feeds).data;
  const eps = 1e-5;
  const shifted = (sign: number) => {
    const w = feeds.w1!.data.map((val, i) => val + sign * eps * feeds.v!.data[i]!);
    return evaluateTensor(g, { ...feeds, w1: hostArray([4, 3], w) }).data;
  };
  const up = shifted(1);
  const down = shifted(-1);
  analytic.forEach((a, i) => {
    const numeric = (up[i]! - down[i]!) / (2 * eps);
    expect(Math.abs(a - numeric)).toBeLessThan(1e-7 + 1e-6 * Math.abs(numeric));
  });
  expect(Math.max(...analytic.map(Math.abs))).toBeGreaterThan(1e-3);
});

test("grad over a pytree returns the same tree with one gradient per leaf", () => {
  const params = { layer: { w: ops.param("w", [2, 2]), b: ops.param("b", [2]) }, scale: [ops.param("s", [])] };
  const x = ops.input("x", [3, 2]);
  const [value, grads] = valueAndGrad((p: typeof params) => ops.mul(ops.sum(nn.linear(x, p.layer.w, p.layer.b)), p.scale[0]!))(params);
  const feeds = { x: [1, 2, 3, 4, 5, 6], w: [1, 0, 0, 1], b: [0.5, -0.5], s: 2 };
  const out = interpret({ value, grads }, feeds) as { value: HostArray; grads: { layer: { w: HostArray; b: HostArray }; scale: HostArray[] } };
  // L = s·Σ(x·Wᵀ + b); dL/db_j = s·rows = 6; dL/dW_jk = s·Σ_i x_ik = 2·[9, 12]; dL/ds = Σ(...) = 21 + 0 (b sums cancel per row).
  expect([...out.value.data]).toEqual([2 * 21]);
  expect([...out.grads.layer.b.data]).toEqual([6, 6]);
  expect([...out.grads.layer.w.data]).toEqual([18, 24, 18, 24]);
  expect([...out.grads.scale[0]!.data]).toEqual([21]);
});

test("stopGradient blocks the gradient but not the value", () => {
  const x = ops.input("x", [3]);
  const f = (t: Tensor) => ops.sum(ops.mul(stopGradient(t), t));
  const g = grad(f)(x) as Tensor;
  expect([...evaluateTensor(g, { x: [1, -2, 3] }).data]).toEqual([1, -2, 3]);
  expect([...evaluateTensor(f(x), { x: [1, -2, 3] }).data]).toEqual([14]);
});

test("a custom VJP replaces differentiation of the body", () => {
  const x = ops.input("x", [2]);
  const clipped = ops.call("straight_through", (a) => ops.cast(ops.cast(a, "i32"), "f32"), [x], { vjp: (_args, _out, ct) => [ct] });
  const g = grad((t: Tensor) => ops.sum(ops.mul(clipped, t)))(x) as Tensor;
  void g;
  const gs = backward(ops.sum(clipped), [x], ops.scalar(1));
  expect([...evaluateTensor(gs[0]!, { x: [1.7, -2.2] }).data]).toEqual([1, 1]);
});

test("a checkpointed call is recomputed in backward: its VJP is a call whose body contains the forward", () => {
  const x = ops.input("x", [4]);
  const w = ops.param("w", [4]);
  const block = (a: Tensor, b: Tensor) => nn.silu(ops.mul(ops.sin(a), b));
  const fwd = ops.call("block", block, [x, w], { checkpoint: true });
  const [gx, gw] = backward(ops.sum(fwd), [x, w], ops.scalar(1));
  // The gradients are views of one call named block.vjp, whose body recomputes sin(a)·b from the arguments.
  const vjpCall = toposort([gx!, gw!]).find((t) => t.op === "call" && (t as Tensor<"call">).attrs.name === "block.vjp") as Tensor<"call"> | undefined;
  expect(vjpCall).toBeDefined();
  expect(toposort([vjpCall!.attrs.body.out]).some((t) => t.op === "sin")).toBe(true);
  // Nothing outside the vjp call reuses the forward call's internals.
  expect(toposort([gx!, gw!]).filter((t) => t.op === "sin")).toEqual([]);
  // And the values equal the non-checkpointed gradient.
  const plain = backward(ops.sum(block(x, w)), [x, w], ops.scalar(1));
  const feeds = { x: [0.1, 0.5, -1, 2], w: [1, -1, 0.5, 2] };
  for (let i = 0; i < 2; i++) {
    const a = evaluateTensor([gx!, gw!][i]!, feeds).data;
    const b = evaluateTensor(plain[i]!, feeds).data;
    a.forEach((v, j) => expect(v).toBeCloseTo(b[j]!, 12));
  }
});

test("calls capture tensors they close over as extra arguments", () => {
  const w = ops.param("w", [3]);
  const x = ops.input("x", [3]);
  const c = ops.call("scaled", (a) => ops.mul(a, w), [x]);
  expect(c.inputs).toEqual([x, w]);
  const g = backward(ops.sum(c), [w], ops.scalar(1))[0]!;
  expect([...evaluateTensor(g, { x: [1, 2, 3], w: [0, 0, 0] }).data]).toEqual([1, 2, 3]);
});

test("vjp pulls back an arbitrary cotangent and valueAndGrad refuses a non-scalar", () => {
  const x = ops.input("x", [2, 2]);
  const { out, vjp: pull } = vjp((t: Tensor) => ops.dot(t, t), x);
  const ct = ops.input("ct", [2, 2]);
  const g = pull(ct) as Tensor;
  // d(X·X) = dX·X + X·dX → Xᵀ·C + C·Xᵀ
  const X = [1, 2, 3, 4];
  const C = [1, 0, 0, 0];
  expect([...evaluateTensor(g, { x: X, ct: C }).data]).toEqual([2, 3, 2, 0]);
  expect(out.shape).toEqual([2, 2]);
  expect(() => valueAndGrad((t: Tensor) => ops.mul(t, 2))(x)).toThrow(/valueAndGrad: the function must return a float scalar/);
});

test("saturating activations have finite gradients far out in their tails (interpreter and compiled CPU step)", async () => {
  const { compile } = await import("../runtime/compile.ts");
  const xs = [-1000, -100, -12, -1, 0, 1e-3, 3, 12, 100, 1000];
  // Reference derivatives in float64 from the closed forms.
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const tanhD = (v: number) => 1 - Math.tanh(v) ** 2;
  const k = Math.sqrt(2 / Math.PI);
  const want: Record<string, (v: number) => number> = {
    sigmoid: (v) => sig(v) * (1 - sig(v)),
    silu: (v) => sig(v) * (1 + v * (1 - sig(v))),
    tanh: tanhD,
    gelu: (v) => 0.5 * (1 + Math.tanh(k * (v + 0.044715 * v ** 3))) + 0.5 * v * tanhD(k * (v + 0.044715 * v ** 3)) * k * (1 + 3 * 0.044715 * v * v),
  };
  const fns: Record<string, (t: Tensor) => Tensor> = { sigmoid: nn.sigmoid, silu: nn.silu, tanh: nn.tanh, gelu: nn.gelu };
  for (const [name, f] of Object.entries(fns)) {
    const x = ops.input("x", [xs.length]);
    const g = grad((t: Tensor) => ops.sum(f(t)))(x) as Tensor;
    const step = compile((t) => grad((u: Tensor) => ops.sum(f(u)))((t as { x: Tensor }).x) as Tensor, { x: { shape: [xs.length] } });
    const compiled = step.run({ x: xs }) as Float32Array;
    for (const [label, got] of [
      ["f64", evaluateTensor(g, { x: xs }).data],
      ["f32", evaluateTensor(g, { x: xs }, { precision: "native" }).data],
      ["cpu", compiled],
    ] as const)
      xs.forEach((v, i) => {
        expect(Number.isFinite(got[i]!), `${name}'(${v}) in ${label}`).toBe(true);
        expect(Math.abs(got[i]! - want[name]!(v)), `${name}'(${v}) in ${label}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[name]!(v))));
      });
  }
});
