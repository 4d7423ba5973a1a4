// The portable tensor-core GEMM template (sm_80 and sm_90): a multi-stage cp.async pipeline into
// swizzled shared memory, ldmatrix into fragments, mma.sync m16n8k16 bf16 → f32, and a fused epilogue.
// Its index math lives in `gemmLayout` so the emulator (gemm-emulator.ts) checks the very same formulas.
import { accumulatorCoord, aFragment, bFragmentsKN, bFragmentsNK } from "./fragments.ts";
import { render, type IntOps } from "./index-math.ts";
import { C_TYPE, PREAMBLE, indent, pointer, signature, type CudaKernel, type KernelParam, type StorageType } from "./kernel.ts";

/** Tile parameters: block tile BM×BN×BK, a warpsM×warpsN grid of warps, `stages` shared-memory buffers. */
export interface GemmTile {
  bm: number;
  bn: number;
  bk: number;
  warpsM: number;
  warpsN: number;
  stages: number;
}

/**
 * "tn": B is [N, K] row-major (a PyTorch weight), C = A·Bᵀ. "nn": B is [K, N] row-major, C = A·B.
 * A is always [M, K] row-major; C is [M, N] row-major.
 */
export type GemmLayout = "tn" | "nn";

/** A device function fused after the accumulation: `float f(float acc, int b, int row, int col, …params)`. */
export interface GemmEpilogue {
  /** Short identifier that goes into the kernel name (e.g. "bias_gelu"). */
  tag: string;
  /** Body of the device function; it sees acc, b, row, col, the extra params by name, and M, N, K. */
  body: string;
  /** Extra kernel parameters (pointers or scalars) the body reads. */
  params: readonly KernelParam[];
}

export interface GemmProblem {
  m: number;
  n: number;
  k: number;
  batch?: number;
  layout: GemmLayout;
  /** Element strides between batches (default dense; 0 broadcasts one matrix to every batch). */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  out: StorageType;
  epilogue?: GemmEpilogue;
}

export const IDENTITY_EPILOGUE: GemmEpilogue = { tag: "plain", body: "return acc;", params: [] };

/** The epilogue as the device function `<name>_epilogue(acc, b, row, col, …params)` both GEMM templates call. */
export function epilogueFunction(name: string, p: Pick<GemmProblem, "m" | "n" | "k">, epilogue: GemmEpilogue): string {
  return `__device__ __forceinline__ float ${name}_epilogue(${signature([
    { name: "acc", type: "f32", cType: "float" },
    { name: "b", type: "i32", cType: "int" },
    { name: "row", type: "i32", cType: "int" },
    { name: "col", type: "i32", cType: "int" },
    ...epilogue.params,
  ])}) {
  [[maybe_unused]] constexpr int M = ${p.m}, N = ${p.n}, K = ${p.k};
${indent(epilogue.body, 1)}
}`;
}

/** Rows of output tiles that consecutive blocks walk together, so their A and B tiles share L2. */
const GROUP_M = 8;

/** A shared-memory operand tile: `rows` rows of `chunks` 16-byte chunks (8 bf16 each). */
export interface OperandTile {
  rows: number;
  chunks: number;
}

export function operandTiles(tile: GemmTile, layout: GemmLayout): { a: OperandTile; b: OperandTile } {
  return {
    a: { rows: tile.bm, chunks: tile.bk / 8 },
    b: layout === "tn" ? { rows: tile.bn, chunks: tile.bk / 8 } : { rows: tile.bk, chunks: tile.bn / 8 },
  };
}

export const threadsOf = (tile: GemmTile) => tile.warpsM * tile.warpsN * 32;

/**
 * The swizzled chunk of (row, chunk): XOR with the row's position in a 128-byte line group, so the
 * 8 rows one ldmatrix phase reads fall in 8 different bank groups. Identical to the 128B swizzle
 * wgmma descriptors expect when a row is 128 bytes.
 */
export function swizzledChunk<T>(o: IntOps<T>, shape: OperandTile, row: T, chunk: T): T {
  const rowsPerLine = Math.max(1, 8 / shape.chunks);
  const phases = Math.min(shape.chunks, 8);
  return o.xor(chunk, o.mod(o.div(row, o.lit(rowsPerLine)), o.lit(phases)));
}

/** Element offset of (row, chunk) within one stage of an operand tile. */
export const smemOffset = <T>(o: IntOps<T>, shape: OperandTile, row: T, chunk: T): T =>
  o.add(o.mul(row, o.lit(shape.chunks * 8)), o.mul(swizzledChunk(o, shape, row, chunk), o.lit(8)));

/** Every index formula of the kernel, generic over rendering (C text) and evaluation (numbers). */
export function gemmLayout(tile: GemmTile, layout: GemmLayout) {
  const threads = threadsOf(tile);
  const warpTileM = tile.bm / tile.warpsM;
  const warpTileN = tile.bn / tile.warpsN;
  const tiles = operandTiles(tile, layout);
  return {
    threads,
    warpTileM,
    warpTileN,
    tiles,
    /** Fragments per warp: 16-row A tiles, 8-column B tiles. */
    mTiles: warpTileM / 16,
    nTiles: warpTileN / 8,
    /** How many 16-byte copies each thread issues per operand and stage. */
    loadsA: (tiles.a.rows * tiles.a.chunks) / threads,
    loadsB: (tiles.b.rows * tiles.b.chunks) / threads,
    /** The tile (row, chunk) thread `tid` copies in its `step`-th copy. */
    loadCoord<T>(o: IntOps<T>, shape: OperandTile, tid: T, step: T) {
      const id = o.add(tid, o.mul(step, o.lit(threads)));
      return { row: o.div(id, o.lit(shape.chunks)), chunk: o.mod(id, o.lit(shape.chunks)) };
    },
    /** The A row and k-chunk whose address `lane` gives to ldmatrix.x4 for fragment mi at k-step ks. */
    ldmatrixA: <T>(o: IntOps<T>, warpM: T, lane: T, mi: T, ks: T) =>
      aFragment(o, lane, o.add(o.mul(warpM, o.lit(warpTileM)), o.mul(mi, o.lit(16))), o.mul(ks, o.lit(2))),
    /** The B tile row and chunk whose address `lane` gives to ldmatrix.x4 for n-tiles 2·pair and 2·pair+1. */
    ldmatrixB<T>(o: IntOps<T>, warpN: T, lane: T, pair: T, ks: T) {
      const n0 = o.add(o.mul(warpN, o.lit(warpTileN)), o.mul(pair, o.lit(16)));
      return layout === "tn" ? bFragmentsNK(o, lane, n0, o.mul(ks, o.lit(2))) : bFragmentsKN(o, lane, o.mul(ks, o.lit(16)), o.div(n0, o.lit(8)));
    },
    /** Block-tile row and column of accumulator registers 2·half and 2·half+1 (the second is col+1). */
    accumulator: <T>(o: IntOps<T>, warpM: T, warpN: T, lane: T, mi: T, ni: T, half: T) =>
      accumulatorCoord(
        o,
        lane,
        o.add(o.mul(warpM, o.lit(warpTileM)), o.mul(mi, o.lit(16))),
        o.add(o.mul(warpN, o.lit(warpTileN)), o.mul(ni, o.lit(8))),
        half,
      ),
    /** Which output tile block `pid` computes (grouped raster order, GROUP_M tile rows at a time). */
    blockTile<T>(o: IntOps<T>, tilesM: number, tilesN: number, pid: T) {
      const inGroup = o.lit(GROUP_M * tilesN);
      const firstM = o.mul(o.div(pid, inGroup), o.lit(GROUP_M));
      const groupRows = o.min(o.sub(o.lit(tilesM), firstM), o.lit(GROUP_M));
      const local = o.mod(pid, inGroup);
      return { tileM: o.add(firstM, o.mod(local, groupRows)), tileN: o.div(local, groupRows) };
    },
  };
}

export type GemmLayoutMath = ReturnType<typeof gemmLayout>;

/** Why a tile cannot run, or null. Divisibility keeps every thread's work uniform and the fragments whole. */
export function gemmTileProblem(tile: GemmTile, layout: GemmLayout): string | null {
  const math = gemmLayout(tile, layout);
  if (tile.bk % 16 !== 0) return `BK ${tile.bk} must be a multiple of 16 (the mma k)`;
  if (math.warpTileM % 16 !== 0 || math.warpTileN % 16 !== 0) return `warp tile ${math.warpTileM}×${math.warpTileN} must be a multiple of 16×16`;
  if (!Number.isInteger(math.loadsA) || !Number.isInteger(math.loadsB))
    return `tile copies (${math.loadsA}, ${math.loadsB} per thread) must divide evenly over ${math.threads} threads`;
  if (tile.stages < 2) return `stages ${tile.stages} must be at least 2`;
  return null;
}

interface Extent {
  rows: string;
  cols: string;
  rowsTotal: number;
  colsTotal: number;
  rowsTile: number;
  colsTile: number;
  row0: string;
  col0: string;
}

export const gemmSmemBytes = (tile: GemmTile) => tile.stages * (tile.bm + tile.bn) * tile.bk * 2;

/** Whether 16-byte copies are legal: every row start of A and B must be 16-byte aligned. */
export const gemmVectorLoads = (p: GemmProblem) =>
  p.k % 8 === 0 && (p.layout === "tn" || p.n % 8 === 0) && [p.strideA, p.strideB].every((s) => (s ?? 0) % 8 === 0);

export function gemmKernelName(p: GemmProblem, t: GemmTile): string {
  const batch = (p.batch ?? 1) > 1 ? `_b${p.batch}` : "";
  return `gemm_mma_bf16_${p.layout}_${t.bm}x${t.bn}x${t.bk}_s${t.stages}_w${t.warpsM * t.warpsN}_m${p.m}n${p.n}k${p.k}${batch}_${(p.epilogue ?? IDENTITY_EPILOGUE).tag}_o${p.out}`;
}

/** Renders the GEMM for one problem and tile as a complete CUDA translation unit. */
export function gemmMma(p: GemmProblem, t: GemmTile): CudaKernel {
  const problem = gemmTileProblem(t, p.layout);
  if (problem) throw new Error(`gemmMma: tile ${t.bm}x${t.bn}x${t.bk} w${t.warpsM}x${t.warpsN} s${t.stages} cannot run: ${problem}`);
  const L = gemmLayout(t, p.layout);
  const epilogue = p.epilogue ?? IDENTITY_EPILOGUE;
  const batch = p.batch ?? 1;
  const strideA = p.strideA ?? p.m * p.k;
  const strideB = p.strideB ?? p.n * p.k;
  const strideC = p.strideC ?? p.m * p.n;
  const tilesM = Math.ceil(p.m / t.bm);
  const tilesN = Math.ceil(p.n / t.bn);
  const kTiles = Math.ceil(p.k / t.bk);
  const name = gemmKernelName(p, t);
  const out = C_TYPE[p.out];
  const vector = gemmVectorLoads(p);
  const params: KernelParam[] = [
    pointer("A", "const bf16_t* __restrict__"),
    pointer("B", "const bf16_t* __restrict__"),
    pointer("C", `${out}* __restrict__`),
    ...epilogue.params,
  ];
  const r = render;
  const extraArgs = epilogue.params.map((q) => `, ${q.name}`).join("");

  // Where each operand tile is cut from: matrix rows × cols (C names and sizes), and its origin.
  const aExtent: Extent = { rows: "M", cols: "K", rowsTotal: p.m, colsTotal: p.k, rowsTile: t.bm, colsTile: t.bk, row0: "block_m", col0: "k0" };
  const bExtent: Extent =
    p.layout === "tn"
      ? { rows: "N", cols: "K", rowsTotal: p.n, colsTotal: p.k, rowsTile: t.bn, colsTile: t.bk, row0: "block_n", col0: "k0" }
      : { rows: "K", cols: "N", rowsTotal: p.k, colsTotal: p.n, rowsTile: t.bk, colsTile: t.bn, row0: "k0", col0: "block_n" };

  const copyLoop = (operand: "A" | "B", shape: OperandTile, loads: number, extent: Extent) => {
    const coord = L.loadCoord(r, shape, "tid", "i");
    const offset = smemOffset(r, shape, "row", "chunk");
    const conds = [
      ...(extent.rowsTotal % extent.rowsTile === 0 ? [] : [`g_row < ${extent.rows}`]),
      ...(extent.colsTotal % extent.colsTile === 0 ? [] : [`g_col < ${extent.cols}`]),
    ];
    const inBounds = conds.length === 0 ? "true" : conds.join(" && ");
    const body = vector
      ? conds.length === 0
        ? `cp_async_16(smem_u32(dst + ${offset}), ${operand} + (long long)g_row * ${extent.cols} + g_col, 16);`
        : `const bool ok = ${inBounds};
cp_async_16(smem_u32(dst + ${offset}), ok ? ${operand} + (long long)g_row * ${extent.cols} + g_col : ${operand}, ok ? 16 : 0);`
      : `// Unaligned rows: eight guarded element loads, one 16-byte shared store.
unsigned e[8];
#pragma unroll
for (int j = 0; j < 8; ++j)
  e[j] = g_row < ${extent.rows} && g_col + j < ${extent.cols} ? ${operand}[(long long)g_row * ${extent.cols} + g_col + j] : 0u;
*reinterpret_cast<uint4*>(dst + ${offset}) = make_uint4(e[0] | e[1] << 16, e[2] | e[3] << 16, e[4] | e[5] << 16, e[6] | e[7] << 16);`;
    return `{
  bf16_t* dst = ${operand.toLowerCase()}_tiles + stage * ${shape.rows * shape.chunks * 8};
  #pragma unroll
  for (int i = 0; i < ${loads}; ++i) {
    const int row = ${coord.row};
    const int chunk = ${coord.chunk};
    const int g_row = ${extent.row0} + row;
    const int g_col = ${extent.col0} + chunk * 8;
${indent(body, 2)}
  }
}`;
  };

  const tileCoord = L.blockTile(r, tilesM, tilesN, "pid");
  const aFrag = L.ldmatrixA(r, "warp_m", "lane", "mi", "ks");
  const bFrag = L.ldmatrixB(r, "warp_n", "lane", "pair", "ks");
  const acc = L.accumulator(r, "warp_m", "warp_n", "lane", "mi", "ni", "half");
  const ldmatrixB = p.layout === "tn" ? "ldmatrix_x4" : "ldmatrix_x4_trans";
  const store =
    p.out === "bf16"
      ? { pair: `*reinterpret_cast<unsigned*>(C + at) = pack_bf16x2(v0, v1);`, one: (v: string) => `f32_to_bf16(${v})` }
      : { pair: `*reinterpret_cast<float2*>(C + at) = make_float2(v0, v1);`, one: (v: string) => v };
  const rowCheck = p.m % t.bm === 0 ? "" : "if (row >= M) continue;\n";
  const pairStore =
    p.n % t.bn === 0 && p.n % 2 === 0
      ? `const float v0 = ${name}_epilogue(acc[mi][ni][2 * half], b, row, col${extraArgs});
const float v1 = ${name}_epilogue(acc[mi][ni][2 * half + 1], b, row, col + 1${extraArgs});
${store.pair}`
      : `if (col < N) {
  const float v0 = ${name}_epilogue(acc[mi][ni][2 * half], b, row, col${extraArgs});
  if (col + 1 < N) {
    const float v1 = ${name}_epilogue(acc[mi][ni][2 * half + 1], b, row, col + 1${extraArgs});
${p.n % 2 === 0 ? `    ${store.pair}` : `    C[at] = ${store.one("v0")};\n    C[at + 1] = ${store.one("v1")};`}
  } else {
    C[at] = ${store.one("v0")};
  }
}`;

  const what = p.layout === "tn" ? "A·Bᵀ (B [N,K] row-major)" : "A·B (B [K,N] row-major)";
  const source = `${PREAMBLE}
// ${name}: C[b] = ${epilogue.tag}(${what}) for A [${p.m},${p.k}] bf16, ${batch} batch(es), f32 accumulation, ${p.out} out.
${epilogueFunction(name, p, epilogue)}

extern "C" __global__ void __launch_bounds__(${L.threads}) ${name}(${signature(params)}) {
  [[maybe_unused]] constexpr int M = ${p.m}, N = ${p.n}, K = ${p.k};
  extern __shared__ __align__(128) unsigned char smem[];
  bf16_t* a_tiles = reinterpret_cast<bf16_t*>(smem);  // [${t.stages}][${t.bm}×${t.bk}], swizzled 16-byte chunks
  bf16_t* b_tiles = a_tiles + ${t.stages * t.bm * t.bk};  // [${t.stages}][${p.layout === "tn" ? `${t.bn}×${t.bk}` : `${t.bk}×${t.bn}`}]
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warp_m = (tid / 32) / ${t.warpsN};
  const int warp_n = (tid / 32) % ${t.warpsN};
  const int b = blockIdx.z;
  const int pid = blockIdx.x;
  const int block_m = (${tileCoord.tileM}) * ${t.bm};
  const int block_n = (${tileCoord.tileN}) * ${t.bn};
  A += (long long)b * ${strideA};
  B += (long long)b * ${strideB};
  C += (long long)b * ${strideC};

  // Copies k-tile \`k_tile\` of A and B into pipeline stage \`stage\`.
  auto load_stage = [&](int stage, int k_tile) {
    const int k0 = k_tile * ${t.bk};
${indent(copyLoop("A", L.tiles.a, L.loadsA, aExtent), 2)}
${indent(copyLoop("B", L.tiles.b, L.loadsB, bExtent), 2)}
  };

  float acc[${L.mTiles}][${L.nTiles}][4];
  #pragma unroll
  for (int mi = 0; mi < ${L.mTiles}; ++mi)
    #pragma unroll
    for (int ni = 0; ni < ${L.nTiles}; ++ni)
      #pragma unroll
      for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0.f;

  #pragma unroll
  for (int s = 0; s < ${t.stages - 1}; ++s) {
    if (s < ${kTiles}) load_stage(s, s);
    cp_async_commit();
  }

  for (int k_tile = 0; k_tile < ${kTiles}; ++k_tile) {
    cp_async_wait<${t.stages - 2}>();
    __syncthreads();  // stage k_tile is visible to all; stage k_tile-1 is no longer read
    const int next = k_tile + ${t.stages - 1};
    if (next < ${kTiles}) load_stage(next % ${t.stages}, next);
    cp_async_commit();

    const bf16_t* a_stage = a_tiles + (k_tile % ${t.stages}) * ${L.tiles.a.rows * L.tiles.a.chunks * 8};
    const bf16_t* b_stage = b_tiles + (k_tile % ${t.stages}) * ${L.tiles.b.rows * L.tiles.b.chunks * 8};
    #pragma unroll
    for (int ks = 0; ks < ${t.bk / 16}; ++ks) {
      unsigned a_frag[${L.mTiles}][4];
      unsigned b_frag[${L.nTiles}][2];
      #pragma unroll
      for (int mi = 0; mi < ${L.mTiles}; ++mi) {
        const int row = ${aFrag.row};
        const int chunk = ${aFrag.chunk};
        ldmatrix_x4(a_frag[mi], smem_u32(a_stage + ${smemOffset(r, L.tiles.a, "row", "chunk")}));
      }
      #pragma unroll
      for (int pair = 0; pair < ${L.nTiles / 2}; ++pair) {
        const int row = ${bFrag.row};
        const int chunk = ${bFrag.chunk};
        unsigned q[4];
        ${ldmatrixB}(q, smem_u32(b_stage + ${smemOffset(r, L.tiles.b, "row", "chunk")}));
        b_frag[2 * pair][0] = q[0];
        b_frag[2 * pair][1] = q[1];
        b_frag[2 * pair + 1][0] = q[2];
        b_frag[2 * pair + 1][1] = q[3];
      }
      #pragma unroll
      for (int mi = 0; mi < ${L.mTiles}; ++mi)
        #pragma unroll
        for (int ni = 0; ni < ${L.nTiles}; ++ni) mma_bf16_16816(acc[mi][ni], a_frag[mi], b_frag[ni]);
    }
  }
  cp_async_wait<0>();

  // Epilogue: each thread owns pairs of adjacent columns of its fragments.
  #pragma unroll
  for (int mi = 0; mi < ${L.mTiles}; ++mi)
    #pragma unroll
    for (int ni = 0; ni < ${L.nTiles}; ++ni)
      #pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = block_m + ${acc.row};
        const int col = block_n + ${acc.col};
${indent(rowCheck, 4)}        const long long at = (long long)row * N + col;
${indent(pairStore, 4)}
      }
}
`;
  return {
    name,
    source,
    grid: [tilesM * tilesN, 1, batch],
    block: [L.threads, 1, 1],
    smemBytes: gemmSmemBytes(t),
    params,
  };
}
