// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

#ifndef KILN_WGMMA
#define KILN_WGMMA
__device__ __forceinline__ unsigned long long wgmma_descriptor(const void* smem_tile) {
  const unsigned long long address = smem_u32(smem_tile);
  return ((address & 0x3ffffull) >> 4)  // start address / 16
         | (1ull << 16)                    // leading byte offset (unused for swizzled K-major)
         | ((1024ull >> 4) << 32)          // stride byte offset: 8 rows × 128 bytes
         | (1ull << 62);                   // 128-byte swizzle
}
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_wait_all() { asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory"); }
// Makes shared-memory writes of the generic proxy (cp.async) visible to the async proxy wgmma reads through.
__device__ __forceinline__ void fence_proxy_async_shared() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
#endif
#ifndef KILN_WGMMA_M64N128K16
#define KILN_WGMMA_M64N128K16
// d += A·Bᵀ for a 64×128×16 step of one warpgroup; A and B are read from shared memory via descriptors.
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], unsigned long long desc_a, unsigned long long desc_b) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(desc_a), "l"(desc_b));
}
#endif

// gemm_wgmma_bf16_tn_128x128x64_s4_wg2_m512n512k512_plain_obf16: C[b] = plain(A·Bᵀ) for A [512,512], B [512,512] bf16, wgmma with f32 accumulation, bf16 out.
__device__ __forceinline__ float gemm_wgmma_bf16_tn_128x128x64_s4_wg2_m512n512k512_plain_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 512, N = 512, K = 512;
  return acc;
}

extern "C" __global__ void __launch_bounds__(256) gemm_wgmma_bf16_tn_128x128x64_s4_wg2_m512n512k512_plain_obf16(const bf16_t* __restrict__ A, const bf16_t* __restrict__ B, bf16_t* __restrict__ C) {
  [[maybe_unused]] constexpr int M = 512, N = 512, K = 512;
  extern __shared__ __align__(1024) unsigned char smem[];  // descriptors need 1024-byte aligned swizzle atoms
  bf16_t* a_tiles = reinterpret_cast<bf16_t*>(smem);  // [4][128×64], 128B-swizzled rows
  bf16_t* b_tiles = a_tiles + 32768;  // [4][128×64]
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warpgroup = tid / 128;
  const int warp_in_group = (tid / 32) % 4;
  const int b = blockIdx.z;
  const int block_m = blockIdx.y * 128;
  const int block_n = blockIdx.x * 128;
  A += (long long)b * 262144;
  B += (long long)b * 262144;
  C += (long long)b * 262144;

  auto load_stage = [&](int stage, int k_tile) {
    const int k0 = k_tile * 64;
    {
      bf16_t* dst = a_tiles + stage * 8192;
      #pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int row = (tid + i * 256) / 8;
        const int chunk = (tid + i * 256) % 8;
        const int g_row = block_m + row;
        const int g_col = k0 + chunk * 8;
        const bool ok = g_row < M && g_col < K;
        cp_async_16(smem_u32(dst + (row * 64) + ((chunk ^ (row % 8)) * 8)), ok ? A + (long long)g_row * K + g_col : A, ok ? 16 : 0);
      }
    }
    {
      bf16_t* dst = b_tiles + stage * 8192;
      #pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int row = (tid + i * 256) / 8;
        const int chunk = (tid + i * 256) % 8;
        const int g_row = block_n + row;
        const int g_col = k0 + chunk * 8;
        const bool ok = g_row < N && g_col < K;
        cp_async_16(smem_u32(dst + (row * 64) + ((chunk ^ (row % 8)) * 8)), ok ? B + (long long)g_row * K + g_col : B, ok ? 16 : 0);
      }
    }
  };

  float acc[64];
  #pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.f;

  #pragma unroll
  for (int s = 0; s < 3; ++s) {
    if (s < 8) load_stage(s, s);
    cp_async_commit();
  }
  for (int k_tile = 0; k_tile < 8; ++k_tile) {
    cp_async_wait<2>();
    fence_proxy_async_shared();  // each thread's landed copies, before the barrier that lets wgmma read them
    __syncthreads();
    const int next = k_tile + 3;
    if (next < 8) load_stage(next % 4, next);
    cp_async_commit();

    const bf16_t* a_stage = a_tiles + (k_tile % 4) * 8192 + warpgroup * 4096;
    const bf16_t* b_stage = b_tiles + (k_tile % 4) * 8192;
    wgmma_fence();
    #pragma unroll
    for (int ks = 0; ks < 4; ++ks)  // 16 k = 32 bytes further into each swizzled row
      wgmma_m64n128k16(acc, wgmma_descriptor(a_stage + ks * 16), wgmma_descriptor(b_stage + ks * 16));
    wgmma_commit();
    wgmma_wait_all();
  }
  cp_async_wait<0>();

  // Epilogue: register 4j + 2·half + e holds (row, 8j + 2(lane%4) + e) of this warp's 16 rows.
  #pragma unroll
  for (int j = 0; j < 16; ++j)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = block_m + (warpgroup * 64 + warp_in_group * 16) + ((lane / 4) + (half * 8));
      const int col = block_n + (j * 8) + ((lane % 4) * 2);
      if (row >= M || col >= N) continue;
      const long long at = (long long)row * N + col;
      const float v0 = gemm_wgmma_bf16_tn_128x128x64_s4_wg2_m512n512k512_plain_obf16_epilogue(acc[4 * j + 2 * half], b, row, col);
      if (col + 1 < N && N % 2 == 0) {
        const float v1 = gemm_wgmma_bf16_tn_128x128x64_s4_wg2_m512n512k512_plain_obf16_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1);
        *reinterpret_cast<unsigned*>(C + at) = pack_bf16x2(v0, v1);
      } else {
        C[at] = f32_to_bf16(v0);
        if (col + 1 < N) C[at + 1] = f32_to_bf16(gemm_wgmma_bf16_tn_128x128x64_s4_wg2_m512n512k512_plain_obf16_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1));
      }
    }
}
