// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// attention_bwd_b2h3q200k200d128_16x64: dK, dV (bf16) and dQ_acc += (f32) of O = softmax(Q·Kᵀ·0.0883883)·V, recomputing P from LSE; [B,S,H·D].
extern "C" __global__ void __launch_bounds__(128) attention_bwd_b2h3q200k200d128_16x64(const bf16_t* __restrict__ Q, const bf16_t* __restrict__ K, const bf16_t* __restrict__ V, const bf16_t* __restrict__ dO, const float* __restrict__ LSE, const float* __restrict__ Delta, float* __restrict__ dQ_acc, bf16_t* __restrict__ dK, bf16_t* __restrict__ dV) {
  constexpr int SQ = 200, SK = 200, H = 3, D = 128, ROW = H * D;
  constexpr float SCALE = 0.0883883461356163f;
  constexpr float SCALE_LOG2 = 0.127517431974411f;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* k_tile = reinterpret_cast<bf16_t*>(smem);  // [64][D] this block's keys, swizzled
  bf16_t* v_tile = k_tile + 8192;  // [64][D]
  bf16_t* q_tiles = v_tile + 8192;  // [2][16][D] double-buffered query blocks
  bf16_t* do_tiles = q_tiles + 4096;  // [2][16][D]
  bf16_t* ds_tile = do_tiles + 4096;  // [64][16] dSᵀ of the current query block
  float* lse_s = reinterpret_cast<float*>(ds_tile + 1024);  // [2][16] LSE·log2 e (+inf: no contribution)
  float* delta_s = lse_s + 32;  // [2][16]
  float* key_bias = delta_s + 32;  // [64]: 0, or -inf for a hidden key
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int k0 = blockIdx.x * 64;
  const int h = blockIdx.y;
  const int b = blockIdx.z;
  const bf16_t* q_head = Q + (long long)b * SQ * ROW + h * D;
  const bf16_t* k_head = K + (long long)b * SK * ROW + h * D;
  const bf16_t* v_head = V + (long long)b * SK * ROW + h * D;
  const bf16_t* do_head = dO + (long long)b * SQ * ROW + h * D;
  const float* lse_row = LSE + ((long long)b * H + h) * SQ;
  const float* delta_row = Delta + ((long long)b * H + h) * SQ;

  #pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int row = (tid + i * 128) / 16;
    const int chunk = (tid + i * 128) % 16;
    const bool ok = k0 + row < SK;
    cp_async_16(smem_u32(k_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)), ok ? k_head + (long long)(k0 + row) * ROW + chunk * 8 : k_head, ok ? 16 : 0);
  }
  #pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int row = (tid + i * 128) / 16;
    const int chunk = (tid + i * 128) % 16;
    const bool ok = k0 + row < SK;
    cp_async_16(smem_u32(v_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)), ok ? v_head + (long long)(k0 + row) * ROW + chunk * 8 : v_head, ok ? 16 : 0);
  }
  for (int j = tid; j < 64; j += 128) {
    const int key = k0 + j;
    key_bias[j] = key < SK ? 0.f : -KILN_INF;
  }
  #pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = (tid + i * 128) / 16;
    const int chunk = (tid + i * 128) % 16;
    const bool ok = 0 * 16 + row < SQ;
    cp_async_16(smem_u32(q_tiles + 0 * 2048 + (row * 128) + ((chunk ^ (row % 8)) * 8)), ok ? q_head + (long long)(0 * 16 + row) * ROW + chunk * 8 : q_head, ok ? 16 : 0);
  }
  #pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = (tid + i * 128) / 16;
    const int chunk = (tid + i * 128) % 16;
    const bool ok = 0 * 16 + row < SQ;
    cp_async_16(smem_u32(do_tiles + 0 * 2048 + (row * 128) + ((chunk ^ (row % 8)) * 8)), ok ? do_head + (long long)(0 * 16 + row) * ROW + chunk * 8 : do_head, ok ? 16 : 0);
  }
  for (int j = tid; j < 16; j += 128) {
    const int q = 0 * 16 + j;
    const float lse = q < SQ ? lse_row[q] : KILN_INF;
    // A padded query, or one that saw no key in the forward (LSE = -inf), gets P = 0.
    lse_s[0 * 16 + j] = lse == -KILN_INF ? KILN_INF : lse * 1.4426950216293335f;
    delta_s[0 * 16 + j] = q < SQ ? delta_row[q] : 0.f;
  }
  cp_async_commit();

  float dk_acc[D / 8][4];
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int e = 0; e < 4; ++e) dk_acc[dt][e] = 0.f;
  float dv_acc[D / 8][4];
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int e = 0; e < 4; ++e) dv_acc[dt][e] = 0.f;
  const int q_group = warp % 1;  // for dQ: which 16 queries and which 32-wide slice of d this warp owns
  const int d_part = warp / 1;

  constexpr int Q_BLOCKS = (SQ + 15) / 16;
  for (int qb = 0; qb < Q_BLOCKS; ++qb) {
    if (qb + 1 < Q_BLOCKS) {
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + i * 128) / 16;
        const int chunk = (tid + i * 128) % 16;
        const bool ok = (qb + 1) * 16 + row < SQ;
        cp_async_16(smem_u32(q_tiles + ((qb + 1) % 2) * 2048 + (row * 128) + ((chunk ^ (row % 8)) * 8)), ok ? q_head + (long long)((qb + 1) * 16 + row) * ROW + chunk * 8 : q_head, ok ? 16 : 0);
      }
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + i * 128) / 16;
        const int chunk = (tid + i * 128) % 16;
        const bool ok = (qb + 1) * 16 + row < SQ;
        cp_async_16(smem_u32(do_tiles + ((qb + 1) % 2) * 2048 + (row * 128) + ((chunk ^ (row % 8)) * 8)), ok ? do_head + (long long)((qb + 1) * 16 + row) * ROW + chunk * 8 : do_head, ok ? 16 : 0);
      }
      for (int j = tid; j < 16; j += 128) {
        const int q = (qb + 1) * 16 + j;
        const float lse = q < SQ ? lse_row[q] : KILN_INF;
        // A padded query, or one that saw no key in the forward (LSE = -inf), gets P = 0.
        lse_s[((qb + 1) % 2) * 16 + j] = lse == -KILN_INF ? KILN_INF : lse * 1.4426950216293335f;
        delta_s[((qb + 1) % 2) * 16 + j] = q < SQ ? delta_row[q] : 0.f;
      }
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();  // query block qb (and the keys) have landed
    const bf16_t* q_tile = q_tiles + (qb % 2) * 2048;
    const bf16_t* do_tile = do_tiles + (qb % 2) * 2048;
    const float* lse_b = lse_s + (qb % 2) * 16;
    const float* delta_b = delta_s + (qb % 2) * 16;

    // Pᵀ = exp2(Sᵀ·scale·log2 e - LSE·log2 e) for this warp's 16 keys × 16 queries.
    float probs[2][4];
    #pragma unroll
    for (int nt = 0; nt < 2; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) probs[nt][e] = 0.f;
    #pragma unroll 1  // rolled: keeps the shared-memory addresses out of the registers dK and dV need
    for (int kd = 0; kd < D / 16; ++kd) {
      unsigned a_frag[4];
      {
        const int row = (warp * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (kd * 2) + (lane / 16);
        ldmatrix_x4(a_frag, smem_u32(k_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
      }
      #pragma unroll
      for (int pair = 0; pair < 1; ++pair) {
        const int row = (pair * 16) + ((lane % 8) + ((lane / 16) * 8));
        const int chunk = (kd * 2) + ((lane / 8) % 2);
        unsigned b4[4];
        ldmatrix_x4(b4, smem_u32(q_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
        const unsigned b_lo[2] = {b4[0], b4[1]};
        const unsigned b_hi[2] = {b4[2], b4[3]};
        mma_bf16_16816(probs[2 * pair], a_frag, b_lo);
        mma_bf16_16816(probs[2 * pair + 1], a_frag, b_hi);
      }
    }
    #pragma unroll
    for (int nt = 0; nt < 2; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int q_local = (nt * 8) + ((lane % 4) * 2) + e % 2;
        probs[nt][e] = exp2f(probs[nt][e] * SCALE_LOG2 + key_bias[warp * 16 + lane / 4 + (e / 2) * 8] - lse_b[q_local]);
      }

    // dV += Pᵀ·dO.
    #pragma unroll
    for (int kk = 0; kk < 1; ++kk) {
      const unsigned a_frag[4] = {pack_bf16x2(probs[2 * kk][0], probs[2 * kk][1]), pack_bf16x2(probs[2 * kk][2], probs[2 * kk][3]),
       pack_bf16x2(probs[2 * kk + 1][0], probs[2 * kk + 1][1]), pack_bf16x2(probs[2 * kk + 1][2], probs[2 * kk + 1][3])};
      #pragma unroll
      for (int dpair = 0; dpair < D / 16; ++dpair) {
        const int row = (kk * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (dpair * 2) + (lane / 16);
        unsigned b4[4];
        ldmatrix_x4_trans(b4, smem_u32(do_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
        const unsigned b_lo[2] = {b4[0], b4[1]};
        const unsigned b_hi[2] = {b4[2], b4[3]};
        mma_bf16_16816(dv_acc[2 * dpair], a_frag, b_lo);
        mma_bf16_16816(dv_acc[2 * dpair + 1], a_frag, b_hi);
      }
    }

    // dSᵀ = Pᵀ ∘ (V·dOᵀ - Delta).
    float dprobs[2][4];
    #pragma unroll
    for (int nt = 0; nt < 2; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) dprobs[nt][e] = 0.f;
    #pragma unroll 1  // rolled: keeps the shared-memory addresses out of the registers dK and dV need
    for (int kd = 0; kd < D / 16; ++kd) {
      unsigned a_frag[4];
      {
        const int row = (warp * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (kd * 2) + (lane / 16);
        ldmatrix_x4(a_frag, smem_u32(v_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
      }
      #pragma unroll
      for (int pair = 0; pair < 1; ++pair) {
        const int row = (pair * 16) + ((lane % 8) + ((lane / 16) * 8));
        const int chunk = (kd * 2) + ((lane / 8) % 2);
        unsigned b4[4];
        ldmatrix_x4(b4, smem_u32(do_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
        const unsigned b_lo[2] = {b4[0], b4[1]};
        const unsigned b_hi[2] = {b4[2], b4[3]};
        mma_bf16_16816(dprobs[2 * pair], a_frag, b_lo);
        mma_bf16_16816(dprobs[2 * pair + 1], a_frag, b_hi);
      }
    }
    #pragma unroll
    for (int nt = 0; nt < 2; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) probs[nt][e] *= dprobs[nt][e] - delta_b[(nt * 8) + ((lane % 4) * 2) + e % 2];

    // dK += dSᵀ·Q (scaled at the end).
    #pragma unroll
    for (int kk = 0; kk < 1; ++kk) {
      const unsigned a_frag[4] = {pack_bf16x2(probs[2 * kk][0], probs[2 * kk][1]), pack_bf16x2(probs[2 * kk][2], probs[2 * kk][3]),
       pack_bf16x2(probs[2 * kk + 1][0], probs[2 * kk + 1][1]), pack_bf16x2(probs[2 * kk + 1][2], probs[2 * kk + 1][3])};
      #pragma unroll
      for (int dpair = 0; dpair < D / 16; ++dpair) {
        const int row = (kk * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (dpair * 2) + (lane / 16);
        unsigned b4[4];
        ldmatrix_x4_trans(b4, smem_u32(q_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
        const unsigned b_lo[2] = {b4[0], b4[1]};
        const unsigned b_hi[2] = {b4[2], b4[3]};
        mma_bf16_16816(dk_acc[2 * dpair], a_frag, b_lo);
        mma_bf16_16816(dk_acc[2 * dpair + 1], a_frag, b_hi);
      }
    }

    // dSᵀ to shared memory, then dQ += dS·K·scale for this warp's queries and d slice.
    #pragma unroll
    for (int nt = 0; nt < 2; ++nt)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = (warp * 16) + ((lane / 4) + (half * 8));
        const int col = (nt * 8) + ((lane % 4) * 2);
        const int chunk = col / 8;
        *reinterpret_cast<unsigned*>(ds_tile + (row * 16) + ((chunk ^ ((row / 4) % 2)) * 8) + col % 8) = pack_bf16x2(probs[nt][2 * half], probs[nt][2 * half + 1]);
      }
    __syncthreads();
    float dq[4][4];
    #pragma unroll
    for (int dt = 0; dt < 4; ++dt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) dq[dt][e] = 0.f;
    #pragma unroll 1
    for (int kk = 0; kk < 4; ++kk) {
      unsigned a_frag[4];
      {
        const int row = (kk * 16) + ((lane % 8) + ((lane / 16) * 8));
        const int chunk = (q_group * 2) + ((lane / 8) % 2);
        ldmatrix_x4_trans(a_frag, smem_u32(ds_tile + (row * 16) + ((chunk ^ ((row / 4) % 2)) * 8)));
      }
      #pragma unroll
      for (int dpair = 0; dpair < 2; ++dpair) {
        const int row = (kk * 16) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (d_part * 4 + dpair * 2) + (lane / 16);
        unsigned b4[4];
        ldmatrix_x4_trans(b4, smem_u32(k_tile + (row * 128) + ((chunk ^ (row % 8)) * 8)));
        const unsigned b_lo[2] = {b4[0], b4[1]};
        const unsigned b_hi[2] = {b4[2], b4[3]};
        mma_bf16_16816(dq[2 * dpair], a_frag, b_lo);
        mma_bf16_16816(dq[2 * dpair + 1], a_frag, b_hi);
      }
    }
    #pragma unroll
    for (int dt = 0; dt < 4; ++dt)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int q = qb * 16 + (q_group * 16) + ((lane / 4) + (half * 8));
        const int col = (d_part * 32 + dt * 8) + ((lane % 4) * 2);
        if (q >= SQ) continue;
        float* at = dQ_acc + ((long long)b * SQ + q) * ROW + h * D + col;
        atomicAdd(at, dq[dt][2 * half] * SCALE);
        atomicAdd(at + 1, dq[dt][2 * half + 1] * SCALE);
      }
    __syncthreads();  // the next copy reuses this query buffer and dSᵀ
  }

  // dK = scale·Σ dSᵀ·Q and dV = Σ Pᵀ·dO for this block's keys.
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int key = k0 + (warp * 16) + ((lane / 4) + (half * 8));
      const int col = (dt * 8) + ((lane % 4) * 2);
      if (key < SK)
        *reinterpret_cast<unsigned*>(dK + ((long long)b * SK + key) * ROW + h * D + col) = pack_bf16x2(dk_acc[dt][2 * half] * SCALE, dk_acc[dt][2 * half + 1] * SCALE);
    }
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int key = k0 + (warp * 16) + ((lane / 4) + (half * 8));
      const int col = (dt * 8) + ((lane % 4) * 2);
      if (key < SK)
        *reinterpret_cast<unsigned*>(dV + ((long long)b * SK + key) * ROW + h * D + col) = pack_bf16x2(dv_acc[dt][2 * half], dv_acc[dt][2 * half + 1]);
    }
}
