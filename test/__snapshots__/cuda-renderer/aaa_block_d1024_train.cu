// 34 kernels, 48 launches, workspace 20447232 bytes
// launch reduce_8x384x1024_0 <<<384x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b18, p3=b41)
// launch gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e94f38c443a61_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b18, B=b3, C=b19, e0=b4)
// launch gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e94f38c443a61_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b18, B=b5, C=b20, e0=b6)
// launch gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e94f38c443a61_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b18, B=b7, C=b21, e0=b8)
// launch attention_fwd_b8h32q384k384d32_64x64 <<<6x32x8, 128x1x1, 20480>>> (Q=b19, K=b20, V=b21, O=b22, LSE=b65)
// launch gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b22, B=b9, C=b23)
// launch gemm_mma_bf16_tn_64x64x32_s3_w4_m8n2048k1024_e658db7a44c9a_obf16 <<<32x1x1, 128x1x1, 24576>>> (A=b2, B=b15, C=b24)
// launch reduce_8x384x1024_7 <<<384x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b10, p3=b16, p4=b23, p5=b24, p6=b25, p7=b34)
// launch gemm_mma_bf16_tn_128x256x32_s3_w8_m3072n3072k1024_e6daa54fac251_obf16 <<<288x1x1, 256x1x1, 73728>>> (A=b25, B=b11, C=b30, e0=b12, e1=b26, e2=b29)
// launch gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k3072_e5e85034e5a42_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b26, B=b13, C=b43, e0=b0, e1=b10, e2=b14, e3=b16, e4=b17, e5=b23, e6=b24, e7=b27, e8=b31)
// launch reduce_8x384x1024_10 <<<1x1x1, 256x1x1, 0>>> (p0=b27, p1=b28)
// launch pointwise_scalar_11 <<<1x1x1, 256x1x1, 0>>> (p0=b28, p1=b47)
// launch gemm_mma_bf16_nn_128x256x32_s3_w8_m3072n3072k1024_ee686b770033e_obf16 <<<288x1x1, 256x1x1, 73728>>> (A=b31, B=b13, C=b32, e0=b12, e1=b29, e2=b30)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k3072_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b32, B=b11, C=b33)
// launch reduce_8x384x1024_14 <<<384x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b10, p3=b16, p4=b23, p5=b24, p6=b27, p7=b33, p8=b34, p9=b35, p10=b42)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b35, B=b9, C=b36)
// launch attention_fwd_b8h32q384k384d32_64x64 <<<6x32x8, 128x1x1, 20480>>> (Q=b19, K=b20, V=b21, O=b71, LSE=b68)
// launch attention_bwd_delta_b8h32q384k384d32 <<<12288x1x1, 256x1x1, 0>>> (O=b22, dO=b36, Delta=b69, dQ_acc=b70)
// launch attention_bwd_b8h32q384k384d32_64x64 <<<6x32x8, 128x1x1, 33792>>> (Q=b19, K=b20, V=b21, dO=b36, LSE=b68, Delta=b69, dQ_acc=b70, dK=b37+6291456, dV=b37+12582912)
// launch attention_bwd_dq_b8h32q384k384d32 <<<3072x1x1, 256x1x1, 0>>> (dQ_acc=b70, dQ=b37)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b37+12582912, B=b7, C=b38)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b37+6291456, B=b5, C=b39)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b37, B=b3, C=b40)
// launch reduce_8x384x1024_20 <<<384x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b27, p3=b38, p4=b39, p5=b40, p6=b41, p7=b42, p8=b48, p9=b49)
// launch reduce_8x384x1024_21 <<<32x1x1, 256x1x1, 0>>> (p0=b14, p1=b27, p2=b43, p3=b44)
// launch reduce_8x384x1024_22 <<<32x1x1, 256x1x1, 0>>> (p0=b10, p1=b23, p2=b27, p3=b42, p4=b45)
// launch reduce_8x1x2048_23 <<<256x1x1, 256x1x1, 0>>> (p0=b44, p1=b45, p2=b46, p3=b50)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m8n1024k2048_e658db7a44c9a_obf16 <<<16x1x1, 128x1x1, 24576>>> (A=b46, B=b15, C=b51)
// launch gemm_1024x1024_25_pack_a <<<3072x1x1, 256x1x1, 0>>> (p0=b37, p1=b72)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m1024n1024k3072_e658db7a44c9a_obf16 <<<256x1x1, 128x1x1, 24576>>> (A=b72, B=b18, C=b52)
// launch reduce_8x384x1024_26 <<<4x1x1, 256x1x1, 0>>> (p0=b37, p1=b53)
// launch gemm_1024x1024_27_pack_a <<<3072x1x1, 256x1x1, 0>>> (p0=b37, p1=b73)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m1024n1024k3072_e658db7a44c9a_obf16 <<<256x1x1, 128x1x1, 24576>>> (A=b73, B=b18, C=b54)
// launch reduce_8x384x1024_28 <<<4x1x1, 256x1x1, 0>>> (p0=b37, p1=b55)
// launch gemm_1024x1024_29_pack_a <<<3072x1x1, 256x1x1, 0>>> (p0=b37, p1=b74)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m1024n1024k3072_e658db7a44c9a_obf16 <<<256x1x1, 128x1x1, 24576>>> (A=b74, B=b18, C=b56)
// launch reduce_8x384x1024_30 <<<4x1x1, 256x1x1, 0>>> (p0=b37, p1=b57)
// launch gemm_1024x1024_25_pack_a <<<3072x1x1, 256x1x1, 0>>> (p0=b35, p1=b75)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m1024n1024k3072_e658db7a44c9a_obf16 <<<256x1x1, 128x1x1, 24576>>> (A=b75, B=b22, C=b58)
// launch reduce_8x384x1024_26 <<<4x1x1, 256x1x1, 0>>> (p0=b35, p1=b59)
// launch gemm_3072x1024_33_pack_a <<<4096x1x1, 256x1x1, 0>>> (p0=b32, p1=b76)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k3072_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b76, B=b25, C=b60)
// launch reduce_8x384x3072_34 <<<12x1x1, 256x1x1, 0>>> (p0=b32, p1=b61)
// launch gemm_1024x1024_25_pack_a <<<3072x1x1, 256x1x1, 0>>> (p0=b31, p1=b77)
// launch gemm_mma_bf16_nn_128x128x32_s3_w8_m1024n3072k3072_e658db7a44c9a_obf16 <<<192x1x1, 256x1x1, 49152>>> (A=b77, B=b26, C=b62)
// launch reduce_8x384x1024_26 <<<4x1x1, 256x1x1, 0>>> (p0=b31, p1=b63)
// launch gemm_2048x1024_37_pack_a <<<64x1x1, 256x1x1, 0>>> (p0=b46, p1=b78)
// launch gemm_mma_bf16_nn_64x64x32_s3_w4_m2048n1024k8_e658db7a44c9a_obf16 <<<512x1x1, 128x1x1, 24576>>> (A=b78, B=b2, C=b64)

// reduce_8x384x1024_0: reduce: sum[8,384,1], mul[8,384,1024]
// parameters: p0 = buffer 0 (bf16[3145728]), p1 = buffer 1 (bf16[3145728]), p2 = buffer 18 (bf16[3145728]), p3 = buffer 41 (bf16[3072])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_0(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 3072; row += 3072) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 1024; e1 += 32) {
      const int t1 = (e1 + (row * 1024));
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
    for (int e14 = t0; e14 < 1024; e14 += 32) {
      const int t3 = (e14 + (row * 1024));
      p2[t3] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t3]) + kiln_bf16_to_f32(p1[t3]))) * kiln_round_bf16((1.0f / kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((acc0 * 0.000976562500f)) + 1.19209290e-7f)))))))));
    }
  }
}

// template kernel gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e94f38c443a61_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e94f38c443a61_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0) {
  [[maybe_unused]] constexpr int M = 3072, N = 1024, K = 1024;
  // gemm_3072x1024_1: gemm: dot[3072,1024], add[8,384,1024]
  const int ej = col;
  const float result = kiln_round_bf16((acc + kiln_bf16_to_f32(e0[ej])));
  return result;
}

// template kernel attention_fwd_b8h32q384k384d32_64x64

// template kernel gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 3072, N = 1024, K = 1024;
  // gemm_3072x1024_5: gemm: dot[3072,1024]
  const float result = acc;
  return result;
}

// template kernel gemm_mma_bf16_tn_64x64x32_s3_w4_m8n2048k1024_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_64x64x32_s3_w4_m8n2048k1024_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 8, N = 2048, K = 1024;
  // gemm_8x2048_6: gemm: dot[8,2048]
  const float result = acc;
  return result;
}

// reduce_8x384x1024_7: reduce: sum[8,384,1], mul[8,384,1024]
// parameters: p0 = buffer 0 (bf16[3145728]), p1 = buffer 1 (bf16[3145728]), p2 = buffer 10 (bf16[1024]), p3 = buffer 16 (bf16[2048]), p4 = buffer 23 (bf16[3145728]), p5 = buffer 24 (bf16[16384]), p6 = buffer 25 (bf16[3145728]), p7 = buffer 34 (bf16[3072])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_7(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, bf16_t* __restrict__ p6, bf16_t* __restrict__ p7) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 3072; row += 3072) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 1024; e1 += 32) {
      const int t1 = (e1 + (row * 1024));
      const float t2 = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t1]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t1]) + kiln_bf16_to_f32(p2[e1]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 384) * 2048) + e1)]) + kiln_bf16_to_f32(p3[e1]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t1])));
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
    for (int e14 = t0; e14 < 1024; e14 += 32) {
      const int t3 = (e14 + (row * 1024));
      p6[t3] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t3]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t3]) + kiln_bf16_to_f32(p2[e14]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 384) * 2048) + e14)]) + kiln_bf16_to_f32(p3[e14]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t3]))) * kiln_round_bf16((1.0f / kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((acc0 * 0.000976562500f)) + 1.19209290e-7f)))))))));
    }
  }
}

// template kernel gemm_mma_bf16_tn_128x256x32_s3_w8_m3072n3072k1024_e6daa54fac251_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_128x256x32_s3_w8_m3072n3072k1024_e6daa54fac251_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, bf16_t* __restrict__ e1, bf16_t* __restrict__ e2) {
  [[maybe_unused]] constexpr int M = 3072, N = 3072, K = 1024;
  // gemm_3072x3072_8: gemm: dot[3072,3072], recip[8,384,3072], mul[8,384,3072]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 3072) + ej);
  const float t1 = kiln_round_bf16((acc + kiln_bf16_to_f32(e0[ej])));
  const float t2 = kiln_round_bf16((1.0f / kiln_round_bf16((kiln_round_bf16(exp2f(kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16(kiln_maxf(t1, -80.0000000f)))) * 1.44269502f)))) + 1.00000000f))));
  e2[t0] = kiln_f32_to_bf16(t2);
  e1[t0] = kiln_f32_to_bf16(kiln_round_bf16((t1 * t2)));
  const float result = acc;
  return result;
}

// template kernel gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k3072_e5e85034e5a42_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_tn_128x128x32_s3_w8_m3072n1024k3072_e5e85034e5a42_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, const bf16_t* __restrict__ e1, const bf16_t* __restrict__ e2, const bf16_t* __restrict__ e3, const bf16_t* __restrict__ e4, const bf16_t* __restrict__ e5, const bf16_t* __restrict__ e6, bf16_t* __restrict__ e7, bf16_t* __restrict__ e8) {
  [[maybe_unused]] constexpr int M = 3072, N = 1024, K = 3072;
  // gemm_3072x1024_9: gemm: dot[3072,1024], add[8,384,1024], mul[8,384,1024]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 1024) + ej);
  const int t1 = (((ei / 384) * 2048) + ej);
  const float t2 = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e6[(t1 + 1024)]) + kiln_bf16_to_f32(e3[(ej + 1024)]))) + 1.00000000f));
  const float t3 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e0[t0]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e5[t0]) + kiln_bf16_to_f32(e1[ej]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(e6[t1]) + kiln_bf16_to_f32(e3[ej]))) + 1.00000000f)))))) + kiln_round_bf16((kiln_round_bf16((acc + kiln_bf16_to_f32(e2[ej]))) * t2)))) + kiln_round_bf16((-kiln_bf16_to_f32(e4[t0])))));
  e7[t0] = kiln_f32_to_bf16(t3);
  const float t4 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 3.17891448e-7f)) * t3));
  e8[t0] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((t4 + t4)) * t2)));
  const float result = acc;
  return result;
}

// reduce_8x384x1024_10: reduce: sum[1,1,1]
// parameters: p0 = buffer 27 (bf16[3145728]), p1 = buffer 28 (bf16[1])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_10(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float partials_f32[32];
  for (int row = bid; row < 1; ++row) {
    float acc0 = 0.00000000f;
    for (int e1 = tid; e1 < 3145728; e1 += 256) {
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
    p1[0] = kiln_f32_to_bf16(kiln_round_bf16((kiln_bf16_to_f32(p0[0]) * 3.17891448e-7f)));
  }
}

// template kernel gemm_mma_bf16_nn_128x256x32_s3_w8_m3072n3072k1024_ee686b770033e_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_128x256x32_s3_w8_m3072n3072k1024_ee686b770033e_obf16_epilogue(float acc, int b, int row, int col, const bf16_t* __restrict__ e0, const bf16_t* __restrict__ e1, const bf16_t* __restrict__ e2) {
  [[maybe_unused]] constexpr int M = 3072, N = 3072, K = 1024;
  // gemm_3072x3072_12: gemm: dot[3072,3072], add[8,384,3072]
  const int ei = row;
  const int ej = col;
  const int t0 = ((ei * 3072) + ej);
  const float t1 = kiln_bf16_to_f32(e1[t0]);
  const float t2 = kiln_round_bf16((kiln_bf16_to_f32(e2[t0]) + kiln_bf16_to_f32(e0[ej])));
  const float result = kiln_round_bf16((kiln_round_bf16((acc * t1)) + kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((kiln_round_bf16((acc * t2)) * kiln_round_bf16((t1 * t1)))))) * kiln_round_bf16((kiln_round_bf16(exp2f(kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16(kiln_maxf(t2, -80.0000000f)))) * 1.44269502f)))) * 0.693147182f)))) * 1.44269502f)))) * kiln_round_bf16((kiln_round_bf16(((float)(-80.0000000f < t2))) + kiln_round_bf16((kiln_round_bf16(((float)(t2 == -80.0000000f))) * 0.500000000f))))))));
  return result;
}

// template kernel gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k3072_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k3072_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 3072, N = 1024, K = 3072;
  // gemm_3072x1024_13: gemm: dot[3072,1024]
  const float result = acc;
  return result;
}

// reduce_8x384x1024_14: reduce: sum[8,384,1], mul[8,384,1], add[8,384,1024], mul[8,384,1024]
// parameters: p0 = buffer 0 (bf16[3145728]), p1 = buffer 1 (bf16[3145728]), p2 = buffer 10 (bf16[1024]), p3 = buffer 16 (bf16[2048]), p4 = buffer 23 (bf16[3145728]), p5 = buffer 24 (bf16[16384]), p6 = buffer 27 (bf16[3145728]), p7 = buffer 33 (bf16[3145728]), p8 = buffer 34 (bf16[3072]), p9 = buffer 35 (bf16[3145728]), p10 = buffer 42 (bf16[3145728])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_14(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, const bf16_t* __restrict__ p6, const bf16_t* __restrict__ p7, const bf16_t* __restrict__ p8, bf16_t* __restrict__ p9, bf16_t* __restrict__ p10) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 3072; row += 3072) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 1024; e1 += 32) {
      const int t1 = (e1 + (row * 1024));
      acc0 = (acc0 + kiln_round_bf16((kiln_bf16_to_f32(p7[t1]) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t1]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t1]) + kiln_bf16_to_f32(p2[e1]))) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 384) * 2048) + e1)]) + kiln_bf16_to_f32(p3[e1]))) + 1.00000000f)))))) + kiln_bf16_to_f32(p1[t1]))))));
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
    for (int e13 = t0; e13 < 1024; e13 += 32) {
      const int t2 = (e13 + (row * 1024));
      const float t3 = kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p8[row]) * 0.000976562500f)) + 1.19209290e-7f))));
      const float t4 = kiln_round_bf16((1.0f / t3));
      const float t5 = kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p5[(((row / 384) * 2048) + e13)]) + kiln_bf16_to_f32(p3[e13]))) + 1.00000000f));
      const float t6 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((acc0 * kiln_round_bf16((t4 * t4)))))) * kiln_round_bf16((1.0f / kiln_round_bf16((t3 * 2.00000000f)))))) * 0.000976562500f)) * kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p0[t2]) + kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p4[t2]) + kiln_bf16_to_f32(p2[e13]))) * t5)))) + kiln_bf16_to_f32(p1[t2])))));
      const float t7 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p7[t2]) * t4)) + t6)) + t6));
      p10[t2] = kiln_f32_to_bf16(t7);
      const float t8 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 3.17891448e-7f)) * kiln_bf16_to_f32(p6[t2])));
      p9[t2] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((t8 + t8)) + t7)) * t5)));
    }
  }
}

// template kernel gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_128x128x32_s3_w8_m3072n1024k1024_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 3072, N = 1024, K = 1024;
  // gemm_3072x1024_15: gemm: dot[3072,1024]
  const float result = acc;
  return result;
}

// template kernel attention_bwd_delta_b8h32q384k384d32

// template kernel attention_bwd_b8h32q384k384d32_64x64

// template kernel attention_bwd_dq_b8h32q384k384d32

// reduce_8x384x1024_20: reduce: sum[8,384,1], mul[8,384,1], add[8,384,1024], add[8,384,1024], add[8,384,1024]
// parameters: p0 = buffer 0 (bf16[3145728]), p1 = buffer 1 (bf16[3145728]), p2 = buffer 27 (bf16[3145728]), p3 = buffer 38 (bf16[3145728]), p4 = buffer 39 (bf16[3145728]), p5 = buffer 40 (bf16[3145728]), p6 = buffer 41 (bf16[3072]), p7 = buffer 42 (bf16[3145728]), p8 = buffer 48 (bf16[3145728]), p9 = buffer 49 (bf16[3145728])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_20(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, const bf16_t* __restrict__ p4, const bf16_t* __restrict__ p5, const bf16_t* __restrict__ p6, const bf16_t* __restrict__ p7, bf16_t* __restrict__ p8, bf16_t* __restrict__ p9) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 3072; row += 3072) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 1024; e1 += 32) {
      const int t1 = (e1 + (row * 1024));
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
    for (int e13 = t0; e13 < 1024; e13 += 32) {
      const int t2 = (e13 + (row * 1024));
      const float t3 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 3.17891448e-7f)) * kiln_bf16_to_f32(p2[t2])));
      const float t4 = kiln_bf16_to_f32(p7[t2]);
      const float t5 = kiln_round_bf16(sqrtf(kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p6[row]) * 0.000976562500f)) + 1.19209290e-7f))));
      const float t6 = kiln_round_bf16((1.0f / t5));
      const float t7 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((-kiln_round_bf16((acc0 * kiln_round_bf16((t6 * t6)))))) * kiln_round_bf16((1.0f / kiln_round_bf16((t5 * 2.00000000f)))))) * 0.000976562500f)) * kiln_round_bf16((kiln_bf16_to_f32(p0[t2]) + kiln_bf16_to_f32(p1[t2])))));
      const float t8 = kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((kiln_bf16_to_f32(p3[t2]) + kiln_bf16_to_f32(p4[t2]))) + kiln_bf16_to_f32(p5[t2]))) * t6)) + t7)) + t7));
      p8[t2] = kiln_f32_to_bf16(kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((t3 + t3)) + t4)) + t8)));
      p9[t2] = kiln_f32_to_bf16(kiln_round_bf16((t4 + t8)));
    }
  }
}

// reduce_8x384x1024_21: reduce: sum[8,1,1024]
// parameters: p0 = buffer 14 (bf16[1024]), p1 = buffer 27 (bf16[3145728]), p2 = buffer 43 (bf16[3145728]), p3 = buffer 44 (bf16[8192])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_21(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 8192; g += 8192) {
    p3[g] = kiln_f32_to_bf16(0.00000000f);
    for (int i1 = 0; i1 < 384; ++i1) {
      const int t0 = (g % 1024);
      const int t1 = ((((g / 1024) * 393216) + t0) + (i1 * 1024));
      const float t2 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 3.17891448e-7f)) * kiln_bf16_to_f32(p1[t1])));
      p3[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p3[g]) + kiln_round_bf16((kiln_round_bf16((t2 + t2)) * kiln_round_bf16((kiln_bf16_to_f32(p2[t1]) + kiln_bf16_to_f32(p0[t0])))))));
    }
  }
}

// reduce_8x384x1024_22: reduce: sum[8,1,1024]
// parameters: p0 = buffer 10 (bf16[1024]), p1 = buffer 23 (bf16[3145728]), p2 = buffer 27 (bf16[3145728]), p3 = buffer 42 (bf16[3145728]), p4 = buffer 45 (bf16[8192])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_22(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, const bf16_t* __restrict__ p2, const bf16_t* __restrict__ p3, bf16_t* __restrict__ p4) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 8192; g += 8192) {
    p4[g] = kiln_f32_to_bf16(0.00000000f);
    for (int i1 = 0; i1 < 384; ++i1) {
      const int t0 = (g % 1024);
      const int t1 = ((((g / 1024) * 393216) + t0) + (i1 * 1024));
      const float t2 = kiln_round_bf16((kiln_round_bf16((1.00000000f * 3.17891448e-7f)) * kiln_bf16_to_f32(p2[t1])));
      p4[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p4[g]) + kiln_round_bf16((kiln_round_bf16((kiln_round_bf16((t2 + t2)) + kiln_bf16_to_f32(p3[t1]))) * kiln_round_bf16((kiln_bf16_to_f32(p1[t1]) + kiln_bf16_to_f32(p0[t0])))))));
    }
  }
}

// reduce_8x1x2048_23: reduce: sum[1,1,2048], add[8,1,2048]
// parameters: p0 = buffer 44 (bf16[8192]), p1 = buffer 45 (bf16[8192]), p2 = buffer 46 (bf16[16384]), p3 = buffer 50 (bf16[2048])
extern "C" __global__ void __launch_bounds__(256) reduce_8x1x2048_23(const bf16_t* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int row = ((tid / 32) + (bid * 8)); row < 2048; row += 2048) {
    float acc0 = 0.00000000f;
    const int t0 = (tid % 32);
    for (int e1 = t0; e1 < 8; e1 += 32) {
      const int t1 = ((e1 * 1024) + row);
      acc0 = (acc0 + kiln_round_bf16((((-1 < (row + -1024)) ? kiln_bf16_to_f32(p0[(t1 + -1024)]) : 0.00000000f) + ((row < 1024) ? kiln_bf16_to_f32(p1[t1]) : 0.00000000f))));
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
    for (int e14 = t0; e14 < 8; e14 += 32) {
      const int t2 = ((e14 * 1024) + row);
      p2[((e14 * 2048) + row)] = kiln_f32_to_bf16(kiln_round_bf16((((-1 < (row + -1024)) ? kiln_bf16_to_f32(p0[(t2 + -1024)]) : 0.00000000f) + ((row < 1024) ? kiln_bf16_to_f32(p1[t2]) : 0.00000000f))));
    }
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m8n1024k2048_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m8n1024k2048_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 8, N = 1024, K = 2048;
  // gemm_8x1024_24: gemm: dot[8,1024]
  const float result = acc;
  return result;
}

// gemm_1024x1024_25_pack_a: gemm: dot[1024,1024] (operand a packed for the tensor cores)
// parameters: p0 = buffer 37 (bf16[9437184]), p1 = buffer 72 (bf16[3145728])
extern "C" __global__ void __launch_bounds__(256) gemm_1024x1024_25_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 3072; tile_index += 3072) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 96);
    const int tile_k = (tile_index % 96);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 1024) && ((((tile_k * 32) + t0) + t2) < 3072)) ? kiln_bf16_to_f32(p0[(((((t0 * 1024) + t1) + (tile_k * 32768)) + t3) + (j * 8192))]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 1024) && (((tid % 32) + (tile_k * 32)) < 3072))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 3072) + t5) + (batch_index * 3145728)) + (tile_k * 32)) + (tile_r * 98304)) + (j * 24576))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m1024n1024k3072_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m1024n1024k3072_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 1024, N = 1024, K = 3072;
  // gemm_1024x1024_25: gemm: dot[1024,1024]
  const float result = acc;
  return result;
}

// reduce_8x384x1024_26: reduce: sum[1,1,1024]
// parameters: p0 = buffer 37 (bf16[9437184]), p1 = buffer 53 (bf16[1024])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_26(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1024; g += 1024) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 3072; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[((cm0 * 1024) + g)])));
    }
  }
}

// gemm_1024x1024_27_pack_a: gemm: dot[1024,1024] (operand a packed for the tensor cores)
// parameters: p0 = buffer 37 (bf16[9437184]), p1 = buffer 73 (bf16[3145728])
extern "C" __global__ void __launch_bounds__(256) gemm_1024x1024_27_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 3072; tile_index += 3072) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 96);
    const int tile_k = (tile_index % 96);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 1024) && ((((tile_k * 32) + t0) + t2) < 3072)) ? kiln_bf16_to_f32(p0[((((((t0 * 1024) + t1) + (tile_k * 32768)) + t3) + (j * 8192)) + 3145728)]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 1024) && (((tid % 32) + (tile_k * 32)) < 3072))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 3072) + t5) + (batch_index * 3145728)) + (tile_k * 32)) + (tile_r * 98304)) + (j * 24576))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// reduce_8x384x1024_28: reduce: sum[1,1,1024]
// parameters: p0 = buffer 37 (bf16[9437184]), p1 = buffer 55 (bf16[1024])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_28(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1024; g += 1024) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 3072; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[(((cm0 * 1024) + g) + 3145728)])));
    }
  }
}

// gemm_1024x1024_29_pack_a: gemm: dot[1024,1024] (operand a packed for the tensor cores)
// parameters: p0 = buffer 37 (bf16[9437184]), p1 = buffer 74 (bf16[3145728])
extern "C" __global__ void __launch_bounds__(256) gemm_1024x1024_29_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 3072; tile_index += 3072) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 96);
    const int tile_k = (tile_index % 96);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 1024) && ((((tile_k * 32) + t0) + t2) < 3072)) ? kiln_bf16_to_f32(p0[((((((t0 * 1024) + t1) + (tile_k * 32768)) + t3) + (j * 8192)) + 6291456)]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 1024) && (((tid % 32) + (tile_k * 32)) < 3072))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 3072) + t5) + (batch_index * 3145728)) + (tile_k * 32)) + (tile_r * 98304)) + (j * 24576))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// reduce_8x384x1024_30: reduce: sum[1,1,1024]
// parameters: p0 = buffer 37 (bf16[9437184]), p1 = buffer 57 (bf16[1024])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x1024_30(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1024; g += 1024) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 3072; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[(((cm0 * 1024) + g) + 6291456)])));
    }
  }
}

// gemm_3072x1024_33_pack_a: gemm: dot[3072,1024] (operand a packed for the tensor cores)
// parameters: p0 = buffer 32 (bf16[9437184]), p1 = buffer 76 (bf16[9437184])
extern "C" __global__ void __launch_bounds__(256) gemm_3072x1024_33_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 9216; tile_index += 4096) {
    const int batch_index = 0;
    const int tile_r = (tile_index / 96);
    const int tile_k = (tile_index % 96);
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 3072) && ((((tile_k * 32) + t0) + t2) < 3072)) ? kiln_bf16_to_f32(p0[(((((t0 * 3072) + t1) + (tile_k * 98304)) + t3) + (j * 24576))]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 3072) && (((tid % 32) + (tile_k * 32)) < 3072))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 3072) + t5) + (batch_index * 9437184)) + (tile_k * 32)) + (tile_r * 98304)) + (j * 24576))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// reduce_8x384x3072_34: reduce: sum[1,1,3072]
// parameters: p0 = buffer 32 (bf16[9437184]), p1 = buffer 61 (bf16[3072])
extern "C" __global__ void __launch_bounds__(256) reduce_8x384x3072_34(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 3072; g += 3072) {
    p1[g] = kiln_f32_to_bf16(0.00000000f);
    for (int cm0 = 0; cm0 < 3072; ++cm0) {
      p1[g] = kiln_f32_to_bf16((kiln_bf16_to_f32(p1[g]) + kiln_bf16_to_f32(p0[((cm0 * 3072) + g)])));
    }
  }
}

// template kernel gemm_mma_bf16_nn_128x128x32_s3_w8_m1024n3072k3072_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_128x128x32_s3_w8_m1024n3072k3072_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 1024, N = 3072, K = 3072;
  // gemm_1024x3072_35: gemm: dot[1024,3072]
  const float result = acc;
  return result;
}

// gemm_2048x1024_37_pack_a: gemm: dot[2048,1024] (operand a packed for the tensor cores)
// parameters: p0 = buffer 46 (bf16[16384]), p1 = buffer 78 (bf16[16384])
extern "C" __global__ void __launch_bounds__(256) gemm_2048x1024_37_pack_a(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float staged[1056];
  for (int tile_index = bid; tile_index < 64; tile_index += 64) {
    const int batch_index = 0;
    const int tile_r = tile_index;
    const int tile_k = 0;
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int t0 = (tid / 32);
      const int t1 = (tid % 32);
      const int t2 = (j * 8);
      const int t3 = (tile_r * 32);
      staged[((t0 + (t1 * 33)) + t2)] = ((((t3 + t1) < 2048) && ((((tile_k * 32) + t0) + t2) < 8)) ? kiln_bf16_to_f32(p0[(((((t0 * 2048) + t1) + (tile_k * 65536)) + t3) + (j * 16384))]) : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int j = 0; j < 4; ++j) {
      if ((((((tid / 32) + (tile_r * 32)) + (j * 8)) < 2048) && (((tid % 32) + (tile_k * 32)) < 8))) {
        const int t4 = (tid / 32);
        const int t5 = (tid % 32);
        p1[((((((t4 * 8) + t5) + (batch_index * 16384)) + (tile_k * 32)) + (tile_r * 256)) + (j * 64))] = kiln_f32_to_bf16(staged[(((t4 * 33) + t5) + (j * 264))]);
      }
    }
    __syncthreads();
  }
}

// template kernel gemm_mma_bf16_nn_64x64x32_s3_w4_m2048n1024k8_e658db7a44c9a_obf16, its epilogue:
__device__ __forceinline__ float gemm_mma_bf16_nn_64x64x32_s3_w4_m2048n1024k8_e658db7a44c9a_obf16_epilogue(float acc, int b, int row, int col) {
  [[maybe_unused]] constexpr int M = 2048, N = 1024, K = 8;
  // gemm_2048x1024_37: gemm: dot[2048,1024]
  const float result = acc;
  return result;
}
