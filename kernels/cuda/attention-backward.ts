// Flash attention backward (FlashAttention-2 order): one block per (key block, head, batch) keeps
// dK and dV in registers while it walks the query blocks, recomputing P from the forward's LSE;
// dQ is summed across key blocks with f32 atomics. Three launches: preprocess, main, dQ to bf16.
import { aFragment, aFragmentTrans, accumulatorCoord, accumulatorsToAFragment, bFragmentsKN, bFragmentsNK } from "./fragments.ts";
import { render as r } from "./index-math.ts";
import { smemOffset, type OperandTile } from "./gemm-mma.ts";
import { LOG2E, attentionScale, attentionShapeProblem, copyHeadRows, headTile, type AttentionShape } from "./attention.ts";
import { PREAMBLE, floatLiteral, indent, pointer, signature, type CudaKernel, type KernelParam } from "./kernel.ts";

const shapeTag = (s: AttentionShape) => `b${s.batch}h${s.heads}q${s.seqQ}k${s.seqK}d${s.headDim}`;

/**
 * Delta[b,h,q] = Σ_d dO·O (the softmax-backward row term), one warp per (batch, query, head) row; it also
 * zeroes that row of the f32 dQ accumulator the main kernel adds into.
 */
export function attentionBackwardPreprocess(s: AttentionShape): CudaKernel {
  const problem = attentionShapeProblem(s);
  if (problem) throw new Error(`attentionBackwardPreprocess: ${problem}`);
  const name = `attention_bwd_delta_${shapeTag(s)}`;
  const rows = s.batch * s.seqQ * s.heads;
  const rowsPerBlock = 8;
  const params: KernelParam[] = [
    pointer("O", "const bf16_t* __restrict__"),
    pointer("dO", "const bf16_t* __restrict__"),
    pointer("Delta", "float* __restrict__"),
    pointer("dQ_acc", "float* __restrict__"),
  ];
  const source = `${PREAMBLE}
// ${name}: Delta[b,h,q] = Σ_d dO[b,q,h,d]·O[b,q,h,d] (f32) and dQ_acc[b,q,h,:] = 0, one warp per row.
extern "C" __global__ void __launch_bounds__(${rowsPerBlock * 32}) ${name}(${signature(params)}) {
  constexpr int SQ = ${s.seqQ}, H = ${s.heads}, D = ${s.headDim}, ROWS = ${rows};
  const int row = blockIdx.x * ${rowsPerBlock} + threadIdx.x / 32;  // (b·SQ + q)·H + h
  const int lane = threadIdx.x % 32;
  if (row >= ROWS) return;
  float dot = 0.f;
  for (int d = lane; d < D; d += 32) {
    dot += bf16_to_f32(dO[(long long)row * D + d]) * bf16_to_f32(O[(long long)row * D + d]);
    dQ_acc[(long long)row * D + d] = 0.f;
  }
  #pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
  const int h = row % H;
  const int q = (row / H) % SQ;
  const int b = row / (H * SQ);
  if (lane == 0) Delta[((long long)b * H + h) * SQ + q] = dot;
}
`;
  return { name, source, grid: [Math.ceil(rows / rowsPerBlock), 1, 1], block: [rowsPerBlock * 32, 1, 1], smemBytes: 0, params };
}

/** dQ (bf16) from the f32 accumulator, four elements per thread. */
export function attentionBackwardConvertDq(s: AttentionShape): CudaKernel {
  const name = `attention_bwd_dq_${shapeTag(s)}`;
  const count = s.batch * s.seqQ * s.heads * s.headDim;
  const params: KernelParam[] = [pointer("dQ_acc", "const float* __restrict__"), pointer("dQ", "bf16_t* __restrict__")];
  const source = `${PREAMBLE}
// ${name}: dQ = bf16(dQ_acc), ${count} elements.
extern "C" __global__ void __launch_bounds__(256) ${name}(${signature(params)}) {
  const long long i = ((long long)blockIdx.x * 256 + threadIdx.x) * 4;
  if (i >= ${count}) return;
  const float4 v = *reinterpret_cast<const float4*>(dQ_acc + i);
  *reinterpret_cast<uint2*>(dQ + i) = make_uint2(pack_bf16x2(v.x, v.y), pack_bf16x2(v.z, v.w));
}
`;
  return { name, source, grid: [Math.ceil(count / 1024), 1, 1], block: [256, 1, 1], smemBytes: 0, params };
}

/** Query block per head dim: dK and dV stay in registers, so larger heads walk the queries in smaller steps. */
export const defaultBackwardTile = (s: AttentionShape) => ({ bq: s.headDim <= 32 ? 64 : s.headDim <= 64 ? 32 : 16, bkv: 64 });

/** The main backward kernel; grid (⌈S_k/BKV⌉, H, B), one warp per 16 keys. */
export function attentionBackward(s: AttentionShape, tile: { bq: number; bkv: number } = defaultBackwardTile(s)): CudaKernel {
  const problem = attentionShapeProblem(s);
  if (problem) throw new Error(`attentionBackward: ${problem}`);
  const { bq, bkv } = tile;
  const d = s.headDim;
  const warps = bkv / 16;
  const threads = warps * 32;
  const qGroups = bq / 16;
  const dParts = warps / qGroups;
  const dPart = d / dParts;
  if (!Number.isInteger(dParts) || dPart % 16 !== 0)
    throw new Error(`attentionBackward: ${warps} warps cannot split dQ of ${bq} queries × ${d} into 16-wide parts`);
  const name = `attention_bwd_${shapeTag(s)}_${bq}x${bkv}${s.mask ? "_mask" : ""}`;
  const params: KernelParam[] = [
    pointer("Q", "const bf16_t* __restrict__"),
    pointer("K", "const bf16_t* __restrict__"),
    pointer("V", "const bf16_t* __restrict__"),
    pointer("dO", "const bf16_t* __restrict__"),
    pointer("LSE", "const float* __restrict__"),
    pointer("Delta", "const float* __restrict__"),
    pointer("dQ_acc", "float* __restrict__"),
    pointer("dK", "bf16_t* __restrict__"),
    pointer("dV", "bf16_t* __restrict__"),
    ...(s.mask ? [pointer("key_mask", "const unsigned char* __restrict__")] : []),
  ];
  const kvTile = headTile(bkv, d);
  const qTile = headTile(bq, d);
  const dsTile: OperandTile = { rows: bkv, chunks: bq / 8 };
  const needsBias = s.mask || s.seqK % bkv !== 0;
  const keyVisible = s.mask ? "key < SK && key_mask[(long long)b * SK + key] != 0" : "key < SK";
  const kRows = aFragment(r, "lane", "warp * 16", "kd * 2");
  const qCols = bFragmentsNK(r, "lane", "pair * 16", "kd * 2");
  const qRowsKN = bFragmentsKN(r, "lane", "kk * 16", "dpair * 2");
  const dsRows = aFragmentTrans(r, "lane", "kk * 16", "q_group * 2");
  const kRowsKN = bFragmentsKN(r, "lane", "kk * 16", `d_part * ${dPart / 8} + dpair * 2`);
  const keyAcc = accumulatorCoord(r, "lane", "warp * 16", "nt * 8", "half");
  const dqAcc = accumulatorCoord(r, "lane", "q_group * 16", `d_part * ${dPart} + dt * 8`, "half");
  const outAcc = accumulatorCoord(r, "lane", "warp * 16", "dt * 8", "half");
  const copyQueryBlock = (
    buffer: string,
    block: string,
  ) => `${copyHeadRows({ dst: `q_tiles + ${buffer} * ${bq * d}`, src: "q_head", row0: `${block} * ${bq}`, limit: "SQ", rowStride: "ROW", tile: qTile, threads })}
${copyHeadRows({ dst: `do_tiles + ${buffer} * ${bq * d}`, src: "do_head", row0: `${block} * ${bq}`, limit: "SQ", rowStride: "ROW", tile: qTile, threads })}
for (int j = tid; j < ${bq}; j += ${threads}) {
  const int q = ${block} * ${bq} + j;
  const float lse = q < SQ ? lse_row[q] : KILN_INF;
  // A padded query, or one that saw no key in the forward (LSE = -inf), gets P = 0.
  lse_s[${buffer} * ${bq} + j] = lse == -KILN_INF ? KILN_INF : lse * ${floatLiteral(LOG2E)};
  delta_s[${buffer} * ${bq} + j] = q < SQ ? delta_row[q] : 0.f;
}`;
  // acc[rows of this warp's keys] += A(from registers) · B(rows k, chunks n of `tileName`, .trans)
  const accumulateKN = (target: string, from: string, tileName: string, tileShape: OperandTile) => `#pragma unroll
for (int kk = 0; kk < ${bq / 16}; ++kk) {
  const unsigned a_frag[4] = ${indent(accumulatorsToAFragment(from, "kk"), 1).trimStart()};
  #pragma unroll
  for (int dpair = 0; dpair < D / 16; ++dpair) {
    const int row = ${qRowsKN.row};
    const int chunk = ${qRowsKN.chunk};
    unsigned b4[4];
    ldmatrix_x4_trans(b4, smem_u32(${tileName} + ${smemOffset(r, tileShape, "row", "chunk")}));
    const unsigned b_lo[2] = {b4[0], b4[1]};
    const unsigned b_hi[2] = {b4[2], b4[3]};
    mma_bf16_16816(${target}[2 * dpair], a_frag, b_lo);
    mma_bf16_16816(${target}[2 * dpair + 1], a_frag, b_hi);
  }
}`;
  // acc[keys × queries] = (rows of `rowsTile`)·(query rows of `colsTile`)ᵀ over d
  const keysTimesQueriesT = (target: string, rowsTile: string, colsTile: string) => `float ${target}[${bq / 8}][4];
#pragma unroll
for (int nt = 0; nt < ${bq / 8}; ++nt)
  #pragma unroll
  for (int e = 0; e < 4; ++e) ${target}[nt][e] = 0.f;
#pragma unroll 1  // rolled: keeps the shared-memory addresses out of the registers dK and dV need
for (int kd = 0; kd < D / 16; ++kd) {
  unsigned a_frag[4];
  {
    const int row = ${kRows.row};
    const int chunk = ${kRows.chunk};
    ldmatrix_x4(a_frag, smem_u32(${rowsTile} + ${smemOffset(r, kvTile, "row", "chunk")}));
  }
  #pragma unroll
  for (int pair = 0; pair < ${bq / 16}; ++pair) {
    const int row = ${qCols.row};
    const int chunk = ${qCols.chunk};
    unsigned b4[4];
    ldmatrix_x4(b4, smem_u32(${colsTile} + ${smemOffset(r, qTile, "row", "chunk")}));
    const unsigned b_lo[2] = {b4[0], b4[1]};
    const unsigned b_hi[2] = {b4[2], b4[3]};
    mma_bf16_16816(${target}[2 * pair], a_frag, b_lo);
    mma_bf16_16816(${target}[2 * pair + 1], a_frag, b_hi);
  }
}`;
  const zero = (acc: string, n: string) => `float ${acc}[${n}][4];
#pragma unroll
for (int dt = 0; dt < ${n}; ++dt)
  #pragma unroll
  for (int e = 0; e < 4; ++e) ${acc}[dt][e] = 0.f;`;
  const storeKeys = (acc: string, out: string, scale: string) => `#pragma unroll
for (int dt = 0; dt < D / 8; ++dt)
  #pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int key = k0 + ${outAcc.row};
    const int col = ${outAcc.col};
    if (key < SK)
      *reinterpret_cast<unsigned*>(${out} + ((long long)b * SK + key) * ROW + h * D + col) = pack_bf16x2(${acc}[dt][2 * half]${scale}, ${acc}[dt][2 * half + 1]${scale});
  }`;

  const source = `${PREAMBLE}
// ${name}: dK, dV (bf16) and dQ_acc += (f32) of O = softmax(Q·Kᵀ·${attentionScale(s).toPrecision(6)}${s.mask ? " + key mask" : ""})·V, recomputing P from LSE; [B,S,H·D].
extern "C" __global__ void __launch_bounds__(${threads}) ${name}(${signature(params)}) {
  constexpr int SQ = ${s.seqQ}, SK = ${s.seqK}, H = ${s.heads}, D = ${d}, ROW = H * D;
  constexpr float SCALE = ${floatLiteral(attentionScale(s))};
  constexpr float SCALE_LOG2 = ${floatLiteral(attentionScale(s) * LOG2E)};
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* k_tile = reinterpret_cast<bf16_t*>(smem);  // [${bkv}][D] this block's keys, swizzled
  bf16_t* v_tile = k_tile + ${bkv * d};  // [${bkv}][D]
  bf16_t* q_tiles = v_tile + ${bkv * d};  // [2][${bq}][D] double-buffered query blocks
  bf16_t* do_tiles = q_tiles + ${2 * bq * d};  // [2][${bq}][D]
  bf16_t* ds_tile = do_tiles + ${2 * bq * d};  // [${bkv}][${bq}] dSᵀ of the current query block
  float* lse_s = reinterpret_cast<float*>(ds_tile + ${bkv * bq});  // [2][${bq}] LSE·log2 e (+inf: no contribution)
  float* delta_s = lse_s + ${2 * bq};  // [2][${bq}]
${needsBias ? `  float* key_bias = delta_s + ${2 * bq};  // [${bkv}]: 0, or -inf for a hidden key\n` : ""}  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int k0 = blockIdx.x * ${bkv};
  const int h = blockIdx.y;
  const int b = blockIdx.z;
  const bf16_t* q_head = Q + (long long)b * SQ * ROW + h * D;
  const bf16_t* k_head = K + (long long)b * SK * ROW + h * D;
  const bf16_t* v_head = V + (long long)b * SK * ROW + h * D;
  const bf16_t* do_head = dO + (long long)b * SQ * ROW + h * D;
  const float* lse_row = LSE + ((long long)b * H + h) * SQ;
  const float* delta_row = Delta + ((long long)b * H + h) * SQ;

${indent(copyHeadRows({ dst: "k_tile", src: "k_head", row0: "k0", limit: "SK", rowStride: "ROW", tile: kvTile, threads }), 1)}
${indent(copyHeadRows({ dst: "v_tile", src: "v_head", row0: "k0", limit: "SK", rowStride: "ROW", tile: kvTile, threads }), 1)}
${
  needsBias
    ? `  for (int j = tid; j < ${bkv}; j += ${threads}) {
    const int key = k0 + j;
    key_bias[j] = ${keyVisible} ? 0.f : -KILN_INF;
  }
`
    : ""
}${indent(copyQueryBlock("0", "0"), 1)}
  cp_async_commit();

${indent(zero("dk_acc", "D / 8"), 1)}
${indent(zero("dv_acc", "D / 8"), 1)}
  const int q_group = warp % ${qGroups};  // for dQ: which 16 queries and which ${dPart}-wide slice of d this warp owns
  const int d_part = warp / ${qGroups};

  constexpr int Q_BLOCKS = (SQ + ${bq - 1}) / ${bq};
  for (int qb = 0; qb < Q_BLOCKS; ++qb) {
    if (qb + 1 < Q_BLOCKS) {
${indent(copyQueryBlock("((qb + 1) % 2)", "(qb + 1)"), 3)}
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();  // query block qb (and the keys) have landed
    const bf16_t* q_tile = q_tiles + (qb % 2) * ${bq * d};
    const bf16_t* do_tile = do_tiles + (qb % 2) * ${bq * d};
    const float* lse_b = lse_s + (qb % 2) * ${bq};
    const float* delta_b = delta_s + (qb % 2) * ${bq};

    // Pᵀ = exp2(Sᵀ·scale·log2 e - LSE·log2 e) for this warp's 16 keys × ${bq} queries.
${indent(keysTimesQueriesT("probs", "k_tile", "q_tile"), 2)}
    #pragma unroll
    for (int nt = 0; nt < ${bq / 8}; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int q_local = ${keyAcc.col} + e % 2;
        probs[nt][e] = exp2f(probs[nt][e] * SCALE_LOG2${needsBias ? ` + key_bias[warp * 16 + lane / 4 + (e / 2) * 8]` : ""} - lse_b[q_local]);
      }

    // dV += Pᵀ·dO.
${indent(accumulateKN("dv_acc", "probs", "do_tile", qTile), 2)}

    // dSᵀ = Pᵀ ∘ (V·dOᵀ - Delta).
${indent(keysTimesQueriesT("dprobs", "v_tile", "do_tile"), 2)}
    #pragma unroll
    for (int nt = 0; nt < ${bq / 8}; ++nt)
      #pragma unroll
      for (int e = 0; e < 4; ++e) probs[nt][e] *= dprobs[nt][e] - delta_b[${keyAcc.col} + e % 2];

    // dK += dSᵀ·Q (scaled at the end).
${indent(accumulateKN("dk_acc", "probs", "q_tile", qTile), 2)}

    // dSᵀ to shared memory, then dQ += dS·K·scale for this warp's queries and d slice.
    #pragma unroll
    for (int nt = 0; nt < ${bq / 8}; ++nt)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = ${keyAcc.row};
        const int col = ${keyAcc.col};
        const int chunk = col / 8;
        *reinterpret_cast<unsigned*>(ds_tile + ${smemOffset(r, dsTile, "row", "chunk")} + col % 8) = pack_bf16x2(probs[nt][2 * half], probs[nt][2 * half + 1]);
      }
    __syncthreads();
${indent(zero("dq", `${dPart / 8}`), 2)}
    #pragma unroll 1
    for (int kk = 0; kk < ${bkv / 16}; ++kk) {
      unsigned a_frag[4];
      {
        const int row = ${dsRows.row};
        const int chunk = ${dsRows.chunk};
        ldmatrix_x4_trans(a_frag, smem_u32(ds_tile + ${smemOffset(r, dsTile, "row", "chunk")}));
      }
      #pragma unroll
      for (int dpair = 0; dpair < ${dPart / 16}; ++dpair) {
        const int row = ${kRowsKN.row};
        const int chunk = ${kRowsKN.chunk};
        unsigned b4[4];
        ldmatrix_x4_trans(b4, smem_u32(k_tile + ${smemOffset(r, kvTile, "row", "chunk")}));
        const unsigned b_lo[2] = {b4[0], b4[1]};
        const unsigned b_hi[2] = {b4[2], b4[3]};
        mma_bf16_16816(dq[2 * dpair], a_frag, b_lo);
        mma_bf16_16816(dq[2 * dpair + 1], a_frag, b_hi);
      }
    }
    #pragma unroll
    for (int dt = 0; dt < ${dPart / 8}; ++dt)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int q = qb * ${bq} + ${dqAcc.row};
        const int col = ${dqAcc.col};
        if (q >= SQ) continue;
        float* at = dQ_acc + ((long long)b * SQ + q) * ROW + h * D + col;
        atomicAdd(at, dq[dt][2 * half] * SCALE);
        atomicAdd(at + 1, dq[dt][2 * half + 1] * SCALE);
      }
    __syncthreads();  // the next copy reuses this query buffer and dSᵀ
  }

  // dK = scale·Σ dSᵀ·Q and dV = Σ Pᵀ·dO for this block's keys.
${indent(storeKeys("dk_acc", "dK", " * SCALE"), 1)}
${indent(storeKeys("dv_acc", "dV", ""), 1)}
}
`;
  return {
    name,
    source,
    grid: [Math.ceil(s.seqK / bkv), s.heads, s.batch],
    block: [threads, 1, 1],
    smemBytes: (2 * bkv * d + 4 * bq * d + bkv * bq) * 2 + 4 * bq * 4 + (needsBias ? bkv * 4 : 0),
    params,
  };
}
