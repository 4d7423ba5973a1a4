/* kiln CPU backend: the fused attention template, forward and backward, pasted into generated C
 * after gemm.h (it reuses that header's micro-kernel, packing and per-thread scratch).
 *
 * O = softmax(Q K^T * scale + mask) V per batch item and head, without materialising the full
 * score matrix: FlashAttention's blocking over keys with an online (rescaled) softmax. Scores are
 * kept in log2 units (Q is pre-multiplied by scale*log2(e)) so each probability is one exp2.
 * Masking: a key-padding mask and/or causal masking. A query row whose keys are all masked gets
 * O = 0, LSE = -inf, and zero gradients. */
#ifndef KILN_ATTENTION_H
#define KILN_ATTENTION_H

#ifndef KILN_GEMM_H
#error "kiln attention.h needs gemm.h pasted before it"
#endif

#include <math.h> /* INFINITY only: nothing here calls libm */

/* Query rows per block (a multiple of KILN_GEMM_MR) and keys per block (a multiple of both
 * KILN_GEMM_MR and KILN_GEMM_NR, since key blocks are tiled both ways in the backward pass). */
#ifndef KILN_ATTENTION_BQ
#define KILN_ATTENTION_BQ 48
#endif
#ifndef KILN_ATTENTION_BK
#define KILN_ATTENTION_BK 192
#endif

/* Element (b, s, h, d) of each operand is at base + b*bs + s*ss + h*hs + d ("b s (n d)" layout:
 * a contiguous [B, S, H*D] tensor has bs = S*H*D, ss = H*D, hs = D). */
typedef struct kiln_attention_args {
  long batch, heads, kv_heads;  /* kv_heads divides heads; query head h reads K/V head h / (heads/kv_heads) */
  long q_len, kv_len, head_dim; /* head_dim >= 1, any size (tuned for 32 and 128) */
  float scale;                  /* multiplies Q K^T; 1/sqrt(head_dim) for SDPA's default */
  const float* q;
  long q_bs, q_ss, q_hs;
  const float* k;
  long k_bs, k_ss, k_hs;
  const float* v;
  long v_bs, v_ss, v_hs;
  float* o; /* forward: written; backward: read (the forward's output) */
  long o_bs, o_ss, o_hs;
  const unsigned char* key_mask; /* NULL, or key_mask[b*mask_bs + j]: 0 = key j is masked out */
  long mask_bs;
  int causal; /* 1: query i sees only keys j <= i (top-left aligned, as PyTorch's is_causal) */
  float* lse; /* NULL, or [batch, heads, q_len] natural-log log-sum-exp of the scaled, masked scores:
                 written by the forward pass, read by the backward pass (recomputed when NULL) */
} kiln_attention_args;

/* The backward pass reads fwd.q/k/v/o/lse and writes dQ, dK, dV (same layouts as Q, K, V;
 * overwritten, not accumulated). dK and dV of a shared (GQA) K/V head sum over its query heads. */
typedef struct kiln_attention_backward_args {
  kiln_attention_args fwd;
  const float* d_o;
  long do_bs, do_ss, do_hs;
  float* d_q;
  long dq_bs, dq_ss, dq_hs;
  float* d_k;
  long dk_bs, dk_ss, dk_hs;
  float* d_v;
  long dv_bs, dv_ss, dv_hs;
} kiln_attention_backward_args;

#define KILN_LOG2E 1.4426950408889634
#define KILN_LN2 0.6931471805599453

/* ---- math helpers (no libm: generated files are not linked against it) ------------------------ */

/* 2^x for 16 lanes: round to nearest, a degree-5 polynomial on [-0.5, 0.5] (fitted for minimax
 * relative error: < 2e-7 in f32 arithmetic), then scale by 2^n with scalef (which also flushes
 * very negative x to exactly 0). -inf -> 0, NaN -> NaN. */
static inline kv kiln_exp2_ps(kv x) {
  x = kv_max(kv_set1(-200.0f), x);
  const kv n = kv_round(x);
  const kv f = kv_sub(x, n);
  kv p = kv_set1(1.326472731307149e-3f);
  p = kv_fmadd(p, f, kv_set1(9.671512991189957e-3f));
  p = kv_fmadd(p, f, kv_set1(5.550733581185341e-2f));
  p = kv_fmadd(p, f, kv_set1(2.4022242426872253e-1f));
  p = kv_fmadd(p, f, kv_set1(6.931470036506653e-1f));
  p = kv_fmadd(p, f, kv_set1(1.0f));
  return kv_scale2(p, n);
}

static inline float kiln_exp2f(float x) { return kv_first(kiln_exp2_ps(kv_set1(x))); }

/* log2 of a positive, normal x: exponent + 2/ln2 * atanh((m-1)/(m+1)) with m in [sqrt(1/2), sqrt(2)). */
static double kiln_log2(double x) {
  union {
    double d;
    unsigned long long u;
  } bits = {x};
  long e = (long)((bits.u >> 52) & 0x7ff) - 1023;
  bits.u = (bits.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m = bits.d;
  if (m > 1.4142135623730951) m *= 0.5, e += 1;
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  const double s = t * (1.0 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 / 11)))));
  return (double)e + 2.0 * KILN_LOG2E * s;
}

/* ---- shared pieces ---------------------------------------------------------------------------- */

static long kiln_attention_round(long x, long to) { return (x + to - 1) / to * to; }

/* Key-block masking state, from the key-padding mask turned into additive log2 biases. */
enum { KILN_KEYS_NONE_VALID = 0, KILN_KEYS_ALL_VALID = 1, KILN_KEYS_MIXED = 2 };

/* Fills bias[j] (0 or -inf) for j < kv_len and the state of each BK-key block. Without a mask
 * every block is all-valid and bias is left unwritten (it is never read then). */
static void kiln_attention_key_bias(const kiln_attention_args* g, long b, float* bias, float* block_state) {
  for (long j0 = 0, blk = 0; j0 < g->kv_len; j0 += KILN_ATTENTION_BK, blk++) {
    const long bk = g->kv_len - j0 < KILN_ATTENTION_BK ? g->kv_len - j0 : KILN_ATTENTION_BK;
    long valid = bk;
    if (g->key_mask) {
      const unsigned char* mask = g->key_mask + b * g->mask_bs + j0;
      valid = 0;
      for (long j = 0; j < bk; j++) {
        bias[j0 + j] = mask[j] ? 0.0f : -INFINITY;
        valid += mask[j] != 0;
      }
    }
    block_state[blk] = valid == bk ? KILN_KEYS_ALL_VALID : valid == 0 ? KILN_KEYS_NONE_VALID : KILN_KEYS_MIXED;
  }
}

/* Number of keys of the block starting at j0 (bk of them) that query row `row` may see before
 * padding is applied: causal masking cuts the block at the diagonal. */
static inline long kiln_attention_visible(const kiln_attention_args* g, long row, long j0, long bk) {
  if (!g->causal) return bk;
  const long lim = row + 1 - j0;
  return lim < 0 ? 0 : lim < bk ? lim : bk;
}

/* S[bq x bk] = A . Kt-block, with A row-major/packed as given and Kt packed in NR-key panels
 * (D x NR each); columns >= bk are left untouched. */
static inline void kiln_attention_scores(long d, const float* a, long a_rs, long a_cs, long a_panel, const float* kt,
                                         long bq, long bk, float* s) {
  for (long ir = 0; ir < bq; ir += KILN_GEMM_MR) {
    const long rows = bq - ir < KILN_GEMM_MR ? bq - ir : KILN_GEMM_MR;
    for (long jr = 0; jr < bk; jr += KILN_GEMM_NR) {
      const long cols = bk - jr < KILN_GEMM_NR ? bk - jr : KILN_GEMM_NR;
      kiln_gemm_micro(d, a + (ir / KILN_GEMM_MR) * a_panel, a_rs, a_cs, kt + jr * d, KILN_GEMM_NR,
                      s + ir * KILN_ATTENTION_BK + jr, KILN_ATTENTION_BK, rows, cols, 0);
    }
  }
}

/* Loads lanes [16v, 16v+16) of a score row with masking applied: lanes at or past `visible`
 * become -inf, and the padding bias is added when the block is mixed. */
static inline kv kiln_attention_masked(const float* row, const float* bias, long v, long visible, int mixed) {
  const kmask lanes = kv_lanes(visible - v * 16);
  kv x = kv_load_or(kv_set1(-INFINITY), lanes, row + v * 16);
  if (mixed) x = kv_add(x, kv_loadz(lanes, bias + v * 16));
  return x;
}

/* ---- forward ---------------------------------------------------------------------------------- */

typedef struct kiln_attention_layout {
  long dp;  /* head_dim rounded up to NR */
  long skp; /* kv_len rounded up to BK */
  long sqp; /* q_len rounded up to BQ */
} kiln_attention_layout;

static kiln_attention_layout kiln_attention_layout_of(const kiln_attention_args* g) {
  kiln_attention_layout l = {kiln_attention_round(g->head_dim, KILN_GEMM_NR),
                             kiln_attention_round(g->kv_len, KILN_ATTENTION_BK),
                             kiln_attention_round(g->q_len, KILN_ATTENTION_BQ)};
  return l;
}

static size_t kiln_attention_forward_floats(const kiln_attention_args* g) {
  const kiln_attention_layout l = kiln_attention_layout_of(g);
  const long d = g->head_dim;
  return (size_t)(l.skp * d + l.skp * l.dp + l.skp + l.skp / KILN_ATTENTION_BK * 16 + KILN_ATTENTION_BQ * d +
                  KILN_ATTENTION_BQ * KILN_ATTENTION_BK + KILN_ATTENTION_BQ * l.dp + 17 * KILN_ATTENTION_BQ) +
         16 * 12; /* alignment slack of the pieces */
}

static float* kiln_attention_take(float** cursor, long floats) {
  float* p = *cursor;
  *cursor += kiln_attention_round(floats, 16); /* keep every piece 64-byte aligned */
  return p;
}

/* Query rows [q0, q1) of head h of batch item b. */
static void kiln_attention_forward_task(const kiln_attention_args* g, long b, long h, long q0, long q1, float* scratch) {
  const kiln_attention_layout l = kiln_attention_layout_of(g);
  const long d = g->head_dim, sk = g->kv_len, kvh = h / (g->heads / g->kv_heads);
  float* cursor = scratch;
  float* kt = kiln_attention_take(&cursor, l.skp * d);
  float* vp = kiln_attention_take(&cursor, l.skp * l.dp);
  float* bias = kiln_attention_take(&cursor, l.skp);
  float* block_state = kiln_attention_take(&cursor, l.skp / KILN_ATTENTION_BK);
  float* qp = kiln_attention_take(&cursor, KILN_ATTENTION_BQ * d);
  float* s = kiln_attention_take(&cursor, KILN_ATTENTION_BQ * KILN_ATTENTION_BK);
  float* o = kiln_attention_take(&cursor, KILN_ATTENTION_BQ * l.dp);
  float* row_max = kiln_attention_take(&cursor, KILN_ATTENTION_BQ);
  float* row_sum = kiln_attention_take(&cursor, KILN_ATTENTION_BQ * 16); /* per-lane partial sums */

  const float* kb = g->k + b * g->k_bs + kvh * g->k_hs;
  const float* vb = g->v + b * g->v_bs + kvh * g->v_hs;
  kiln_gemm_pack_b(kb, 1, g->k_ss, d, sk, kt);        /* K^T: D x NR panels of keys */
  kiln_gemm_pack_b(vb, g->v_ss, 1, sk, d, vp);        /* V: Sk x NR panels of head dims */
  kiln_attention_key_bias(g, b, bias, block_state);
  const float c = (float)(g->scale * KILN_LOG2E);

  for (long i0 = q0; i0 < q1; i0 += KILN_ATTENTION_BQ) {
    const long bq = q1 - i0 < KILN_ATTENTION_BQ ? q1 - i0 : KILN_ATTENTION_BQ;
    kiln_gemm_pack_a(g->q + b * g->q_bs + h * g->q_hs + i0 * g->q_ss, g->q_ss, 1, bq, d, qp);
    const long packed = kiln_attention_round(bq, KILN_GEMM_MR) * d;
    for (long x = 0; x < packed; x++) qp[x] *= c;
    memset(o, 0, sizeof(float) * (size_t)(bq * l.dp));
    memset(row_sum, 0, sizeof(float) * 16 * (size_t)bq);
    for (long i = 0; i < bq; i++) row_max[i] = -INFINITY;

    const long key_end = g->causal ? (i0 + bq < sk ? i0 + bq : sk) : sk;
    for (long j0 = 0; j0 < key_end; j0 += KILN_ATTENTION_BK) {
      const long bk = sk - j0 < KILN_ATTENTION_BK ? sk - j0 : KILN_ATTENTION_BK;
      const int state = (int)block_state[j0 / KILN_ATTENTION_BK];
      if (state == KILN_KEYS_NONE_VALID) continue;
      kiln_attention_scores(d, qp, 1, KILN_GEMM_MR, KILN_GEMM_MR * d, kt + j0 * d, bq, bk, s);

      /* Online softmax: new running max, rescale what was accumulated, turn scores into p. Row
       * sums stay 16-lane vectors until the end, and the rescale is unconditional (branching on
       * "did the max change" mispredicts on real data). */
      const long nv = (bk + 15) / 16;
      for (long i = 0; i < bq; i++) {
        float* row = s + i * KILN_ATTENTION_BK;
        const long visible = kiln_attention_visible(g, i0 + i, j0, bk);
        const int masked = state == KILN_KEYS_MIXED || visible < nv * 16;
        kv mx = kv_set1(-INFINITY);
        for (long v = 0; v < nv; v++) {
          if (masked) {
            const kv x = kiln_attention_masked(row, bias + j0, v, visible, state == KILN_KEYS_MIXED);
            kv_store(row + v * 16, x);
            mx = kv_max(mx, x);
          } else {
            mx = kv_max(mx, kv_load(row + v * 16));
          }
        }
        const float old_max = row_max[i], block_max = kv_reduce_max(mx);
        const float new_max = block_max > old_max ? block_max : old_max;
        if (new_max == -INFINITY) {
          /* Nothing visible yet in this row: its p row is zero and nothing accumulates. */
          for (long v = 0; v < nv; v++) kv_store(row + v * 16, kv_zero());
          continue;
        }
        const kv m = kv_set1(new_max);
        kv sum = kv_zero();
        for (long v = 0; v < nv; v++) {
          const kv p = kiln_exp2_ps(kv_sub(kv_load(row + v * 16), m));
          kv_store(row + v * 16, p);
          sum = kv_add(sum, p);
        }
        const kv alpha = kiln_exp2_ps(kv_set1(old_max - new_max));
        kv_store(row_sum + i * 16, kv_fmadd(alpha, kv_load(row_sum + i * 16), sum));
        for (long x = 0; x < l.dp; x += 16)
          kv_store(o + i * l.dp + x, kv_mul(alpha, kv_load(o + i * l.dp + x)));
        row_max[i] = new_max;
      }

      /* O += P V over this key block. */
      for (long ir = 0; ir < bq; ir += KILN_GEMM_MR) {
        const long rows = bq - ir < KILN_GEMM_MR ? bq - ir : KILN_GEMM_MR;
        for (long dr = 0; dr < l.dp; dr += KILN_GEMM_NR)
          kiln_gemm_micro(bk, s + ir * KILN_ATTENTION_BK, KILN_ATTENTION_BK, 1, vp + dr * sk + j0 * KILN_GEMM_NR,
                          KILN_GEMM_NR, o + ir * l.dp + dr, l.dp, rows, KILN_GEMM_NR, 1);
      }
    }

    float* out = g->o + b * g->o_bs + h * g->o_hs + i0 * g->o_ss;
    for (long i = 0; i < bq; i++) {
      const float total = kv_reduce_add(kv_load(row_sum + i * 16));
      const float inv = total > 0.0f ? 1.0f / total : 0.0f;
      const kv scale = kv_set1(inv);
      for (long x = 0; x < d; x += 16)
        kv_store_mask(out + i * g->o_ss + x, kv_lanes(d - x),
                              kv_mul(scale, kv_load(o + i * l.dp + x)));
      if (g->lse)
        g->lse[(b * g->heads + h) * g->q_len + i0 + i] =
            total > 0.0f ? (float)(((double)row_max[i] + kiln_log2(total)) * KILN_LN2) : -INFINITY;
    }
  }
}

static long kiln_attention_threads(double flops) {
  return flops < KILN_GEMM_SERIAL_FLOPS ? 1 : omp_get_max_threads();
}

/* 0 when the arguments describe a valid call, else -2 (kv_heads must divide heads). */
static int kiln_attention_check(const kiln_attention_args* g) {
  return g->kv_heads > 0 && g->heads % g->kv_heads == 0 ? 0 : -2;
}

/* Returns 0; -1 when a thread could not allocate its scratch (outputs are then incomplete); -2
 * for invalid head counts. */
static int kiln_attention_forward(const kiln_attention_args* g) {
  if (kiln_attention_check(g)) return -2;
  if (g->batch <= 0 || g->heads <= 0 || g->q_len <= 0 || g->head_dim <= 0) return 0;
  const double flops = 4.0 * g->batch * g->heads * g->q_len * (double)g->kv_len * g->head_dim;
  const long threads = kiln_attention_threads(flops);
  /* Split heads into query chunks only when batch x heads alone cannot keep every thread busy;
   * each chunk re-packs its K/V head. */
  const long heads = g->batch * g->heads, blocks = (g->q_len + KILN_ATTENTION_BQ - 1) / KILN_ATTENTION_BQ;
  long chunks = (2 * threads + heads - 1) / heads;
  if (chunks > blocks) chunks = blocks;
  if (heads >= 2 * threads) chunks = 1;
  const long rows_per_chunk = (blocks + chunks - 1) / chunks * KILN_ATTENTION_BQ;
  const size_t floats = kiln_attention_forward_floats(g);
  int failed = 0;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(dynamic) reduction(| : failed)
  for (long t = 0; t < heads * chunks; t++) {
    float* scratch = kiln_gemm_scratch(floats);
    if (!scratch) {
      failed = 1;
      continue;
    }
    const long bh = t / chunks, q0 = (t % chunks) * rows_per_chunk;
    if (q0 >= g->q_len) continue;
    const long q1 = q0 + rows_per_chunk < g->q_len ? q0 + rows_per_chunk : g->q_len;
    if (g->kv_len <= 0) {
      /* No keys at all: every row is fully masked. */
      for (long i = q0; i < q1; i++) {
        memset(g->o + (bh / g->heads) * g->o_bs + (bh % g->heads) * g->o_hs + i * g->o_ss, 0,
               sizeof(float) * (size_t)g->head_dim);
        if (g->lse) g->lse[bh * g->q_len + i] = -INFINITY;
      }
      continue;
    }
    kiln_attention_forward_task(g, bh / g->heads, bh % g->heads, q0, q1, scratch);
  }
  return failed ? -1 : 0;
}

/* ---- backward --------------------------------------------------------------------------------- */

static size_t kiln_attention_backward_floats(const kiln_attention_args* g) {
  const kiln_attention_layout l = kiln_attention_layout_of(g);
  const long d = g->head_dim;
  return (size_t)(2 * l.skp * d + 3 * l.skp * l.dp + l.skp + l.skp / KILN_ATTENTION_BK * 16 + 3 * l.sqp * l.dp +
                  2 * l.sqp + 2 * KILN_ATTENTION_BQ * KILN_ATTENTION_BK) +
         16 * 16; /* alignment slack of the pieces */
}

/* Copies rows [0, n) of a strided head into a zero-padded [rows x dp] buffer, times `factor`. */
static void kiln_attention_rows(const float* src, long ss, long n, long d, long rows, long dp, float factor,
                                float* dst) {
  const kv f = kv_set1(factor);
  for (long i = 0; i < rows; i++)
    for (long x = 0; x < dp; x += 16) {
      const kv val = i < n ? kv_loadz(kv_lanes(d - x), src + i * ss + x) : kv_zero();
      kv_store(dst + i * dp + x, kv_mul(f, val));
    }
}

/* Writes rows [0, n) of a [rows x dp] buffer times `factor` into a strided head. */
static void kiln_attention_store_rows(const float* src, long n, long d, long dp, float factor, float* dst, long ss) {
  const kv f = kv_set1(factor);
  for (long i = 0; i < n; i++)
    for (long x = 0; x < d; x += 16)
      kv_store_mask(dst + i * ss + x, kv_lanes(d - x), kv_mul(f, kv_load(src + i * dp + x)));
}

/* Log2-domain log-sum-exp of every query row of one head (used when the forward's LSE is not
 * given): the forward's online max/sum without the P V product. */
static void kiln_attention_recompute_lse2(const kiln_attention_args* g, const float* qs, long dp, const float* kt,
                                          const float* bias, const float* block_state, float* s, float* lse2) {
  const long sk = g->kv_len;
  for (long i0 = 0; i0 < g->q_len; i0 += KILN_ATTENTION_BQ) {
    const long bq = g->q_len - i0 < KILN_ATTENTION_BQ ? g->q_len - i0 : KILN_ATTENTION_BQ;
    float row_max[KILN_ATTENTION_BQ], row_sum[KILN_ATTENTION_BQ];
    for (long i = 0; i < bq; i++) row_max[i] = -INFINITY, row_sum[i] = 0.0f;
    const long key_end = g->causal ? (i0 + bq < sk ? i0 + bq : sk) : sk;
    for (long j0 = 0; j0 < key_end; j0 += KILN_ATTENTION_BK) {
      const long bk = sk - j0 < KILN_ATTENTION_BK ? sk - j0 : KILN_ATTENTION_BK;
      const int state = (int)block_state[j0 / KILN_ATTENTION_BK];
      if (state == KILN_KEYS_NONE_VALID) continue;
      kiln_attention_scores(g->head_dim, qs + i0 * dp, dp, 1, KILN_GEMM_MR * dp, kt + j0 * g->head_dim, bq, bk, s);
      for (long i = 0; i < bq; i++) {
        const float* row = s + i * KILN_ATTENTION_BK;
        const long visible = kiln_attention_visible(g, i0 + i, j0, bk);
        kv mx = kv_set1(-INFINITY);
        for (long v = 0; v < (bk + 15) / 16; v++)
          mx = kv_max(mx, kiln_attention_masked(row, bias + j0, v, visible, state == KILN_KEYS_MIXED));
        const float old_max = row_max[i], block_max = kv_reduce_max(mx);
        const float new_max = block_max > old_max ? block_max : old_max;
        if (new_max == -INFINITY) continue;
        const kv m = kv_set1(new_max);
        kv sum = kv_zero();
        for (long v = 0; v < (bk + 15) / 16; v++)
          sum = kv_add(
              sum, kiln_exp2_ps(kv_sub(kiln_attention_masked(row, bias + j0, v, visible, state == KILN_KEYS_MIXED), m)));
        row_sum[i] = row_sum[i] * kiln_exp2f(old_max - new_max) + kv_reduce_add(sum);
        row_max[i] = new_max;
      }
    }
    for (long i = 0; i < bq; i++)
      lse2[i0 + i] = row_sum[i] > 0.0f ? (float)((double)row_max[i] + kiln_log2(row_sum[i])) : -INFINITY;
  }
}

/* One (batch item, K/V head) with all the query heads that share it: no other task touches its
 * dK/dV, nor the dQ of its query heads, so the tasks need no synchronisation. */
static void kiln_attention_backward_task(const kiln_attention_backward_args* a, long b, long kvh, float* scratch) {
  const kiln_attention_args* g = &a->fwd;
  const kiln_attention_layout l = kiln_attention_layout_of(g);
  const long d = g->head_dim, sk = g->kv_len, sq = g->q_len, dp = l.dp, group = g->heads / g->kv_heads;
  float* cursor = scratch;
  float* kt = kiln_attention_take(&cursor, l.skp * d);
  float* vt = kiln_attention_take(&cursor, l.skp * d);
  float* krow = kiln_attention_take(&cursor, l.skp * dp);
  float* dk = kiln_attention_take(&cursor, l.skp * dp);
  float* dv = kiln_attention_take(&cursor, l.skp * dp);
  float* bias = kiln_attention_take(&cursor, l.skp);
  float* block_state = kiln_attention_take(&cursor, l.skp / KILN_ATTENTION_BK);
  float* qs = kiln_attention_take(&cursor, l.sqp * dp);
  float* dout = kiln_attention_take(&cursor, l.sqp * dp);
  float* dq = kiln_attention_take(&cursor, l.sqp * dp);
  float* lse2 = kiln_attention_take(&cursor, l.sqp);
  float* delta = kiln_attention_take(&cursor, l.sqp);
  float* p = kiln_attention_take(&cursor, KILN_ATTENTION_BQ * KILN_ATTENTION_BK);
  float* ds = kiln_attention_take(&cursor, KILN_ATTENTION_BQ * KILN_ATTENTION_BK);

  const float* kb = g->k + b * g->k_bs + kvh * g->k_hs;
  const float* vb = g->v + b * g->v_bs + kvh * g->v_hs;
  kiln_gemm_pack_b(kb, 1, g->k_ss, d, sk, kt); /* K^T panels, for S = Q K^T */
  kiln_gemm_pack_b(vb, 1, g->v_ss, d, sk, vt); /* V^T panels, for dP = dO V^T */
  kiln_attention_rows(kb, g->k_ss, sk, d, l.skp, dp, 1.0f, krow); /* K rows, for dQ = dS K */
  kiln_attention_key_bias(g, b, bias, block_state);
  memset(dk, 0, sizeof(float) * (size_t)(l.skp * dp));
  memset(dv, 0, sizeof(float) * (size_t)(l.skp * dp));
  const float c = (float)(g->scale * KILN_LOG2E);

  for (long h = kvh * group; h < (kvh + 1) * group; h++) {
    kiln_attention_rows(g->q + b * g->q_bs + h * g->q_hs, g->q_ss, sq, d, l.sqp, dp, c, qs);
    kiln_attention_rows(a->d_o + b * a->do_bs + h * a->do_hs, a->do_ss, sq, d, l.sqp, dp, 1.0f, dout);
    memset(dq, 0, sizeof(float) * (size_t)(l.sqp * dp));
    /* delta_i = rowsum(dO * O), the softmax backward's correction term. */
    const float* ob = g->o + b * g->o_bs + h * g->o_hs;
    for (long i = 0; i < sq; i++) {
      kv acc = kv_zero();
      for (long x = 0; x < d; x += 16)
        acc = kv_fmadd(kv_load(dout + i * dp + x),
                              kv_loadz(kv_lanes(d - x), ob + i * g->o_ss + x), acc);
      delta[i] = kv_reduce_add(acc);
    }
    if (g->lse) {
      const float* lse = g->lse + (b * g->heads + h) * sq;
      for (long i = 0; i < sq; i++) lse2[i] = (float)(lse[i] * KILN_LOG2E);
    } else {
      kiln_attention_recompute_lse2(g, qs, dp, kt, bias, block_state, p, lse2);
    }

    for (long j0 = 0; j0 < sk; j0 += KILN_ATTENTION_BK) {
      const long bk = sk - j0 < KILN_ATTENTION_BK ? sk - j0 : KILN_ATTENTION_BK;
      const int state = (int)block_state[j0 / KILN_ATTENTION_BK];
      if (state == KILN_KEYS_NONE_VALID) continue;
      const long first_row = g->causal ? j0 / KILN_ATTENTION_BQ * KILN_ATTENTION_BQ : 0;
      for (long i0 = first_row; i0 < sq; i0 += KILN_ATTENTION_BQ) {
        const long bq = sq - i0 < KILN_ATTENTION_BQ ? sq - i0 : KILN_ATTENTION_BQ;
        kiln_attention_scores(d, qs + i0 * dp, dp, 1, KILN_GEMM_MR * dp, kt + j0 * d, bq, bk, p);
        kiln_attention_scores(d, dout + i0 * dp, dp, 1, KILN_GEMM_MR * dp, vt + j0 * d, bq, bk, ds);
        /* P = exp2(S - LSE2), dS = P * (dP - delta); zero outside the valid rows and keys so the
         * three products below can run over whole tiles. */
        for (long i = 0; i < KILN_ATTENTION_BQ; i++) {
          float* prow = p + i * KILN_ATTENTION_BK;
          float* drow = ds + i * KILN_ATTENTION_BK;
          const int live = i < bq && lse2[i0 + i] != -INFINITY;
          const long visible = live ? kiln_attention_visible(g, i0 + i, j0, bk) : 0;
          const kv m = kv_set1(live ? lse2[i0 + i] : 0.0f), dl = kv_set1(live ? delta[i0 + i] : 0.0f);
          for (long v = 0; v < KILN_ATTENTION_BK / 16; v++) {
            const kv x = kiln_attention_masked(prow, bias + j0, v, visible, state == KILN_KEYS_MIXED);
            const kmask lanes = kv_lanes(visible - v * 16);
            const kv pv = kv_keep(lanes, kiln_exp2_ps(kv_sub(x, m)));
            const kv dpv = kv_loadz(lanes, drow + v * 16);
            kv_store(prow + v * 16, pv);
            kv_store(drow + v * 16, kv_mul(pv, kv_sub(dpv, dl)));
          }
        }
        /* dV += P^T dO and dK += dS^T (Q*c): key rows, contracted over this block's queries. */
        for (long jr = 0; jr < bk; jr += KILN_GEMM_MR) {
          const long rows = bk - jr < KILN_GEMM_MR ? bk - jr : KILN_GEMM_MR;
          for (long dr = 0; dr < dp; dr += KILN_GEMM_NR) {
            kiln_gemm_micro(bq, p + jr, 1, KILN_ATTENTION_BK, dout + i0 * dp + dr, dp, dv + (j0 + jr) * dp + dr, dp,
                            rows, KILN_GEMM_NR, 1);
            kiln_gemm_micro(bq, ds + jr, 1, KILN_ATTENTION_BK, qs + i0 * dp + dr, dp, dk + (j0 + jr) * dp + dr, dp,
                            rows, KILN_GEMM_NR, 1);
          }
        }
        /* dQ += dS K over this key block. */
        for (long ir = 0; ir < bq; ir += KILN_GEMM_MR) {
          const long rows = bq - ir < KILN_GEMM_MR ? bq - ir : KILN_GEMM_MR;
          for (long dr = 0; dr < dp; dr += KILN_GEMM_NR)
            kiln_gemm_micro(bk, ds + ir * KILN_ATTENTION_BK, KILN_ATTENTION_BK, 1, krow + j0 * dp + dr, dp,
                            dq + (i0 + ir) * dp + dr, dp, rows, KILN_GEMM_NR, 1);
        }
      }
    }
    kiln_attention_store_rows(dq, sq, d, dp, g->scale, a->d_q + b * a->dq_bs + h * a->dq_hs, a->dq_ss);
  }
  /* dS was taken w.r.t. the scaled scores and dK accumulated against Q*scale*log2(e). */
  kiln_attention_store_rows(dk, sk, d, dp, (float)KILN_LN2, a->d_k + b * a->dk_bs + kvh * a->dk_hs, a->dk_ss);
  kiln_attention_store_rows(dv, sk, d, dp, 1.0f, a->d_v + b * a->dv_bs + kvh * a->dv_hs, a->dv_ss);
}

/* Returns 0; -1 when a thread could not allocate its scratch (outputs are then incomplete); -2
 * for invalid head counts. */
static int kiln_attention_backward(const kiln_attention_backward_args* a) {
  const kiln_attention_args* g = &a->fwd;
  if (kiln_attention_check(g)) return -2;
  if (g->batch <= 0 || g->heads <= 0 || g->head_dim <= 0) return 0;
  const long d = g->head_dim;
  if (g->q_len <= 0 || g->kv_len <= 0) {
    /* An empty side: every gradient is zero. */
    for (long b = 0; b < g->batch; b++) {
      for (long h = 0; h < g->heads; h++)
        for (long i = 0; i < g->q_len; i++)
          memset(a->d_q + b * a->dq_bs + h * a->dq_hs + i * a->dq_ss, 0, sizeof(float) * (size_t)d);
      for (long h = 0; h < g->kv_heads; h++)
        for (long j = 0; j < g->kv_len; j++) {
          memset(a->d_k + b * a->dk_bs + h * a->dk_hs + j * a->dk_ss, 0, sizeof(float) * (size_t)d);
          memset(a->d_v + b * a->dv_bs + h * a->dv_hs + j * a->dv_ss, 0, sizeof(float) * (size_t)d);
        }
    }
    return 0;
  }
  const double flops = 10.0 * g->batch * g->heads * g->q_len * (double)g->kv_len * d;
  const long threads = kiln_attention_threads(flops);
  const size_t floats = kiln_attention_backward_floats(g);
  const long tasks = g->batch * g->kv_heads;
  int failed = 0;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(dynamic) reduction(| : failed)
  for (long t = 0; t < tasks; t++) {
    float* scratch = kiln_gemm_scratch(floats);
    if (!scratch) {
      failed = 1;
      continue;
    }
    kiln_attention_backward_task(a, t / g->kv_heads, t % g->kv_heads, scratch);
  }
  return failed ? -1 : 0;
}

#endif /* KILN_ATTENTION_H */
