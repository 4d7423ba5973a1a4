// 8 kernels, 8 launches, workspace 0 bytes
// launch gemm_48x72_0 <<<2x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b2, p3=b4, p4=b6, p5=b7, p6=b8)
// launch gemm_48x24_1 <<<1x1x1, 256x1x1, 0>>> (p0=b3, p1=b4, p2=b5, p3=b9)
// launch reduce_48x24_2 <<<1x1x1, 256x1x1, 0>>> (p0=b5, p1=b11)
// launch gemm_48x72_3 <<<2x1x1, 256x1x1, 0>>> (p0=b2, p1=b3, p2=b6, p3=b7, p4=b8, p5=b9, p6=b10)
// launch gemm_48x40_4 <<<1x1x1, 256x1x1, 0>>> (p0=b1, p1=b10, p2=b12)
// launch gemm_72x40_5 <<<2x1x1, 256x1x1, 0>>> (p0=b0, p1=b10, p2=b13)
// launch reduce_48x72_6 <<<1x1x1, 256x1x1, 0>>> (p0=b10, p1=b14)
// launch gemm_24x72_7 <<<2x1x1, 256x1x1, 0>>> (p0=b4, p1=b9, p2=b15)

// gemm_48x72_0: gemm: dot[48,72], mul[48,72], recip[48,72], mul[48,72]
// parameters: p0 = buffer 0 (f32[1920]), p1 = buffer 1 (f32[2880]), p2 = buffer 2 (f32[72]), p3 = buffer 4 (f32[3456]), p4 = buffer 6 (f32[3456]), p5 = buffer 7 (f32[3456]), p6 = buffer 8 (f32[3456])
extern "C" __global__ void __launch_bounds__(256) gemm_48x72_0(const float* __restrict__ p0, const float* __restrict__ p1, const float* __restrict__ p2, float* __restrict__ p3, float* __restrict__ p4, float* __restrict__ p5, float* __restrict__ p6) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float a_tile[1024];
  __shared__ float b_tile[1024];
  float acc_tile[16];
  float a_frag[4];
  float b_frag[4];
  const int tile_m = 0;
  const int tile_n = bid;
  const int thread_m = (tid / 16);
  const int thread_n = (tid % 16);
  #pragma unroll
  for (int z = 0; z < 16; ++z) {
    acc_tile[z] = 0.00000000f;
  }
  for (int kt = 0; kt < 3; ++kt) {
    #pragma unroll
    for (int a_copy = 0; a_copy < 4; ++a_copy) {
      const int t0 = (tid / 16);
      const int t1 = (tid % 16);
      const int t2 = (a_copy * 16);
      const int t3 = (kt * 16);
      a_tile[((t0 + (t1 * 64)) + t2)] = (((((tile_m * 64) + (t0 + t2)) < 48) && ((t3 + t1) < 40)) ? p0[(((((t0 * 40) + t1) + (tile_m * 2560)) + (a_copy * 640)) + t3)] : 0.00000000f);
    }
    #pragma unroll
    for (int b_copy = 0; b_copy < 4; ++b_copy) {
      const int t4 = (tid / 16);
      const int t5 = (tid % 16);
      const int t6 = (b_copy * 16);
      const int t7 = (kt * 16);
      b_tile[((t4 + (t5 * 64)) + t6)] = (((((tile_n * 64) + (t4 + t6)) < 72) && ((t7 + t5) < 40)) ? p1[(((((t4 * 40) + t5) + (tile_n * 2560)) + (b_copy * 640)) + t7)] : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      #pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        #pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          const int t8 = ((ii * 4) + jj);
          acc_tile[t8] = (acc_tile[t8] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    __syncthreads();
  }
  #pragma unroll
  for (int ii = 0; ii < 4; ++ii) {
    #pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const int ei = (((thread_m * 4) + (tile_m * 64)) + ii);
      const int ej = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 48) && (ej < 72))) {
        const float acc = acc_tile[((ii * 4) + jj)];
        const int t9 = ((ei * 72) + ej);
        p4[t9] = acc;
        const float t10 = (acc + p2[ej]);
        const float t11 = (((t10 + (((t10 * t10) * t10) * 0.0447149985f)) * 0.797884583f) * 2.00000000f);
        p6[t9] = t11;
        const float t12 = (1.0f / (exp2f(((-kiln_maxf(t11, -80.0000000f)) * 1.44269502f)) + 1.00000000f));
        p5[t9] = t12;
        p3[t9] = ((t10 * 0.500000000f) * (((t12 * 2.00000000f) + -1.00000000f) + 1.00000000f));
      }
    }
  }
}

// gemm_48x24_1: gemm: dot[48,24], add[48,24]
// parameters: p0 = buffer 3 (f32[1728]), p1 = buffer 4 (f32[3456]), p2 = buffer 5 (f32[1152]), p3 = buffer 9 (f32[1152])
extern "C" __global__ void __launch_bounds__(256) gemm_48x24_1(const float* __restrict__ p0, const float* __restrict__ p1, float* __restrict__ p2, float* __restrict__ p3) {
  const int tid = threadIdx.x;
  __shared__ float a_tile[1024];
  __shared__ float b_tile[1024];
  float acc_tile[16];
  float a_frag[4];
  float b_frag[4];
  const int tile_m = 0;
  const int tile_n = 0;
  const int thread_m = (tid / 16);
  const int thread_n = (tid % 16);
  #pragma unroll
  for (int z = 0; z < 16; ++z) {
    acc_tile[z] = 0.00000000f;
  }
  for (int kt = 0; kt < 5; ++kt) {
    #pragma unroll
    for (int a_copy = 0; a_copy < 4; ++a_copy) {
      const int t0 = (tid / 16);
      const int t1 = (tid % 16);
      const int t2 = (a_copy * 16);
      const int t3 = (kt * 16);
      a_tile[((t0 + (t1 * 64)) + t2)] = (((((tile_m * 64) + (t0 + t2)) < 48) && ((t3 + t1) < 72)) ? p1[(((((t0 * 72) + t1) + (tile_m * 4608)) + (a_copy * 1152)) + t3)] : 0.00000000f);
    }
    #pragma unroll
    for (int b_copy = 0; b_copy < 4; ++b_copy) {
      const int t4 = (tid / 16);
      const int t5 = (tid % 16);
      const int t6 = (b_copy * 16);
      const int t7 = (kt * 16);
      b_tile[((t4 + (t5 * 64)) + t6)] = (((((tile_n * 64) + (t4 + t6)) < 24) && ((t7 + t5) < 72)) ? p0[(((((t4 * 72) + t5) + (tile_n * 4608)) + (b_copy * 1152)) + t7)] : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      #pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        #pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          const int t8 = ((ii * 4) + jj);
          acc_tile[t8] = (acc_tile[t8] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    __syncthreads();
  }
  #pragma unroll
  for (int ii = 0; ii < 4; ++ii) {
    #pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const int ei = (((thread_m * 4) + (tile_m * 64)) + ii);
      const int ej = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 48) && (ej < 24))) {
        const float acc = acc_tile[((ii * 4) + jj)];
        const int t9 = ((ei * 24) + ej);
        p2[t9] = acc;
        const float t10 = (1.00000000f * acc);
        p3[t9] = (t10 + t10);
      }
    }
  }
}

// reduce_48x24_2: reduce: sum[1,1]
// parameters: p0 = buffer 5 (f32[1152]), p1 = buffer 11 (f32[1])
extern "C" __global__ void __launch_bounds__(256) reduce_48x24_2(const float* __restrict__ p0, float* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float partials_f32[32];
  for (int row = bid; row < 1; ++row) {
    float acc0 = 0.00000000f;
    for (int e1 = tid; e1 < 1152; e1 += 256) {
      const float t0 = p0[e1];
      acc0 = (acc0 + (t0 * t0));
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
      p1[0] = acc0;
    }
  }
}

// gemm_48x72_3: gemm: dot[48,72], mul[48,72], add[48,72]
// parameters: p0 = buffer 2 (f32[72]), p1 = buffer 3 (f32[1728]), p2 = buffer 6 (f32[3456]), p3 = buffer 7 (f32[3456]), p4 = buffer 8 (f32[3456]), p5 = buffer 9 (f32[1152]), p6 = buffer 10 (f32[3456])
extern "C" __global__ void __launch_bounds__(256) gemm_48x72_3(const float* __restrict__ p0, const float* __restrict__ p1, const float* __restrict__ p2, const float* __restrict__ p3, const float* __restrict__ p4, const float* __restrict__ p5, float* __restrict__ p6) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float a_tile[1024];
  __shared__ float b_tile[1024];
  float acc_tile[16];
  float a_frag[4];
  float b_frag[4];
  const int tile_m = 0;
  const int tile_n = bid;
  const int thread_m = (tid / 16);
  const int thread_n = (tid % 16);
  #pragma unroll
  for (int z = 0; z < 16; ++z) {
    acc_tile[z] = 0.00000000f;
  }
  for (int kt = 0; kt < 2; ++kt) {
    #pragma unroll
    for (int a_copy = 0; a_copy < 4; ++a_copy) {
      const int t0 = (tid / 16);
      const int t1 = (tid % 16);
      const int t2 = (a_copy * 16);
      const int t3 = (kt * 16);
      a_tile[((t0 + (t1 * 64)) + t2)] = (((((tile_m * 64) + (t0 + t2)) < 48) && ((t3 + t1) < 24)) ? p5[(((((t0 * 24) + t1) + (tile_m * 1536)) + (a_copy * 384)) + t3)] : 0.00000000f);
    }
    #pragma unroll
    for (int b_copy = 0; b_copy < 4; ++b_copy) {
      const int t4 = (tile_n * 64);
      const int t5 = (tid % 64);
      const int t6 = (tid / 64);
      b_tile[((b_copy * 256) + tid)] = ((((t4 + t5) < 72) && (((kt * 16) + (t6 + (b_copy * 4))) < 24)) ? p1[(((((t6 * 72) + t5) + t4) + (b_copy * 288)) + (kt * 1152))] : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      #pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        #pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          const int t7 = ((ii * 4) + jj);
          acc_tile[t7] = (acc_tile[t7] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    __syncthreads();
  }
  #pragma unroll
  for (int ii = 0; ii < 4; ++ii) {
    #pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const int ei = (((thread_m * 4) + (tile_m * 64)) + ii);
      const int ej = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 48) && (ej < 72))) {
        const float acc = acc_tile[((ii * 4) + jj)];
        const int t8 = ((ei * 72) + ej);
        const float t9 = (p2[t8] + p0[ej]);
        const float t10 = p3[t8];
        const float t11 = p4[t8];
        const float t12 = ((((-(((-(((acc * (t9 * 0.500000000f)) * 2.00000000f) * (t10 * t10))) * (exp2f(((-kiln_maxf(t11, -80.0000000f)) * 1.44269502f)) * 0.693147182f)) * 1.44269502f)) * (((float)(-80.0000000f < t11)) + (((float)(t11 == -80.0000000f)) * 0.500000000f))) * 2.00000000f) * 0.797884583f);
        const float t13 = (t12 * 0.0447149985f);
        const float t14 = ((t13 * t9) * t9);
        p6[t8] = ((((t12 + (t13 * (t9 * t9))) + t14) + t14) + ((acc * (((t10 * 2.00000000f) + -1.00000000f) + 1.00000000f)) * 0.500000000f));
      }
    }
  }
}

// gemm_48x40_4: gemm: dot[48,40]
// parameters: p0 = buffer 1 (f32[2880]), p1 = buffer 10 (f32[3456]), p2 = buffer 12 (f32[1920])
extern "C" __global__ void __launch_bounds__(256) gemm_48x40_4(const float* __restrict__ p0, const float* __restrict__ p1, float* __restrict__ p2) {
  const int tid = threadIdx.x;
  __shared__ float a_tile[1024];
  __shared__ float b_tile[1024];
  float acc_tile[16];
  float a_frag[4];
  float b_frag[4];
  const int tile_m = 0;
  const int tile_n = 0;
  const int thread_m = (tid / 16);
  const int thread_n = (tid % 16);
  #pragma unroll
  for (int z = 0; z < 16; ++z) {
    acc_tile[z] = 0.00000000f;
  }
  for (int kt = 0; kt < 5; ++kt) {
    #pragma unroll
    for (int a_copy = 0; a_copy < 4; ++a_copy) {
      const int t0 = (tid / 16);
      const int t1 = (tid % 16);
      const int t2 = (a_copy * 16);
      const int t3 = (kt * 16);
      a_tile[((t0 + (t1 * 64)) + t2)] = (((((tile_m * 64) + (t0 + t2)) < 48) && ((t3 + t1) < 72)) ? p1[(((((t0 * 72) + t1) + (tile_m * 4608)) + (a_copy * 1152)) + t3)] : 0.00000000f);
    }
    #pragma unroll
    for (int b_copy = 0; b_copy < 4; ++b_copy) {
      const int t4 = (tile_n * 64);
      const int t5 = (tid % 64);
      const int t6 = (tid / 64);
      b_tile[((b_copy * 256) + tid)] = ((((t4 + t5) < 40) && (((kt * 16) + (t6 + (b_copy * 4))) < 72)) ? p0[(((((t6 * 40) + t5) + t4) + (b_copy * 160)) + (kt * 640))] : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      #pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        #pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          const int t7 = ((ii * 4) + jj);
          acc_tile[t7] = (acc_tile[t7] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    __syncthreads();
  }
  #pragma unroll
  for (int ii = 0; ii < 4; ++ii) {
    #pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const int ei = (((thread_m * 4) + (tile_m * 64)) + ii);
      const int ej = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 48) && (ej < 40))) {
        const float acc = acc_tile[((ii * 4) + jj)];
        p2[((ei * 40) + ej)] = acc;
      }
    }
  }
}

// gemm_72x40_5: gemm: dot[72,40]
// parameters: p0 = buffer 0 (f32[1920]), p1 = buffer 10 (f32[3456]), p2 = buffer 13 (f32[2880])
extern "C" __global__ void __launch_bounds__(256) gemm_72x40_5(const float* __restrict__ p0, const float* __restrict__ p1, float* __restrict__ p2) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float a_tile[1024];
  __shared__ float b_tile[1024];
  float acc_tile[16];
  float a_frag[4];
  float b_frag[4];
  const int tile_m = bid;
  const int tile_n = 0;
  const int thread_m = (tid / 16);
  const int thread_n = (tid % 16);
  #pragma unroll
  for (int z = 0; z < 16; ++z) {
    acc_tile[z] = 0.00000000f;
  }
  for (int kt = 0; kt < 3; ++kt) {
    #pragma unroll
    for (int a_copy = 0; a_copy < 4; ++a_copy) {
      const int t0 = (tile_m * 64);
      const int t1 = (tid % 64);
      const int t2 = (tid / 64);
      a_tile[((a_copy * 256) + tid)] = ((((t0 + t1) < 72) && (((kt * 16) + (t2 + (a_copy * 4))) < 48)) ? p1[(((((t2 * 72) + t1) + t0) + (a_copy * 288)) + (kt * 1152))] : 0.00000000f);
    }
    #pragma unroll
    for (int b_copy = 0; b_copy < 4; ++b_copy) {
      const int t3 = (tile_n * 64);
      const int t4 = (tid % 64);
      const int t5 = (tid / 64);
      b_tile[((b_copy * 256) + tid)] = ((((t3 + t4) < 40) && (((kt * 16) + (t5 + (b_copy * 4))) < 48)) ? p0[(((((t5 * 40) + t4) + t3) + (b_copy * 160)) + (kt * 640))] : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      #pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        #pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          const int t6 = ((ii * 4) + jj);
          acc_tile[t6] = (acc_tile[t6] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    __syncthreads();
  }
  #pragma unroll
  for (int ii = 0; ii < 4; ++ii) {
    #pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const int ei = (((thread_m * 4) + (tile_m * 64)) + ii);
      const int ej = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 72) && (ej < 40))) {
        const float acc = acc_tile[((ii * 4) + jj)];
        p2[((ei * 40) + ej)] = acc;
      }
    }
  }
}

// reduce_48x72_6: reduce: sum[1,72]
// parameters: p0 = buffer 10 (f32[3456]), p1 = buffer 14 (f32[72])
extern "C" __global__ void __launch_bounds__(256) reduce_48x72_6(const float* __restrict__ p0, float* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 72; g += 256) {
    p1[g] = 0.00000000f;
    for (int i0 = 0; i0 < 48; ++i0) {
      p1[g] = (p1[g] + p0[(g + (i0 * 72))]);
    }
  }
}

// gemm_24x72_7: gemm: dot[24,72]
// parameters: p0 = buffer 4 (f32[3456]), p1 = buffer 9 (f32[1152]), p2 = buffer 15 (f32[1728])
extern "C" __global__ void __launch_bounds__(256) gemm_24x72_7(const float* __restrict__ p0, const float* __restrict__ p1, float* __restrict__ p2) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  __shared__ float a_tile[1024];
  __shared__ float b_tile[1024];
  float acc_tile[16];
  float a_frag[4];
  float b_frag[4];
  const int tile_m = 0;
  const int tile_n = bid;
  const int thread_m = (tid / 16);
  const int thread_n = (tid % 16);
  #pragma unroll
  for (int z = 0; z < 16; ++z) {
    acc_tile[z] = 0.00000000f;
  }
  for (int kt = 0; kt < 3; ++kt) {
    #pragma unroll
    for (int a_copy = 0; a_copy < 4; ++a_copy) {
      const int t0 = (tile_m * 64);
      const int t1 = (tid % 64);
      const int t2 = (tid / 64);
      a_tile[((a_copy * 256) + tid)] = ((((t0 + t1) < 24) && (((kt * 16) + (t2 + (a_copy * 4))) < 48)) ? p1[(((((t2 * 24) + t1) + t0) + (a_copy * 96)) + (kt * 384))] : 0.00000000f);
    }
    #pragma unroll
    for (int b_copy = 0; b_copy < 4; ++b_copy) {
      const int t3 = (tile_n * 64);
      const int t4 = (tid % 64);
      const int t5 = (tid / 64);
      b_tile[((b_copy * 256) + tid)] = ((((t3 + t4) < 72) && (((kt * 16) + (t5 + (b_copy * 4))) < 48)) ? p0[(((((t5 * 72) + t4) + t3) + (b_copy * 288)) + (kt * 1152))] : 0.00000000f);
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        a_frag[ii] = a_tile[(((thread_m * 4) + ii) + (kk * 64))];
      }
      #pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        b_frag[jj] = b_tile[(((thread_n * 4) + jj) + (kk * 64))];
      }
      #pragma unroll
      for (int ii = 0; ii < 4; ++ii) {
        #pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          const int t6 = ((ii * 4) + jj);
          acc_tile[t6] = (acc_tile[t6] + (a_frag[ii] * b_frag[jj]));
        }
      }
    }
    __syncthreads();
  }
  #pragma unroll
  for (int ii = 0; ii < 4; ++ii) {
    #pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const int ei = (((thread_m * 4) + (tile_m * 64)) + ii);
      const int ej = (((thread_n * 4) + (tile_n * 64)) + jj);
      if (((ei < 24) && (ej < 72))) {
        const float acc = acc_tile[((ii * 4) + jj)];
        p2[((ei * 72) + ej)] = acc;
      }
    }
  }
}
