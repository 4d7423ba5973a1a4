/* kiln CPU backend: the SGEMM template. Generated C files paste this header in and call kiln_sgemm
 * for every dot node, passing an epilogue callback that fuses the dot's pointwise consumers.
 *
 * Structure (GotoBLAS/BLIS style): the C matrix of every batch item is cut into one rectangle per
 * task; a task loops over NC-wide column panels and KC-deep slices, packs the B slice (kc x nc)
 * and then MC-tall blocks of A (mc x kc) into contiguous, aligned buffers, and runs an MR x NR
 * register-tiled micro-kernel over them. Packing absorbs any operand strides, so transposed and
 * broadcast operands cost nothing extra beyond the (always performed) copy. Written in simd.h's
 * 16-lane vectors (pasted before this header): AVX-512 intrinsics where the compiler targets
 * AVX-512F, GCC vector extensions elsewhere. Needs OpenMP. */
#ifndef KILN_GEMM_H
#define KILN_GEMM_H

#ifndef KILN_SIMD_H
#error "kiln gemm.h needs simd.h pasted before it"
#endif
#if !defined(_OPENMP)
#error "kiln gemm.h needs OpenMP: compile with -fopenmp"
#endif

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Micro-tile: MR rows of C (at most 16) by NR columns (a multiple of 16). With AVX-512, 12 x 32
 * keeps 24 accumulators + 2 B vectors + a broadcast in the 32 zmm registers; on Zen 5 it measured
 * as fast as 14 x 32 and 6 x 64 (~92% of FMA peak on one core), and 12 divides the 384-token
 * sequences. Elsewhere (AVX2: 16 ymm registers, a 16-lane vector taking two) 6 x 16 keeps 12
 * accumulator registers + 2 for B + a broadcast. */
#if defined(__AVX512F__)
#ifndef KILN_GEMM_MR
#define KILN_GEMM_MR 12
#endif
#ifndef KILN_GEMM_NR
#define KILN_GEMM_NR 32
#endif
#else
#ifndef KILN_GEMM_MR
#define KILN_GEMM_MR 6
#endif
#ifndef KILN_GEMM_NR
#define KILN_GEMM_NR 16
#endif
#endif
/* Cache blocking: a kc x NR micro-panel of B stays in L1 while the mc x kc block of A streams
 * from L2; the kc x nc panel of B lives in L2/L3. MC must be a multiple of MR, NC of NR. */
#ifndef KILN_GEMM_MC
#define KILN_GEMM_MC 144
#endif
#ifndef KILN_GEMM_KC
#define KILN_GEMM_KC 256
#endif
#ifndef KILN_GEMM_NC
#define KILN_GEMM_NC 1024
#endif
/* The epilogue runs on column chunks this wide, right after the chunk's last micro-tiles. */
#ifndef KILN_GEMM_EPILOGUE_NC
#define KILN_GEMM_EPILOGUE_NC 128
#endif
/* Below this many flops a call runs on one thread: waking the team costs more than it saves. */
#ifndef KILN_GEMM_SERIAL_FLOPS
#define KILN_GEMM_SERIAL_FLOPS 200000.0
#endif

/* Rectangles per thread a parallel call is cut into, claimed one at a time: when another process
 * takes a core away from one thread for a while, the others take over its share instead of
 * waiting at the end of the call. 1 is one fixed rectangle per thread. */
#ifndef KILN_GEMM_SPLIT
#define KILN_GEMM_SPLIT 1
#endif

#define KILN_GEMM_NV (KILN_GEMM_NR / 16)

/* Called once per finished block of C (rows i0..i0+mb-1, columns j0..j0+nb-1 of batch item b)
 * after its last K slice, while the block is still in cache. `c` points at element (i0, j0). The
 * blocks of one call partition C exactly; different blocks may be handled by different threads
 * at the same time. */
typedef void (*kiln_gemm_epilogue_fn)(void* ctx, long b, long i0, long j0, long mb, long nb, float* c, long ldc);

/* For b in 0..batch-1: C_b = (or +=) A_b . B_b with A_b[m,k] = a[b*a_bs + m*a_rs + k*a_cs],
 * B_b[k,n] = b[b*b_bs + k*b_rs + n*b_cs] and C_b[m,n] = c[b*c_bs + m*ldc + n]. Batch strides
 * of 0 broadcast an operand. C blocks of different batch items must not overlap. */
typedef struct kiln_gemm_args {
  long batch, m, n, k;
  const float* a;
  long a_bs, a_rs, a_cs;
  const float* b;
  long b_bs, b_rs, b_cs;
  float* c;
  long c_bs, ldc;
  int accumulate; /* 0: C = A.B (C is never read), 1: C += A.B */
  kiln_gemm_epilogue_fn epilogue; /* NULL: none */
  void* epilogue_ctx;
} kiln_gemm_args;

/* ---- packing ---------------------------------------------------------------------------- */

#if defined(__AVX512F__)
/* In-register 16x16 transpose: r[i] holds row i on entry, column i on exit. */
static inline void kiln_transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    __m512d t0 = _mm512_castps_pd(t[4 * i]), t1 = _mm512_castps_pd(t[4 * i + 1]);
    __m512d t2 = _mm512_castps_pd(t[4 * i + 2]), t3 = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  /* u[4i+c], 128-bit lane L, holds column 4L+c of rows 4i..4i+3. */
  for (int c = 0; c < 4; c++) {
    __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
}
#endif

/* Packs a width x depth strip whose elements (w, d) sit at src[w*ws + d*ds] into dst[d*stride + w]
 * for w < width (lanes width..lanes-1 are zero-filled; lanes <= 16). This one routine packs both
 * A (width = rows, stride MR) and B (width = columns, stride NR). */
static void kiln_gemm_pack_strip(const float* src, long ws, long ds, long width, long depth, int lanes, long stride,
                                 float* restrict dst) {
  const kmask store = kv_lanes(lanes);
  if (ws == 1) {
    /* Contiguous along the packed width: one masked load per depth step. */
    const kmask load = kv_lanes(width);
    for (long d = 0; d < depth; d++) kv_store_mask(dst + d * stride, store, kv_loadz(load, src + d * ds));
  }
#if defined(__AVX512F__)
  else if (ds == 1) {
    /* Contiguous along depth: load 16 depth values of each of the (up to 16) rows, transpose. */
    for (long d0 = 0; d0 < depth; d0 += 16) {
      const long dn = depth - d0 < 16 ? depth - d0 : 16;
      const kmask load = kv_lanes(dn);
      __m512 r[16];
      for (int w = 0; w < 16; w++)
        r[w] = w < width ? _mm512_maskz_loadu_ps(load, src + w * ws + d0) : _mm512_setzero_ps();
      kiln_transpose16(r);
      for (long d = 0; d < dn; d++) _mm512_mask_storeu_ps(dst + (d0 + d) * stride, store, r[d]);
    }
  }
#else
  else if (ds == 1) {
    /* Contiguous along depth: read each row in order, write it down a packed column. */
    for (long w = 0; w < lanes; w++)
      for (long d = 0; d < depth; d++) dst[d * stride + w] = w < width ? src[w * ws + d] : 0.0f;
  }
#endif
  else {
    for (long d = 0; d < depth; d++)
      for (long w = 0; w < lanes; w++) dst[d * stride + w] = w < width ? src[w * ws + d * ds] : 0.0f;
  }
}

/* A block (mb x kb) -> ceil(mb/MR) micro-panels, each kb x MR (k-major), rows past mb zero. */
static void kiln_gemm_pack_a(const float* a, long rs, long cs, long mb, long kb, float* restrict ap) {
  for (long i = 0; i < mb; i += KILN_GEMM_MR) {
    const long rows = mb - i < KILN_GEMM_MR ? mb - i : KILN_GEMM_MR;
    kiln_gemm_pack_strip(a + i * rs, rs, cs, rows, kb, KILN_GEMM_MR, KILN_GEMM_MR, ap + i * kb);
  }
}

/* B slice (kb x nb) -> ceil(nb/NR) micro-panels, each kb x NR (k-major), columns past nb zero. */
static void kiln_gemm_pack_b(const float* b, long rs, long cs, long kb, long nb, float* restrict bp) {
  for (long j = 0; j < nb; j += KILN_GEMM_NR)
    for (long v = 0; v < KILN_GEMM_NR; v += 16)
      kiln_gemm_pack_strip(b + (j + v) * cs, cs, rs, nb - j - v, kb, 16, KILN_GEMM_NR, bp + j * kb + v);
}

/* ---- micro-kernel ----------------------------------------------------------------------- */

/* C[rows x cols] (= or +=) A[MR x kb] . B[kb x NR] for rows <= MR, cols <= NR, where A(i, k) is
 * a[i*a_rs + k*a_cs] (broadcast one scalar at a time, so any strides are fine) and row k of B is
 * the NR contiguous floats at b + k*b_rs. Packed GEMM operands are (a_rs, a_cs, b_rs) = (1, MR, NR);
 * the attention kernels also call it on row-major and transposed tiles. Always inlined so that
 * constant strides specialise it. */
static inline __attribute__((always_inline)) void kiln_gemm_micro(long kb, const float* restrict a, long a_rs,
                                                                  long a_cs, const float* restrict b, long b_rs,
                                                                  float* restrict c, long ldc, long rows, long cols,
                                                                  int load_c) {
  kv acc[KILN_GEMM_MR][KILN_GEMM_NV];
#pragma GCC unroll 16
  for (int i = 0; i < KILN_GEMM_MR; i++) {
    /* C's rows are far apart (ldc), so no hardware prefetcher fetches them: ask now, so the
     * misses overlap the k loop instead of stalling the final loads/stores. */
#pragma GCC unroll 4
    for (int v = 0; v < KILN_GEMM_NV; v++) {
      kv_prefetch(c + i * ldc + v * 16);
      acc[i][v] = kv_zero();
    }
  }
  for (long k = 0; k < kb; k++) {
    kv bv[KILN_GEMM_NV];
#pragma GCC unroll 4
    for (int v = 0; v < KILN_GEMM_NV; v++) bv[v] = kv_load(b + k * b_rs + v * 16);
#pragma GCC unroll 16
    for (int i = 0; i < KILN_GEMM_MR; i++) {
      const kv av = kv_set1(a[i * a_rs + k * a_cs]);
#pragma GCC unroll 4
      for (int v = 0; v < KILN_GEMM_NV; v++) acc[i][v] = kv_fmadd(av, bv[v], acc[i][v]);
    }
  }
  if (rows == KILN_GEMM_MR && cols == KILN_GEMM_NR) {
#pragma GCC unroll 16
    for (int i = 0; i < KILN_GEMM_MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < KILN_GEMM_NV; v++) {
        float* p = c + i * ldc + v * 16;
        kv_store(p, load_c ? kv_add(acc[i][v], kv_load(p)) : acc[i][v]);
      }
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < KILN_GEMM_MR; i++) {
      if (i >= rows) break;
#pragma GCC unroll 4
      for (int v = 0; v < KILN_GEMM_NV; v++) {
        const kmask m = kv_lanes(cols - v * 16);
        float* p = c + i * ldc + v * 16;
        kv_store_mask(p, m, load_c ? kv_add(acc[i][v], kv_loadz(m, p)) : acc[i][v]);
      }
    }
  }
}

/* ---- driver ----------------------------------------------------------------------------- */

/* Per-thread packing buffers, grown on demand and kept for the life of the thread (OpenMP reuses
 * its threads, so steady-state calls allocate nothing). */
static __thread float* kiln_gemm_buffer;
static __thread size_t kiln_gemm_buffer_floats;

static float* kiln_gemm_scratch(size_t floats) {
  if (floats > kiln_gemm_buffer_floats) {
    free(kiln_gemm_buffer);
    const size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
    kiln_gemm_buffer = (float*)aligned_alloc(64, bytes);
    kiln_gemm_buffer_floats = kiln_gemm_buffer ? floats : 0;
  }
  return kiln_gemm_buffer;
}

/* One task: rows [m0, m1) x columns [n0, n1) of batch item b, single-threaded. */
static void kiln_gemm_rectangle(const kiln_gemm_args* g, long b, long m0, long m1, long n0, long n1, float* bp,
                                float* ap) {
  const float* a = g->a + b * g->a_bs;
  const float* bm = g->b + b * g->b_bs;
  float* c = g->c + b * g->c_bs;
  const long ldc = g->ldc;
  if (g->k <= 0) {
    /* Empty contraction: the product is zero. */
    for (long i = m0; i < m1 && !g->accumulate; i++) memset(c + i * ldc + n0, 0, (size_t)(n1 - n0) * sizeof(float));
    if (g->epilogue) g->epilogue(g->epilogue_ctx, b, m0, n0, m1 - m0, n1 - n0, c + m0 * ldc + n0, ldc);
    return;
  }
  for (long jc = n0; jc < n1; jc += KILN_GEMM_NC) {
    const long nb = n1 - jc < KILN_GEMM_NC ? n1 - jc : KILN_GEMM_NC;
    for (long pc = 0; pc < g->k; pc += KILN_GEMM_KC) {
      const long kb = g->k - pc < KILN_GEMM_KC ? g->k - pc : KILN_GEMM_KC;
      const int load_c = g->accumulate || pc > 0;
      const int last = pc + kb >= g->k;
      kiln_gemm_pack_b(bm + pc * g->b_rs + jc * g->b_cs, g->b_rs, g->b_cs, kb, nb, bp);
      for (long ic = m0; ic < m1; ic += KILN_GEMM_MC) {
        const long mb = m1 - ic < KILN_GEMM_MC ? m1 - ic : KILN_GEMM_MC;
        kiln_gemm_pack_a(a + ic * g->a_rs + pc * g->a_cs, g->a_rs, g->a_cs, mb, kb, ap);
        for (long je = 0; je < nb; je += KILN_GEMM_EPILOGUE_NC) {
          const long ne = nb - je < KILN_GEMM_EPILOGUE_NC ? nb - je : KILN_GEMM_EPILOGUE_NC;
          for (long jr = je; jr < je + ne; jr += KILN_GEMM_NR) {
            const long cols = nb - jr < KILN_GEMM_NR ? nb - jr : KILN_GEMM_NR;
            for (long ir = 0; ir < mb; ir += KILN_GEMM_MR) {
              const long rows = mb - ir < KILN_GEMM_MR ? mb - ir : KILN_GEMM_MR;
              kiln_gemm_micro(kb, ap + ir * kb, 1, KILN_GEMM_MR, bp + jr * kb, KILN_GEMM_NR, c + (ic + ir) * ldc + jc + jr,
                              ldc, rows, cols, load_c);
            }
          }
          if (last && g->epilogue)
            g->epilogue(g->epilogue_ctx, b, ic, jc + je, mb, ne, c + ic * ldc + jc + je, ldc);
        }
      }
    }
  }
}

static long kiln_gemm_ceil(long x, long y) { return (x + y - 1) / y; }

static long kiln_gemm_gcd(long x, long y) {
  while (y) {
    const long t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/* Returns 0, or -1 when no thread could allocate its packing buffers (C is then not written). */
static int kiln_sgemm(const kiln_gemm_args* g) {
  if (g->batch <= 0 || g->m <= 0 || g->n <= 0) return 0;
  const double flops = 2.0 * (double)g->batch * (double)g->m * (double)g->n * (double)(g->k > 0 ? g->k : 1);
  const long threads = flops < KILN_GEMM_SERIAL_FLOPS ? 1 : omp_get_max_threads();
  /* Cut each matrix into `tiles` rectangles so that batch x tiles splits evenly over the threads,
   * never finer than one micro-tile; among the grids with that many rectangles take the one that
   * packs the least (rectangle height + width). */
  const long mt = kiln_gemm_ceil(g->m, KILN_GEMM_MR), nt = kiln_gemm_ceil(g->n, KILN_GEMM_NR);
  const long parts = threads > 1 ? threads * KILN_GEMM_SPLIT : 1;
  long tiles = parts / kiln_gemm_gcd(g->batch, parts);
  if (tiles > mt * nt) tiles = mt * nt;
  long grid_m = 1, grid_n = 1, best = -1;
  for (long gm = 1; gm <= tiles; gm++) {
    if (tiles % gm || gm > mt || tiles / gm > nt) continue;
    const long cost = kiln_gemm_ceil(mt, gm) * KILN_GEMM_MR + kiln_gemm_ceil(nt, tiles / gm) * KILN_GEMM_NR;
    if (best < 0 || cost < best) best = cost, grid_m = gm, grid_n = tiles / gm;
  }
  if (best < 0) grid_m = 1, grid_n = 1; /* no exact factorisation fits: one rectangle per matrix */
  const long per_m = kiln_gemm_ceil(mt, grid_m) * KILN_GEMM_MR, per_n = kiln_gemm_ceil(nt, grid_n) * KILN_GEMM_NR;
  const long tasks = g->batch * grid_m * grid_n;
  const long kc = g->k < KILN_GEMM_KC ? (g->k > 0 ? g->k : 1) : KILN_GEMM_KC;
  const long nc = per_n < KILN_GEMM_NC ? per_n : KILN_GEMM_NC;
  const long mc = per_m < KILN_GEMM_MC ? per_m : KILN_GEMM_MC;
  const size_t b_floats = (size_t)kc * (size_t)kiln_gemm_ceil(nc, KILN_GEMM_NR) * KILN_GEMM_NR;
  const size_t a_floats = (size_t)kc * (size_t)kiln_gemm_ceil(mc, KILN_GEMM_MR) * KILN_GEMM_MR;
  long next = 0; /* the next unclaimed rectangle; a thread without scratch claims none */
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float* bp = kiln_gemm_scratch(b_floats + a_floats);
    for (;;) {
      long t = tasks;
      if (bp) {
#pragma omp atomic capture
        t = next++;
      }
      if (t >= tasks) break;
      const long b = t / (grid_m * grid_n), r = t % (grid_m * grid_n);
      const long m0 = (r / grid_n) * per_m, n0 = (r % grid_n) * per_n;
      if (m0 >= g->m || n0 >= g->n) continue;
      const long m1 = m0 + per_m < g->m ? m0 + per_m : g->m, n1 = n0 + per_n < g->n ? n0 + per_n : g->n;
      kiln_gemm_rectangle(g, b, m0, m1, n0, n1, bp, bp + b_floats);
    }
  }
  /* Every rectangle is claimed unless no thread got its packing buffers. */
  return next < tasks ? -1 : 0;
}

#endif /* KILN_GEMM_H */
