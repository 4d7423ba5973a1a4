// Composites: every layer a model needs, each a composition of primitives (or a `call`), with
// PyTorch's semantics where PyTorch has the layer. Nothing here is a new primitive: autodiff,
// the interpreter and the backends see only the closed op set.

import { GraphError, check } from "./errors.ts";
import { shapeStr, sizeOf, type Shape, type Tensor } from "./graph.ts";
import { backward, stopGradient } from "./autodiff.ts";
import * as ops from "./ops.ts";
import type { TensorLike } from "./ops.ts";
import type { AttentionMeta } from "./templates.ts";

const LOG2E = Math.LOG2E;
const LN2 = Math.LN2;

// --- arithmetic ----------------------------------------------------------------------------------

export const sub = (a: TensorLike, b: TensorLike): Tensor => (typeof b === "number" ? ops.add(a, -b) : ops.add(a, ops.neg(b)));

export const div = (a: TensorLike, b: TensorLike): Tensor => (typeof b === "number" ? ops.mul(a, 1 / b) : ops.mul(a, ops.recip(b)));

export const exp = (x: Tensor): Tensor => ops.exp2(ops.mul(x, LOG2E));
export const log = (x: Tensor): Tensor => ops.mul(ops.log2(x), LN2);
export const square = (x: Tensor): Tensor => ops.mul(x, x);
export const rsqrt = (x: Tensor): Tensor => ops.recip(ops.sqrt(x));
export const abs = (x: Tensor): Tensor => ops.maximum(x, ops.neg(x));
const negate = (v: TensorLike): TensorLike => (typeof v === "number" ? -v : ops.neg(v));
export const minimum = (a: TensorLike, b: TensorLike): Tensor => ops.neg(ops.maximum(negate(a), negate(b)));
export const clamp = (x: Tensor, lo: number, hi: number): Tensor => minimum(ops.maximum(x, lo), hi);
export const cos = (x: Tensor): Tensor => ops.sin(ops.add(x, Math.PI / 2));

/** x ** p for a scalar exponent: small integer powers multiply, ½ is sqrt, otherwise exp2(p·log2 x) (x > 0). */
export function pow(x: Tensor, p: number): Tensor {
  if (p === 0) return ops.full(x.shape, 1, x.dtype);
  if (p === 1) return x;
  if (p === 0.5) return ops.sqrt(x);
  if (p === -0.5) return rsqrt(x);
  if (Number.isInteger(p) && Math.abs(p) <= 8) {
    let result = x;
    for (let i = 1; i < Math.abs(p); i++) result = ops.mul(result, x);
    return p < 0 ? ops.recip(result) : result;
  }
  return ops.exp2(ops.mul(ops.log2(x), p));
}

// --- activations ---------------------------------------------------------------------------------

/**
 * 1 / (1 + e^-x) with x clamped below at -80, so e^-x stays finite (e^80 ≈ 5.5e34). Unclamped, the
 * gradient is 0·∞ = NaN below x ≈ -88, and through tanh that reaches GELU below x ≈ -10 (a long
 * training run met it). Below -80 the value is 1.8e-35 instead of less and the gradient 0 instead of
 * less than 2e-35.
 */
export const sigmoid = (x: Tensor): Tensor => ops.recip(ops.add(exp(ops.neg(ops.maximum(x, -80))), 1));
export const tanh = (x: Tensor): Tensor => ops.add(ops.mul(sigmoid(ops.mul(x, 2)), 2), -1);
export const silu = (x: Tensor): Tensor => ops.mul(x, sigmoid(x));
export const relu = (x: Tensor): Tensor => ops.maximum(x, 0);

/** GELU, tanh approximation (PyTorch's approximate="tanh"). */
export function gelu(x: Tensor): Tensor {
  const inner = ops.mul(ops.add(x, ops.mul(ops.mul(ops.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return ops.mul(ops.mul(x, 0.5), ops.add(tanh(inner), 1));
}

// --- reductions and normalisation ----------------------------------------------------------------

type Axes = number | readonly number[];

export function mean(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  const list = axes === undefined ? [...x.shape.keys()] : typeof axes === "number" ? [axes] : axes;
  const count = list.reduce((n, a) => n * x.shape[a < 0 ? a + x.shape.length : a]!, 1);
  return ops.mul(ops.sum(x, axes, keepdims), 1 / count);
}

/** Variance with `correction` (0: population, PyTorch's unbiased=False; 1: sample). */
export function variance(x: Tensor, axes?: Axes, { keepdims = false, correction = 0 } = {}): Tensor {
  const list = axes === undefined ? [...x.shape.keys()] : typeof axes === "number" ? [axes] : axes;
  const count = list.reduce((n, a) => n * x.shape[a < 0 ? a + x.shape.length : a]!, 1);
  const centred = sub(x, mean(x, axes, true));
  return ops.mul(ops.sum(square(centred), axes, keepdims), 1 / Math.max(count - correction, 1));
}

/** Softmax along `axis`; the max is subtracted for stability (its gradient cancels exactly, so it is stopped). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const shifted = sub(x, stopGradient(ops.max(x, axis, true)));
  const e = exp(shifted);
  return div(e, ops.sum(e, axis, true));
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = sub(x, stopGradient(ops.max(x, axis, true)));
  return sub(shifted, log(ops.sum(exp(shifted), axis, true)));
}

function trailingAxes(op: string, x: Tensor, normalized: number): number[] {
  check(
    normalized >= 1 && normalized <= x.shape.length,
    op,
    () => `cannot normalise the last ${normalized} axes of rank ${x.shape.length}`,
    [x],
    "1 ≤ normalized axes ≤ rank",
  );
  return [...Array(normalized).keys()].map((i) => x.shape.length - normalized + i);
}

function affine(op: string, y: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, shape: Shape): Tensor {
  for (const [what, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const)
    if (t)
      check(
        t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]),
        op,
        () => `${what} ${shapeStr(t.shape)} does not match the normalised shape ${shapeStr(shape)}`,
        [y, t],
        `a ${what} of shape ${shapeStr(shape)}`,
      );
  const scaled = weight ? ops.mul(y, weight) : y;
  return bias ? ops.add(scaled, bias) : scaled;
}

export interface NormOptions {
  weight?: Tensor;
  bias?: Tensor;
  eps?: number;
  /** How many trailing axes are normalised (PyTorch's normalized_shape length); 1 by default. */
  axes?: number;
}

/** torch.nn.functional.layer_norm: (x − mean) / sqrt(var + eps) · weight + bias over the trailing axes. */
export function layerNorm(x: Tensor, { weight, bias, eps = 1e-5, axes = 1 }: NormOptions = {}): Tensor {
  const list = trailingAxes("layer_norm", x, axes);
  const centred = sub(x, mean(x, list, true));
  const y = ops.mul(centred, rsqrt(ops.add(mean(square(centred), list, true), eps)));
  return affine("layer_norm", y, weight, bias, x.shape.slice(-axes));
}

/** float32 machine epsilon: torch.nn.RMSNorm's eps when none is given (computed in f32; spec Appendix A.4). */
export const F32_EPS = 2 ** -23;

/** torch.nn.RMSNorm: x · rsqrt(mean(x²) + eps) · weight over the trailing axes. */
export function rmsNorm(x: Tensor, { weight, eps = F32_EPS, axes = 1 }: Omit<NormOptions, "bias"> = {}): Tensor {
  const list = trailingAxes("rms_norm", x, axes);
  const y = ops.mul(x, rsqrt(ops.add(mean(square(x), list, true), eps)));
  return affine("rms_norm", y, weight, undefined, x.shape.slice(-axes));
}

/** torch.nn.GroupNorm on [N, C, ...]: statistics per (sample, group), affine per channel. */
export function groupNorm(x: Tensor, groups: number, { weight, bias, eps = 1e-5 }: Omit<NormOptions, "axes"> = {}): Tensor {
  const [n, c] = x.shape as [number, number];
  check(
    x.shape.length >= 2 && c % groups === 0,
    "group_norm",
    () => `${c} channels do not split into ${groups} groups`,
    [x],
    "[N, C, ...] with C divisible by the group count",
  );
  const grouped = ops.reshape(x, [n, groups, -1]);
  const y = ops.reshape(layerNorm(grouped, { eps }), x.shape);
  const perChannel = [c, ...x.shape.slice(2).map(() => 1)];
  const scaled = weight ? ops.mul(y, ops.reshape(weight, perChannel)) : y;
  return bias ? ops.add(scaled, ops.reshape(bias, perChannel)) : scaled;
}

// --- layers --------------------------------------------------------------------------------------

/** Broadcasting matrix product over leading axes (NumPy matmul semantics for rank ≥ 2). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  check(a.shape.length >= 2 && b.shape.length >= 2, "matmul", () => "an operand has rank < 2", [a, b], "operands of rank ≥ 2");
  const batch = ops.broadcastShapes("matmul", [a, b], [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
  const aB = ops.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
  const bB = ops.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
  return ops.dot(aB, bB);
}

/** torch.nn.functional.linear: x [..., in] · weightᵀ (weight [out, in]) + bias [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const inFeatures = x.shape[x.shape.length - 1];
  check(
    weight.shape.length === 2 && weight.shape[1] === inFeatures,
    "linear",
    () => `weight ${shapeStr(weight.shape)} does not take ${inFeatures} input features`,
    [x, weight],
    `a weight of shape [out, ${inFeatures}] (PyTorch layout)`,
  );
  const outFeatures = weight.shape[0]!;
  const rows = ops.reshape(x, [-1, inFeatures!]);
  const y = ops.reshape(ops.dot(rows, ops.transpose(weight)), [...x.shape.slice(0, -1), outFeatures]);
  if (!bias) return y;
  check(
    bias.shape.length === 1 && bias.shape[0] === outFeatures,
    "linear",
    () => `bias ${shapeStr(bias.shape)} does not match ${outFeatures} outputs`,
    [y, bias],
    `a bias of shape [${outFeatures}]`,
  );
  return ops.add(y, bias);
}

/** Rows of `table` [vocab, dim] at integer ids of any shape → [...ids.shape, dim]. */
export const embedding = (ids: Tensor, table: Tensor): Tensor => ops.gather(table, ids, 0);

/** Mean squared error over all elements (torch's reduction="mean"). */
export const mseLoss = (pred: Tensor, target: Tensor): Tensor => mean(square(sub(pred, target)));

export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  const s = start < 0 ? start + x.shape.length : start;
  const e = end < 0 ? end + x.shape.length : end;
  check(
    s >= 0 && e < x.shape.length && s <= e,
    "flatten",
    () => `axes ${start}..${end} are out of range`,
    [x],
    `0 ≤ start ≤ end < ${x.shape.length}`,
  );
  return ops.reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Split `axis` into pieces of the given sizes. */
export function split(x: Tensor, sizes: readonly number[], axis = -1): Tensor[] {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const total = sizes.reduce((s, d) => s + d, 0);
  check(
    total === x.shape[a],
    "split",
    () => `sizes ${JSON.stringify(sizes)} sum to ${total}, not ${x.shape[a]}`,
    [x],
    `sizes summing to the length of axis ${axis}`,
  );
  let start = 0;
  return sizes.map((size) => {
    const ranges = x.shape.map((d, i) => (i === a ? ([start, start + size] as const) : ([0, d] as const)));
    start += size;
    return ops.shrink(x, ranges);
  });
}

/** torch.chunk with equal pieces (the axis must divide evenly). */
export function chunk(x: Tensor, pieces: number, axis = -1): Tensor[] {
  const a = axis < 0 ? axis + x.shape.length : axis;
  check(
    x.shape[a]! % pieces === 0,
    "chunk",
    () => `axis of length ${x.shape[a]} does not split into ${pieces} equal chunks`,
    [x],
    `a length divisible by ${pieces}`,
  );
  return split(x, Array(pieces).fill(x.shape[a]! / pieces), a);
}

/** Every `stride`-th element of `axis`, starting at `start`, `count` of them (pad/reshape/shrink, no gather). */
function strided(x: Tensor, axis: number, start: number, count: number, stride: number): Tensor {
  const end = start + count * stride;
  const padded =
    end > x.shape[axis]!
      ? ops.pad(
          x,
          x.shape.map((_, i) => (i === axis ? ([0, end - x.shape[axis]!] as const) : ([0, 0] as const))),
        )
      : x;
  const window = ops.shrink(
    padded,
    padded.shape.map((d, i) => (i === axis ? ([start, end] as const) : ([0, d] as const))),
  );
  if (stride === 1) return window;
  const split = ops.reshape(window, [...window.shape.slice(0, axis), count, stride, ...window.shape.slice(axis + 1)]);
  const first = ops.shrink(
    split,
    split.shape.map((d, i) => (i === axis + 1 ? ([0, 1] as const) : ([0, d] as const))),
  );
  return ops.reshape(first, [...window.shape.slice(0, axis), count, ...window.shape.slice(axis + 1)]);
}

export interface Conv2dOptions {
  stride?: number;
  /** One number for all sides, or [top, bottom, left, right] (asymmetric, as the FLUX.2 VAE's downsampler needs). */
  padding?: number | readonly [number, number, number, number];
}

/** torch.nn.functional.conv2d on [N, C, H, W] with weight [O, C, kh, kw]; a `call`, so backends may use a conv template. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, { stride = 1, padding = 0 }: Conv2dOptions = {}): Tensor {
  check(
    x.shape.length === 4 && weight.shape.length === 4 && x.shape[1] === weight.shape[1],
    "conv2d",
    () => `input ${shapeStr(x.shape)} and weight ${shapeStr(weight.shape)} do not match`,
    [x, weight],
    "input [N, C, H, W] and weight [O, C, kh, kw] with equal C",
  );
  const [top, bottom, left, right] = typeof padding === "number" ? [padding, padding, padding, padding] : padding;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = weight.shape as [number, number, number, number];
  const outH = Math.floor((h + top + bottom - kh) / stride) + 1;
  const outW = Math.floor((w + left + right - kw) / stride) + 1;
  check(
    outH > 0 && outW > 0,
    "conv2d",
    () => `the kernel ${kh}×${kw} does not fit the padded input`,
    [x, weight],
    "an input at least as large as the kernel",
  );
  const body = (input: Tensor, kernel: Tensor, ...rest: Tensor[]): Tensor => {
    const padded = ops.pad(input, [
      [0, 0],
      [0, 0],
      [top, bottom],
      [left, right],
    ]);
    // Each window keeps its rows and columns apart until the columns are whole: flattening a shifted
    // window's rows and columns into one axis would make every index (and its gradient's) a division.
    const patches: Tensor[] = [];
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) patches.push(ops.reshape(strided(strided(padded, 2, i, outH, stride), 3, j, outW, stride), [n, c, 1, outH, outW]));
    const columns = ops.reshape(ops.concat(patches, 2), [n, c * kh * kw, outH * outW]);
    const kernelRows = ops.broadcastTo(ops.reshape(kernel, [1, o, c * kh * kw]), [n, o, c * kh * kw]);
    const y = ops.reshape(ops.dot(kernelRows, columns), [n, o, outH, outW]);
    return rest[0] ? ops.add(y, ops.reshape(rest[0], [o, 1, 1])) : y;
  };
  return ops.call("conv2d", body, bias ? [x, weight, bias] : [x, weight]);
}

/** Nearest-neighbour 2× upsampling of [N, C, H, W]: out[y][x] = in[⌊y/2⌋][⌊x/2⌋]. */
export function upsampleNearest2x(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  check(x.shape.length === 4, "upsample_nearest", () => `rank ${x.shape.length}`, [x], "[N, C, H, W]");
  return ops.reshape(ops.expand(ops.reshape(x, [n, c, h, 1, w, 1]), [n, c, h, 2, w, 2]), [n, c, 2 * h, 2 * w]);
}

/**
 * The [outSize, inSize] interpolation matrix of PyTorch's bilinear resize with align_corners=False:
 * source = (o + ½)·in/out − ½ clamped to [0, in − 1], weight = max(0, 1 − |source − i|). Built from
 * iota, so it is a constant subgraph.
 */
function bilinearMatrix(outSize: number, inSize: number): Tensor {
  const scale = inSize / outSize;
  const o = ops.cast(ops.iota([outSize, inSize], 0), "f32");
  const i = ops.cast(ops.iota([outSize, inSize], 1), "f32");
  const source = clamp(ops.add(ops.mul(ops.add(o, 0.5), scale), -0.5), 0, inSize - 1);
  return ops.maximum(ops.add(ops.neg(abs(sub(source, i))), 1), 0);
}

/** torch.nn.functional.interpolate(mode="bilinear", align_corners=False) of [N, C, H, W] to [N, C, outH, outW]. */
export function resizeBilinear(x: Tensor, outH: number, outW: number): Tensor {
  check(x.shape.length === 4, "resize_bilinear", () => `rank ${x.shape.length}`, [x], "[N, C, H, W]");
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (outH === h && outW === w) return x;
  const rowsW = ops.cast(bilinearMatrix(outW, w), x.dtype);
  const rowsH = ops.cast(bilinearMatrix(outH, h), x.dtype);
  const alongW = ops.reshape(ops.dot(ops.reshape(x, [1, n * c * h, w]), ops.reshape(ops.transpose(rowsW), [1, w, outW])), [n * c, h, outW]);
  const alongH = ops.dot(ops.broadcastTo(rowsH, [n * c, outH, h]), alongW);
  return ops.reshape(alongH, [n, c, outH, outW]);
}

// --- attention -----------------------------------------------------------------------------------

export interface AttentionOptions {
  heads: number;
  /** Key/value heads for grouped-query attention (query head h reads KV head ⌊h·kvHeads/heads⌋); defaults to `heads`. */
  kvHeads?: number;
  /** Defaults to 1/√headDim. */
  scale?: number;
  /** [B, Sk] key-padding mask: true (or 1) where a key may be attended. A row with no key gives zeros. */
  keyMask?: Tensor;
  /** Query i attends only keys j ≤ i. */
  causal?: boolean;
}

/**
 * Multi-head attention over q [B, Sq, H·D] and k, v [B, Sk, Hkv·D] (the reference's "b s (n d)"
 * layout: head h is the channel slice [h·D, (h+1)·D)), returning [B, Sq, H·D]. A `call` named
 * "attention", so a backend can run it as one fused kernel that never materialises the scores.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const { heads, kvHeads = heads, causal = false, keyMask } = options;
  const [b, sq, hd] = q.shape as [number, number, number];
  const sk = k.shape[1]!;
  const ok =
    q.shape.length === 3 &&
    k.shape.length === 3 &&
    v.shape.length === 3 &&
    hd % heads === 0 &&
    k.shape[0] === b &&
    v.shape[0] === b &&
    v.shape[1] === sk &&
    k.shape[2] === (hd / heads) * kvHeads &&
    v.shape[2] === k.shape[2] &&
    heads % kvHeads === 0;
  if (!ok)
    throw new GraphError(
      "attention",
      `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not fit ${heads} heads (${kvHeads} KV heads)`,
      [q, k, v],
      "q [B, Sq, H·D], k and v [B, Sk, Hkv·D] with H divisible by Hkv",
    );
  const d = hd / heads;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  if (keyMask)
    check(
      keyMask.shape.length === 2 && keyMask.shape[0] === b && keyMask.shape[1] === sk,
      "attention",
      () => `key mask ${shapeStr(keyMask.shape)}`,
      [keyMask],
      `a mask of shape [${b}, ${sk}]`,
    );
  const forward = (qa: Tensor, ka: Tensor, va: Tensor, mask?: Tensor): Tensor => {
    const splitHeads = (t: Tensor, n: number, s: number): Tensor => {
      const perHead = ops.permute(ops.reshape(t, [b, s, n, d]), [0, 2, 1, 3]);
      if (n === heads) return perHead;
      // Grouped-query attention: each KV head serves heads/n consecutive query heads.
      return ops.reshape(ops.expand(ops.reshape(perHead, [b, n, 1, s, d]), [b, n, heads / n, s, d]), [b, heads, s, d]);
    };
    const qh = splitHeads(qa, heads, sq);
    const kh = splitHeads(ka, kvHeads, sk);
    const vh = splitHeads(va, kvHeads, sk);
    let scores = ops.mul(ops.dot(qh, ops.transpose(kh)), scale);
    let allowed: Tensor | undefined;
    if (mask) allowed = ops.broadcastTo(ops.reshape(mask, [b, 1, 1, sk]), [b, heads, sq, sk]);
    if (causal) {
      const future = ops.broadcastTo(ops.cmplt(ops.iota([sq, sk], 0), ops.iota([sq, sk], 1)), [b, heads, sq, sk]);
      const past = ops.cmpeq(future, ops.full(future.shape, 0, "bool"));
      allowed = allowed ? ops.cmpeq(ops.add(ops.cast(allowed, "i32"), ops.cast(past, "i32")), 2) : past;
    }
    let probs: Tensor;
    if (allowed) {
      scores = ops.where(allowed, scores, -1e30);
      const e = ops.where(allowed, exp(sub(scores, stopGradient(ops.max(scores, -1, true)))), 0);
      // A row with no allowed key sums to 0; the floor makes it all zeros instead of NaN.
      probs = div(e, ops.maximum(ops.sum(e, -1, true), 1e-30));
    } else probs = softmax(scores, -1);
    const out = ops.dot(probs, vh);
    return ops.reshape(ops.permute(out, [0, 2, 1, 3]), [b, sq, hd]);
  };
  const meta: AttentionMeta = { heads, kvHeads, scale, causal, masked: keyMask !== undefined };
  // The backward is one call too ("attention_bwd": dq, dk and dv from q, k, v, the output and its
  // cotangent), so a backend can run it as one fused kernel; its body is the differentiated forward.
  const vjp = (args: readonly Tensor[], out: Tensor, ct: Tensor): (Tensor | null)[] => {
    const [dq, dk, dv] = ops.callTuple(
      "attention_bwd",
      (qa, ka, va, _o, dout, ...rest) => backward(forward(qa!, ka!, va!, rest[0]), [qa!, ka!, va!], dout!),
      [args[0]!, args[1]!, args[2]!, out, ct, ...args.slice(3)],
      { meta },
    );
    return [dq!, dk!, dv!, ...args.slice(3).map(() => null)];
  };
  // The mask enters the call as bool (one byte per key), whatever dtype the caller gave.
  const mask = keyMask === undefined ? undefined : keyMask.dtype === "bool" ? keyMask : ops.cmplt(0, ops.cast(keyMask, "f32"));
  return ops.call("attention", (qa, ka, va, ...rest) => forward(qa!, ka!, va!, rest[0]), mask ? [q, k, v, mask] : [q, k, v], { vjp, meta });
}

/**
 * Standard normal values from kiln's Philox (Box–Muller): z = √(−2 ln(1 − u₁)) · cos(2π u₂) with
 * u₁, u₂ the `random` nodes at offsets `offset` and `offset + 1` (so give independent draws offsets
 * two apart). Reproducible bit for bit on any backend that implements `random`.
 */
export function randomNormal(seed: Tensor, shape: Shape, offset = 0): Tensor {
  const u1 = ops.random(seed, shape, offset);
  const u2 = ops.random(seed, shape, offset + 1);
  const radius = ops.sqrt(ops.mul(log(ops.add(ops.neg(u1), 1)), -2));
  return ops.mul(radius, cos(ops.mul(u2, 2 * Math.PI)));
}
