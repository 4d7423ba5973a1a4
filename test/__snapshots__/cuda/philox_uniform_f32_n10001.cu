// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)
#ifndef KILN_PHILOX
#define KILN_PHILOX
// Philox4x32-10 (Salmon et al., SC'11): ten rounds on a 4-word counter with a 2-word key, in place.
__device__ __forceinline__ void philox4x32_10(unsigned (&c)[4], unsigned k0, unsigned k1) {
  #pragma unroll
  for (int round = 0; round < 10; ++round) {
    const unsigned hi0 = __umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
    const unsigned hi1 = __umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
    c[0] = hi1 ^ c[1] ^ k0;
    c[1] = lo1;
    c[2] = hi0 ^ c[3] ^ k1;
    c[3] = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}
// The four words of element group i >> 2 of random node (seed, offset).
__device__ __forceinline__ void philox_words(unsigned (&w)[4], unsigned seed, unsigned offset, unsigned long long i) {
  w[0] = (unsigned)(i >> 2);
  w[1] = offset;
  w[2] = 0u;
  w[3] = 0u;
  philox4x32_10(w, seed, 0u);
}
__device__ __forceinline__ float philox_uniform_of(unsigned bits) { return (float)(bits >> 8) * 5.9604644775390625e-8f; }
// Box–Muller on two words; cos for the first element of the pair, sin for the second.
__device__ __forceinline__ float philox_normal_of(unsigned w0, unsigned w1, int odd) {
  const double u1 = ((double)w0 + 0.5) * 2.3283064365386963e-10;
  const double u2 = ((double)w1 + 0.5) * 2.3283064365386963e-10;
  const double radius = sqrt(-2.0 * log(u1));
  const double theta = 6.283185307179586 * u2;
  return (float)(odd ? radius * sin(theta) : radius * cos(theta));
}
__device__ __forceinline__ float philox_uniform(unsigned seed, unsigned offset, unsigned long long i) {
  unsigned w[4];
  philox_words(w, seed, offset, i);
  return philox_uniform_of(w[i & 3]);
}
__device__ __forceinline__ float philox_normal(unsigned seed, unsigned offset, unsigned long long i) {
  unsigned w[4];
  philox_words(w, seed, offset, i);
  const int pair = (int)(i & 3) >> 1;
  return philox_normal_of(w[2 * pair], w[2 * pair + 1], (int)(i & 1));
}
#endif

// philox_uniform_f32_n10001: out[i] = uniform(seed, offset, i) for i < 10001 (kiln's Philox definition), f32.
extern "C" __global__ void __launch_bounds__(256) philox_uniform_f32_n10001(float* __restrict__ out, unsigned seed, unsigned offset) {
  const unsigned long long group = (unsigned long long)blockIdx.x * 256 + threadIdx.x;
  if (group >= 2501ull) return;
  unsigned w[4];
  philox_words(w, seed, offset, group * 4);
  #pragma unroll
  for (int j = 0; j < 4; ++j) {
    const unsigned long long i = group * 4 + j;
    if (i < 10001ull) out[i] = philox_uniform_of(w[j]);
  }
}
