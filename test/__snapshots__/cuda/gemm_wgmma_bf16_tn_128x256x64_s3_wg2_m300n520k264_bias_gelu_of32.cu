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
#ifndef KILN_WGMMA_M64N256K16
#define KILN_WGMMA_M64N256K16
// d += A·Bᵀ for a 64×256×16 step of one warpgroup; A and B are read from shared memory via descriptors.
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], unsigned long long desc_a, unsigned long long desc_b) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, %128, %129, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
        "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
        "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
        "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
        "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
        "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
        "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
        "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(desc_a), "l"(desc_b));
}
#endif

// gemm_wgmma_bf16_tn_128x256x64_s3_wg2_m300n520k264_bias_gelu_of32: C[b] = bias_gelu(A·Bᵀ) for A [300,264], B [520,264] bf16, wgmma with f32 accumulation, f32 out.
__device__ __forceinline__ float gemm_wgmma_bf16_tn_128x256x64_s3_wg2_m300n520k264_bias_gelu_of32_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ bias) {
  [[maybe_unused]] constexpr int M = 300, N = 520, K = 264;
  const float x = acc + bf16_to_f32(bias[col]);
  return 0.5f * x * (1.f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
}

extern "C" __global__ void __launch_bounds__(256) gemm_wgmma_bf16_tn_128x256x64_s3_wg2_m300n520k264_bias_gelu_of32(const bf16_t* __restrict__ A, const bf16_t* __restrict__ B, float* __restrict__ C, const bf16_t* __restrict__ bias) {
  [[maybe_unused]] constexpr int M = 300, N = 520, K = 264;
  extern __shared__ __align__(1024) unsigned char smem[];  // descriptors need 1024-byte aligned swizzle atoms
  bf16_t* a_tiles = reinterpret_cast<bf16_t*>(smem);  // [3][128×64], 128B-swizzled rows
  bf16_t* b_tiles = a_tiles + 24576;  // [3][256×64]
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warpgroup = tid / 128;
  const int warp_in_group = (tid / 32) % 4;
  const int b = blockIdx.z;
  const int block_m = blockIdx.y * 128;
  const int block_n = blockIdx.x * 256;
  A += (long long)b * 79200;
  B += (long long)b * 137280;
  C += (long long)b * 156000;

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
      bf16_t* dst = b_tiles + stage * 16384;
      #pragma unroll
      for (int i = 0; i < 8; ++i) {
        const int row = (tid + i * 256) / 8;
        const int chunk = (tid + i * 256) % 8;
        const int g_row = block_n + row;
        const int g_col = k0 + chunk * 8;
        const bool ok = g_row < N && g_col < K;
        cp_async_16(smem_u32(dst + (row * 64) + ((chunk ^ (row % 8)) * 8)), ok ? B + (long long)g_row * K + g_col : B, ok ? 16 : 0);
      }
    }
  };

  float acc[128];
  #pragma unroll
  for (int i = 0; i < 128; ++i) acc[i] = 0.f;

  #pragma unroll
  for (int s = 0; s < 2; ++s) {
    if (s < 5) load_stage(s, s);
    cp_async_commit();
  }
  for (int k_tile = 0; k_tile < 5; ++k_tile) {
    cp_async_wait<1>();
    fence_proxy_async_shared();  // each thread's landed copies, before the barrier that lets wgmma read them
    __syncthreads();
    const int next = k_tile + 2;
    if (next < 5) load_stage(next % 3, next);
    cp_async_commit();

    const bf16_t* a_stage = a_tiles + (k_tile % 3) * 8192 + warpgroup * 4096;
    const bf16_t* b_stage = b_tiles + (k_tile % 3) * 16384;
    wgmma_fence();
    #pragma unroll
    for (int ks = 0; ks < 4; ++ks)  // 16 k = 32 bytes further into each swizzled row
      wgmma_m64n256k16(acc, wgmma_descriptor(a_stage + ks * 16), wgmma_descriptor(b_stage + ks * 16));
    wgmma_commit();
    wgmma_wait_all();
  }
  cp_async_wait<0>();

  // Epilogue: register 4j + 2·half + e holds (row, 8j + 2(lane%4) + e) of this warp's 16 rows.
  #pragma unroll
  for (int j = 0; j < 32; ++j)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = block_m + (warpgroup * 64 + warp_in_group * 16) + ((lane / 4) + (half * 8));
      const int col = block_n + (j * 8) + ((lane % 4) * 2);
      if (row >= M || col >= N) continue;
      const long long at = (long long)row * N + col;
      const float v0 = gemm_wgmma_bf16_tn_128x256x64_s3_wg2_m300n520k264_bias_gelu_of32_epilogue(acc[4 * j + 2 * half], b, row, col, bias);
      if (col + 1 < N && N % 2 == 0) {
        const float v1 = gemm_wgmma_bf16_tn_128x256x64_s3_wg2_m300n520k264_bias_gelu_of32_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1, bias);
        *reinterpret_cast<float2*>(C + at) = make_float2(v0, v1);
      } else {
        C[at] = v0;
        if (col + 1 < N) C[at + 1] = gemm_wgmma_bf16_tn_128x256x64_s3_wg2_m300n520k264_bias_gelu_of32_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1, bias);
      }
    }
}
