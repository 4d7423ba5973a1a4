// The multi-tensor AdamW update (spec §8, PyTorch's AdamW): every parameter tensor in one launch, driven
// by a table of pointers in device memory; step-dependent scalars are read from a device buffer, so a
// captured CUDA graph replays later steps unchanged.
import { C_TYPE, PREAMBLE, floatLiteral, pointer, scalar, signature, type CudaKernel, type KernelParam, type StorageType } from "./kernel.ts";

export interface AdamwOptions {
  /** Master weights: f32 (with an optional bf16 copy for the forward), or bf16 as in the reference's pure-bf16 training. */
  param: StorageType;
  grad: StorageType;
  /** exp_avg and exp_avg_sq. */
  state: StorageType;
  /** Also write a bf16 copy of each updated parameter (table field param_bf16). */
  bf16Copy: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Elements one block updates; the table's first_block column counts blocks of this size. */
  elementsPerBlock?: number;
}

/** One row of the device table: 7 little-endian 64-bit fields (pointers as u64, counts as i64). */
export const ADAMW_TABLE_FIELDS = ["param", "grad", "exp_avg", "exp_avg_sq", "param_bf16", "numel", "first_block"] as const;
export const ADAMW_ROW_BYTES = ADAMW_TABLE_FIELDS.length * 8;

export interface AdamwTensor {
  param: bigint;
  grad: bigint;
  expAvg: bigint;
  expAvgSq: bigint;
  /** 0n when there is no bf16 copy. */
  paramBf16: bigint;
  numel: number;
}

/** The table bytes and the grid size (total blocks) for a list of tensors. */
export function adamwTable(tensors: readonly AdamwTensor[], elementsPerBlock = DEFAULT_ELEMENTS_PER_BLOCK): { bytes: Uint8Array; blocks: number } {
  const bytes = new Uint8Array(tensors.length * ADAMW_ROW_BYTES);
  const view = new DataView(bytes.buffer);
  let blocks = 0;
  tensors.forEach((t, row) => {
    const fields = [t.param, t.grad, t.expAvg, t.expAvgSq, t.paramBf16, BigInt(t.numel), BigInt(blocks)];
    fields.forEach((value, column) => view.setBigUint64(row * ADAMW_ROW_BYTES + column * 8, value, true));
    blocks += Math.ceil(t.numel / elementsPerBlock);
  });
  return { bytes, blocks };
}

/** The hyper-parameter buffer the kernel reads: [lr, weight decay, 1 − β1^t, 1 − β2^t] as f32. */
export function adamwHyper(lr: number, weightDecay: number, step: number, beta1 = 0.9, beta2 = 0.999): Float32Array {
  return new Float32Array([lr, weightDecay, 1 - beta1 ** step, 1 - beta2 ** step]);
}

const DEFAULT_ELEMENTS_PER_BLOCK = 4096;
const THREADS = 256;

/** The update kernel for tensors of the given sizes (the source depends only on their count and the options). */
export function adamwMultiTensor(numels: readonly number[], o: AdamwOptions): CudaKernel {
  const tensorCount = numels.length;
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const perBlock = o.elementsPerBlock ?? DEFAULT_ELEMENTS_PER_BLOCK;
  const name = `adamw_p${o.param}_g${o.grad}_s${o.state}${o.bf16Copy ? "_copy" : ""}_t${tensorCount}`;
  const load = (type: StorageType, expr: string) => (type === "bf16" ? `bf16_to_f32(${expr})` : expr);
  const store = (type: StorageType, value: string) => (type === "bf16" ? `f32_to_bf16(${value})` : value);
  const params: KernelParam[] = [
    pointer("table", "const AdamwTensor* __restrict__"),
    pointer("hyper", "const float* __restrict__"),
    scalar("tensor_count", "i32"),
  ];
  const source = `${PREAMBLE}
// ${name}: AdamW over ${tensorCount} tensors: θ ← θ(1 − lr·λ); m ← lerp(m, g, 1 − β1); v ← β2 v + (1 − β2) g²;
// θ ← θ − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + ε), β = (${beta1}, ${beta2}), ε = ${eps}; param ${o.param}, grad ${o.grad}, state ${o.state}.
#ifndef KILN_ADAMW_TENSOR
#define KILN_ADAMW_TENSOR
struct AdamwTensor {
  unsigned long long param, grad, exp_avg, exp_avg_sq, param_bf16;  // device pointers
  long long numel, first_block;  // element count; index of the tensor's first block in the grid
};
#endif

extern "C" __global__ void __launch_bounds__(${THREADS}) ${name}(${signature(params)}) {
  // 1 − β computed in double, as PyTorch passes it, then rounded once to f32.
  constexpr float ONE_MINUS_BETA1 = ${floatLiteral(1 - beta1)}, BETA2 = ${floatLiteral(beta2)}, ONE_MINUS_BETA2 = ${floatLiteral(1 - beta2)}, EPS = ${floatLiteral(eps)};
  // The last tensor whose first block is at or before this one.
  int lo = 0, hi = tensor_count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table[mid].first_block <= (long long)blockIdx.x) lo = mid; else hi = mid - 1;
  }
  const AdamwTensor& t = table[lo];
  const long long begin = ((long long)blockIdx.x - t.first_block) * ${perBlock};
  const int count = (int)min((long long)${perBlock}, t.numel - begin);
  const float lr = hyper[0], weight_decay = hyper[1];
  const float step_size = lr / hyper[2];
  const float bias_correction2_sqrt = sqrtf(hyper[3]);
  const float decay = 1.f - lr * weight_decay;
  ${C_TYPE[o.param]}* param = reinterpret_cast<${C_TYPE[o.param]}*>(t.param) + begin;
  const ${C_TYPE[o.grad]}* grad = reinterpret_cast<const ${C_TYPE[o.grad]}*>(t.grad) + begin;
  ${C_TYPE[o.state]}* exp_avg = reinterpret_cast<${C_TYPE[o.state]}*>(t.exp_avg) + begin;
  ${C_TYPE[o.state]}* exp_avg_sq = reinterpret_cast<${C_TYPE[o.state]}*>(t.exp_avg_sq) + begin;
${o.bf16Copy ? "  bf16_t* param_bf16 = t.param_bf16 ? reinterpret_cast<bf16_t*>(t.param_bf16) + begin : nullptr;\n" : ""}  for (int i = threadIdx.x; i < count; i += ${THREADS}) {
    const float g = ${load(o.grad, "grad[i]")};
    float m = ${load(o.state, "exp_avg[i]")};
    float v = ${load(o.state, "exp_avg_sq[i]")};
    float theta = ${load(o.param, "param[i]")} * decay;
    m += ONE_MINUS_BETA1 * (g - m);
    v = BETA2 * v + ONE_MINUS_BETA2 * g * g;
    theta -= step_size * m / (sqrtf(v) / bias_correction2_sqrt + EPS);  // IEEE division, as PyTorch (its slow path costs ptxas a 4-byte spill)
    param[i] = ${store(o.param, "theta")};
    exp_avg[i] = ${store(o.state, "m")};
    exp_avg_sq[i] = ${store(o.state, "v")};
${o.bf16Copy ? `    if (param_bf16) param_bf16[i] = f32_to_bf16(theta);\n` : ""}  }
}
`;
  const blocks = numels.reduce((sum, n) => sum + Math.ceil(n / perBlock), 0);
  return { name, source, grid: [blocks, 1, 1], block: [THREADS, 1, 1], smemBytes: 0, params };
}
