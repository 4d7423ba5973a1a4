// Flash attention forward for the `attention` call: per (batch, head), O = softmax(Q·Kᵀ·scale) V with an
// online softmax over key blocks (mma.sync bf16 → f32), writing the log-sum-exp the backward needs.
// Layout [B, S, H·D] bf16; non-causal; optional key-padding mask [B, S_k] (bytes, nonzero = attend).
import { aFragment, accumulatorCoord, accumulatorsToAFragment, bFragmentsKN, bFragmentsNK } from "./fragments.ts";
import { render as r } from "./index-math.ts";
import { smemOffset, type OperandTile } from "./gemm-mma.ts";
import { PREAMBLE, floatLiteral, indent, pointer, signature, type CudaKernel, type KernelParam } from "./kernel.ts";

export interface AttentionShape {
  batch: number;
  heads: number;
  seqQ: number;
  seqK: number;
  headDim: number;
  /** Whether a key-padding mask [B, S_k] of bytes is passed (nonzero = the key takes part). */
  mask: boolean;
  /** Softmax scale; default 1/√headDim. */
  scale?: number;
}

export const LOG2E = 1.4426950408889634;

export function attentionShapeProblem(s: AttentionShape): string | null {
  if (s.headDim % 16 !== 0 || s.headDim < 16 || s.headDim > 128) return `head dim ${s.headDim} must be a multiple of 16 in [16, 128]`;
  if (s.seqQ < 1 || s.seqK < 1) return `sequence lengths ${s.seqQ}, ${s.seqK} must be positive`;
  return null;
}

export const attentionScale = (s: AttentionShape) => s.scale ?? 1 / Math.sqrt(s.headDim);

export const headTile = (rows: number, headDim: number): OperandTile => ({ rows, chunks: headDim / 8 });

/**
 * C statements that copy `rows` rows of one head (row stride `rowStride` elements) starting at sequence
 * position `row0` into a swizzled tile with cp.async, zero-filling rows at or past `limit`.
 */
export function copyHeadRows(o: {
  dst: string;
  src: string;
  row0: string;
  limit: string;
  rowStride: string;
  tile: OperandTile;
  threads: number;
}): string {
  const copies = (o.tile.rows * o.tile.chunks) / o.threads;
  if (!Number.isInteger(copies)) throw new Error(`copyHeadRows: ${o.tile.rows}×${o.tile.chunks} chunks do not divide over ${o.threads} threads`);
  return `#pragma unroll
for (int i = 0; i < ${copies}; ++i) {
  const int row = (tid + i * ${o.threads}) / ${o.tile.chunks};
  const int chunk = (tid + i * ${o.threads}) % ${o.tile.chunks};
  const bool ok = ${o.row0} + row < ${o.limit};
  cp_async_16(smem_u32(${o.dst} + ${smemOffset(r, o.tile, "row", "chunk")}), ok ? ${o.src} + (long long)(${o.row0} + row) * ${o.rowStride} + chunk * 8 : ${o.src}, ok ? 16 : 0);
}`;
}

export const attentionForwardName = (s: AttentionShape, bq: number, bkv: number) =>
  `attention_fwd_b${s.batch}h${s.heads}q${s.seqQ}k${s.seqK}d${s.headDim}_${bq}x${bkv}${s.mask ? "_mask" : ""}`;

/** Flash attention forward; grid (⌈S_q/BQ⌉, H, B), one warp per 16 query rows. */
export function attentionForward(s: AttentionShape, tile: { bq: number; bkv: number } = { bq: 64, bkv: 64 }): CudaKernel {
  const problem = attentionShapeProblem(s);
  if (problem) throw new Error(`attentionForward: ${problem}`);
  const { bq, bkv } = tile;
  const d = s.headDim;
  const warps = bq / 16;
  const threads = warps * 32;
  const name = attentionForwardName(s, bq, bkv);
  const params: KernelParam[] = [
    pointer("Q", "const bf16_t* __restrict__"),
    pointer("K", "const bf16_t* __restrict__"),
    pointer("V", "const bf16_t* __restrict__"),
    pointer("O", "bf16_t* __restrict__"),
    pointer("LSE", "float* __restrict__"),
    ...(s.mask ? [pointer("key_mask", "const unsigned char* __restrict__")] : []),
  ];
  const qTile = headTile(bq, d);
  const kvTile = headTile(bkv, d);
  const qFrag = aFragment(r, "lane", "warp * 16", "kd * 2");
  const kFrag = bFragmentsNK(r, "lane", "pair * 16", "kd * 2");
  const vFrag = bFragmentsKN(r, "lane", "kk * 16", "dpair * 2");
  const out = accumulatorCoord(r, "lane", "warp * 16", "dt * 8", "half");
  // Keys that must not take part (masked, or past S_k) get a -inf bias, written next to the K/V tiles.
  const needsBias = s.mask || s.seqK % bkv !== 0;
  const keyVisible = s.mask ? "key < SK && key_mask[(long long)b * SK + key] != 0" : "key < SK";
  const copyBias = (buffer: string, block: string) =>
    needsBias
      ? `for (int j = tid; j < ${bkv}; j += ${threads}) {
  const int key = ${block} * ${bkv} + j;
  key_bias[${buffer} * ${bkv} + j] = ${keyVisible} ? 0.f : -KILN_INF;
}`
      : "";
  const qInRegisters = d <= 64;
  const copyKV = (buffer: string, block: string) =>
    [
      copyBias(buffer, block),
      copyHeadRows({
        dst: `k_tiles + ${buffer} * ${bkv * d}`,
        src: "k_head",
        row0: `${block} * ${bkv}`,
        limit: "SK",
        rowStride: "ROW",
        tile: kvTile,
        threads,
      }),
      copyHeadRows({
        dst: `v_tiles + ${buffer} * ${bkv * d}`,
        src: "v_head",
        row0: `${block} * ${bkv}`,
        limit: "SK",
        rowStride: "ROW",
        tile: kvTile,
        threads,
      }),
    ].join("\n");

  const source = `${PREAMBLE}
// ${name}: O = softmax(Q·Kᵀ·${attentionScale(s).toPrecision(6)}${s.mask ? " + key mask" : ""})·V and LSE = log Σ exp per (batch, head, query); [B,S,H·D] bf16, f32 softmax.
extern "C" __global__ void __launch_bounds__(${threads}) ${name}(${signature(params)}) {
  constexpr int SQ = ${s.seqQ}, SK = ${s.seqK}, H = ${s.heads}, D = ${d}, ROW = H * D;
  constexpr float SCALE_LOG2 = ${floatLiteral(attentionScale(s) * LOG2E)};  // softmax in base 2: exp(x·scale) = exp2(x·scale·log2 e)
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* q_tile = reinterpret_cast<bf16_t*>(smem);  // [${bq}][D], swizzled 16-byte chunks
  bf16_t* k_tiles = q_tile + ${bq * d};  // [2][${bkv}][D], double-buffered
  bf16_t* v_tiles = k_tiles + ${2 * bkv * d};  // [2][${bkv}][D]
${needsBias ? `  float* key_bias = reinterpret_cast<float*>(v_tiles + ${2 * bkv * d});  // [2][${bkv}]: 0, or -inf for a hidden key\n` : ""}  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int q0 = blockIdx.x * ${bq};
  const int h = blockIdx.y;
  const int b = blockIdx.z;
  const bf16_t* q_head = Q + (long long)b * SQ * ROW + h * D;
  const bf16_t* k_head = K + (long long)b * SK * ROW + h * D;
  const bf16_t* v_head = V + (long long)b * SK * ROW + h * D;

${indent(copyHeadRows({ dst: "q_tile", src: "q_head", row0: "q0", limit: "SQ", rowStride: "ROW", tile: qTile, threads }), 1)}
${indent(copyKV("0", "0"), 1)}
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();

${
  qInRegisters
    ? `  // This warp's 16 query rows as A fragments, kept in registers for every key block.
  unsigned q_frag[D / 16][4];
  #pragma unroll
  for (int kd = 0; kd < D / 16; ++kd) {
    const int row = ${qFrag.row};
    const int chunk = ${qFrag.chunk};
    ldmatrix_x4(q_frag[kd], smem_u32(q_tile + ${smemOffset(r, qTile, "row", "chunk")}));
  }
`
    : ""
}
  float o_acc[D / 8][4];
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int e = 0; e < 4; ++e) o_acc[dt][e] = 0.f;
  float row_max[2] = {-KILN_INF, -KILN_INF};  // running max of rows lane/4 and lane/4 + 8 (base-2 logits)
  float row_sum[2] = {0.f, 0.f};  // this thread's share of the running Σ exp2(logit - max)

  constexpr int KV_BLOCKS = (SK + ${bkv - 1}) / ${bkv};
  for (int kv = 0; kv < KV_BLOCKS; ++kv) {
    if (kv + 1 < KV_BLOCKS) {
${indent(copyKV("((kv + 1) % 2)", "(kv + 1)"), 3)}
    }
    cp_async_commit();
    const bf16_t* k_tile = k_tiles + (kv % 2) * ${bkv * d};
    const bf16_t* v_tile = v_tiles + (kv % 2) * ${bkv * d};

    // S = Q·Kᵀ for 16 queries × ${bkv} keys.
    float logits[${bkv / 8}][4];
    #pragma unroll
    for (int nt = 0; nt < ${bkv / 8}; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) logits[nt][e] = 0.f;
    #pragma unroll
    for (int kd = 0; kd < D / 16; ++kd) {
${
  qInRegisters
    ? ""
    : `      // D > 64: the query fragment is re-read from shared memory to leave registers for O.
      unsigned q_frag_kd[4];
      {
        const int row = ${qFrag.row};
        const int chunk = ${qFrag.chunk};
        ldmatrix_x4(q_frag_kd, smem_u32(q_tile + ${smemOffset(r, qTile, "row", "chunk")}));
      }
`
}      #pragma unroll
      for (int pair = 0; pair < ${bkv / 16}; ++pair) {
        const int row = ${kFrag.row};
        const int chunk = ${kFrag.chunk};
        unsigned k4[4];
        ldmatrix_x4(k4, smem_u32(k_tile + ${smemOffset(r, kvTile, "row", "chunk")}));
        const unsigned b_lo[2] = {k4[0], k4[1]};
        const unsigned b_hi[2] = {k4[2], k4[3]};
        mma_bf16_16816(logits[2 * pair], ${qInRegisters ? "q_frag[kd]" : "q_frag_kd"}, b_lo);
        mma_bf16_16816(logits[2 * pair + 1], ${qInRegisters ? "q_frag[kd]" : "q_frag_kd"}, b_hi);
      }
    }

    // Scale to base 2, drop masked and out-of-range keys, and update the running max and sum.
    float block_max[2] = {row_max[0], row_max[1]};
    #pragma unroll
    for (int nt = 0; nt < ${bkv / 8}; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) {
        logits[nt][e] = logits[nt][e] * SCALE_LOG2${needsBias ? ` + key_bias[(kv % 2) * ${bkv} + nt * 8 + (lane % 4) * 2 + e % 2]` : ""};
        block_max[e / 2] = fmaxf(block_max[e / 2], logits[nt][e]);
      }
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      block_max[half] = fmaxf(block_max[half], __shfl_xor_sync(0xffffffffu, block_max[half], 1));
      block_max[half] = fmaxf(block_max[half], __shfl_xor_sync(0xffffffffu, block_max[half], 2));
      // A row with no visible key yet keeps max -inf; use 0 as the base so exp2 gives 0, not NaN.
      const float base = block_max[half] == -KILN_INF ? 0.f : block_max[half];
      const float rescale = exp2f(row_max[half] - base);
      row_max[half] = block_max[half];
      row_sum[half] *= rescale;
      #pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        o_acc[dt][2 * half] *= rescale;
        o_acc[dt][2 * half + 1] *= rescale;
      }
      #pragma unroll
      for (int nt = 0; nt < ${bkv / 8}; ++nt) {
        logits[nt][2 * half] = exp2f(logits[nt][2 * half] - base);
        logits[nt][2 * half + 1] = exp2f(logits[nt][2 * half + 1] - base);
        row_sum[half] += logits[nt][2 * half] + logits[nt][2 * half + 1];
      }
    }

    // O += P·V: the probabilities' accumulator layout is already the A-fragment layout (two n-tiles per k-step).
    #pragma unroll
    for (int kk = 0; kk < ${bkv / 16}; ++kk) {
      const unsigned p_frag[4] = ${indent(accumulatorsToAFragment("logits", "kk"), 3).trimStart()};
      #pragma unroll
      for (int dpair = 0; dpair < D / 16; ++dpair) {
        const int row = ${vFrag.row};
        const int chunk = ${vFrag.chunk};
        unsigned v4[4];
        ldmatrix_x4_trans(v4, smem_u32(v_tile + ${smemOffset(r, kvTile, "row", "chunk")}));
        const unsigned b_lo[2] = {v4[0], v4[1]};
        const unsigned b_hi[2] = {v4[2], v4[3]};
        mma_bf16_16816(o_acc[2 * dpair], p_frag, b_lo);
        mma_bf16_16816(o_acc[2 * dpair + 1], p_frag, b_hi);
      }
    }
    cp_async_wait<0>();
    __syncthreads();  // the next block has landed and nobody still reads this buffer
  }

  // Normalise, store O (bf16 pairs) and the natural-log LSE (-inf for a row that saw no key).
  #pragma unroll
  for (int half = 0; half < 2; ++half) {
    row_sum[half] += __shfl_xor_sync(0xffffffffu, row_sum[half], 1);
    row_sum[half] += __shfl_xor_sync(0xffffffffu, row_sum[half], 2);
  }
  #pragma unroll
  for (int dt = 0; dt < D / 8; ++dt)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = q0 + ${out.row};
      const int col = ${out.col};
      if (row >= SQ) continue;
      const float inv = row_sum[half] > 0.f ? 1.f / row_sum[half] : 0.f;
      *reinterpret_cast<unsigned*>(O + ((long long)b * SQ + row) * ROW + h * D + col) = pack_bf16x2(o_acc[dt][2 * half] * inv, o_acc[dt][2 * half + 1] * inv);
    }
  if (lane % 4 == 0)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = q0 + warp * 16 + lane / 4 + half * 8;
      if (row < SQ) LSE[((long long)b * H + h) * SQ + row] = row_sum[half] > 0.f ? (row_max[half] + log2f(row_sum[half])) * ${floatLiteral(Math.LN2)} : -KILN_INF;
    }
}
`;
  return {
    name,
    source,
    grid: [Math.ceil(s.seqQ / bq), s.heads, s.batch],
    block: [threads, 1, 1],
    smemBytes: (bq + 4 * bkv) * d * 2 + (needsBias ? 2 * bkv * 4 : 0),
    params,
  };
}
