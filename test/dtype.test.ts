// Property: bf16 and f16 conversions round to nearest, ties to even, exactly as hardware converts
// an f32 register — checked on known bit patterns computed by hand from the IEEE formats.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  bf16Bits,
  bf16BitsArray,
  bf16FromBits,
  f16Bits,
  f16FromBits,
  f32FromBits,
  roundBf16,
  roundBf16Array,
  roundF16,
  roundTo,
} from "../compiler/dtype.ts";

describe("bf16 rounding", () => {
  const cases: [string, number, number][] = [
    ["1.0 is exact", 0x3f800000, 0x3f80],
    ["just above 1 rounds down", 0x3f800001, 0x3f80],
    ["halfway with even lsb rounds down", 0x3f808000, 0x3f80],
    ["halfway with odd lsb rounds up", 0x3f818000, 0x3f82],
    ["above halfway rounds up", 0x3f808001, 0x3f81],
    ["-2.5 is exact", 0xc0200000, 0xc020],
    ["largest f32 overflows to +inf", 0x7f7fffff, 0x7f80],
    ["+inf stays inf", 0x7f800000, 0x7f80],
    ["smallest f32 subnormal rounds to zero", 0x00000001, 0x0000],
    ["negative zero keeps its sign", 0x80000000, 0x8000],
  ];
  for (const [name, f32, bf16] of cases)
    test(`${name}: f32 0x${f32.toString(16)} -> bf16 0x${bf16.toString(16)}`, () => expect(bf16Bits(f32FromBits(f32))).toBe(bf16));

  test("NaN stays a quiet NaN", () => {
    const bits = bf16Bits(NaN);
    expect(bits & 0x7f80).toBe(0x7f80);
    expect(bits & 0x7f).not.toBe(0);
    expect(Number.isNaN(bf16FromBits(bits))).toBe(true);
  });

  test("rounding is idempotent and lands on the nearest bf16 neighbour", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }), (x) => {
        const r = roundBf16(x);
        expect(roundBf16(r)).toBe(r);
        const bits = bf16Bits(x);
        const below = bf16FromBits(bits - 1);
        const above = bf16FromBits(bits + 1);
        const xf = Math.fround(x);
        if (Number.isFinite(below) && Number.isFinite(above) && Math.sign(below) === Math.sign(above))
          expect(Math.abs(r - xf)).toBeLessThanOrEqual(Math.min(Math.abs(below - xf), Math.abs(above - xf)));
      }),
      { numRuns: 500 },
    );
  });

  test("the bulk conversions agree with the scalar ones bit for bit (edge cases and random floats)", () => {
    const edges = [...cases.map(([, f32]) => f32FromBits(f32)), NaN, -Infinity, 0xff7fffff, f32FromBits(0xff7fffff), 1e-45, -3.4e38];
    fc.assert(
      fc.property(fc.array(fc.float(), { maxLength: 64 }), (random) => {
        const values = [...edges, ...random];
        const bits = bf16BitsArray(values);
        const rounded = roundBf16Array(values);
        values.forEach((x, i) => {
          expect(bits[i]).toBe(bf16Bits(x));
          expect(Object.is(rounded[i], roundBf16(x)) || (Number.isNaN(rounded[i]) && Number.isNaN(roundBf16(x)))).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe("f16 rounding", () => {
  const cases: [string, number, number][] = [
    ["1.0", 1, 0x3c00],
    ["65504 (largest normal)", 65504, 0x7bff],
    ["65520 rounds up to inf", 65520, 0x7c00],
    ["65519 rounds down to 65504", 65519, 0x7bff],
    ["2^-14 (smallest normal)", 2 ** -14, 0x0400],
    ["2^-24 (smallest subnormal)", 2 ** -24, 0x0001],
    ["2^-25 is a tie that rounds to even zero", 2 ** -25, 0x0000],
    ["3·2^-26 rounds up to the smallest subnormal", 3 * 2 ** -26, 0x0001],
    ["1 + 2^-11 is a tie that rounds to even", 1 + 2 ** -11, 0x3c00],
    ["1 + 3·2^-11 is a tie that rounds up to odd+1", 1 + 3 * 2 ** -11, 0x3c02],
    ["-2", -2, 0xc000],
    ["1.5·2^-24 rounds to even 2·2^-24", 1.5 * 2 ** -24, 0x0002],
  ];
  for (const [name, x, bits] of cases) test(`${name} -> 0x${bits.toString(16)}`, () => expect(f16Bits(x)).toBe(bits));

  test("every f16 bit pattern round-trips through its value", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f && (bits & 0x3ff) !== 0) continue;
      expect(f16Bits(f16FromBits(bits))).toBe(bits);
    }
  });

  test("roundF16 is idempotent", () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (x) => {
        expect(roundF16(roundF16(x))).toBe(roundF16(x));
      }),
      { numRuns: 300 },
    );
  });
});

test("i32 conversion truncates toward zero and wraps", () => {
  expect(roundTo("i32", 2.9)).toBe(2);
  expect(roundTo("i32", -2.9)).toBe(-2);
  expect(roundTo("i32", 2 ** 31)).toBe(-(2 ** 31));
  expect(roundTo("bool", -0.1)).toBe(1);
});
