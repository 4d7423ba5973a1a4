// The Hopper (sm_90a) GEMM template: warpgroup MMA (wgmma.mma_async) reading A and B straight from
// 128B-swizzled shared memory through matrix descriptors, fed by the same cp.async pipeline as the
// mma.sync template. TN layout only (B is a [N, K] weight). Compile-checked here; TMA loads come later.
import { accumulatorCoord } from "./fragments.ts";
import { render as r } from "./index-math.ts";
import { IDENTITY_EPILOGUE, epilogueFunction, smemOffset, type GemmProblem, type OperandTile } from "./gemm-mma.ts";
import { C_TYPE, PREAMBLE, indent, pointer, signature, type CudaKernel, type KernelParam } from "./kernel.ts";

/** BM = 64 × warpgroups rows; BN is the wgmma N (8…256, multiple of 8 — we use 64, 128, 256); BK = 64 (one 128-byte swizzle row). */
export interface WgmmaTile {
  warpgroups: number;
  bn: number;
  stages: number;
}

const BK = 64;

/** The wgmma call for m64nNk16 with N/2 f32 accumulators per thread, both operands from descriptors. */
function wgmmaHelper(n: number): string {
  const regs = n / 2;
  const list = Array.from({ length: regs }, (_, i) => `%${i}`).join(", ");
  const outputs = Array.from({ length: regs }, (_, i) => `"+f"(d[${i}])`);
  const rows: string[] = [];
  for (let i = 0; i < outputs.length; i += 8) rows.push(outputs.slice(i, i + 8).join(", "));
  return `#ifndef KILN_WGMMA_M64N${n}K16
#define KILN_WGMMA_M64N${n}K16
// d += A·Bᵀ for a 64×${n}×16 step of one warpgroup; A and B are read from shared memory via descriptors.
__device__ __forceinline__ void wgmma_m64n${n}k16(float (&d)[${regs}], unsigned long long desc_a, unsigned long long desc_b) {
  asm volatile(
      "{\\n.reg .pred p;\\nsetp.ne.b32 p, 1, 0;\\n"
      "wgmma.mma_async.sync.aligned.m64n${n}k16.f32.bf16.bf16 {${list}}, %${regs}, %${regs + 1}, p, 1, 1, 0, 0;\\n}\\n"
      : ${rows.join(",\n        ")}
      : "l"(desc_a), "l"(desc_b));
}
#endif`;
}

/** Shared-memory matrix descriptor for a K-major tile in 128B swizzle: 8-row groups 1024 bytes apart. */
const DESCRIPTOR_HELPERS = `__device__ __forceinline__ unsigned long long wgmma_descriptor(const void* smem_tile) {
  const unsigned long long address = smem_u32(smem_tile);
  return ((address & 0x3ffffull) >> 4)  // start address / 16
         | (1ull << 16)                    // leading byte offset (unused for swizzled K-major)
         | ((1024ull >> 4) << 32)          // stride byte offset: 8 rows × 128 bytes
         | (1ull << 62);                   // 128-byte swizzle
}
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_wait_all() { asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory"); }
// Makes shared-memory writes of the generic proxy (cp.async) visible to the async proxy wgmma reads through.
__device__ __forceinline__ void fence_proxy_async_shared() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }`;

export function gemmWgmmaName(p: GemmProblem, t: WgmmaTile): string {
  const batch = (p.batch ?? 1) > 1 ? `_b${p.batch}` : "";
  return `gemm_wgmma_bf16_tn_${64 * t.warpgroups}x${t.bn}x${BK}_s${t.stages}_wg${t.warpgroups}_m${p.m}n${p.n}k${p.k}${batch}_${(p.epilogue ?? IDENTITY_EPILOGUE).tag}_o${p.out}`;
}

export function gemmWgmma(p: GemmProblem, t: WgmmaTile): CudaKernel {
  if (p.layout !== "tn") throw new Error(`gemmWgmma: layout ${p.layout} is not supported (expected "tn": B as [N, K]); use gemmMma`);
  if (p.k % 8 !== 0) throw new Error(`gemmWgmma: K = ${p.k} must be a multiple of 8 for 16-byte copies; use gemmMma`);
  if (![64, 128, 256].includes(t.bn)) throw new Error(`gemmWgmma: BN ${t.bn} must be 64, 128 or 256`);
  const bm = 64 * t.warpgroups;
  const threads = 128 * t.warpgroups;
  const epilogue = p.epilogue ?? IDENTITY_EPILOGUE;
  const batch = p.batch ?? 1;
  const tilesM = Math.ceil(p.m / bm);
  const tilesN = Math.ceil(p.n / t.bn);
  const kTiles = Math.ceil(p.k / BK);
  const name = gemmWgmmaName(p, t);
  const aTile: OperandTile = { rows: bm, chunks: BK / 8 };
  const bTile: OperandTile = { rows: t.bn, chunks: BK / 8 };
  const loadsA = (bm * 8) / threads;
  const loadsB = (t.bn * 8) / threads;
  const params: KernelParam[] = [
    pointer("A", "const bf16_t* __restrict__"),
    pointer("B", "const bf16_t* __restrict__"),
    pointer("C", `${C_TYPE[p.out]}* __restrict__`),
    ...epilogue.params,
  ];
  const extraArgs = epilogue.params.map((q) => `, ${q.name}`).join("");
  const copy = (operand: "A" | "B", tile: OperandTile, loads: number, rows: string, row0: string) => `{
  bf16_t* dst = ${operand.toLowerCase()}_tiles + stage * ${tile.rows * BK};
  #pragma unroll
  for (int i = 0; i < ${loads}; ++i) {
    const int row = (tid + i * ${threads}) / 8;
    const int chunk = (tid + i * ${threads}) % 8;
    const int g_row = ${row0} + row;
    const int g_col = k0 + chunk * 8;
    const bool ok = g_row < ${rows} && g_col < K;
    cp_async_16(smem_u32(dst + ${smemOffset(r, tile, "row", "chunk")}), ok ? ${operand} + (long long)g_row * K + g_col : ${operand}, ok ? 16 : 0);
  }
}`;
  const acc = accumulatorCoord(r, "lane", "warpgroup * 64 + warp_in_group * 16", "j * 8", "half");
  const store =
    p.out === "bf16" ? `*reinterpret_cast<unsigned*>(C + at) = pack_bf16x2(v0, v1);` : `*reinterpret_cast<float2*>(C + at) = make_float2(v0, v1);`;
  const source = `${PREAMBLE}
#ifndef KILN_WGMMA
#define KILN_WGMMA
${DESCRIPTOR_HELPERS}
#endif
${wgmmaHelper(t.bn)}

// ${name}: C[b] = ${epilogue.tag}(A·Bᵀ) for A [${p.m},${p.k}], B [${p.n},${p.k}] bf16, wgmma with f32 accumulation, ${p.out} out.
${epilogueFunction(name, p, epilogue)}

extern "C" __global__ void __launch_bounds__(${threads}) ${name}(${signature(params)}) {
  [[maybe_unused]] constexpr int M = ${p.m}, N = ${p.n}, K = ${p.k};
  extern __shared__ __align__(1024) unsigned char smem[];  // descriptors need 1024-byte aligned swizzle atoms
  bf16_t* a_tiles = reinterpret_cast<bf16_t*>(smem);  // [${t.stages}][${bm}×${BK}], 128B-swizzled rows
  bf16_t* b_tiles = a_tiles + ${t.stages * bm * BK};  // [${t.stages}][${t.bn}×${BK}]
  const int tid = threadIdx.x;
  const int lane = tid % 32;
  const int warpgroup = tid / 128;
  const int warp_in_group = (tid / 32) % 4;
  const int b = blockIdx.z;
  const int block_m = blockIdx.y * ${bm};
  const int block_n = blockIdx.x * ${t.bn};
  A += (long long)b * ${p.strideA ?? p.m * p.k};
  B += (long long)b * ${p.strideB ?? p.n * p.k};
  C += (long long)b * ${p.strideC ?? p.m * p.n};

  auto load_stage = [&](int stage, int k_tile) {
    const int k0 = k_tile * ${BK};
${indent(copy("A", aTile, loadsA, "M", "block_m"), 2)}
${indent(copy("B", bTile, loadsB, "N", "block_n"), 2)}
  };

  float acc[${t.bn / 2}];
  #pragma unroll
  for (int i = 0; i < ${t.bn / 2}; ++i) acc[i] = 0.f;

  #pragma unroll
  for (int s = 0; s < ${t.stages - 1}; ++s) {
    if (s < ${kTiles}) load_stage(s, s);
    cp_async_commit();
  }
  for (int k_tile = 0; k_tile < ${kTiles}; ++k_tile) {
    cp_async_wait<${t.stages - 2}>();
    fence_proxy_async_shared();  // each thread's landed copies, before the barrier that lets wgmma read them
    __syncthreads();
    const int next = k_tile + ${t.stages - 1};
    if (next < ${kTiles}) load_stage(next % ${t.stages}, next);
    cp_async_commit();

    const bf16_t* a_stage = a_tiles + (k_tile % ${t.stages}) * ${bm * BK} + warpgroup * ${64 * BK};
    const bf16_t* b_stage = b_tiles + (k_tile % ${t.stages}) * ${t.bn * BK};
    wgmma_fence();
    #pragma unroll
    for (int ks = 0; ks < ${BK / 16}; ++ks)  // 16 k = 32 bytes further into each swizzled row
      wgmma_m64n${t.bn}k16(acc, wgmma_descriptor(a_stage + ks * 16), wgmma_descriptor(b_stage + ks * 16));
    wgmma_commit();
    wgmma_wait_all();
  }
  cp_async_wait<0>();

  // Epilogue: register 4j + 2·half + e holds (row, 8j + 2(lane%4) + e) of this warp's 16 rows.
  #pragma unroll
  for (int j = 0; j < ${t.bn / 8}; ++j)
    #pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = block_m + ${acc.row};
      const int col = block_n + ${acc.col};
      if (row >= M || col >= N) continue;
      const long long at = (long long)row * N + col;
      const float v0 = ${name}_epilogue(acc[4 * j + 2 * half], b, row, col${extraArgs});
      if (col + 1 < N && N % 2 == 0) {
        const float v1 = ${name}_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1${extraArgs});
        ${store}
      } else {
        C[at] = ${p.out === "bf16" ? "f32_to_bf16(v0)" : "v0"};
        if (col + 1 < N) C[at + 1] = ${p.out === "bf16" ? `f32_to_bf16(${name}_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1${extraArgs}))` : `${name}_epilogue(acc[4 * j + 2 * half + 1], b, row, col + 1${extraArgs})`};
      }
    }
}
`;
  return {
    name,
    source,
    grid: [tilesN, tilesM, batch],
    block: [threads, 1, 1],
    smemBytes: t.stages * (bm + t.bn) * BK * 2,
    params,
  };
}
