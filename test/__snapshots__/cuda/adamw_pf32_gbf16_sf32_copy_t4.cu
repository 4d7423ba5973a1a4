// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// adamw_pf32_gbf16_sf32_copy_t4: AdamW over 4 tensors: θ ← θ(1 − lr·λ); m ← lerp(m, g, 1 − β1); v ← β2 v + (1 − β2) g²;
// θ ← θ − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + ε), β = (0.9, 0.999), ε = 1e-8; param f32, grad bf16, state f32.
#ifndef KILN_ADAMW_TENSOR
#define KILN_ADAMW_TENSOR
struct AdamwTensor {
  unsigned long long param, grad, exp_avg, exp_avg_sq, param_bf16;  // device pointers
  long long numel, first_block;  // element count; index of the tensor's first block in the grid
};
#endif

extern "C" __global__ void __launch_bounds__(256) adamw_pf32_gbf16_sf32_copy_t4(const AdamwTensor* __restrict__ table, const float* __restrict__ hyper, int tensor_count) {
  // 1 − β computed in double, as PyTorch passes it, then rounded once to f32.
  constexpr float ONE_MINUS_BETA1 = 0.10000000149011612f, BETA2 = 0.9990000128746033f, ONE_MINUS_BETA2 = 0.0010000000474974513f, EPS = 9.99999993922529e-9f;
  // The last tensor whose first block is at or before this one.
  int lo = 0, hi = tensor_count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table[mid].first_block <= (long long)blockIdx.x) lo = mid; else hi = mid - 1;
  }
  const AdamwTensor& t = table[lo];
  const long long begin = ((long long)blockIdx.x - t.first_block) * 4096;
  const int count = (int)min((long long)4096, t.numel - begin);
  const float lr = hyper[0], weight_decay = hyper[1];
  const float step_size = lr / hyper[2];
  const float bias_correction2_sqrt = sqrtf(hyper[3]);
  const float decay = 1.f - lr * weight_decay;
  float* param = reinterpret_cast<float*>(t.param) + begin;
  const bf16_t* grad = reinterpret_cast<const bf16_t*>(t.grad) + begin;
  float* exp_avg = reinterpret_cast<float*>(t.exp_avg) + begin;
  float* exp_avg_sq = reinterpret_cast<float*>(t.exp_avg_sq) + begin;
  bf16_t* param_bf16 = t.param_bf16 ? reinterpret_cast<bf16_t*>(t.param_bf16) + begin : nullptr;
  for (int i = threadIdx.x; i < count; i += 256) {
    const float g = bf16_to_f32(grad[i]);
    float m = exp_avg[i];
    float v = exp_avg_sq[i];
    float theta = param[i] * decay;
    m += ONE_MINUS_BETA1 * (g - m);
    v = BETA2 * v + ONE_MINUS_BETA2 * g * g;
    theta -= step_size * m / (sqrtf(v) / bias_correction2_sqrt + EPS);  // IEEE division, as PyTorch (its slow path costs ptxas a 4-byte spill)
    param[i] = theta;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (param_bf16) param_bf16[i] = f32_to_bf16(theta);
  }
}
