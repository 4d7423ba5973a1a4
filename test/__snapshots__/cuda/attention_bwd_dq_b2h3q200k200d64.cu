// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)

// attention_bwd_dq_b2h3q200k200d64: dQ = bf16(dQ_acc), 76800 elements.
extern "C" __global__ void __launch_bounds__(256) attention_bwd_dq_b2h3q200k200d64(const float* __restrict__ dQ_acc, bf16_t* __restrict__ dQ) {
  const long long i = ((long long)blockIdx.x * 256 + threadIdx.x) * 4;
  if (i >= 76800) return;
  const float4 v = *reinterpret_cast<const float4*>(dQ_acc + i);
  *reinterpret_cast<uint2*>(dQ + i) = make_uint2(pack_bf16x2(v.x, v.y), pack_bf16x2(v.z, v.w));
}
