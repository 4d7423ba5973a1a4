// A TS model of the mma GEMM kernel's data path (global → shared → ldmatrix → mma.sync → epilogue),
// driven by the same index formulas the renderer writes into the CUDA source (gemmLayout) and by the
// PTX fragment layouts below. It finds tiling and swizzle bugs on machines without a GPU.
import { evaluate as o } from "./index-math.ts";
import {
  gemmLayout,
  gemmTileProblem,
  gemmVectorLoads,
  smemOffset,
  type GemmLayoutMath,
  type GemmProblem,
  type GemmTile,
  type OperandTile,
} from "./gemm-mma.ts";

/**
 * PTX ISA fragment layouts of mma.m16n8k16 with 16-bit inputs, for lane t (g = t/4, c = t%4) and the
 * two 16-bit halves h of each 32-bit register: offsets added to the base position of the half.
 *   A (row, k):  base (g, 2c+h); registers a0..a3 at +(0,0), +(8,0), +(0,8), +(8,8)
 *   B (k, n):    base (2c+h, g); registers b0, b1 at +(0,0), +(8,0)
 *   C (row, col): register e at (g + 8·(e>>1), 2c + (e&1))
 */
export const MMA_A_OFFSETS = [
  [0, 0],
  [8, 0],
  [0, 8],
  [8, 8],
] as const;
export const MMA_B_OFFSETS = [
  [0, 0],
  [8, 0],
] as const;

/** ldmatrix m8n8.b16: lane t receives, from matrix j, row t/4 columns 2(t%4)+h; with .trans, row 2(t%4)+h column t/4. */
export function ldmatrixElement(lane: number, half: number, trans: boolean): { row: number; col: number } {
  return trans ? { row: 2 * (lane % 4) + half, col: Math.floor(lane / 4) } : { row: Math.floor(lane / 4), col: 2 * (lane % 4) + half };
}

export interface EmulationResult {
  /** The output as the kernel would write it (f64, before rounding to the output type). */
  c: Float64Array;
  /** How many times each output element was written (must be all ones). */
  writes: Uint8Array;
}

/**
 * Runs the kernel's data movement and arithmetic for (A, B) given as numbers (already bf16-rounded),
 * with the identity epilogue. Throws when an index formula breaks an invariant of the hardware or the tiling.
 * `layout` defaults to the formulas the renderer uses; tests pass a broken one to see it caught.
 */
export function emulateGemm(
  p: GemmProblem,
  t: GemmTile,
  a: Float64Array,
  b: Float64Array,
  layout: GemmLayoutMath = gemmLayout(t, p.layout),
): EmulationResult {
  const problem = gemmTileProblem(t, p.layout);
  if (problem) throw new Error(`emulateGemm: ${problem}`);
  const L = layout;
  const batch = p.batch ?? 1;
  const strideA = p.strideA ?? p.m * p.k;
  const strideB = p.strideB ?? p.n * p.k;
  const strideC = p.strideC ?? p.m * p.n;
  const tilesM = Math.ceil(p.m / t.bm);
  const tilesN = Math.ceil(p.n / t.bn);
  const vector = gemmVectorLoads(p);
  const c = new Float64Array(batch * strideC);
  const writes = new Uint8Array(batch * strideC);
  const fail = (what: string) => {
    throw new Error(`emulateGemm ${p.m}x${p.n}x${p.k} ${p.layout} tile ${t.bm}x${t.bn}x${t.bk}: ${what}`);
  };

  /** Fills one shared-memory stage the way load_stage does, checking every slot is written once. */
  const fillStage = (
    shape: OperandTile,
    loads: number,
    source: Float64Array,
    base: number,
    rows: { total: number; tile: number; origin: number },
    cols: { total: number; tile: number; origin: number },
  ): Float64Array => {
    const stage = new Float64Array(shape.rows * shape.chunks * 8).fill(Number.NaN);
    for (let tid = 0; tid < L.threads; tid++) {
      for (let step = 0; step < loads; step++) {
        const { row, chunk } = L.loadCoord(o, shape, tid, step);
        const offset = smemOffset(o, shape, row, chunk);
        if (offset % 8 !== 0 || offset < 0 || offset + 8 > stage.length)
          fail(`copy of (${row}, ${chunk}) lands at ${offset}, outside the stage or unaligned`);
        if (!Number.isNaN(stage[offset]!)) fail(`shared slot ${offset} written twice in one stage`);
        const gRow = rows.origin + row;
        const gCol = cols.origin + chunk * 8;
        // The renderer drops a bounds check when the matrix divides into tiles; then no copy may fall outside.
        if (rows.total % rows.tile === 0 && gRow >= rows.total) fail(`row ${gRow} ≥ ${rows.total} read without a bounds check`);
        if (cols.total % cols.tile === 0 && gCol >= cols.total) fail(`column ${gCol} ≥ ${cols.total} read without a bounds check`);
        for (let j = 0; j < 8; j++) {
          const inside = gRow < rows.total && (vector ? gCol < cols.total : gCol + j < cols.total);
          stage[offset + j] = inside ? source[base + gRow * cols.total + gCol + j]! : 0;
        }
      }
    }
    if (stage.some(Number.isNaN)) fail("a shared slot was never written");
    return stage;
  };

  /** The four 8×8 matrices of one ldmatrix.x4, gathered from the lane addresses, and each lane's registers. */
  const ldmatrixX4 = (stage: Float64Array, shape: OperandTile, address: (lane: number) => { row: number; chunk: number }, trans: boolean) => {
    const rowsOf: number[][] = [];
    for (let lane = 0; lane < 32; lane++) {
      const { row, chunk } = address(lane);
      if (row < 0 || row >= shape.rows || chunk < 0 || chunk >= shape.chunks)
        fail(`ldmatrix lane ${lane} addresses (${row}, ${chunk}) outside the tile`);
      const offset = smemOffset(o, shape, row, chunk);
      rowsOf.push(Array.from(stage.subarray(offset, offset + 8)));
    }
    // regs[lane][j][h]: matrix j's element for this lane; matrix j's row r comes from lane 8j + r.
    return Array.from({ length: 32 }, (_, lane) =>
      [0, 1, 2, 3].map((j) =>
        [0, 1].map((h) => {
          const { row, col } = ldmatrixElement(lane, h, trans);
          return rowsOf[8 * j + row]![col]!;
        }),
      ),
    );
  };

  for (let batchIndex = 0; batchIndex < batch; batchIndex++) {
    for (let pid = 0; pid < tilesM * tilesN; pid++) {
      const { tileM, tileN } = L.blockTile(o, tilesM, tilesN, pid);
      if (tileM < 0 || tileM >= tilesM || tileN < 0 || tileN >= tilesN)
        fail(`block ${pid} maps to tile (${tileM}, ${tileN}) outside ${tilesM}×${tilesN}`);
      const blockM = tileM * t.bm;
      const blockN = tileN * t.bn;
      // acc[warp][mi][ni][lane][e]: the registers of every lane, as in the kernel's float acc[MT][NT][4].
      const acc = Array.from({ length: t.warpsM * t.warpsN }, () =>
        Array.from({ length: L.mTiles }, () => Array.from({ length: L.nTiles }, () => Array.from({ length: 32 }, () => [0, 0, 0, 0]))),
      );
      for (let kTile = 0; kTile * t.bk < p.k; kTile++) {
        const k0 = kTile * t.bk;
        const aStage = fillStage(
          L.tiles.a,
          L.loadsA,
          a,
          batchIndex * strideA,
          { total: p.m, tile: t.bm, origin: blockM },
          { total: p.k, tile: t.bk, origin: k0 },
        );
        const bStage =
          p.layout === "tn"
            ? fillStage(
                L.tiles.b,
                L.loadsB,
                b,
                batchIndex * strideB,
                { total: p.n, tile: t.bn, origin: blockN },
                { total: p.k, tile: t.bk, origin: k0 },
              )
            : fillStage(
                L.tiles.b,
                L.loadsB,
                b,
                batchIndex * strideB,
                { total: p.k, tile: t.bk, origin: k0 },
                { total: p.n, tile: t.bn, origin: blockN },
              );
        for (let warp = 0; warp < t.warpsM * t.warpsN; warp++) {
          const warpM = Math.floor(warp / t.warpsN);
          const warpN = warp % t.warpsN;
          for (let ks = 0; ks < t.bk / 16; ks++) {
            const aFrag = Array.from({ length: L.mTiles }, (_, mi) =>
              ldmatrixX4(aStage, L.tiles.a, (lane) => L.ldmatrixA(o, warpM, lane, mi, ks), false),
            );
            const bFrag: number[][][][] = []; // [ni][lane][reg][h]
            for (let pair = 0; pair < L.nTiles / 2; pair++) {
              const q = ldmatrixX4(bStage, L.tiles.b, (lane) => L.ldmatrixB(o, warpN, lane, pair, ks), p.layout === "nn");
              bFrag[2 * pair] = q.map((regs) => [regs[0]!, regs[1]!]);
              bFrag[2 * pair + 1] = q.map((regs) => [regs[2]!, regs[3]!]);
            }
            for (let mi = 0; mi < L.mTiles; mi++)
              for (let ni = 0; ni < L.nTiles; ni++) mmaM16N8K16(acc[warp]![mi]![ni]!, aFrag[mi]!, bFrag[ni]!, fail);
          }
        }
      }
      // Epilogue: the accumulator map must hit every in-range element of the block tile once.
      for (let warp = 0; warp < t.warpsM * t.warpsN; warp++) {
        const warpM = Math.floor(warp / t.warpsN);
        const warpN = warp % t.warpsN;
        for (let lane = 0; lane < 32; lane++)
          for (let mi = 0; mi < L.mTiles; mi++)
            for (let ni = 0; ni < L.nTiles; ni++)
              for (let half = 0; half < 2; half++) {
                const { row, col } = L.accumulator(o, warpM, warpN, lane, mi, ni, half);
                for (let e = 0; e < 2; e++) {
                  const gRow = blockM + row;
                  const gCol = blockN + col + e;
                  if (gRow >= p.m || gCol >= p.n) continue;
                  const at = batchIndex * strideC + gRow * p.n + gCol;
                  c[at] = acc[warp]![mi]![ni]![lane]![2 * half + e]!;
                  writes[at]!++;
                }
              }
      }
    }
  }
  return { c, writes };
}

/** One warp-wide mma.m16n8k16: rebuilds A (16×16) and B (16×8) from the lanes' fragments, then d += A·B. */
function mmaM16N8K16(d: number[][], aLanes: number[][][], bLanes: number[][][], fail: (what: string) => never): void {
  const a = Array.from({ length: 16 }, () => new Array<number>(16).fill(Number.NaN));
  const b = Array.from({ length: 16 }, () => new Array<number>(8).fill(Number.NaN));
  for (let lane = 0; lane < 32; lane++) {
    const g = Math.floor(lane / 4);
    const c = lane % 4;
    for (let reg = 0; reg < 4; reg++)
      for (let h = 0; h < 2; h++) a[g + MMA_A_OFFSETS[reg]![0]]![2 * c + h + MMA_A_OFFSETS[reg]![1]] = aLanes[lane]![reg]![h]!;
    for (let reg = 0; reg < 2; reg++) for (let h = 0; h < 2; h++) b[2 * c + h + MMA_B_OFFSETS[reg]![0]]![g] = bLanes[lane]![reg]![h]!;
  }
  if (a.some((row) => row.some(Number.isNaN)) || b.some((row) => row.some(Number.isNaN))) fail("an mma operand element was not supplied by any lane");
  // d is this lane-set's accumulator viewed per lane: d[lane][e] for C element (g + 8(e>>1), 2c + (e&1)).
  for (let lane = 0; lane < 32; lane++) {
    const g = Math.floor(lane / 4);
    const c = lane % 4;
    for (let e = 0; e < 4; e++) {
      const row = g + 8 * (e >> 1);
      const col = 2 * c + (e & 1);
      let sum = 0;
      for (let k = 0; k < 16; k++) sum += a[row]![k]! * b[k]![col]!;
      d[lane]![e]! += sum;
    }
  }
}
