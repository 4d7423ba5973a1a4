// The CPU references the GPU smoke run judges kernels by (bench/gpu/references.ts) must themselves be
// right: attention gradients against central finite differences, LSE against its definition, AdamW
// against the spec §8 formula, and the bf16 data helper against compiler/dtype.ts.
import { describe, expect, test } from "vitest";
import { roundBf16 } from "../compiler/dtype.ts";
import type { AttentionShape } from "../kernels/cuda/attention.ts";
import { adamwElement, attentionReference, compare, gemmElement, randomBf16, uniforms } from "../bench/gpu/references.ts";

describe("GPU smoke references", () => {
  const shape: AttentionShape = { batch: 2, heads: 2, seqQ: 3, seqK: 5, headDim: 4, mask: true };
  const scale = 0.7;
  const rowLength = shape.heads * shape.headDim;
  const q = uniforms(shape.batch * shape.seqQ * rowLength, 1);
  const k = uniforms(shape.batch * shape.seqK * rowLength, 2);
  const v = uniforms(shape.batch * shape.seqK * rowLength, 3);
  const dout = uniforms(shape.batch * shape.seqQ * rowLength, 4);
  const mask = Uint8Array.from([1, 0, 1, 1, 0, 1, 1, 1, 1, 1]);
  const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) =>
    attentionReference(shape, scale, qq, kk, vv, dout, mask).out.reduce((sum, o, i) => sum + o * dout[i]!, 0);

  test("attention gradients match central finite differences of Σ dO·O", () => {
    const ref = attentionReference(shape, scale, q, k, v, dout, mask);
    const eps = 1e-6;
    for (const [name, input, grad] of [
      ["q", q, ref.dq],
      ["k", k, ref.dk],
      ["v", v, ref.dv],
    ] as const) {
      for (let i = 0; i < input.length; i++) {
        const plus = Float64Array.from(input);
        const minus = Float64Array.from(input);
        plus[i]! += eps;
        minus[i]! -= eps;
        const args = (x: Float64Array) => (name === "q" ? loss(x, k, v) : name === "k" ? loss(q, x, v) : loss(q, k, x));
        expect(grad[i], `${name}[${i}]`).toBeCloseTo((args(plus) - args(minus)) / (2 * eps), 6);
      }
    }
  });

  test("masked keys get no gradient and LSE is log Σ exp over the visible keys", () => {
    const ref = attentionReference(shape, scale, q, k, v, dout, mask);
    for (let c = 0; c < rowLength; c++) {
      expect(ref.dk[1 * rowLength + c]).toBe(0); // batch 0, key 1 is masked
      expect(ref.dv[4 * rowLength + c]).toBe(0); // batch 0, key 4 is masked
    }
    const [b, h, i] = [1, 1, 2];
    let sum = 0;
    for (let j = 0; j < shape.seqK; j++) {
      if (mask[b * shape.seqK + j] === 0) continue;
      let dot = 0;
      for (let c = 0; c < shape.headDim; c++)
        dot += q[(b * shape.seqQ + i) * rowLength + h * shape.headDim + c]! * k[(b * shape.seqK + j) * rowLength + h * shape.headDim + c]!;
      sum += Math.exp(dot * scale);
    }
    expect(ref.lse[(b * shape.heads + h) * shape.seqQ + i]).toBeCloseTo(Math.log(sum), 12);
  });

  test("the AdamW reference is spec §8: decoupled decay, bias-corrected moments", () => {
    const [theta, g, m, v2, lr, wd, step] = [0.5, -0.2, 0.01, 0.003, 1e-3, 0.01, 3];
    const mNext = 0.9 * m + 0.1 * g;
    const vNext = 0.999 * v2 + 0.001 * g * g;
    const want = theta * (1 - lr * wd) - (lr / (1 - 0.9 ** step)) * (mNext / (Math.sqrt(vNext) / Math.sqrt(1 - 0.999 ** step) + 1e-8));
    const got = adamwElement(theta, g, m, v2, lr, wd, step);
    expect(got.theta).toBeCloseTo(want, 15);
    expect(got.m).toBeCloseTo(mNext, 15);
    expect(got.v).toBeCloseTo(vNext, 15);
  });

  test("bf16 test data are exactly bf16 values, and a GEMM element is the plain dot product", () => {
    const data = randomBf16(100, 9);
    expect([...data.values].every((x) => roundBf16(x) === x)).toBe(true);
    const a = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float64Array.from([1, 0, 1, 0, 1, 0]);
    expect(gemmElement({ m: 2, n: 2, k: 3, layout: "tn", out: "f32" }, a, b, 0, 1, 0)).toBe(4 + 6);
    expect(gemmElement({ m: 2, n: 2, k: 3, layout: "nn", out: "f32" }, a, Float64Array.from([1, 2, 3, 4, 5, 6]), 0, 0, 1)).toBe(
      1 * 2 + 2 * 4 + 3 * 6,
    );
    expect(compare([1, 2, 3], [1, 2.5, 3]).relError).toBeCloseTo(0.5 / 3);
    expect(compare([Number.NaN], [1]).maxAbsError).toBe(Number.POSITIVE_INFINITY);
  });
});
