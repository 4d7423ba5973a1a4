/* kiln CPU backend: the 16-lane float vector the GEMM and attention templates are written in.
 *
 * With AVX-512F these are the zmm intrinsics themselves. Elsewhere (AVX2 machines, and any other
 * target gcc compiles for) they are GCC vector extensions of the same 16 lanes, which gcc lowers
 * to whatever the target has (two ymm registers per vector with AVX2, FMA contracted from a*b+c
 * under -march=native); masked loads and stores become lane loops that touch only the live
 * lanes, so they never read or write past an array. Same results up to rounding order; the
 * templates pick a smaller micro-tile there (gemm.h), sized for 16 vector registers.
 *
 * kv: 16 floats. kmask: bit i selects lane i. Unaligned pointers are fine everywhere. */
#ifndef KILN_SIMD_H
#define KILN_SIMD_H

#include <stdint.h>

#if defined(__AVX512F__)
#include <immintrin.h>

#define KILN_SIMD_ISA "avx512f"
typedef __m512 kv;
typedef __mmask16 kmask;
static inline kv kv_zero(void) { return _mm512_setzero_ps(); }
static inline kv kv_set1(float x) { return _mm512_set1_ps(x); }
static inline kv kv_load(const float* p) { return _mm512_loadu_ps(p); }
static inline void kv_store(float* p, kv v) { _mm512_storeu_ps(p, v); }
/* Lanes outside m read as 0 (kv_loadz) or as `fill` (kv_load_or); memory there is not touched. */
static inline kv kv_loadz(kmask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
static inline kv kv_load_or(kv fill, kmask m, const float* p) { return _mm512_mask_loadu_ps(fill, m, p); }
static inline void kv_store_mask(float* p, kmask m, kv v) { _mm512_mask_storeu_ps(p, m, v); }
static inline kv kv_keep(kmask m, kv v) { return _mm512_maskz_mov_ps(m, v); }
static inline kv kv_add(kv a, kv b) { return _mm512_add_ps(a, b); }
static inline kv kv_sub(kv a, kv b) { return _mm512_sub_ps(a, b); }
static inline kv kv_mul(kv a, kv b) { return _mm512_mul_ps(a, b); }
static inline kv kv_fmadd(kv a, kv b, kv c) { return _mm512_fmadd_ps(a, b, c); }
static inline kv kv_max(kv a, kv b) { return _mm512_max_ps(a, b); }
static inline float kv_reduce_add(kv v) { return _mm512_reduce_add_ps(v); }
static inline float kv_reduce_max(kv v) { return _mm512_reduce_max_ps(v); }
static inline float kv_first(kv v) { return _mm512_cvtss_f32(v); }
/* Round to the nearest integer (ties to even), as a float. */
static inline kv kv_round(kv x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* p * 2^n for integral n; results below the normal range flush towards 0 as scalef does. */
static inline kv kv_scale2(kv p, kv n) { return _mm512_scalef_ps(p, n); }

#else

#define KILN_SIMD_ISA "generic"
/* Every function here is static inline, so the vector-argument ABI gcc warns about never crosses
 * a call boundary. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float kv __attribute__((vector_size(64)));
typedef int32_t kvi __attribute__((vector_size(64)));
typedef uint32_t kmask;
static inline kv kv_zero(void) { return (kv){0}; }
static inline kv kv_set1(float x) { return (kv){0} + x; }
static inline kv kv_load(const float* p) {
  kv v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
static inline void kv_store(float* p, kv v) { __builtin_memcpy(p, &v, sizeof v); }
static inline kv kv_load_or(kv fill, kmask m, const float* p) {
  if ((m & 0xFFFFu) == 0xFFFFu) return kv_load(p);
  for (int i = 0; i < 16; i++)
    if (m >> i & 1u) fill[i] = p[i];
  return fill;
}
static inline kv kv_loadz(kmask m, const float* p) { return kv_load_or(kv_zero(), m, p); }
static inline void kv_store_mask(float* p, kmask m, kv v) {
  if ((m & 0xFFFFu) == 0xFFFFu) {
    kv_store(p, v);
    return;
  }
  for (int i = 0; i < 16; i++)
    if (m >> i & 1u) p[i] = v[i];
}
static inline kv kv_keep(kmask m, kv v) {
  for (int i = 0; i < 16; i++)
    if (!(m >> i & 1u)) v[i] = 0.0f;
  return v;
}
static inline kv kv_add(kv a, kv b) { return a + b; }
static inline kv kv_sub(kv a, kv b) { return a - b; }
static inline kv kv_mul(kv a, kv b) { return a * b; }
static inline kv kv_fmadd(kv a, kv b, kv c) { return a * b + c; }
/* As _mm512_max_ps: the second operand where the comparison is false (either one NaN). */
static inline kv kv_max(kv a, kv b) {
  const kvi take_a = a > b;
  return (kv)(((kvi)a & take_a) | ((kvi)b & ~take_a));
}
static inline float kv_reduce_add(kv v) {
  float s = 0.0f;
  for (int i = 0; i < 16; i++) s += v[i];
  return s;
}
static inline float kv_reduce_max(kv v) {
  float m = v[0];
  for (int i = 1; i < 16; i++) m = v[i] > m ? v[i] : m;
  return m;
}
static inline float kv_first(kv v) { return v[0]; }
/* Adding and subtracting 1.5·2^23 rounds |x| < 2^22 to the nearest integer, ties to even (the
 * default rounding mode); the callers clamp x to that range first. */
static inline kv kv_round(kv x) {
  const kv magic = kv_set1(12582912.0f);
  return (x + magic) - magic;
}
/* p * 2^n for integral n and p in [0.5, 2): 2^n is built in the exponent bits as two factors,
 * each clamped to [-126, 127], so n down to -252 stays exact and larger |n| saturates to 0 or inf
 * as scalef does (denormal results are kept, not flushed: -O3 does not enable -ffast-math). */
static inline kv kv_clamp(kv x, float lo, float hi) { return kv_max(kv_set1(lo), kv_sub(kv_zero(), kv_max(kv_set1(-hi), kv_sub(kv_zero(), x)))); }
static inline kv kv_scale2(kv p, kv n) {
  const kv n1 = kv_clamp(n, -126.0f, 127.0f);
  const kv n2 = kv_clamp(kv_sub(n, n1), -126.0f, 127.0f);
  const kvi e1 = (__builtin_convertvector(n1, kvi) + 127) << 23;
  const kvi e2 = (__builtin_convertvector(n2, kvi) + 127) << 23;
  return p * (kv)e1 * (kv)e2;
}

#endif

/* Lanes 0..n-1 (none for n <= 0, all 16 for n >= 16). */
static inline kmask kv_lanes(long n) { return n >= 16 ? (kmask)0xFFFF : n <= 0 ? (kmask)0 : (kmask)((1u << n) - 1u); }

static inline void kv_prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

#endif /* KILN_SIMD_H */
