// 35 kernels, 48 launches, workspace 33792 bytes
// launch reduce_2x40x64_0 <<<10x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b18, p3=b41)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b18, B=b3, C=b19, e0=b4)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b18, B=b5, C=b20, e0=b6)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e94f38c443a61_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b18, B=b7, C=b21, e0=b8)
// launch attention_fwd_b2h2q40k40d32_64x64 <<<1x2x2, 128x1x1, 20992>>> (Q=b19, K=b20, V=b21, O=b22, LSE=b65)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b22, B=b9, C=b23)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m2n128k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b2, B=b15, C=b24)
// launch reduce_2x40x64_7 <<<10x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b10, p3=b16, p4=b23, p5=b24, p6=b25, p7=b34)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n192k64_e38424282a398_obf16 <<<6x1x1, 128x1x1, 24576>>> (A=b25, B=b11, C=b30, e0=b12, e1=b26, e2=b29)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k192_e476a66849f8d_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b26, B=b13, C=b43, e0=b0, e1=b10, e2=b14, e3=b16, e4=b17, e5=b23, e6=b24, e7=b27, e8=b31)
// launch reduce_2x40x64_10 <<<1x1x1, 256x1x1, 0>>> (p0=b27, p1=b28)
// launch pointwise_scalar_11 <<<1x1x1, 256x1x1, 0>>> (p0=b28, p1=b47)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m80n192k64_e36ea10b886c1_obf16 <<<6x1x1, 128x1x1, 24576>>> (A=b31, B=b13, C=b32, e0=b12, e1=b29, e2=b30)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k192_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b32, B=b11, C=b33)
// launch reduce_2x40x64_14 <<<10x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b10, p3=b16, p4=b23, p5=b24, p6=b27, p7=b33, p8=b34, p9=b35, p10=b42)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b35, B=b9, C=b36)
// launch attention_fwd_b2h2q40k40d32_64x64 <<<1x2x2, 128x1x1, 20992>>> (Q=b19, K=b20, V=b21, O=b71, LSE=b68)
// launch attention_bwd_delta_b2h2q40k40d32 <<<20x1x1, 256x1x1, 0>>> (O=b22, dO=b36, Delta=b69, dQ_acc=b70)
// launch attention_bwd_b2h2q40k40d32_64x64 <<<1x2x2, 128x1x1, 34048>>> (Q=b19, K=b20, V=b21, dO=b36, LSE=b68, Delta=b69, dQ_acc=b70, dK=b37+10240, dV=b37+20480)
// launch attention_bwd_dq_b2h2q40k40d32 <<<5x1x1, 256x1x1, 0>>> (dQ_acc=b70, dQ=b37)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b37+20480, B=b7, C=b38)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b37+10240, B=b5, C=b39)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b37, B=b3, C=b40)
// launch reduce_2x40x64_20 <<<10x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b27, p3=b38, p4=b39, p5=b40, p6=b41, p7=b42, p8=b48, p9=b49)
// launch reduce_2x40x64_21 <<<1x1x1, 256x1x1, 0>>> (p0=b14, p1=b27, p2=b43, p3=b44)
// launch reduce_2x40x64_22 <<<1x1x1, 256x1x1, 0>>> (p0=b10, p1=b23, p2=b27, p3=b42, p4=b45)
// launch reduce_2x1x128_23 <<<1x1x1, 256x1x1, 0>>> (p0=b44, p1=b45, p2=b46, p3=b50)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m2n64k128_e658db7a44c9a_obf16 <<<1x1x1, 128x1x1, 24576>>> (A=b46, B=b15, C=b51)
// launch gemm_64x64_25_pack_a <<<6x1x1, 256x1x1, 0>>> (p0=b37, p1=b72)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m64n64k80_e658db7a44c9a_obf16 <<<1x1x1, 128x1x1, 24576>>> (A=b72, B=b18, C=b52)
// launch reduce_2x40x64_26 <<<1x1x1, 256x1x1, 0>>> (p0=b37, p1=b53)
// launch gemm_64x64_27_pack_a <<<6x1x1, 256x1x1, 0>>> (p0=b37, p1=b73)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m64n64k80_e658db7a44c9a_obf16 <<<1x1x1, 128x1x1, 24576>>> (A=b73, B=b18, C=b54)
// launch reduce_2x40x64_28 <<<1x1x1, 256x1x1, 0>>> (p0=b37, p1=b55)
// launch gemm_64x64_29_pack_a <<<6x1x1, 256x1x1, 0>>> (p0=b37, p1=b74)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m64n64k80_e658db7a44c9a_obf16 <<<1x1x1, 128x1x1, 24576>>> (A=b74, B=b18, C=b56)
// launch reduce_2x40x64_30 <<<1x1x1, 256x1x1, 0>>> (p0=b37, p1=b57)
// launch gemm_64x64_25_pack_a <<<6x1x1, 256x1x1, 0>>> (p0=b35, p1=b75)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m64n64k80_e658db7a44c9a_obf16 <<<1x1x1, 128x1x1, 24576>>> (A=b75, B=b22, C=b58)
// launch reduce_2x40x64_26 <<<1x1x1, 256x1x1, 0>>> (p0=b35, p1=b59)
// launch gemm_192x64_33_pack_a <<<18x1x1, 256x1x1, 0>>> (p0=b32, p1=b76)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m192n64k80_e658db7a44c9a_obf16 <<<3x1x1, 128x1x1, 24576>>> (A=b76, B=b25, C=b60)
// launch reduce_2x40x192_34 <<<1x1x1, 256x1x1, 0>>> (p0=b32, p1=b61)
// launch gemm_64x64_25_pack_a <<<6x1x1, 256x1x1, 0>>> (p0=b31, p1=b77)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m64n192k80_e658db7a44c9a_obf16 <<<3x1x1, 128x1x1, 24576>>> (A=b77, B=b26, C=b62)
// launch reduce_2x40x64_26 <<<1x1x1, 256x1x1, 0>>> (p0=b31, p1=b63)
// launch gemm_128x64_37_pack_a <<<4x1x1, 256x1x1, 0>>> (p0=b46, p1=b78)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m128n64k2_e658db7a44c9a_obf16 <<<2x1x1, 128x1x1, 24576>>> (A=b78, B=b2, C=b64)

// reduce_2x40x64_0: reduce: sum[2,40,1], mul[2,40,64]
// parameters: p0 = buffer 0 (bf16[5120]), p1 = buffer 1 (bf16[5120]), p2 = buffer 18 (bf16[5120]), p3 = buffer 41 (bf16[80])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_0(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
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
    if ((t0 == 0)) {
      p3[row] = kiln_f32_to_bf16(acc0);
    }
    for (int e14 = t0; e14 < 64; e14 += 32) {
      const int t3 = (e14 + (row * 64));
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
// parameters: p0 = buffer 0 (bf16[5120]), p1 = buffer 1 (bf16[5120]), p2 = buffer 10 (bf16[64]), p3 = buffer 16 (bf16[128]), p4 = buffer 23 (bf16[5120]), p5 = buffer 24 (bf16[256]), p6 = buffer 25 (bf16[5120]), p7 = buffer 34 (bf16[80])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_7(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, bf16_t* __restrict__ p6, bf16_t* __restrict__ p7) {
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
    if ((t0 == 0)) {
      p7[row] = kiln_f32_to_bf16(acc0);
    }
    for (int e14 = t0; e14 < 64; e14 += 32) {
      const int t3 = (e14 + (row * 64));
      p6[t3] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t3]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t3]) + kiln_bf16_to_f32(p2[e14]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 40) * 128) + e14)]) + kiln_bf16_to_f32(p3[e14]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t3]))) * kiln_round_bf16((1.0f / kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((acc0 * 0.0156250000f)) + 1.19209290e-7f)))))))));
    }
  }
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m80n192k64_e38424282a398_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m80n192k64_e38424282a398_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, bf16_t* __restrict__ e1, bf16_t* __restrict__ e2) {
  [[maybe_unused]] constexpr int M = 80, N = 192, K = 64;
  // gemm_80x192_8: gemm: dot[80,192], recip[2,40,192], mul[2,40,192]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 192) + ej);
  const float t1 = kiln_round_bf16((acc + kiln_bf16_to_f32(e0[ej])));
  const float t2 = kiln_round_bf16((1.0f / kiln_round_bf16((kiln_round_bf16(exp2f(kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16(kiln_maxf(t1, -80.0000000f)))) * 1.44269502f)))) + 1.00000000f))));
  e2[t0] = kiln_f32_to_bf16(t2);
  e1[t0] = kiln_f32_to_bf16(kiln_round_bf16((t1 * t2)));
  const float result = acc;
  return result;
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k192_e476a66849f8d_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m80n64k192_e476a66849f8d_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, const bf16_t* __restrict__ e1, const bf16_t* __restrict__ e2, const bf16_t* __restrict__ e3, const bf16_t* __restrict__ e4, const bf16_t* __restrict__ e5, const bf16_t* __restrict__ e6, bf16_t* __restrict__ e7, bf16_t* __restrict__ e8) {
  [[maybe_unused]] constexpr int M = 80, N = 64, K = 192;
  // gemm_80x64_9: gemm: dot[80,64], add[2,40,64], mul[2,40,64]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 64) + ej);
  const int t1 = (((ei / 40) * 128) + ej);
  const float t2 = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e6[(t1 + 64)]) + kiln_bf16_to_f32(e3[(ej + 64)]))) + 1.00000000f));
  const float t3 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e0[t0]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e5[t0]) + kiln_bf16_to_f32(e1[ej]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e6[t1]) + kiln_bf16_to_f32(e3[ej]))) + 1.00000000f)))))) + kiln_round_bf16((kiln_round_bf16((acc + kiln_bf16_to_f32(e2[ej]))) * t2)))) + kiln_round_bf16((-kiln_bf16_to_f32(e4[t0])))));
  e7[t0] = kiln_f32_to_bf16(t3);
  const float t4 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 0.000195312503f)) * t3));
  e8[t0] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((t4 + t4)) * t2)));
  const float result = acc;
  return result;
}

// reduce_2x40x64_10: reduce: sum[1,1,1]
// parameters: p0 = buffer 27 (bf16[5120]), p1 = buffer 28 (bf16[1])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_10(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float partials_f32[32];
  for (int row = bid; row < 1; ++row) {
    float acc0 = 0.00000000f;
    for (int e1 = tid; e1 < 5120; e1 += 256) {
      const float t0 = kiln_bf16_to_f32(p0[e1]);
      acc0 = (acc0 + kiln_round_bf16((t0 * t0)));
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
    const int t1 = (tid % 32);
    if ((t1 == 0)) {
      partials_f32[(tid / 32)] = acc0;
    }
    __syncthreads();
    acc0 = ((t1 < 8) ? partials_f32[t1] : 0.00000000f);
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
    __syncthreads();
    if ((tid == 0)) {
      p1[0] = kiln_f32_to_bf16(acc0);
    }
  }
}

// pointwise_scalar_11: pointwise: mul[]
// parameters: p0 = buffer 28 (bf16[1]), p1 = buffer 47 (bf16[1])
extern "C" __global__ void __launch_bounds__(256) pointwise_scalar_11(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1; g += 256) {
    p1[0] = kiln_f32_to_bf16(kiln_round_bf16((kiln_bf16_to_f32(p0[0]) * 0.000195312503f)));
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m80n192k64_e36ea10b886c1_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m80n192k64_e36ea10b886c1_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, const bf16_t* __restrict__ e1, const bf16_t* __restrict__ e2) {
  [[maybe_unused]] constexpr int M = 80, N = 192, K = 64;
  // gemm_80x192_12: gemm: dot[80,192], add[2,40,192]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 192) + ej);
  const float t1 = kiln_bf16_to_f32(e1[t0]);
  const float t2 = kiln_round_bf16((kiln_bf16_to_f32(e2[t0]) + kiln_bf16_to_f32(e0[ej])));
  const float result = kiln_round_bf16((kiln_round_bf16((acc * t1)) + kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((kiln_round_bf16((acc * t2)) * kiln_round_bf16((t1 * t1)))))) * kiln_round_bf16((kiln_round_bf16(exp2f(kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16(kiln_maxf(t2, -80.0000000f)))) * 1.44269502f)))) * 0.693147182f)))) * 1.44269502f)))) * kiln_round_bf16((kiln_round_bf16(((float)(-80.0000000f < t2))) + kiln_round_bf16((kiln_round_bf16(((float)(t2 == -80.0000000f))) * 0.500000000f))))))));
  return result;
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k192_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k192_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 80, N = 64, K = 192;
  // gemm_80x64_13: gemm: dot[80,64]
  const float result = acc;
  return result;
}

// reduce_2x40x64_14: reduce: sum[2,40,1], mul[2,40,1], add[2,40,64], mul[2,40,64]
// parameters: p0 = buffer 0 (bf16[5120]), p1 = buffer 1 (bf16[5120]), p2 = buffer 10 (bf16[64]), p3 = buffer 16 (bf16[128]), p4 = buffer 23 (bf16[5120]), p5 = buffer 24 (bf16[256]), p6 = buffer 27 (bf16[5120]), p7 = buffer 33 (bf16[5120]), p8 = buffer 34 (bf16[80]), p9 = buffer 35 (bf16[5120]), p10 = buffer 42 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_14(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, const bf16_t* __restrict__ p6, const bf16_t* __restrict__ p7, const bf16_t* __restrict__ p8, bf16_t* __restrict__ p9, bf16_t* __restrict__ p10) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 80; row += 80) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 64; e1 += 32) {
      const int t1 = (e1 + (row * 64));
      acc0 = (acc0 + kiln_round_bf16((kiln_bf16_to_f32(p7[t1]) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t1]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t1]) + kiln_bf16_to_f32(p2[e1]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 40) * 128) + e1)]) + kiln_bf16_to_f32(p3[e1]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t1]))))));
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
      const int t2 = (e13 + (row * 64));
      const float t3 = kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p8[row]) * 0.0156250000f)) + 1.19209290e-7f))));
      const float t4 = kiln_round_bf16((1.0f / t3));
      const float t5 = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 40) * 128) + e13)]) + kiln_bf16_to_f32(p3[e13]))) + 1.00000000f));
      const float t6 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((acc0 * kiln_round_bf16((t4 * t4)))))) * kiln_round_bf16((1.0f / kiln_round_bf16((t3 * 2.00000000f)))))) * 0.0156250000f)) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t2]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t2]) + kiln_bf16_to_f32(p2[e13]))) * t5)))) + kiln_bf16_to_f32(p1[t2])))));
      const float t7 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p7[t2]) * t4)) + t6)) + t6));
      p10[t2] = kiln_f32_to_bf16(t7);
      const float t8 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 0.000195312503f)) * kiln_bf16_to_f32(p6[t2])));
      p9[t2] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((t8 + t8)) + t7)) * t5)));
    }
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m80n64k64_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 80, N = 64, K = 64;
  // gemm_80x64_15: gemm: dot[80,64]
  const float result = acc;
  return result;
}

// template kernel attention_bwd_delta_b2h2q40k40d32

// template kernel attention_bwd_b2h2q40k40d32_64x64

// template kernel attention_bwd_dq_b2h2q40k40d32

// reduce_2x40x64_20: reduce: sum[2,40,1], mul[2,40,1], add[2,40,64], add[2,40,64], add[2,40,64]
// parameters: p0 = buffer 0 (bf16[5120]), p1 = buffer 1 (bf16[5120]), p2 = buffer 27 (bf16[5120]), p3 = buffer 38 (bf16[5120]), p4 = buffer 39 (bf16[5120]), p5 = buffer 40 (bf16[5120]), p6 = buffer 41 (bf16[80]), p7 = buffer 42 (bf16[5120]), p8 = buffer 48 (bf16[5120]), p9 = buffer 49 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_20(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, const bf16_t* __restrict__ p6, const bf16_t* __restrict__ p7, bf16_t* __restrict__ p8, bf16_t* __restrict__ p9) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 80; row += 80) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 64; e1 += 32) {
      const int t1 = (e1 + (row * 64));
      acc0 = (acc0 + kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p3[t1]) + kiln_bf16_to_f32(p4[t1]))) + kiln_bf16_to_f32(p5[t1]))) * kiln_round_bf16((kiln_bf16_to_f32(p0[t1]) + kiln_bf16_to_f32(p1[t1]))))));
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
      const int t2 = (e13 + (row * 64));
      const float t3 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 0.000195312503f)) * kiln_bf16_to_f32(p2[t2])));
      const float t4 = kiln_bf16_to_f32(p7[t2]);
      const float t5 = kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p6[row]) * 0.0156250000f)) + 1.19209290e-7f))));
      const float t6 = kiln_round_bf16((1.0f / t5));
      const float t7 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((acc0 * kiln_round_bf16((t6 * t6)))))) * kiln_round_bf16((1.0f / kiln_round_bf16((t5 * 2.00000000f)))))) * 0.0156250000f)) * kiln_round_bf16((kiln_bf16_to_f32(p0[t2]) + kiln_bf16_to_f32(p1[t2])))));
      const float t8 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p3[t2]) + kiln_bf16_to_f32(p4[t2]))) + kiln_bf16_to_f32(p5[t2]))) * t6)) + t7)) + t7));
      p8[t2] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((t3 + t3)) + t4)) + t8)));
      p9[t2] = kiln_f32_to_bf16(kiln_round_bf16((t4 + t8)));
    }
  }
}

// reduce_2x40x64_21: reduce: sum[2,1,64]
// parameters: p0 = buffer 14 (bf16[64]), p1 = buffer 27 (bf16[5120]), p2 = buffer 43 (bf16[5120]), p3 = buffer 44 (bf16[128])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_21(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 128; g += 256) {
    p3[g] = kiln_f32_to_bf16(0.00000000f);
    for (int i1 = 0; i1 < 40; ++i1) {
      const int t0 = (g % 64);
      const int t1 = ((((g / 64) * 2560) + t0) + (i1 * 64));
      const float t2 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 0.000195312503f)) * kiln_bf16_to_f32(p1[t1])));
      p3[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p3[g]) + kiln_round_bf16((kiln_round_bf16((t2 + t2)) * kiln_round_bf16((kiln_bf16_to_f32(p2[t1]) + kiln_bf16_to_f32(p0[t0])))))));
    }
  }
}

// reduce_2x40x64_22: reduce: sum[2,1,64]
// parameters: p0 = buffer 10 (bf16[64]), p1 = buffer 23 (bf16[5120]), p2 = buffer 27 (bf16[5120]), p3 = buffer 42 (bf16[5120]), p4 = buffer 45 (bf16[128])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_22(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, bf16_t* __restrict__ p4) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 128; g += 256) {
    p4[g] = kiln_f32_to_bf16(0.00000000f);
    for (int i1 = 0; i1 < 40; ++i1) {
      const int t0 = (g % 64);
      const int t1 = ((((g / 64) * 2560) + t0) + (i1 * 64));
      const float t2 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 0.000195312503f)) * kiln_bf16_to_f32(p2[t1])));
      p4[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p4[g]) + kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((t2 + t2)) + kiln_bf16_to_f32(p3[t1]))) * kiln_round_bf16((kiln_bf16_to_f32(p1[t1]) + kiln_bf16_to_f32(p0[t0])))))));
    }
  }
}

// reduce_2x1x128_23: reduce: sum[1,1,128], add[2,1,128]
// parameters: p0 = buffer 44 (bf16[128]), p1 = buffer 45 (bf16[128]), p2 = buffer 46 (bf16[256]), p3 = buffer 50 (bf16[128])
extern "C" __global__ void __launch_bounds__(256) reduce_2x1x128_23(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((bid * 256) + tid); row < 128; row += 256) {
    float acc0 = 0.00000000f;
    for (int e1 = 0; e1 < 2; ++e1) {
      const int t0 = ((e1 * 64) + row);
      acc0 = (acc0 + kiln_round_bf16((((-1 < (row + -64)) ? kiln_bf16_to_f32(p0[(t0 + -64)]) : 0.00000000f) + ((row < 64) ? kiln_bf16_to_f32(p1[t0]) : 0.00000000f))));
    }
    p3[row] = kiln_f32_to_bf16(acc0);
    for (int e3 = 0; e3 < 2; ++e3) {
      const int t1 = ((e3 * 64) + row);
      p2[((e3 * 128) + row)] = kiln_f32_to_bf16(kiln_round_bf16((((-1 < (row + -64)) ? kiln_bf16_to_f32(p0[(t1 + -64)]) : 0.00000000f) + ((row < 64) ? kiln_bf16_to_f32(p1[t1]) : 0.00000000f))));
    }
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m2n64k128_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m2n64k128_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 2, N = 64, K = 128;
  // gemm_2x64_24: gemm: dot[2,64]
  const float result = acc;
  return result;
}

// gemm_64x64_25_pack_a: gemm: dot[64,64] (operand a packed for the tensor cores)
// parameters: p0 = buffer 37 (bf16[15360]), p1 = buffer 72 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) gemm_64x64_25_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 6; tile_index += 6) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 3);
    const int tile_k = (tile_index % 3);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 64) && ((((tile_k * 32) + t0) + t2) < 80)) ? kiln_bf16_to_f32(p0[(((((t0 * 64) + t1) + (tile_k * 2048)) + t3) + (j * 512))]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 64) && (((tid % 32) + (tile_k * 32)) < 80))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 80) + t5) + (batch_index * 5120)) + (tile_k * 32)) + (tile_r * 2560)) + (j * 640))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m64n64k80_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m64n64k80_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 64, N = 64, K = 80;
  // gemm_64x64_25: gemm: dot[64,64]
  const float result = acc;
  return result;
}

// reduce_2x40x64_26: reduce: sum[1,1,64]
// parameters: p0 = buffer 37 (bf16[15360]), p1 = buffer 53 (bf16[64])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_26(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 64; g += 256) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 80; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[((cm0 * 64) + g)])));
    }
  }
}

// gemm_64x64_27_pack_a: gemm: dot[64,64] (operand a packed for the tensor cores)
// parameters: p0 = buffer 37 (bf16[15360]), p1 = buffer 73 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) gemm_64x64_27_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 6; tile_index += 6) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 3);
    const int tile_k = (tile_index % 3);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 64) && ((((tile_k * 32) + t0) + t2) < 80)) ? kiln_bf16_to_f32(p0[((((((t0 * 64) + t1) + (tile_k * 2048)) + t3) + (j * 512)) + 5120)]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 64) && (((tid % 32) + (tile_k * 32)) < 80))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 80) + t5) + (batch_index * 5120)) + (tile_k * 32)) + (tile_r * 2560)) + (j * 640))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// reduce_2x40x64_28: reduce: sum[1,1,64]
// parameters: p0 = buffer 37 (bf16[15360]), p1 = buffer 55 (bf16[64])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_28(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 64; g += 256) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 80; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[(((cm0 * 64) + g) + 5120)])));
    }
  }
}

// gemm_64x64_29_pack_a: gemm: dot[64,64] (operand a packed for the tensor cores)
// parameters: p0 = buffer 37 (bf16[15360]), p1 = buffer 74 (bf16[5120])
extern "C" __global__ void __launch_bounds__(256) gemm_64x64_29_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 6; tile_index += 6) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 3);
    const int tile_k = (tile_index % 3);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 64) && ((((tile_k * 32) + t0) + t2) < 80)) ? kiln_bf16_to_f32(p0[((((((t0 * 64) + t1) + (tile_k * 2048)) + t3) + (j * 512)) + 10240)]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 64) && (((tid % 32) + (tile_k * 32)) < 80))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 80) + t5) + (batch_index * 5120)) + (tile_k * 32)) + (tile_r * 2560)) + (j * 640))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// reduce_2x40x64_30: reduce: sum[1,1,64]
// parameters: p0 = buffer 37 (bf16[15360]), p1 = buffer 57 (bf16[64])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x64_30(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 64; g += 256) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 80; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[(((cm0 * 64) + g) + 10240)])));
    }
  }
}

// gemm_192x64_33_pack_a: gemm: dot[192,64] (operand a packed for the tensor cores)
// parameters: p0 = buffer 32 (bf16[15360]), p1 = buffer 76 (bf16[15360])
extern "C" __global__ void __launch_bounds__(256) gemm_192x64_33_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 18; tile_index += 18) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 3);
    const int tile_k = (tile_index % 3);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 192) && ((((tile_k * 32) + t0) + t2) < 80)) ? kiln_bf16_to_f32(p0[(((((t0 * 192) + t1) + (tile_k * 6144)) + t3) + (j * 1536))]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 192) && (((tid % 32) + (tile_k * 32)) < 80))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 80) + t5) + (batch_index * 15360)) + (tile_k * 32)) + (tile_r * 2560)) + (j * 640))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m192n64k80_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m192n64k80_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 192, N = 64, K = 80;
  // gemm_192x64_33: gemm: dot[192,64]
  const float result = acc;
  return result;
}

// reduce_2x40x192_34: reduce: sum[1,1,192]
// parameters: p0 = buffer 32 (bf16[15360]), p1 = buffer 61 (bf16[192])
extern "C" __global__ void __launch_bounds__(256) reduce_2x40x192_34(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 192; g += 256) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 80; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[((cm0 * 192) + g)])));
    }
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m64n192k80_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m64n192k80_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 64, N = 192, K = 80;
  // gemm_64x192_35: gemm: dot[64,192]
  const float result = acc;
  return result;
}

// gemm_128x64_37_pack_a: gemm: dot[128,64] (operand a packed for the tensor cores)
// parameters: p0 = buffer 46 (bf16[256]), p1 = buffer 78 (bf16[256])
extern "C" __global__ void __launch_bounds__(256) gemm_128x64_37_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 4; tile_index += 4) {
    const int batch_index = 0;
    const int tile_r = tile_index;
    const int tile_k = 0;
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 128) && ((((tile_k * 32) + t0) + t2) < 2)) ? kiln_bf16_to_f32(p0[(((((t0 * 128) + t1) + (tile_k * 4096)) + t3) + (j * 1024))]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 128) && (((tid % 32) + (tile_k * 32)) < 2))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 2) + t5) + (batch_index * 256)) + (tile_k * 32)) + (tile_r * 64)) + (j * 16))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m128n64k2_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m128n64k2_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 128, N = 64, K = 2;
  // gemm_128x64_37: gemm: dot[128,64]
  const float result = acc;
  return result;
}
