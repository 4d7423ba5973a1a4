// 5 kernels, 5 launches, workspace 1536 bytes
// launch attention_2x19x32_0 <<<2x1x1, 128x1x1, 0>>> (p0=b0, p1=b1, p2=b2, p3=b4)
// launch pointwise_2x19x32_1 <<<5x1x1, 256x1x1, 0>>> (p0=b3, p1=b5)
// launch attention_bwd_2432_2_dq <<<2x1x1, 128x1x1, 0>>> (p0=b0, p1=b1, p2=b2, p3=b4, p4=b5, p5=b6, p6=b10, p7=b11)
// launch attention_bwd_2432_2_dkv <<<1x1x1, 128x1x1, 0>>> (p0=b0, p1=b1, p2=b2, p3=b4, p4=b5, p5=b6, p6=b10, p7=b11)
// launch multi_3_3 <<<5x1x1, 256x1x1, 0>>> (p0=b6, p1=b7, p2=b8, p3=b9)

// attention_2x19x32_0: attention: call[2,19,32]
// parameters: p0 = buffer 0 (f32[1216]), p1 = buffer 1 (f32[608]), p2 = buffer 2 (f32[608]), p3 = buffer 4 (f32[1216])
extern "C" __global__ void __launch_bounds__(128) attention_2x19x32_0(const float* __restrict__ p0, const float* __restrict__ p1, const float* __restrict__ p2, float* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  float o_acc[8];
  for (int r = ((bid * 128) + tid); r < 152; r += 256) {
    const int b = (r / 76);
    const int h = ((r / 19) % 4);
    const int qi = (r % 19);
    const int kvh = (h / 2);
    float row_max = (-KILN_F32_INF);
    float row_sum = 0.00000000f;
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      o_acc[d] = 0.00000000f;
    }
    for (int j = 0; j < 19; ++j) {
      if ((j < (qi + 1))) {
        float score = 0.00000000f;
        #pragma unroll
        for (int d = 0; d < 8; ++d) {
          score = (score + (p0[((((b * 608) + (h * 8)) + (qi * 32)) + d)] * p1[((((b * 304) + (kvh * 8)) + d) + (j * 16))]));
        }
        const float logit = (score * 0.510069728f);
        const float max_next = ((row_max < logit) ? logit : row_max);
        const float t0 = (-max_next);
        const float rescale = exp2f((row_max + t0));
        const float p = exp2f((logit + t0));
        row_sum = ((row_sum * rescale) + p);
        #pragma unroll
        for (int d = 0; d < 8; ++d) {
          o_acc[d] = ((o_acc[d] * rescale) + (p * p2[((((b * 304) + (kvh * 8)) + d) + (j * 16))]));
        }
        row_max = max_next;
      }
    }
    const float inv = ((0.00000000f < row_sum) ? (1.0f / row_sum) : 0.00000000f);
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      p3[((((b * 608) + (h * 8)) + (qi * 32)) + d)] = (o_acc[d] * inv);
    }
  }
}

// pointwise_2x19x32_1: pointwise: mul[2,19,32]
// parameters: p0 = buffer 3 (f32[1216]), p1 = buffer 5 (f32[1216])
extern "C" __global__ void __launch_bounds__(256) pointwise_2x19x32_1(const float* __restrict__ p0, float* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1216; g += 1280) {
    p1[g] = (1.00000000f * p0[g]);
  }
}

// attention_bwd_2432_2_dq: attention_bwd: call[2432] (log-sum-exp, Δ and dQ per query row)
// parameters: p0 = buffer 0 (f32[1216]), p1 = buffer 1 (f32[608]), p2 = buffer 2 (f32[608]), p3 = buffer 4 (f32[1216]), p4 = buffer 5 (f32[1216]), p5 = buffer 6 (f32[2432]), p6 = buffer 10 (f32[152]), p7 = buffer 11 (f32[152])
extern "C" __global__ void __launch_bounds__(128) attention_bwd_2432_2_dq(const float* __restrict__ p0, const float* __restrict__ p1, const float* __restrict__ p2, const float* __restrict__ p3, const float* __restrict__ p4, float* __restrict__ p5, float* __restrict__ p6, float* __restrict__ p7) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  float dq_acc[8];
  for (int r = ((bid * 128) + tid); r < 152; r += 256) {
    const int b = (r / 76);
    const int h = ((r / 19) % 4);
    const int qi = (r % 19);
    const int kvh = (h / 2);
    float row_max = (-KILN_F32_INF);
    float row_sum = 0.00000000f;
    for (int j = 0; j < 19; ++j) {
      if ((j < (qi + 1))) {
        float logit_dot = 0.00000000f;
        #pragma unroll
        for (int d = 0; d < 8; ++d) {
          logit_dot = (logit_dot + (p0[((((b * 608) + (h * 8)) + (qi * 32)) + d)] * p1[((((b * 304) + (kvh * 8)) + d) + (j * 16))]));
        }
        const float logit = (logit_dot * 0.510069728f);
        const float max_next = ((row_max < logit) ? logit : row_max);
        const float t0 = (-max_next);
        row_sum = ((row_sum * exp2f((row_max + t0))) + exp2f((logit + t0)));
        row_max = max_next;
      }
    }
    const float lse2 = ((0.00000000f < row_sum) ? (row_max + log2f(row_sum)) : KILN_F32_INF);
    float delta = 0.00000000f;
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      const int t1 = ((((b * 608) + (h * 8)) + (qi * 32)) + d);
      delta = (delta + (p4[t1] * p3[t1]));
    }
    p6[r] = lse2;
    p7[r] = delta;
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      dq_acc[d] = 0.00000000f;
    }
    for (int j = 0; j < 19; ++j) {
      if ((j < (qi + 1))) {
        float logit_dot = 0.00000000f;
        #pragma unroll
        for (int d = 0; d < 8; ++d) {
          logit_dot = (logit_dot + (p0[((((b * 608) + (h * 8)) + (qi * 32)) + d)] * p1[((((b * 304) + (kvh * 8)) + d) + (j * 16))]));
        }
        const float logit = (logit_dot * 0.510069728f);
        const float p = exp2f((logit + (-lse2)));
        float dp = 0.00000000f;
        #pragma unroll
        for (int d = 0; d < 8; ++d) {
          dp = (dp + (p4[((((b * 608) + (h * 8)) + (qi * 32)) + d)] * p2[((((b * 304) + (kvh * 8)) + d) + (j * 16))]));
        }
        const float ds = (p * (dp + (-delta)));
        #pragma unroll
        for (int d = 0; d < 8; ++d) {
          dq_acc[d] = (dq_acc[d] + (ds * p1[((((b * 304) + (kvh * 8)) + d) + (j * 16))]));
        }
      }
    }
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      p5[((((b * 608) + (h * 8)) + (qi * 32)) + d)] = (dq_acc[d] * 0.353553385f);
    }
  }
}

// attention_bwd_2432_2_dkv: attention_bwd: call[2432] (dK and dV per key row)
// parameters: p0 = buffer 0 (f32[1216]), p1 = buffer 1 (f32[608]), p2 = buffer 2 (f32[608]), p3 = buffer 4 (f32[1216]), p4 = buffer 5 (f32[1216]), p5 = buffer 6 (f32[2432]), p6 = buffer 10 (f32[152]), p7 = buffer 11 (f32[152])
extern "C" __global__ void __launch_bounds__(128) attention_bwd_2432_2_dkv(const float* __restrict__ p0, const float* __restrict__ p1, const float* __restrict__ p2, const float* __restrict__ p3, const float* __restrict__ p4, float* __restrict__ p5, float* __restrict__ p6, float* __restrict__ p7) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  float dk_acc[8];
  float dv_acc[8];
  for (int r = ((bid * 128) + tid); r < 76; r += 128) {
    const int b = (r / 38);
    const int kvh = ((r / 19) % 2);
    const int kj = (r % 19);
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      dk_acc[d] = 0.00000000f;
      dv_acc[d] = 0.00000000f;
    }
    for (int hh = 0; hh < 2; ++hh) {
      const int h = ((kvh * 2) + hh);
      for (int q = 0; q < 19; ++q) {
        if ((kj < (q + 1))) {
          float logit_dot = 0.00000000f;
          #pragma unroll
          for (int d = 0; d < 8; ++d) {
            logit_dot = (logit_dot + (p0[((((b * 608) + (h * 8)) + d) + (q * 32))] * p1[((((b * 304) + (kj * 16)) + (kvh * 8)) + d)]));
          }
          const float logit = (logit_dot * 0.510069728f);
          const int t0 = (((b * 76) + (h * 19)) + q);
          const float p = exp2f((logit + (-p6[t0])));
          float dp = 0.00000000f;
          #pragma unroll
          for (int d = 0; d < 8; ++d) {
            dp = (dp + (p4[((((b * 608) + (h * 8)) + d) + (q * 32))] * p2[((((b * 304) + (kj * 16)) + (kvh * 8)) + d)]));
          }
          const float ds = (p * (dp + (-p7[t0])));
          #pragma unroll
          for (int d = 0; d < 8; ++d) {
            const int t1 = ((((b * 608) + (h * 8)) + d) + (q * 32));
            dk_acc[d] = (dk_acc[d] + (ds * p0[t1]));
            dv_acc[d] = (dv_acc[d] + (p * p4[t1]));
          }
        }
      }
    }
    #pragma unroll
    for (int d = 0; d < 8; ++d) {
      const int kv_at = ((((b * 304) + (kj * 16)) + (kvh * 8)) + d);
      p5[(kv_at + 1216)] = (dk_acc[d] * 0.353553385f);
      p5[(kv_at + 1824)] = dv_acc[d];
    }
  }
}

// multi_3_3: multi: reshape[2,19,32], reshape[2,19,16], reshape[2,19,16]
// parameters: p0 = buffer 6 (f32[2432]), p1 = buffer 7 (f32[1216]), p2 = buffer 8 (f32[608]), p3 = buffer 9 (f32[608])
extern "C" __global__ void __launch_bounds__(256) multi_3_3(const float* __restrict__ p0, float* __restrict__ p1, float* __restrict__ p2, float* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  const int t0 = ((bid * 256) + tid);
  for (int g0 = t0; g0 < 1216; g0 += 1280) {
    p1[g0] = p0[g0];
  }
  for (int g1 = t0; g1 < 608; g1 += 1280) {
    p2[g1] = p0[(g1 + 1216)];
  }
  for (int g2 = t0; g2 < 608; g2 += 1280) {
    p3[g2] = p0[(g2 + 1824)];
  }
}
