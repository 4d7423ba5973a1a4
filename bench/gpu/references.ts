// CPU references for the GPU smoke run (bench/gpu/smoke.ts): random bf16 data and float64 versions of
// what each corpus kernel computes, computed from the same bf16-rounded inputs the GPU sees.
import { bf16Bits, bf16FromBits } from "../../compiler/dtype.ts";
import type { AttentionShape } from "../../kernels/cuda/attention.ts";
import type { GemmProblem } from "../../kernels/cuda/gemm-mma.ts";

/** bf16 data: the bits to upload and the values they stand for. */
export interface Bf16Data {
  bits: Uint16Array;
  values: Float64Array;
}

/** A small deterministic generator (LCG) so a failing run can be reproduced from its seed. */
export function uniforms(length: number, seed: number, low = -1, high = 1): Float64Array {
  let state = seed >>> 0 || 1;
  return Float64Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return low + ((high - low) * state) / 2 ** 32;
  });
}

export function randomBf16(length: number, seed: number, scale = 1): Bf16Data {
  const bits = new Uint16Array(length);
  const values = new Float64Array(length);
  const source = uniforms(length, seed, -scale, scale);
  for (let i = 0; i < length; i++) {
    bits[i] = bf16Bits(source[i]!);
    values[i] = bf16FromBits(bits[i]!);
  }
  return { bits, values };
}

export const bf16Values = (bits: Uint16Array): Float64Array => Float64Array.from(bits, bf16FromBits);

/** Largest |got − want| and the largest |want|, so errors can be read relative to the data's size. */
export function compare(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  indices?: readonly number[],
): { maxAbsError: number; maxReference: number; relError: number } {
  let maxAbsError = 0;
  let maxReference = 0;
  const visit = (i: number) => {
    const error = Math.abs(got[i]! - want[i]!);
    if (!(error <= maxAbsError)) maxAbsError = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error;
    maxReference = Math.max(maxReference, Math.abs(want[i]!));
  };
  if (indices) indices.forEach(visit);
  else for (let i = 0; i < want.length; i++) visit(i);
  return { maxAbsError, maxReference, relError: maxAbsError / Math.max(maxReference, 1e-30) };
}

/** One output element of C = A·Bᵀ (tn) or A·B (nn) in float64. */
export function gemmElement(p: GemmProblem, a: Float64Array, b: Float64Array, batch: number, row: number, col: number): number {
  const strideA = p.strideA ?? p.m * p.k;
  const strideB = p.strideB ?? p.n * p.k;
  let sum = 0;
  for (let k = 0; k < p.k; k++)
    sum += a[batch * strideA + row * p.k + k]! * (p.layout === "tn" ? b[batch * strideB + col * p.k + k]! : b[batch * strideB + k * p.n + col]!);
  return sum;
}

export interface AttentionReference {
  out: Float64Array;
  lse: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
}

/** Naive softmax attention and its gradients in float64, layout [B, S, H·D], LSE [B, H, S_q]. */
export function attentionReference(
  s: AttentionShape,
  scale: number,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  dout: Float64Array,
  mask: Uint8Array | null,
): AttentionReference {
  const { batch, heads, seqQ, seqK, headDim: d } = s;
  const row = heads * d;
  const out = new Float64Array(batch * seqQ * row);
  const lse = new Float64Array(batch * heads * seqQ);
  const dq = new Float64Array(out.length);
  const dk = new Float64Array(batch * seqK * row);
  const dv = new Float64Array(dk.length);
  const probs = new Float64Array(seqK);
  const dprobs = new Float64Array(seqK);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < seqQ; i++) {
        const qAt = (b * seqQ + i) * row + h * d;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < seqK; j++) {
          if (mask && mask[b * seqK + j] === 0) {
            probs[j] = Number.NEGATIVE_INFINITY;
            continue;
          }
          const kAt = (b * seqK + j) * row + h * d;
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[qAt + c]! * k[kAt + c]!;
          probs[j] = dot * scale;
          max = Math.max(max, probs[j]!);
        }
        let sum = 0;
        for (let j = 0; j < seqK; j++) sum += probs[j] === Number.NEGATIVE_INFINITY ? 0 : Math.exp(probs[j]! - max);
        lse[(b * heads + h) * seqQ + i] = sum > 0 ? max + Math.log(sum) : Number.NEGATIVE_INFINITY;
        for (let j = 0; j < seqK; j++) probs[j] = sum > 0 && probs[j] !== Number.NEGATIVE_INFINITY ? Math.exp(probs[j]! - max) / sum : 0;
        // Forward output, then the row term Delta = Σ dO·O and the gradients of this query row.
        let delta = 0;
        for (let c = 0; c < d; c++) {
          let o = 0;
          for (let j = 0; j < seqK; j++) o += probs[j]! * v[(b * seqK + j) * row + h * d + c]!;
          out[qAt + c] = o;
          delta += o * dout[qAt + c]!;
        }
        for (let j = 0; j < seqK; j++) {
          const at = (b * seqK + j) * row + h * d;
          let dp = 0;
          for (let c = 0; c < d; c++) dp += dout[qAt + c]! * v[at + c]!;
          dprobs[j] = probs[j]! * (dp - delta);
          for (let c = 0; c < d; c++) {
            dv[at + c]! += probs[j]! * dout[qAt + c]!;
            dk[at + c]! += dprobs[j]! * q[qAt + c]! * scale;
            dq[qAt + c]! += dprobs[j]! * k[at + c]! * scale;
          }
        }
      }
  return { out, lse, dq, dk, dv };
}

/** PyTorch's AdamW step for one element, in float64 from f32 (or bf16) inputs. */
export function adamwElement(
  theta: number,
  grad: number,
  m: number,
  v: number,
  lr: number,
  weightDecay: number,
  step: number,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
) {
  const decayed = theta * (1 - lr * weightDecay);
  const m1 = m + (1 - beta1) * (grad - m);
  const v1 = beta2 * v + (1 - beta2) * grad * grad;
  const denom = Math.sqrt(v1) / Math.sqrt(1 - beta2 ** step) + eps;
  return { theta: decayed - (lr / (1 - beta1 ** step)) * (m1 / denom), m: m1, v: v1 };
}
