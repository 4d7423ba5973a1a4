#ifndef KILN_GENERATED_PRELUDE
#define KILN_GENERATED_PRELUDE
typedef unsigned short bf16_t;  // bf16 and f16 as raw 16-bit words
typedef unsigned short f16_t;
#define KILN_F32_INF __int_as_float(0x7f800000)
#define KILN_F32_NAN __int_as_float(0x7fc00000)
__device__ __forceinline__ float kiln_bf16_to_f32(bf16_t x) { return __uint_as_float(((unsigned)x) << 16); }
__device__ __forceinline__ bf16_t kiln_f32_to_bf16(float x) {  // round to nearest even
  bf16_t r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}
__device__ __forceinline__ float kiln_f16_to_f32(f16_t x) {
  float r;
  asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(x));
  return r;
}
__device__ __forceinline__ f16_t kiln_f32_to_f16(float x) {
  f16_t r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}
__device__ __forceinline__ float kiln_round_bf16(float x) { return kiln_bf16_to_f32(kiln_f32_to_bf16(x)); }
__device__ __forceinline__ float kiln_round_f16(float x) { return kiln_f16_to_f32(kiln_f32_to_f16(x)); }
// NaN-propagating max (the first operand's NaN wins), as the C backend's.
__device__ __forceinline__ float kiln_maxf(float a, float b) { return (a > b || a != a) ? a : b; }
// Atomic add to a 16-bit float: compare-and-swap on the aligned 32-bit word that holds it.
template <bool BF16>
__device__ __forceinline__ void kiln_atomic_add_16(unsigned short* address, float value) {
  unsigned* word = reinterpret_cast<unsigned*>(reinterpret_cast<size_t>(address) & ~static_cast<size_t>(3));
  const unsigned shift = (reinterpret_cast<size_t>(address) & 2) ? 16u : 0u;
  unsigned old = *word, assumed;
  do {
    assumed = old;
    const unsigned short bits = static_cast<unsigned short>(assumed >> shift);
    const float sum = (BF16 ? kiln_bf16_to_f32(bits) : kiln_f16_to_f32(bits)) + value;
    const unsigned short next = BF16 ? kiln_f32_to_bf16(sum) : kiln_f32_to_f16(sum);
    old = atomicCAS(word, assumed, (assumed & ~(0xffffu << shift)) | (static_cast<unsigned>(next) << shift));
  } while (assumed != old);
}
// kiln's Philox4x32-10 uniform (compiler/philox.ts): key (seed, 0), counter (i >> 2, offset, 0, 0),
// word i & 3, (bits >> 8) · 2^-24.
__device__ __forceinline__ float kiln_philox(unsigned seed, unsigned offset, unsigned i) {
  unsigned c0 = i >> 2, c1 = offset, c2 = 0u, c3 = 0u, k0 = seed, k1 = 0u;
  #pragma unroll
  for (int round = 0; round < 10; ++round) {
    const unsigned hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const unsigned hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  const unsigned w = (i & 3u) == 0u ? c0 : (i & 3u) == 1u ? c1 : (i & 3u) == 2u ? c2 : c3;
  return (float)(w >> 8) * 5.9604644775390625e-8f;
}
#endif
