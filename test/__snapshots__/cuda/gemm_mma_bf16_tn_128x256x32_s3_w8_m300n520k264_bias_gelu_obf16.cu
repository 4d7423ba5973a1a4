// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// gemm_mma_bf16_tn_128x256x32_s3_w8_m300n520k264_bias_gelu_obf16: C[b] = bias_gelu(A·Bᵀ (B [N,K] row-major)) for A [300,264] bf16, 1 batch(es), f32 accumulation, bf16 out.
__device__ __forceinline__ float gemm_mma_bf16_tn_128x256x32_s3_w8_m300n520k264_bias_gelu_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ bias) {
  [[maybe_unused]] constexpr int M = 300, N = 520, K = 264;
  const float x = acc + bf16_to_f32(bias[col]);
  return 0.5f * x * (1.f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
}

extern "C" __global__ void __launch_bounds__(256) gemm_mma_bf16_tn_128x256x32_s3_w8_m300n520k264_bias_gelu_obf16(const bf16_t* __restrict__ A, const bf16_t* __restrict__ B, bf16_t* __restrict__ C, const bf16_t* __restrict__ bias) {
  [[maybe_unused]] constexpr int M = 300, N = 520, K = 264;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* a_tiles = reinterpret_cast<bf16_t*>(smem);  // [3][128×32], swizzled 16-byte chunks
  bf16_t* b_tiles = a_tiles + 12288;  // [3][256×32]
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp_m = (tid / 32) / 4;
  const int warp_n = (tid / 32) % 4;
  const int b = blockIdx.z;
  const int pid = blockIdx.x;
  const int block_m = (((pid / 24) * 8) + ((pid % 24) % (min(3 - ((pid / 24) * 8), 8)))) * 128;
  const int block_n = ((pid % 24) / (min(3 - ((pid / 24) * 8), 8))) * 256;
  A += (long long)b * 79200;
  B += (long long)b * 137280;
  C += (long long)b * 156000;

  // Copies k-tile `k_tile` of A and B into pipeline stage `stage`.
  auto load_stage = [&](int stage, int k_tile) {
    const int k0 = k_tile * 32;
    {
      bf16_t* dst = a_tiles + stage * 4096;
      #pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int row = (tid + (i * 256)) / 4;
        const int chunk = (tid + (i * 256)) % 4;
        const int g_row = block_m + row;
        const int g_col = k0 + chunk * 8;
        const bool ok = g_row < M && g_col < K;
        cp_async_16(smem_u32(dst + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? A + (long long)g_row * K + g_col : A, ok ? 16 : 0);
      }
    }
    {
      bf16_t* dst = b_tiles + stage * 8192;
      #pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int row = (tid + (i * 256)) / 4;
        const int chunk = (tid + (i * 256)) % 4;
        const int g_row = block_n + row;
        const int g_col = k0 + chunk * 8;
        const bool ok = g_row < N && g_col < K;
        cp_async_16(smem_u32(dst + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)), ok ? B + (long long)g_row * K + g_col : B, ok ? 16 : 0);
      }
    }
  };

  float acc[4][8][4];
  #pragma unroll
  for (int mi = 0; mi < 4; ++mi)
    #pragma unroll
    for (int ni = 0; ni < 8; ++ni)
      #pragma unroll
      for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0.f;

  #pragma unroll
  for (int s = 0; s < 2; ++s) {
    if (s < 9) load_stage(s, s);
    cp_async_commit();
  }

  for (int k_tile = 0; k_tile < 9; ++k_tile) {
    cp_async_wait<1>();
    __syncthreads();  // stage k_tile is visible to all; stage k_tile-1 is no longer read
    const int next = k_tile + 2;
    if (next < 9) load_stage(next % 3, next);
    cp_async_commit();

    const bf16_t* a_stage = a_tiles + (k_tile % 3) * 4096;
    const bf16_t* b_stage = b_tiles + (k_tile % 3) * 8192;
    #pragma unroll
    for (int ks = 0; ks < 2; ++ks) {
      unsigned a_frag[4][4];
      unsigned b_frag[8][2];
      #pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        const int row = ((warp_m * 64) + (mi * 16)) + ((lane % 8) + (((lane / 8) % 2) * 8));
        const int chunk = (ks * 2) + (lane / 16);
        ldmatrix_x4(a_frag[mi], smem_u32(a_stage + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
      }
      #pragma unroll
      for (int pair = 0; pair < 4; ++pair) {
        const int row = ((warp_n * 64) + (pair * 16)) + ((lane % 8) + ((lane / 16) * 8));
        const int chunk = (ks * 2) + ((lane / 8) % 2);
        unsigned q[4];
        ldmatrix_x4(q, smem_u32(b_stage + (row * 32) + ((chunk ^ ((row / 2) % 4)) * 8)));
        b_frag[2 * pair][0] = q[0];
        b_frag[2 * pair][1] = q[1];
        b_frag[2 * pair + 1][0] = q[2];
        b_frag[2 * pair + 1][1] = q[3];
      }
      #pragma unroll
      for (int mi = 0; mi < 4; ++mi)
        #pragma unroll
        for (int ni = 0; ni < 8; ++ni) mma_bf16_16816(acc[mi][ni], a_frag[mi], b_frag[ni]);
    }
  }
  cp_async_wait<0>();

  // Epilogue: each thread owns pairs of adjacent columns of its fragments.
  #pragma unroll
  for (int mi = 0; mi < 4; ++mi)
    #pragma unroll
    for (int ni = 0; ni < 8; ++ni)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = block_m + ((warp_m * 64) + (mi * 16)) + ((lane / 4) + (half * 8));
        const int col = block_n + ((warp_n * 64) + (ni * 8)) + ((lane % 4) * 2);
        if (row >= M) continue;
        const long long at = (long long)row * N + col;
        if (col < N) {
          const float v0 = gemm_mma_bf16_tn_128x256x32_s3_w8_m300n520k264_bias_gelu_obf16_epilogue(acc[mi][ni][2 * half], b, row, col, bias);
          if (col + 1 < N) {
            const float v1 = gemm_mma_bf16_tn_128x256x32_s3_w8_m300n520k264_bias_gelu_obf16_epilogue(acc[mi][ni][2 * half + 1], b, row, col + 1, bias);
            *reinterpret_cast<unsigned*>(C + at) = pack_bf16x2(v0, v1);
          } else {
            C[at] = f32_to_bf16(v0);
          }
        }
      }
}
