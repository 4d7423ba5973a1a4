// Which shared-memory row each lane hands to ldmatrix.x4 to build mma.m16n8k16 operand fragments,
// for the four ways an operand can be stored. Tiles are rows of 16-byte chunks (8 bf16 per chunk);
// the formulas are generic over IntOps so the GEMM emulator evaluates exactly what the kernels render.
import type { IntOps } from "./index-math.ts";

export interface TileCoord<T> {
  row: T;
  chunk: T;
}

/**
 * A (16×16, m × k) stored m-major: rows are m, chunks run along k. Matrices 0..3 of the x4 load are
 * (m 0-7, k 0-7), (m 8-15, k 0-7), (m 0-7, k 8-15), (m 8-15, k 8-15) = registers a0..a3.
 */
export const aFragment = <T>(o: IntOps<T>, lane: T, m0: T, kChunk0: T): TileCoord<T> => ({
  row: o.add(m0, o.add(o.mod(lane, o.lit(8)), o.mul(o.mod(o.div(lane, o.lit(8)), o.lit(2)), o.lit(8)))),
  chunk: o.add(kChunk0, o.div(lane, o.lit(16))),
});

/** A (16×16) stored k-major (rows are k, chunks along m), read with ldmatrix .trans; same register order. */
export const aFragmentTrans = <T>(o: IntOps<T>, lane: T, k0: T, mChunk0: T): TileCoord<T> => ({
  row: o.add(k0, o.add(o.mod(lane, o.lit(8)), o.mul(o.div(lane, o.lit(16)), o.lit(8)))),
  chunk: o.add(mChunk0, o.mod(o.div(lane, o.lit(8)), o.lit(2))),
});

/**
 * Two B fragments (k 16 × n 8, for n-tiles n0 and n0+8) stored n-major (rows are n, chunks along k):
 * matrices are (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15) = b0, b1 of each tile.
 */
export const bFragmentsNK = <T>(o: IntOps<T>, lane: T, n0: T, kChunk0: T): TileCoord<T> => ({
  row: o.add(n0, o.add(o.mod(lane, o.lit(8)), o.mul(o.div(lane, o.lit(16)), o.lit(8)))),
  chunk: o.add(kChunk0, o.mod(o.div(lane, o.lit(8)), o.lit(2))),
});

/** Two B fragments stored k-major (rows are k, chunks along n), read with ldmatrix .trans; same register order. */
export const bFragmentsKN = <T>(o: IntOps<T>, lane: T, k0: T, nChunk0: T): TileCoord<T> => ({
  row: o.add(k0, o.add(o.mod(lane, o.lit(8)), o.mul(o.mod(o.div(lane, o.lit(8)), o.lit(2)), o.lit(8)))),
  chunk: o.add(nChunk0, o.div(lane, o.lit(16))),
});

/** Position of accumulator registers 2·half and 2·half+1 (columns col and col+1) in a 16×8 C tile at (m0, n0). */
export const accumulatorCoord = <T>(o: IntOps<T>, lane: T, m0: T, n0: T, half: T) => ({
  row: o.add(m0, o.add(o.div(lane, o.lit(4)), o.mul(half, o.lit(8)))),
  col: o.add(n0, o.mul(o.mod(lane, o.lit(4)), o.lit(2))),
});

/**
 * The m16n8 accumulators of n-tiles 2kk and 2kk+1 hold a 16×16 tile in exactly the A-fragment layout of
 * k-step kk (FlashAttention's register reuse): A register r packs accumulator registers [first, second]
 * of n-tile 2kk + tileOffset, as bf16x2.
 */
export const A_FROM_ACCUMULATORS = [
  { tileOffset: 0, first: 0, second: 1 },
  { tileOffset: 0, first: 2, second: 3 },
  { tileOffset: 1, first: 0, second: 1 },
  { tileOffset: 1, first: 2, second: 3 },
] as const;

/** C initializer of `unsigned[4]` A-fragment registers from accumulator array `acc` at k-step `kk`. */
export function accumulatorsToAFragment(acc: string, kk: string): string {
  const registers = A_FROM_ACCUMULATORS.map(({ tileOffset, first, second }) => {
    const tile = `${acc}[2 * ${kk}${tileOffset ? " + 1" : ""}]`;
    return `pack_bf16x2(${tile}[${first}], ${tile}[${second}])`;
  });
  return `{${registers.slice(0, 2).join(", ")},\n ${registers.slice(2).join(", ")}}`;
}
