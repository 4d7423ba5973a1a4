// Properties of the reference interpreter: each primitive computes its definition (checked against
// values written out by hand or computed independently in the test), and "native" precision rounds
// every result to its dtype as the hardware would.

import { describe, expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { evaluateTensor, hostArray, interpret, type HostArray } from "../compiler/interpret.ts";
import { roundBf16 } from "../compiler/dtype.ts";

const run = (
  t: Parameters<typeof evaluateTensor>[0],
  feeds: Record<string, HostArray | number[] | number> = {},
  precision: "f64" | "native" = "f64",
) => [...evaluateTensor(t, feeds, { precision }).data];

describe("primitive semantics", () => {
  const x = ops.input("x", [2, 3]);
  const xs = [1, 2, 3, 4, 5, 6];

  test("movement ops", () => {
    expect(run(ops.permute(x, [1, 0]), { x: xs })).toEqual([1, 4, 2, 5, 3, 6]);
    expect(run(ops.expand(ops.input("r", [1, 3]), [2, 3]), { r: [7, 8, 9] })).toEqual([7, 8, 9, 7, 8, 9]);
    expect(
      run(
        ops.pad(x, [
          [1, 0],
          [0, 1],
        ]),
        { x: xs },
      ),
    ).toEqual([0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0]);
    expect(
      run(
        ops.shrink(x, [
          [1, 2],
          [1, 3],
        ]),
        { x: xs },
      ),
    ).toEqual([5, 6]);
    expect(run(ops.concat([x, ops.input("y", [2, 1])], 1), { x: xs, y: [0, -1] })).toEqual([1, 2, 3, 0, 4, 5, 6, -1]);
  });

  test("reductions keep or drop axes", () => {
    expect(run(ops.sum(x, 1), { x: xs })).toEqual([6, 15]);
    expect(run(ops.max(x, 0), { x: xs })).toEqual([4, 5, 6]);
    expect(evaluateTensor(ops.sum(x, 0, true), { x: xs }).shape).toEqual([1, 3]);
  });

  test("dot multiplies batched matrices", () => {
    const a = ops.input("a", [2, 1, 2]);
    const b = ops.input("b", [2, 2, 2]);
    // batch 0: [1 2]·[[1 0][0 1]] = [1 2]; batch 1: [3 4]·[[2 1][1 2]] = [10 11]
    expect(run(ops.dot(a, b), { a: [1, 2, 3, 4], b: [1, 0, 0, 1, 2, 1, 1, 2] })).toEqual([1, 2, 10, 11]);
  });

  test("gather and scatter_add are transposes of each other", () => {
    const table = ops.input("t", [3, 2]);
    const idx = ops.input("i", [4], "i32");
    expect(run(ops.gather(table, idx, 0), { t: [10, 11, 20, 21, 30, 31], i: hostArray([4], [2, 0, 2, 1], "i32") })).toEqual([
      30, 31, 10, 11, 30, 31, 20, 21,
    ]);
    const updates = ops.input("u", [4, 2]);
    expect(run(ops.scatterAdd(updates, idx, 0, 3), { u: [1, 1, 2, 2, 3, 3, 4, 4], i: hostArray([4], [2, 0, 2, 1], "i32") })).toEqual([
      2, 2, 4, 4, 4, 4,
    ]);
  });

  test("gather out of range names the index and axis", () => {
    expect(() => run(ops.gather(ops.input("t", [3]), ops.input("i", [1], "i32")), { t: [1, 2, 3], i: hostArray([1], [3], "i32") })).toThrow(
      /gather index 3 at position 0 is out of range for axis 0 of length 3/,
    );
  });

  test("iota, const, compare and where", () => {
    expect(run(ops.iota([2, 3], 1))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(run(ops.where(ops.cmplt(x, 3.5), x, ops.full([2, 3], -1)), { x: xs })).toEqual([1, 2, 3, -1, -1, -1]);
    expect(run(ops.cast(ops.cmpeq(x, 2), "f32"), { x: xs })).toEqual([0, 1, 0, 0, 0, 0]);
  });

  test("a missing feed and a wrongly shaped feed are reported with names and shapes", () => {
    expect(() => run(x)).toThrow(/no value was given for input 'x' \(f32\[2,3\]\)/);
    expect(() => run(x, { x: hostArray([3, 2], xs) })).toThrow(/input 'x' expects shape \[2,3\], received \[3,2\]/);
  });

  test("calls evaluate their body with the arguments bound", () => {
    const out = ops.call("affine", (a, b) => ops.add(ops.mul(a, 2), b), [x, ops.input("y", [2, 3])]);
    expect(run(out, { x: xs, y: [1, 1, 1, 1, 1, 1] })).toEqual([3, 5, 7, 9, 11, 13]);
  });

  test("interpret returns the same tree shape as its outputs", () => {
    const tree = interpret({ a: ops.sum(x), b: [ops.neg(x)] }, { x: xs }) as { a: HostArray; b: HostArray[] };
    expect([...tree.a.data]).toEqual([21]);
    expect([...tree.b[0]!.data]).toEqual([-1, -2, -3, -4, -5, -6]);
  });
});

describe("native precision rounds every result to its dtype", () => {
  test("a bf16 add rounds the sum ties-to-even", () => {
    const a = ops.input("a", [2], "bf16");
    const b = ops.input("b", [2], "bf16");
    // 1 + 2^-8 is exactly halfway between bf16 neighbours 1 and 1+2^-7: ties to even gives 1.
    // 1 + 2^-7 + 2^-8 lies halfway between 1+2^-7 and 1+2^-6 and goes to the even 1+2^-6.
    expect(run(ops.add(a, b), { a: [1, 1 + 2 ** -7], b: [2 ** -8, 2 ** -8] }, "native")).toEqual([1, 1 + 2 ** -6]);
    // In float64 mode the same graph is exact.
    expect(run(ops.add(a, b), { a: [1, 1 + 2 ** -7], b: [2 ** -8, 2 ** -8] }, "f64")).toEqual([1 + 2 ** -8, 1 + 2 ** -7 + 2 ** -8]);
  });

  test("f32 results are float32 values", () => {
    const v = run(ops.mul(ops.input("a", [1]), 3), { a: [0.1] }, "native")[0]!;
    expect(v).toBe(Math.fround(Math.fround(0.1) * 3));
  });

  test("cast to bf16 matches roundBf16 and to i32 truncates", () => {
    const vals = [0.1, -3.14159, 1000.7, 1e-3];
    expect(run(ops.cast(ops.input("a", [4]), "bf16"), { a: vals }, "native")).toEqual(vals.map((v) => roundBf16(Math.fround(v))));
    expect(run(ops.cast(ops.input("a", [4]), "i32"), { a: vals })).toEqual([0, -3, 1000, 0]);
  });
});

describe("composites against independent formulas", () => {
  test("layer_norm matches the textbook formula", () => {
    const v = [1, 2, 4, 8];
    const mean = 15 / 4;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / 4;
    const expected = v.map((x) => (x - mean) / Math.sqrt(variance + 1e-5));
    run(nn.layerNorm(ops.input("x", [4])), { x: v }).forEach((y, i) => expect(y).toBeCloseTo(expected[i]!, 12));
  });

  test("bilinear resize matches PyTorch align_corners=False on a 2→4 upsample", () => {
    // torch.nn.functional.interpolate([[0, 1]], size=4, mode="linear", align_corners=False) = [0, 0.25, 0.75, 1]
    const out = run(nn.resizeBilinear(ops.input("x", [1, 1, 1, 2]), 1, 4), { x: [0, 1] });
    expect(out).toEqual([0, 0.25, 0.75, 1]);
    // Downsampling 4→2 without antialias: source positions 0.5 and 2.5.
    expect(run(nn.resizeBilinear(ops.input("y", [1, 1, 1, 4]), 1, 2), { y: [0, 10, 20, 30] })).toEqual([5, 25]);
  });

  test("conv2d with stride 2 and asymmetric padding matches a direct loop", () => {
    const xs = Array.from({ length: 25 }, (_, i) => (i * 7) % 11);
    const ws = Array.from({ length: 9 }, (_, i) => i - 4);
    const out = run(nn.conv2d(ops.input("x", [1, 1, 5, 5]), ops.input("w", [1, 1, 3, 3]), undefined, { stride: 2, padding: [0, 1, 0, 1] }), {
      x: xs,
      w: ws,
    });
    // Padded to 6×6 (one zero row and column after), a 3×3 kernel at stride 2 gives a 2×2 output.
    const at = (r: number, c: number) => (r < 5 && c < 5 ? xs[r * 5 + c]! : 0);
    const expected: number[] = [];
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 2; c++) {
        let s = 0;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += at(2 * r + i, 2 * c + j) * ws[i * 3 + j]!;
        expected.push(s);
      }
    expect(out).toEqual(expected);
  });

  test("attention with a key mask ignores masked keys and zeroes a row with none", () => {
    const q = ops.input("q", [2, 1, 2]);
    const k = ops.input("k", [2, 2, 2]);
    const v = ops.input("v", [2, 2, 2]);
    const mask = ops.input("m", [2, 2], "i32");
    const out = run(nn.attention(q, k, v, { heads: 1, keyMask: mask }), {
      q: [1, 0, 1, 0],
      k: [1, 0, 0, 1, 1, 0, 0, 1],
      v: [1, 2, 3, 4, 5, 6, 7, 8],
      m: hostArray([2, 2], [0, 1, 0, 0], "i32"),
    });
    expect(out).toEqual([3, 4, 0, 0]);
  });
});
