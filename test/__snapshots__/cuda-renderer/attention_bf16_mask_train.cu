// 6 kernels, 7 launches, workspace 87808 bytes
// launch attention_fwd_b2h3q70k52d32_64x64_mask <<<2x3x2, 128x1x1, 20992>>> (Q=b0, K=b1, V=b2, O=b5, LSE=b11, key_mask=b3)
// launch pointwise_2x70x96_1 <<<53x1x1, 256x1x1, 0>>> (p0=b4, p1=b6)
// launch attention_fwd_b2h3q70k52d32_64x64_mask <<<2x3x2, 128x1x1, 20992>>> (Q=b0, K=b1, V=b2, O=b17, LSE=b14, key_mask=b3)
// launch attention_bwd_delta_b2h3q70k52d32 <<<53x1x1, 256x1x1, 0>>> (O=b5, dO=b6, Delta=b15, dQ_acc=b16)
// launch attention_bwd_b2h3q70k52d32_64x64_mask <<<1x3x2, 128x1x1, 34048>>> (Q=b0, K=b1, V=b2, dO=b6, LSE=b14, Delta=b15, dQ_acc=b16, dK=b7+26880, dV=b7+46848, key_mask=b3)
// launch attention_bwd_dq_b2h3q70k52d32 <<<14x1x1, 256x1x1, 0>>> (dQ_acc=b16, dQ=b7)
// launch multi_3_3 <<<53x1x1, 256x1x1, 0>>> (p0=b7, p1=b8, p2=b9, p3=b10)

// template kernel attention_fwd_b2h3q70k52d32_64x64_mask

// pointwise_2x70x96_1: pointwise: mul[2,70,96]
// parameters: p0 = buffer 4 (bf16[13440]), p1 = buffer 6 (bf16[13440])
extern "C" __global__ void __launch_bounds__(256) pointwise_2x70x96_1(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 13440; g += 13568) {
    p1[g] = kiln_f32_to_bf16(kiln_round_bf16((1.00000000f * kiln_bf16_to_f32(p0[g]))));
  }
}

// template kernel attention_bwd_delta_b2h3q70k52d32

// template kernel attention_bwd_b2h3q70k52d32_64x64_mask

// template kernel attention_bwd_dq_b2h3q70k52d32

// multi_3_3: multi: reshape[2,70,96], reshape[2,52,96], reshape[2,52,96]
// parameters: p0 = buffer 7 (bf16[33408]), p1 = buffer 8 (bf16[13440]), p2 = buffer 9 (bf16[9984]), p3 = buffer 10 (bf16[9984])
extern "C" __global__ void __launch_bounds__(256) multi_3_3(const bf16_t* __restrict__ p0, bf16_t* __restrict__ p1, bf16_t* __restrict__ p2, bf16_t* __restrict__ p3) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  const int t0 = ((bid * 256) + tid);
  for (int g0 = t0; g0 < 13440; g0 += 13568) {
    p1[g0] = kiln_f32_to_bf16(kiln_bf16_to_f32(p0[g0]));
  }
  for (int g1 = t0; g1 < 9984; g1 += 13568) {
    p2[g1] = kiln_f32_to_bf16(kiln_bf16_to_f32(p0[(g1 + 13440)]));
  }
  for (int g2 = t0; g2 < 9984; g2 += 13568) {
    p3[g2] = kiln_f32_to_bf16(kiln_bf16_to_f32(p0[(g2 + 23424)]));
  }
}
