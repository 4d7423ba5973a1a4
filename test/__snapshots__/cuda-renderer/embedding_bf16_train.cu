// 3 kernels, 3 launches, workspace 0 bytes
// launch pointwise_6x9x32_0 <<<7x1x1, 256x1x1, 0>>> (p0=b0, p1=b1, p2=b3)
// launch scatter_17x32_1_zero <<<3x1x1, 256x1x1, 0>>> (p0=b4)
// launch scatter_17x32_1 <<<7x1x1, 256x1x1, 0>>> (p0=b0, p1=b2, p2=b4)

// pointwise_6x9x32_0: pointwise: gather[6,9,32]
// parameters: p0 = buffer 0 (i32[54]), p1 = buffer 1 (bf16[544]), p2 = buffer 3 (bf16[1728])
extern "C" __global__ void __launch_bounds__(256) pointwise_6x9x32_0(const int* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1728; g += 1792) {
    p2[g] = kiln_f32_to_bf16(kiln_bf16_to_f32(p1[((g % 32) + (min(max(p0[(g / 32)], 0), 16) * 32))]));
  }
}

// scatter_17x32_1_zero: zero the output of scatter: scatter_add[17,32]
// parameters: p0 = buffer 4 (bf16[544])
extern "C" __global__ void __launch_bounds__(256) scatter_17x32_1_zero(bf16_t* __restrict__ p0) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 544; g += 768) {
    p0[g] = kiln_f32_to_bf16(0.00000000f);
  }
}

// scatter_17x32_1: scatter: scatter_add[17,32]
// parameters: p0 = buffer 0 (i32[54]), p1 = buffer 2 (bf16[1728]), p2 = buffer 4 (bf16[544])
extern "C" __global__ void __launch_bounds__(256) scatter_17x32_1(const int* __restrict__ p0, const bf16_t* __restrict__ p1, bf16_t* __restrict__ p2) {
  const int tid = threadIdx.x;
  const int bid = blockIdx.x;
  for (int g = ((bid * 256) + tid); g < 1728; g += 1792) {
    kiln_atomic_add_16<true>(&p2[((g % 32) + (min(max(p0[(g / 32)], 0), 16) * 32))], kiln_round_bf16((1.00000000f * kiln_bf16_to_f32(p1[g]))));
  }
}
