// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// attention_fwd_b2h3q200k200d32_64x64: O = softmax(Q·Kᵀ·0.176777)·V and LSE = log Σ exp per (batch, head, query); [B,S,H·D] bf16, f32 softmax.
extern "C" __global__ void __launch_bounds__(128) attention_fwd_b2h3q200k200d32_64x64(const bf16_t* __restrict__ Q, const bf16_t* __restrict__ K, const bf16_t* __restrict__ V, bf16_t* __restrict__ O, float* __restrict__ LSE) {
  constexpr int SQ = 200, SK = 200, H = 3, D = 32, ROW = H * D;
  constexpr float SCALE_LOG2 = 0.255034863948822f;  // softmax in base 2: exp(x·scale) = exp2(x·scale·log2 e)
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* q_tile = reinterpret_cast<bf16_t*>(smem);  // [64][D], swizzled 16-byte chunks
  bf16_t* k_tiles = q_tile + 2048;  // [2][64][D], double-buffered
  bf16_t* v_tiles = k_tiles + 4096;  // [2][64][D]
  float* key_bias = reinterpret_cast<float*>(v_tiles + 4096);  // [2][64]: 0, or -inf for a hidden key
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int q0 = blockIdx.x * 64;
  const int h = blockIdx.y;
  const int b = blockIdx.z;
  const bf16_t* q_head = Q + (long long)b * SQ * ROW + h * D;
  const bf16_t* k_head = K + (long long)b * SK * ROW + h * D;
  const bf16_t* v_head = V + (long long)b * SK * ROW + h * D;

  #pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = (tid + i * 128) / 4;
    const int chunk = (tid + i * 128) % 4;
    const bool ok = q0 + row < SQ;
    cp_async_16(smem_u32(q_tile + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? q_head + (long long)(q0 + row) * ROW + chunk * 8 : q_head, ok ? 16 : 0);
  }
  for (int j = tid; j < 64; j += 128) {
    const int key = 0 * 64 + j;
    key_bias[0 * 64 + j] = key < SK ? 0.f : -KILN_INF;
  }
  #pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = (tid + i * 128) / 4;
    const int chunk = (tid + i * 128) % 4;
    const bool ok = 0 * 64 + row < SK;
    cp_async_16(smem_u32(k_tiles + 0 * 2048 + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? k_head + (long long)(0 * 64 + row) * ROW + chunk * 8 : k_head, ok ? 16 : 0);
  }
  #pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = (tid + i * 128) / 4;
    const int chunk = (tid + i * 128) % 4;
    const bool ok = 0 * 64 + row < SK;
    cp_async_16(smem_u32(v_tiles + 0 * 2048 + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? v_head + (long long)(0 * 64 + row) * ROW + chunk * 8 : v_head, ok ? 16 : 0);
  }
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();

  // This warp's 16 query rows as A fragments, kept in registers for every key block.
  unsigned q_frag[D / 16][4];
  #pragma unroll
  for (int kd = 0; kd < D / 16; ++kd) {
    const int row = (warp * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
    const int chunk = (kd * 2) + (lane / 16);
    ldmatrix_x4(q_frag[kd], smem_u32(q_tile + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
  }

  float o_acc[D / 8][4];
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int e = 0; e < 4; ++e) o_acc[dt][e] = 0.f;
  float row_max[2] = {-KILN_INF, -KILN_INF};  // running max of rows lane/4 and lane/4 + 8 (base-2 logits)
  float row_sum[2] = {0.f, 0.f};  // this thread's share of the running Σ exp2(logit - max)

  constexpr int KV_BLOCKS = (SK + 63) / 64;
  for (int kv = 0; kv < KV_BLOCKS; ++kv) {
    if (kv + 1 < KV_BLOCKS) {
      for (int j = tid; j < 64; j += 128) {
        const int key = (kv + 1) * 64 + j;
        key_bias[((kv + 1) % 2) * 64 + j] = key < SK ? 0.f : -KILN_INF;
      }
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + i * 128) / 4;
        const int chunk = (tid + i * 128) % 4;
        const bool ok = (kv + 1) * 64 + row < SK;
        cp_async_16(smem_u32(k_tiles + ((kv + 1) % 2) * 2048 + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? k_head + (long long)((kv + 1) * 64 + row) * ROW + chunk * 8 : k_head, ok ? 16 : 0);
      }
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + i * 128) / 4;
        const int chunk = (tid + i * 128) % 4;
        const bool ok = (kv + 1) * 64 + row < SK;
        cp_async_16(smem_u32(v_tiles + ((kv + 1) % 2) * 2048 + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? v_head + (long long)((kv + 1) * 64 + row) * ROW + chunk * 8 : v_head, ok ? 16 : 0);
      }
    }
    cp_async_commit();
    const bf16_t* k_tile = k_tiles + (kv % 2) * 2048;
    const bf16_t* v_tile = v_tiles + (kv % 2) * 2048;

    // S = Q·Kᵀ for 16 queries × 64 keys.
    float logits[8][4];
    #pragma unroll
    for (int nt = 0; nt < 8; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) logits[nt][e] = 0.f;
    #pragma unroll
    for (int kd = 0; kd < D / 16; ++kd) {
      #pragma unroll
      for (int pair = 0; pair < 4; ++pair) {
        const int row = (pair * 16) + ((lane % 8) + ((lane / 16) * 8));
        const int chunk = (kd * 2) + ((lane / 8) % 2);
        unsigned k4[4];
        ldmatrix_x4(k4, smem_u32(k_tile + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
        const unsigned b_lo[2] = {k4[0], k4[1]};
        const unsigned b_hi[2] = {k4[2], k4[3]};
        mma_bf16_16816(logits[2 * pair], q_frag[kd], b_lo);
        mma_bf16_16816(logits[2 * pair + 1], q_frag[kd], b_hi);
      }
    }

    // Scale to base 2, drop masked and out-of-range keys, and update the running max and sum.
    float block_max[2] = {row_max[0], row_max[1]};
    #pragma unroll
    for (int nt = 0; nt < 8; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) {
        logits[nt][e] = logits[nt][e] * SCALE_LOG2 + key_bias[(kv % 2) * 64 + nt * 8 + (lane % 4) * 2 + e % 2];
        block_max[e / 2] = fmaxf(block_max[e / 2], logits[nt][e]);
      }
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      block_max[half] = fmaxf(block_max[half], __shfl_xor_sync(0xffffffffu, block_max[half], 1));
      block_max[half] = fmaxf(block_max[half], __shfl_xor_sync(0xffffffffu, block_max[half], 2));
      // A row with no visible key yet keeps max -inf; use 0 as the base so exp2 gives 0, not NaN.
      const float base = block_max[half] == -KILN_INF ? 0.f : block_max[half];
      const float rescale = exp2f(row_max[half] - base);
      row_max[half] = block_max[half];
      row_sum[half] *= rescale;
      #pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        o_acc[dt][2 * half] *= rescale;
        o_acc[dt][2 * half + 1] *= rescale;
      }
      #pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        logits[nt][2 * half] = exp2f(logits[nt][2 * half] - base);
        logits[nt][2 * half + 1] = exp2f(logits[nt][2 * half + 1] - base);
        row_sum[half] += logits[nt][2 * half] + logits[nt][2 * half + 1];
      }
    }

    // O += P·V: the probabilities' accumulator layout is already the A-fragment layout (two n-tiles per k-step).
    #pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      const unsigned p_frag[4] = {pack_bf16x2(logits[2 * kk][0], logits[2 * kk][1]), pack_bf16x2(logits[2 * kk][2], logits[2 * kk][3]),
       pack_bf16x2(logits[2 * kk + 1][0], logits[2 * kk + 1][1]), pack_bf16x2(logits[2 * kk + 1][2], logits[2 * kk + 1][3])};
      #pragma unroll
      for (int dpair = 0; dpair < D / 16; ++dpair) {
        const int row = (kk * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (dpair * 2) + (lane / 16);
        unsigned v4[4];
        ldmatrix_x4_trans(v4, smem_u32(v_tile + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
        const unsigned b_lo[2] = {v4[0], v4[1]};
        const unsigned b_hi[2] = {v4[2], v4[3]};
        mma_bf16_16816(o_acc[2 * dpair], p_frag, b_lo);
        mma_bf16_16816(o_acc[2 * dpair + 1], p_frag, b_hi);
      }
    }
    cp_async_wait<0>();
    __syncthreads();  // the next block has landed and nobody still reads this buffer
  }

  // Normalise, store O (bf16 pairs) and the natural-log LSE (-inf for a row that saw no key).
  #pragma unroll
  for (int half = 0; half < 2; ++half) {
    row_sum[half] += __shfl_xor_sync(0xffffffffu, row_sum[half], 1);
    row_sum[half] += __shfl_xor_sync(0xffffffffu, row_sum[half], 2);
  }
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = q0 + (warp * 16) + ((lane / 4) + (half * 8));
      const int col = (dt * 8) + ((lane % 4) * 2);
      if (row >= SQ) continue;
      const float inv = row_sum[half] > 0.f ? 1.f / row_sum[half] : 0.f;
      *reinterpret_cast<unsigned*>(O + ((long long)b * SQ + row) * ROW + h * D + col) = pack_bf16x2(o_acc[dt][2 * half] * inv, o_acc[dt][2 * half + 1] * inv);
    }
  if (lane % 4 == 0)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = q0 + warp * 16 + lane / 4 + half * 8;
      if (row < SQ) LSE[((long long)b * H + h) * SQ + row] = row_sum[half] > 0.f ? (row_max[half] + log2f(row_sum[half])) * 0.6931471824645996f : -KILN_INF;
    }
}
