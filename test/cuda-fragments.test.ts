// The ldmatrix address formulas of kernels/cuda/fragments.ts, run through the PTX semantics of
// ldmatrix (gemm-emulator.ts) on swizzled tiles, give exactly the mma.m16n8k16 operand layouts — for all
// four storage orders, the accumulator → A-fragment reuse of attention, and the backward's dSᵀ round
// trip through shared memory. (The GEMM emulator covers the first and third in a whole kernel.)
import { describe, expect, test } from "vitest";
import {
  A_FROM_ACCUMULATORS,
  aFragment,
  aFragmentTrans,
  accumulatorCoord,
  bFragmentsKN,
  bFragmentsNK,
  type TileCoord,
} from "../kernels/cuda/fragments.ts";
import { MMA_A_OFFSETS, MMA_B_OFFSETS, ldmatrixElement } from "../kernels/cuda/gemm-emulator.ts";
import { smemOffset, type OperandTile } from "../kernels/cuda/gemm-mma.ts";
import { evaluate as o } from "../kernels/cuda/index-math.ts";

/** A swizzled tile whose logical element (row, col) holds `value(row, col)`. */
function tile(shape: OperandTile, value: (row: number, col: number) => number): Float64Array {
  const data = new Float64Array(shape.rows * shape.chunks * 8);
  for (let row = 0; row < shape.rows; row++)
    for (let col = 0; col < shape.chunks * 8; col++) data[smemOffset(o, shape, row, Math.floor(col / 8)) + (col % 8)] = value(row, col);
  return data;
}

/** regs[lane][matrix][half] of one ldmatrix.x4 whose lanes give the addresses `address(lane)`. */
function ldmatrixX4(data: Float64Array, shape: OperandTile, address: (lane: number) => TileCoord<number>, trans: boolean): number[][][] {
  const rows = Array.from({ length: 32 }, (_, lane) => {
    const { row, chunk } = address(lane);
    const at = smemOffset(o, shape, row, chunk);
    return Array.from(data.subarray(at, at + 8));
  });
  return Array.from({ length: 32 }, (_, lane) =>
    [0, 1, 2, 3].map((j) =>
      [0, 1].map((h) => {
        const { row, col } = ldmatrixElement(lane, h, trans);
        return rows[8 * j + row]![col]!;
      }),
    ),
  );
}

/** What mma expects in A register r, half h, of `lane` for the 16×16 operand a(m, k). */
const expectedA = (lane: number, r: number, h: number, a: (m: number, k: number) => number) =>
  a(Math.floor(lane / 4) + MMA_A_OFFSETS[r]![0], 2 * (lane % 4) + h + MMA_A_OFFSETS[r]![1]);
/** What mma expects in B register r, half h, of `lane` for the 16×8 operand b(k, n). */
const expectedB = (lane: number, r: number, h: number, b: (k: number, n: number) => number) =>
  b(2 * (lane % 4) + h + MMA_B_OFFSETS[r]![0], Math.floor(lane / 4));

const code = (row: number, col: number) => row * 1000 + col;
const lanes = Array.from({ length: 32 }, (_, lane) => lane);

describe("ldmatrix fragment formulas", () => {
  // A 64×64 tile (8 chunks per row) and a 32×32 one (4 chunks per row) exercise both swizzle forms.
  const shapes: OperandTile[] = [
    { rows: 64, chunks: 8 },
    { rows: 32, chunks: 4 },
  ];

  test.each(shapes)("A stored m-major (%o) gives the A layout", (shape) => {
    const data = tile(shape, code);
    for (const [m0, kChunk0] of [
      [0, 0],
      [16, 2],
    ]) {
      const regs = ldmatrixX4(data, shape, (lane) => aFragment(o, lane, m0!, kChunk0!), false);
      for (const lane of lanes)
        for (let r = 0; r < 4; r++)
          for (let h = 0; h < 2; h++) expect(regs[lane]![r]![h]).toBe(expectedA(lane, r, h, (m, k) => code(m0! + m, kChunk0! * 8 + k)));
    }
  });

  test.each(shapes)("A stored k-major and read with .trans (%o) gives the A layout", (shape) => {
    const data = tile(shape, code); // stored row = k, col = m: A(m, k) = code(k, m)
    const regs = ldmatrixX4(data, shape, (lane) => aFragmentTrans(o, lane, 16, 2), true);
    for (const lane of lanes)
      for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) expect(regs[lane]![r]![h]).toBe(expectedA(lane, r, h, (m, k) => code(16 + k, 16 + m)));
  });

  test.each(shapes)("B stored n-major (%o) gives the B layout of two n-tiles", (shape) => {
    const data = tile(shape, code); // stored row = n, col = k: B(k, n) = code(n, k)
    const regs = ldmatrixX4(data, shape, (lane) => bFragmentsNK(o, lane, 16, 2), false);
    for (const lane of lanes)
      for (let nt = 0; nt < 2; nt++)
        for (let r = 0; r < 2; r++)
          for (let h = 0; h < 2; h++) expect(regs[lane]![2 * nt + r]![h]).toBe(expectedB(lane, r, h, (k, n) => code(16 + 8 * nt + n, 16 + k)));
  });

  test.each(shapes)("B stored k-major and read with .trans (%o) gives the B layout of two n-tiles", (shape) => {
    const data = tile(shape, code); // stored row = k, col = n
    const regs = ldmatrixX4(data, shape, (lane) => bFragmentsKN(o, lane, 16, 2), true);
    for (const lane of lanes)
      for (let nt = 0; nt < 2; nt++)
        for (let r = 0; r < 2; r++)
          for (let h = 0; h < 2; h++) expect(regs[lane]![2 * nt + r]![h]).toBe(expectedB(lane, r, h, (k, n) => code(16 + k, 16 + 8 * nt + n)));
  });

  test("a shifted lane formula fails the layout check", () => {
    const shape = shapes[0]!;
    const data = tile(shape, code);
    const wrong = ldmatrixX4(data, shape, (lane) => aFragment(o, (lane + 8) % 32, 0, 0), false);
    expect(lanes.every((lane) => wrong[lane]![0]![0] === expectedA(lane, 0, 0, code))).toBe(false);
  });
});

describe("register reuse in attention", () => {
  test("two n-tiles of accumulators, packed per A_FROM_ACCUMULATORS, are the A fragment of the next product", () => {
    for (const kk of [0, 1, 3])
      for (const lane of lanes) {
        // Accumulator register e of n-tile nt holds element (row, col) of the 16 × 16·(kk+1) product.
        const held = (nt: number, e: number) => {
          const { row, col } = accumulatorCoord(o, lane, 0, nt * 8, e >> 1);
          return code(row, col + (e & 1));
        };
        A_FROM_ACCUMULATORS.forEach(({ tileOffset, first, second }, r) => {
          expect(held(2 * kk + tileOffset, first)).toBe(expectedA(lane, r, 0, (m, k) => code(m, 16 * kk + k)));
          expect(held(2 * kk + tileOffset, second)).toBe(expectedA(lane, r, 1, (m, k) => code(m, 16 * kk + k)));
        });
      }
  });

  test("dSᵀ written from accumulators to the swizzled tile reads back as the A fragment of dS (backward dQ)", () => {
    // The backward kernel with 64 keys × 32 queries: warp w owns keys 16w..16w+15 as accumulator rows.
    const shape: OperandTile = { rows: 64, chunks: 32 / 8 };
    const data = new Float64Array(shape.rows * shape.chunks * 8).fill(Number.NaN);
    const dsT = (key: number, q: number) => code(key, q);
    for (let warp = 0; warp < 4; warp++)
      for (const lane of lanes)
        for (let nt = 0; nt < 4; nt++)
          for (let half = 0; half < 2; half++) {
            const { row, col } = accumulatorCoord(o, lane, warp * 16, nt * 8, half);
            const at = smemOffset(o, shape, row, Math.floor(col / 8)) + (col % 8);
            data[at] = dsT(row, col);
            data[at + 1] = dsT(row, col + 1);
          }
    expect(data.some(Number.isNaN)).toBe(false);
    for (const qGroup of [0, 1])
      for (let kk = 0; kk < 4; kk++) {
        const regs = ldmatrixX4(data, shape, (lane) => aFragmentTrans(o, lane, kk * 16, qGroup * 2), true);
        for (const lane of lanes)
          for (let r = 0; r < 4; r++)
            for (let h = 0; h < 2; h++) expect(regs[lane]![r]![h]).toBe(expectedA(lane, r, h, (m, k) => dsT(kk * 16 + k, qGroup * 16 + m)));
      }
  });
});
