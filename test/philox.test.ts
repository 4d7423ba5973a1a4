// Property: kiln's Philox4x32-10 reproduces the published Random123 known-answer vectors, and the
// `random` op follows kiln's documented counter layout, so any backend can reproduce it bit for bit.

import { expect, test } from "vitest";
import { philox4x32, philoxUniform } from "../compiler/philox.ts";
import { evaluateTensor, hostArray } from "../compiler/interpret.ts";
import * as ops from "../compiler/ops.ts";

test("philox4x32-10 matches the Random123 known-answer vectors", () => {
  // From Random123's kat_vectors (philox4x32 10 rounds): counter, key -> output.
  expect(philox4x32([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  expect(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([
    0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
  ]);
  expect(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
    0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
  ]);
});

test("random op element i is word i&3 of philox(counter (i>>2, offset, 0, 0), key (seed, 0)) scaled by 2^-24", () => {
  const seed = 1234;
  const offset = 7;
  const values = evaluateTensor(ops.random(ops.input("seed", [], "i32"), [3, 5], offset), { seed: hostArray([], [seed], "i32") }).data;
  for (let i = 0; i < 15; i++) {
    const word = philox4x32([i >> 2, offset, 0, 0], [seed, 0])[i & 3]!;
    expect(values[i]).toBe((word >>> 8) * 2 ** -24);
  }
});

test("uniform values lie in [0, 1), look uniform, and differ across seeds and offsets", () => {
  const a = new Float64Array(20000);
  philoxUniform(a, 1, 0);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...a)).toBeLessThan(1);
  expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  const b = new Float64Array(8);
  const c = new Float64Array(8);
  philoxUniform(b, 2, 0);
  philoxUniform(c, 1, 1);
  expect([...b]).not.toEqual([...a.slice(0, 8)]);
  expect([...c]).not.toEqual([...a.slice(0, 8)]);
});
