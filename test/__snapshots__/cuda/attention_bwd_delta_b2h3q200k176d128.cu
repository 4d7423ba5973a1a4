// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// attention_bwd_delta_b2h3q200k176d128: Delta[b,h,q] = Σ_d dO[b,q,h,d]·O[b,q,h,d] (f32) and dQ_acc[b,q,h,:] = 0, one warp per row.
extern "C" __global__ void __launch_bounds__(256) attention_bwd_delta_b2h3q200k176d128(const bf16_t* __restrict__ O, const bf16_t* __restrict__ dO, float* __restrict__ Delta, float* __restrict__ dQ_acc) {
  constexpr int SQ = 200, H = 3, D = 128, ROWS = 1200;
  const int row = blockIdx.x * 8 + threadIdx.x / 32;  // (b·SQ + q)·H + h
  const int lane = threadIdx.x % 32;
  if (row >= ROWS) return;
  float dot = 0.f;
  for (int d = lane; d < D; d += 32) {
    dot += bf16_to_f32(dO[(long long)row * D + d]) * bf16_to_f32(O[(long long)row * D + d]);
    dQ_acc[(long long)row * D + d] = 0.f;
  }
  #pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
  const int h = row % H;
  const int q = (row / H) % SQ;
  const int b = row / (H * SQ);
  if (lane == 0) Delta[((long long)b * H + h) * SQ + q] = dot;
}
