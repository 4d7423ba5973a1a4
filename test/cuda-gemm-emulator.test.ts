// The mma GEMM template's index math (global → shared copies, swizzle, ldmatrix lanes, fragments,
// block raster, epilogue map) run through the TS model of the kernel on random shapes: every output
// is written exactly once and equals a float64 matmul of the bf16 inputs.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { roundBf16 } from "../compiler/dtype.ts";
import { MMA_TILES } from "../kernels/cuda/corpus.ts";
import { aFragment } from "../kernels/cuda/fragments.ts";
import { emulateGemm } from "../kernels/cuda/gemm-emulator.ts";
import { gemmLayout, type GemmLayout, type GemmProblem, type GemmTile } from "../kernels/cuda/gemm-mma.ts";

/** Deterministic bf16-valued data (a small LCG), so a failing case can be replayed from its seed. */
function bf16Data(length: number, seed: number): Float64Array {
  let state = seed >>> 0 || 1;
  return Float64Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return roundBf16(state / 2 ** 31 - 1);
  });
}

function reference(p: GemmProblem, a: Float64Array, b: Float64Array): Float64Array {
  const batch = p.batch ?? 1;
  const c = new Float64Array(batch * p.m * p.n);
  for (let z = 0; z < batch; z++)
    for (let i = 0; i < p.m; i++)
      for (let j = 0; j < p.n; j++) {
        let sum = 0;
        for (let k = 0; k < p.k; k++)
          sum += a[z * p.m * p.k + i * p.k + k]! * (p.layout === "tn" ? b[z * p.n * p.k + j * p.k + k]! : b[z * p.n * p.k + k * p.n + j]!);
        c[z * p.m * p.n + i * p.n + j] = sum;
      }
  return c;
}

const tiles = Object.entries(MMA_TILES) as [string, GemmTile][];

describe("mma GEMM emulator", () => {
  test("every output is written once and equals the float64 matmul, for random shapes, layouts and tiles", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...tiles),
        fc.constantFrom<GemmLayout>("tn", "nn"),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer(),
        ([, tile], layout, m, n, k, batch, seed) => {
          const p: GemmProblem = { m, n, k, batch, layout, out: "f32" };
          const a = bf16Data(batch * m * k, seed);
          const b = bf16Data(batch * n * k, seed ^ 0x5bd1e995);
          const { c, writes } = emulateGemm(p, tile, a, b);
          expect(writes.every((w) => w === 1)).toBe(true);
          const expected = reference(p, a, b);
          // Products of bf16 values are exact in float64 and the sums here stay far inside 53 bits.
          for (let i = 0; i < expected.length; i++)
            if (Math.abs(c[i]! - expected[i]!) > 1e-9) throw new Error(`element ${i}: ${c[i]} ≠ ${expected[i]}`);
        },
      ),
      { numRuns: 24 },
    );
  });

  test("ragged shapes at tile edges (M, N, K = tile ± 1) are covered exactly", () => {
    const tile = MMA_TILES.square;
    for (const [m, n, k] of [
      [127, 129, 31],
      [129, 127, 33],
      [128, 128, 32],
      [1, 1, 1],
    ] as const) {
      for (const layout of ["tn", "nn"] as const) {
        const p: GemmProblem = { m, n, k, layout, out: "bf16" };
        const a = bf16Data(m * k, m);
        const b = bf16Data(n * k, n);
        const { c, writes } = emulateGemm(p, tile, a, b);
        expect(writes.every((w) => w === 1)).toBe(true);
        expect([...c]).toEqual([...reference(p, a, b)]);
      }
    }
  });

  test("a wrong ldmatrix lane formula for A is caught", () => {
    const tile = MMA_TILES.small;
    const layout = gemmLayout(tile, "tn");
    // Bug: lanes 8-15 and 16-23 swapped (the k half chosen by lane/8 instead of lane/16).
    const broken = {
      ...layout,
      ldmatrixA: <T>(o: Parameters<typeof layout.ldmatrixA<T>>[0], warpM: T, lane: T, mi: T, ks: T) => {
        const right = aFragment(o, lane, o.add(o.mul(warpM, o.lit(layout.warpTileM)), o.mul(mi, o.lit(16))), o.mul(ks, o.lit(2)));
        return { row: right.row, chunk: o.add(o.mul(ks, o.lit(2)), o.mod(o.div(lane, o.lit(8)), o.lit(2))) };
      },
    };
    const p: GemmProblem = { m: 64, n: 64, k: 64, layout: "tn", out: "f32" };
    const a = bf16Data(64 * 64, 1);
    const b = bf16Data(64 * 64, 2);
    const { c } = emulateGemm(p, tile, a, b, broken);
    expect([...c]).not.toEqual([...reference(p, a, b)]);
  });

  test("a raster that maps two blocks to one tile is caught", () => {
    const tile = MMA_TILES.small;
    const layout = gemmLayout(tile, "tn");
    const broken = {
      ...layout,
      blockTile: <T>(o: Parameters<typeof layout.blockTile<T>>[0], tilesM: number, tilesN: number, pid: T) => ({
        ...layout.blockTile(o, tilesM, tilesN, pid),
        tileN: o.lit(0),
      }),
    };
    const p: GemmProblem = { m: 64, n: 200, k: 32, layout: "tn", out: "f32" };
    const { writes } = emulateGemm(p, tile, bf16Data(64 * 32, 3), bf16Data(200 * 32, 4), broken as typeof layout);
    expect(writes.some((w) => w !== 1)).toBe(true);
  });
});
