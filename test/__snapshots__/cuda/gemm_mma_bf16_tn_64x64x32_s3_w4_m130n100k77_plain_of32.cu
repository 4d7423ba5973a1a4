// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// gemm_mma_bf16_tn_64x64x32_s3_w4_m130n100k77_plain_of32: C[b] = plain(A·Bᵀ (B [N,K] row-major)) for A [130,77] bf16, 1 batch(es), f32 accumulation, f32 out.
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m130n100k77_plain_of32_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 130, N = 100, K = 77;
  return acc;
}

extern "C" __global__ void __launch_bounds__(128) gemm_mma_bf16_tn_64x64x32_s3_w4_m130n100k77_plain_of32(const bf16_t* __restrict__ A, const bf16_t* __restrict__ B, float* __restrict__ C) {
  [[maybe_unused]] constexpr int M = 130, N = 100, K = 77;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* a_tiles = reinterpret_cast<bf16_t*>(smem);  // [3][64×32], swizzled 16-byte chunks
  bf16_t* b_tiles = a_tiles + 6144;  // [3][64×32]
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp_m = (tid / 32) / 2;
  const int warp_n = (tid / 32) % 2;
  const int b = blockIdx.z;
  const int pid = blockIdx.x;
  const int block_m = (((pid / 16) * 8) + ((pid % 16) % (min(3 - ((pid / 16) * 8), 8)))) * 64;
  const int block_n = ((pid % 16) / (min(3 - ((pid / 16) * 8), 8))) * 64;
  A += (long long)b * 10010;
  B += (long long)b * 7700;
  C += (long long)b * 13000;

  // Copies k-tile `k_tile` of A and B into pipeline stage `stage`.
  auto load_stage = [&](int stage, int k_tile) {
    const int k0 = k_tile * 32;
    {
      bf16_t* dst = a_tiles + stage * 2048;
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + (i * 128)) / 4;
        const int chunk = (tid + (i * 128)) % 4;
        const int g_row = block_m + row;
        const int g_col = k0 + chunk * 8;
        // Unaligned rows: eight guarded element loads, one 16-byte shared store.
        unsigned e[8];
        #pragma unroll
        for (int j = 0; j < 8; ++j)
          e[j] = g_row < M && g_col + j < K ? A[(long long)g_row * K + g_col + j] : 0u;
        *reinterpret_cast<uint4*>(dst + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)) = make_uint4(e[0] | e[1] << 16, e[2] | e[3] << 16, e[4] | e[5] << 16, e[6] | e[7] << 16);
      }
    }
    {
      bf16_t* dst = b_tiles + stage * 2048;
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + (i * 128)) / 4;
        const int chunk = (tid + (i * 128)) % 4;
        const int g_row = block_n + row;
        const int g_col = k0 + chunk * 8;
        // Unaligned rows: eight guarded element loads, one 16-byte shared store.
        unsigned e[8];
        #pragma unroll
        for (int j = 0; j < 8; ++j)
          e[j] = g_row < N && g_col + j < K ? B[(long long)g_row * K + g_col + j] : 0u;
        *reinterpret_cast<uint4*>(dst + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)) = make_uint4(e[0] | e[1] << 16, e[2] | e[3] << 16, e[4] | e[5] << 16, e[6] | e[7] << 16);
      }
    }
  };

  float acc[2][4][4];
  #pragma unroll
  for (int mi = 0; mi < 2; ++mi)
    #pragma unroll
    for (int ni = 0; ni < 4; ++ni)
      #pragma unroll
      for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0.f;

  #pragma unroll
  for (int s = 0; s < 2; ++s) {
    if (s < 3) load_stage(s, s);
    cp_async_commit();
  }

  for (int k_tile = 0; k_tile < 3; ++k_tile) {
    cp_async_wait<1>();
    __syncthreads();  // stage k_tile is visible to all; stage k_tile-1 is no longer read
    const int next = k_tile + 2;
    if (next < 3) load_stage(next % 3, next);
    cp_async_commit();

    const bf16_t* a_stage = a_tiles + (k_tile % 3) * 2048;
    const bf16_t* b_stage = b_tiles + (k_tile % 3) * 2048;
    #pragma unroll
    for (int ks = 0; ks < 2; ++ks) {
      unsigned a_frag[2][4];
      unsigned b_frag[4][2];
      #pragma unroll
      for (int mi = 0; mi < 2; ++mi) {
        const int row = ((warp_m * 32) + (mi * 16)) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (ks * 2) + (lane / 16);
        ldmatrix_x4(a_frag[mi], smem_u32(a_stage + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
      }
      #pragma unroll
      for (int pair = 0; pair < 2; ++pair) {
        const int row = ((warp_n * 32) + (pair * 16)) + ((lane % 8) + ((lane / 16) * 8));
        const int chunk = (ks * 2) + ((lane / 8) % 2);
        unsigned q[4];
        ldmatrix_x4(q, smem_u32(b_stage + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
        b_frag[2 * pair][0] = q[0];
        b_frag[2 * pair][1] = q[1];
        b_frag[2 * pair + 1][0] = q[2];
        b_frag[2 * pair + 1][1] = q[3];
      }
      #pragma unroll
      for (int mi = 0; mi < 2; ++mi)
        #pragma unroll
        for (int ni = 0; ni < 4; ++ni) mma_bf16_16816(acc[mi][ni], a_frag[mi], b_frag[ni]);
    }
  }
  cp_async_wait<0>();

  // Epilogue: each thread owns pairs of adjacent columns of its fragments.
  #pragma unroll
  for (int mi = 0; mi < 2; ++mi)
    #pragma unroll
    for (int ni = 0; ni < 4; ++ni)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = block_m + ((warp_m * 32) + (mi * 16)) + ((lane / 4) + (half * 8));
        const int col = block_n + ((warp_n * 32) + (ni * 8)) + ((lane % 4) * 2);
        if (row >= M) continue;
        const long long at = (long long)row * N + col;
        if (col < N) {
          const float v0 = gemm_mma_bf16_tn_64x64x32_s3_w4_m130n100k77_plain_of32_epilogue(acc[mi][ni][2 * half], b, row, col);
          if (col + 1 < N) {
            const float v1 = gemm_mma_bf16_tn_64x64x32_s3_w4_m130n100k77_plain_of32_epilogue(acc[mi][ni][2 * half + 1], b, row, col + 1);
            *reinterpret_cast<float2*>(C + at) = make_float2(v0, v1);
          } else {
            C[at] = v0;
          }
        }
      }
}
