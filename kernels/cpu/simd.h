/* kiln CPU backend: the 16-lane float vector the GEMM and attention templates are written in.
 *
 * With AVX-512F these are the zmm intrinsics themselves. Elsewhere (AVX2 machines, and any other
 * target gcc compiles for) a vector is two 8-lane GCC vector extensions, which gcc lowers to what
 * the target has (one ymm register each with AVX2, FMA contracted from a*b+c under -march=native);
 * masked loads and stores become lane loops that touch only the live lanes, so they never read or
 * write past an array. Same results up to rounding order; the
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
/* Two 8-lane halves: gcc keeps each in one ymm register with AVX (a single 64-byte vector type
 * would be lowered piecewise through the stack, measured 10x slower). */
typedef float kv8 __attribute__((vector_size(32)));
typedef int32_t kvi8 __attribute__((vector_size(32)));
typedef struct {
  kv8 lo, hi;
} kv;
typedef uint32_t kmask;
static inline kv kv_pair(kv8 lo, kv8 hi) {
  kv r = {lo, hi};
  return r;
}
static inline kv kv_set1(float x) { return kv_pair((kv8){0} + x, (kv8){0} + x); }
static inline kv kv_zero(void) { return kv_set1(0.0f); }
static inline kv kv_load(const float* p) {
  kv v;
  __builtin_memcpy(&v.lo, p, sizeof v.lo);
  __builtin_memcpy(&v.hi, p + 8, sizeof v.hi);
  return v;
}
static inline void kv_store(float* p, kv v) {
  __builtin_memcpy(p, &v.lo, sizeof v.lo);
  __builtin_memcpy(p + 8, &v.hi, sizeof v.hi);
}
static inline kv kv_load_or(kv fill, kmask m, const float* p) {
  if ((m & 0xFFFFu) == 0xFFFFu) return kv_load(p);
  for (int i = 0; i < 8; i++) {
    if (m >> i & 1u) fill.lo[i] = p[i];
    if (m >> (i + 8) & 1u) fill.hi[i] = p[i + 8];
  }
  return fill;
}
static inline kv kv_loadz(kmask m, const float* p) { return kv_load_or(kv_zero(), m, p); }
static inline void kv_store_mask(float* p, kmask m, kv v) {
  if ((m & 0xFFFFu) == 0xFFFFu) {
    kv_store(p, v);
    return;
  }
  for (int i = 0; i < 8; i++) {
    if (m >> i & 1u) p[i] = v.lo[i];
    if (m >> (i + 8) & 1u) p[i + 8] = v.hi[i];
  }
}
static inline kv kv_keep(kmask m, kv v) {
  for (int i = 0; i < 8; i++) {
    if (!(m >> i & 1u)) v.lo[i] = 0.0f;
    if (!(m >> (i + 8) & 1u)) v.hi[i] = 0.0f;
  }
  return v;
}
static inline kv kv_add(kv a, kv b) { return kv_pair(a.lo + b.lo, a.hi + b.hi); }
static inline kv kv_sub(kv a, kv b) { return kv_pair(a.lo - b.lo, a.hi - b.hi); }
static inline kv kv_mul(kv a, kv b) { return kv_pair(a.lo * b.lo, a.hi * b.hi); }
static inline kv kv_fmadd(kv a, kv b, kv c) { return kv_pair(a.lo * b.lo + c.lo, a.hi * b.hi + c.hi); }
/* As _mm512_max_ps: the second operand where the comparison is false (either one NaN). */
static inline kv8 kv8_max(kv8 a, kv8 b) {
  const kvi8 take_a = a > b;
  return (kv8)(((kvi8)a & take_a) | ((kvi8)b & ~take_a));
}
static inline kv kv_max(kv a, kv b) { return kv_pair(kv8_max(a.lo, b.lo), kv8_max(a.hi, b.hi)); }
static inline float kv_reduce_add(kv v) {
  const kv8 s = v.lo + v.hi;
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}
static inline float kv_reduce_max(kv v) {
  const kv8 s = kv8_max(v.lo, v.hi);
  float m = s[0];
  for (int i = 1; i < 8; i++) m = s[i] > m ? s[i] : m;
  return m;
}
static inline float kv_first(kv v) { return v.lo[0]; }
/* Adding and subtracting 1.5·2^23 rounds |x| < 2^22 to the nearest integer, ties to even (the
 * default rounding mode); the callers clamp x to that range first. */
static inline kv kv_round(kv x) {
  const kv magic = kv_set1(12582912.0f);
  return kv_sub(kv_add(x, magic), magic);
}
static inline kv kv_clamp(kv x, float lo, float hi) { return kv_max(kv_set1(lo), kv_sub(kv_zero(), kv_max(kv_set1(-hi), kv_sub(kv_zero(), x)))); }
/* 2^n for integral n in [-126, 127], built in the exponent bits. */
static inline kv kv_pow2(kv n) {
  const kvi8 lo = (__builtin_convertvector(n.lo, kvi8) + 127) << 23, hi = (__builtin_convertvector(n.hi, kvi8) + 127) << 23;
  return kv_pair((kv8)lo, (kv8)hi);
}
/* p * 2^n for integral n and p in [0.5, 2): 2^n as two factors, each clamped to [-126, 127], so n
 * down to -252 stays exact and larger |n| saturates to 0 or inf as scalef does (denormal results
 * are kept, not flushed: -O3 does not enable -ffast-math). */
static inline kv kv_scale2(kv p, kv n) {
  const kv n1 = kv_clamp(n, -126.0f, 127.0f);
  const kv n2 = kv_clamp(kv_sub(n, n1), -126.0f, 127.0f);
  return kv_mul(kv_mul(p, kv_pow2(n1)), kv_pow2(n2));
}

#endif

/* Lanes 0..n-1 (none for n <= 0, all 16 for n >= 16). */
static inline kmask kv_lanes(long n) { return n >= 16 ? (kmask)0xFFFF : n <= 0 ? (kmask)0 : (kmask)((1u << n) - 1u); }

static inline void kv_prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

#endif /* KILN_SIMD_H */
