// gradcheck: compare kiln's autodiff with central finite differences in float64, in the
// interpreter (as torch.autograd.gradcheck does). Non-scalar outputs are reduced against a fixed
// random cotangent, so every output element contributes.

import { isFloat } from "./dtype.ts";
import { sizeOf, type Tensor } from "./graph.ts";
import { backward } from "./autodiff.ts";
import { interpret, type HostArray } from "./interpret.ts";
import * as ops from "./ops.ts";

export interface GradcheckOptions {
  /** Finite-difference step, relative to max(1, |x|). */
  eps?: number;
  /** Largest accepted error |analytic − numeric| / max(floor, |analytic|, |numeric|). */
  tolerance?: number;
  /** Errors of gradients smaller than this are measured absolutely. */
  floor?: number;
  /** Check at most this many elements one by one; the rest through random directional derivatives. */
  maxElements?: number;
  seed?: number;
}

export interface GradcheckResult {
  passed: boolean;
  maxRelErr: number;
  /** How many scalar comparisons were made. */
  checked: number;
  worst?: { input: number; index: number | "direction"; analytic: number; numeric: number };
}

/** mulberry32: a tiny seeded PRNG for test data (not the graph's Philox). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Check the gradient of `fn` at `inputs` (float inputs are differentiated; integer ones are held fixed). */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly HostArray[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-6, tolerance = 1e-5, floor = 1e-3, maxElements = 64, seed = 1 } = options;
  const rand = seededRandom(seed);
  const xs = inputs.map((h, i) => ops.input(`x${i}`, h.shape, h.dtype));
  const out = fn(...xs);
  const ctValues = Float64Array.from({ length: sizeOf(out.shape) }, () => rand() * 2 - 1);
  const loss = out.shape.length === 0 ? out : ops.sum(ops.mul(out, ops.input("__cotangent", out.shape, out.dtype)));
  const wrt = xs.flatMap((x, i) => (isFloat(x.dtype) ? [i] : []));
  const grads = backward(
    loss,
    wrt.map((i) => xs[i]!),
    ops.scalar(1, loss.dtype),
  );

  const feeds: Record<string, HostArray> = { __cotangent: { shape: out.shape, dtype: out.dtype, data: ctValues } };
  inputs.forEach((h, i) => (feeds[`x${i}`] = { shape: h.shape, dtype: h.dtype, data: Float64Array.from(h.data) }));
  const analytic = (interpret(grads, feeds, { precision: "f64" }) as HostArray[]).map((g) => g.data);
  const lossAt = (): number => (interpret(loss, feeds, { precision: "f64" }) as HostArray).data[0]!;

  let maxRelErr = 0;
  let checked = 0;
  let worst: GradcheckResult["worst"];
  const compare = (input: number, index: number | "direction", a: number, n: number): void => {
    const err = Math.abs(a - n) / Math.max(floor, Math.abs(a), Math.abs(n));
    checked++;
    if (!(err <= maxRelErr) || Number.isNaN(err)) {
      maxRelErr = Number.isNaN(err) ? Infinity : Math.max(maxRelErr, err);
      worst = { input, index, analytic: a, numeric: n };
    }
  };
  const total = wrt.reduce((s, i) => s + inputs[i]!.data.length, 0);
  wrt.forEach((inputIndex, g) => {
    const values = feeds[`x${inputIndex}`]!.data;
    const picks = total <= maxElements ? [...values.keys()] : [...values.keys()].filter(() => rand() < maxElements / total);
    for (const j of picks) {
      const x = values[j]!;
      const h = eps * Math.max(1, Math.abs(x));
      values[j] = x + h;
      const up = lossAt();
      values[j] = x - h;
      const down = lossAt();
      values[j] = x;
      compare(inputIndex, j, analytic[g]![j]!, (up - down) / (2 * h));
    }
  });
  if (total > maxElements) {
    // Directional derivatives along random directions cover the elements not checked one by one.
    for (let d = 0; d < 3; d++) {
      const dirs = wrt.map((i) => Float64Array.from({ length: inputs[i]!.data.length }, () => rand() * 2 - 1));
      const predicted = wrt.reduce((s, _, g) => s + dirs[g]!.reduce((t, v, j) => t + v * analytic[g]![j]!, 0), 0);
      const shift = (sign: number): void =>
        wrt.forEach((i, g) => feeds[`x${i}`]!.data.forEach((_, j, arr) => (arr[j] = inputs[i]!.data[j]! + sign * eps * dirs[g]![j]!)));
      shift(1);
      const up = lossAt();
      shift(-1);
      const down = lossAt();
      shift(0);
      compare(-1, "direction", predicted, (up - down) / (2 * eps));
    }
  }
  return { passed: maxRelErr <= tolerance, maxRelErr, checked, ...(worst ? { worst } : {}) };
}
