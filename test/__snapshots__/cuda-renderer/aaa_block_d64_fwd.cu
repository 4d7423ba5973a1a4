// 8 kernels, 10 launches, workspace 768 bytes
// launch reduce_2x40x64_0 <<<10x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b17)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b17, B=b3, C=b18, e0=b4)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b17, B=b5, C=b19, e0=b6)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b17, B=b7, C=b20, e0=b8)
// launch attention_fwd_b2h2q40k40d32_64x64 <<<1x2x2, 128x1x1, 20992>>> (Q=b18, K=b19, V=b20, O=b21, LSE=b27)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b21, B=b9, C=b22)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m2n128k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b2, B=b15, C=b23)
// launch reduce_2x40x64_7 <<<10x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b10, p3=b16, p4=b22, p5=b23, p6=b24)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n192k64_ecd76c0a3e8f7_obf16 <<<6x1x1, 128x1x1, 24576>>> (A=b24, B=b11, C=b25, e0=b12)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k192_e3c6a53fbf2ca_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b25, B=b13, C=b26, e0=b0, e1=b10, e2=b14, e3=b16, e4=b22, e5=b23)

// reduce_2x40x64_0: reduce: sum[2,40,1], mul[2,40,64]
// parameters: p0 = buffer 0 (bf16[5120]), p1 = buffer 1 (bf16[5120]), p2 = buffer 17 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_0(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 80; row += 80) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 64; e1 += 32) {
      const int t1 = (e1 + (row * 64));
      const float t2 = kiln_round_bf16((kiln_bf16_to_f32(p0[t1]) + kiln_bf16_to_f32(p1[t1])));
      acc0 = (acc0 + kiln_round_bf16((t2 * t2)));
    }
    float acc0_other = 0.00000000f;
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 16);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 8);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 4);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 2);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 1);
    acc0 = (acc0 + acc0_other);
    for (int e13 = t0; e13 < 64; e13 += 32) {
      const int t3 = (e13 + (row * 64));
      p2[t3] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t3]) + kiln_bf16_to_f32(p1[t3]))) * kiln_round_bf16((1.0f / kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((acc0 * 0.0156250000f)) + 1.19209290e-7f)))))))));
    }
  }
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0) {
  [[maybe_unused]] constexpr int M = 80, N = 64, K = 64;
  // gemm_80x64_1: gemm: dot[80,64], add[2,40,64]
  const int ej = col;
  const float result = kiln_round_bf16((acc + kiln_bf16_to_f32(e0[ej])));
  return result;
}

// template kernel attention_fwd_b2h2q40k40d32_64x64

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 80, N = 64, K = 64;
  // gemm_80x64_5: gemm: dot[80,64]
  const float result = acc;
  return result;
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m2n128k64_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m2n128k64_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 2, N = 128, K = 64;
  // gemm_2x128_6: gemm: dot[2,128]
  const float result = acc;
  return result;
}

// reduce_2x40x64_7: reduce: sum[2,40,1], mul[2,40,64]
// parameters: p0 = buffer 0 (bf16[5120]), p1 = buffer 1 (bf16[5120]), p2 = buffer 10 (bf16[64]), p3 = buffer 16 (bf16[128]), p4 = buffer 22 (bf16[5120]), p5 = buffer 23 (bf16[256]), p6 = buffer 24 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_7(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, bf16_t* __restrict__ p6) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 80; row += 80) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 64; e1 += 32) {
      const int t1 = (e1 + (row * 64));
      const float t2 = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t1]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t1]) + kiln_bf16_to_f32(p2[e1]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 40) * 128) + e1)]) + kiln_bf16_to_f32(p3[e1]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t1])));
      acc0 = (acc0 + kiln_round_bf16((t2 * t2)));
    }
    float acc0_other = 0.00000000f;
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 16);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 8);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 4);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 2);
    acc0 = (acc0 + acc0_other);
    acc0_other = __shfl_xor_sync(0xffffffffu, acc0, 1);
    acc0 = (acc0 + acc0_other);
    for (int e13 = t0; e13 < 64; e13 += 32) {
      const int t3 = (e13 + (row * 64));
      p6[t3] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t3]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t3]) + kiln_bf16_to_f32(p2[e13]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 40) * 128) + e13)]) + kiln_bf16_to_f32(p3[e13]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t3]))) * kiln_round_bf16((1.0f / kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((acc0 * 0.0156250000f)) + 1.19209290e-7f)))))))));
    }
  }
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m80n192k64_ecd76c0a3e8f7_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m80n192k64_ecd76c0a3e8f7_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0) {
  [[maybe_unused]] constexpr int M = 80, N = 192, K = 64;
  // gemm_80x192_8: gemm: dot[80,192], mul[2,40,192]
  const int ej = col;
  const float t0 = kiln_round_bf16((acc + kiln_bf16_to_f32(e0[ej])));
  const float result = kiln_round_bf16((t0 * kiln_round_bf16((1.0f / kiln_round_bf16((kiln_round_bf16(exp2f(kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16(kiln_maxf(t0, -80.0000000f)))) * 1.44269502f)))) + 1.00000000f))))));
  return result;
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k192_e3c6a53fbf2ca_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k192_e3c6a53fbf2ca_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, const bf16_t* __restrict__ e1, const bf16_t* __restrict__ e2, const bf16_t* __restrict__ e3, const bf16_t* __restrict__ e4, const bf16_t* __restrict__ e5) {
  [[maybe_unused]] constexpr int M = 80, N = 64, K = 192;
  // gemm_80x64_9: gemm: dot[80,64], add[2,40,64]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 64) + ej);
  const int t1 = (((ei / 40) * 128) + ej);
  const float result = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e0[t0]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e4[t0]) + kiln_bf16_to_f32(e1[ej]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e5[t1]) + kiln_bf16_to_f32(e3[ej]))) + 1.00000000f)))))) + kiln_round_bf16((kiln_round_bf16((acc + kiln_bf16_to_f32(e2[ej]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e5[(t1 + 64)]) + kiln_bf16_to_f32(e3[(ej + 64)]))) + 1.00000000f))))));
  return result;
}
