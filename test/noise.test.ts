// Tests of models/noise.ts: MT19937 against published outputs, the structure and statistics of the emulated
// PyTorch bf16 randn (bit parity with PyTorch itself is unverified), and the Philox N(0,1) generator.
import { describe, expect, test } from "vitest";
import { roundBf16 } from "../compiler/dtype.ts";
import { gaussianF32, mt19937, torchCpuRandnBf16 } from "../models/noise.ts";

function moments(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let squares = 0;
  let maxAbs = 0;
  for (const value of values) {
    sum += value;
    squares += value * value;
    maxAbs = Math.max(maxAbs, Math.abs(value));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(squares / values.length - mean * mean), maxAbs };
}

describe("MT19937", () => {
  test("seed 5489 gives the published first five outputs and 4123659995 as the 10000th", () => {
    const generator = mt19937(5489);
    const first = Array.from({ length: 5 }, () => generator.nextU32());
    expect(first).toEqual([3499211612, 581869302, 3890346734, 3586334585, 545404204]);
    for (let i = 6; i < 10000; i++) generator.nextU32();
    expect(generator.nextU32()).toBe(4123659995);
  });

  test("seed 42 gives the outputs of numpy's MT19937 with the same init_genrand seeding", () => {
    const generator = mt19937(42);
    expect([generator.nextU32(), generator.nextU32(), generator.nextU32()]).toEqual([1608637542, 3421126067, 4083286876]);
  });

  test("only the low 32 bits of the seed matter, as in PyTorch's CPU generator", () => {
    const low = mt19937(5489);
    const high = mt19937(2n ** 32n + 5489n);
    const viaNumber = mt19937(2 ** 32 + 5489);
    for (let i = 0; i < 700; i++) {
      const expected = low.nextU32();
      expect(high.nextU32()).toBe(expected);
      expect(viaNumber.nextU32()).toBe(expected);
    }
  });
});

describe("torchCpuRandnBf16 (statistics and structure; PyTorch bit parity unverified)", () => {
  const shape = [1, 128, 32, 32];
  const noise = torchCpuRandnBf16(shape, 0);

  test("has one value per element, every value a bf16", () => {
    expect(noise.length).toBe(128 * 32 * 32);
    expect(noise.every((value) => roundBf16(value) === value)).toBe(true);
  });

  test("is N(0,1)-like: mean ≈ 0, std ≈ 1, and |x| ≤ 3.34 (the radius cap of 8-bit uniforms)", () => {
    const { mean, std, maxAbs } = moments(noise);
    // 131072 samples: the standard error of the mean is 0.0028, of the std about 0.002 (plus bf16 rounding).
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(std).toBeGreaterThan(0.98);
    expect(std).toBeLessThan(1.02);
    expect(maxAbs).toBeLessThanOrEqual(3.34);
    expect(maxAbs).toBeGreaterThan(3);
  });

  test("is the same for the same seed and different for another seed", () => {
    expect(torchCpuRandnBf16(shape, 0)).toEqual(noise);
    const other = torchCpuRandnBf16(shape, 1);
    let differing = 0;
    for (let i = 0; i < other.length; i++) if (other[i] !== noise[i]) differing++;
    expect(differing).toBeGreaterThan(other.length * 0.9);
  });

  test("is built in blocks of 16 in row-major draw order: a prefix of whole blocks does not depend on the total size", () => {
    const long = torchCpuRandnBf16([64], 7);
    expect(torchCpuRandnBf16([16], 7)).toEqual(long.subarray(0, 16));
    expect(torchCpuRandnBf16([2, 2, 8], 7)).toEqual(long.subarray(0, 32));
  });

  test("a size that is not a multiple of 16 redraws its last 16 slots from fresh uniforms", () => {
    const twenty = torchCpuRandnBf16([20], 7);
    const thirtyTwo = torchCpuRandnBf16([32], 7);
    // Slots 0..3 come only from the first block; slots 4..19 were overwritten by the redrawn tail block.
    expect(twenty.subarray(0, 4)).toEqual(thirtyTwo.subarray(0, 4));
    expect(twenty.subarray(4, 20)).not.toEqual(thirtyTwo.subarray(4, 20));
  });

  test("fewer than 16 elements is refused with the shape in the message", () => {
    expect(() => torchCpuRandnBf16([3, 5], 0)).toThrow(/at least 16 elements.*\[3, 5\] with 15/);
  });
});

describe("gaussianF32", () => {
  const samples = gaussianF32(200_000, 12345);

  test("is N(0,1): mean, std and the share within one and two sigmas", () => {
    const { mean, std } = moments(samples);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
    let withinOne = 0;
    let withinTwo = 0;
    for (const value of samples) {
      if (Math.abs(value) < 1) withinOne++;
      if (Math.abs(value) < 2) withinTwo++;
    }
    // Binomial standard errors at n = 200000 are about 0.001 and 0.0005.
    expect(Math.abs(withinOne / samples.length - 0.682689)).toBeLessThan(0.006);
    expect(Math.abs(withinTwo / samples.length - 0.9545)).toBeLessThan(0.003);
  });

  test("element i depends only on (seed, i), so a shorter draw is a prefix", () => {
    expect(gaussianF32(13, 12345)).toEqual(samples.subarray(0, 13));
    expect(gaussianF32(200_000, 12345)).toEqual(samples);
  });

  test("different seeds, including ones differing only above bit 32, give different samples", () => {
    const zero = gaussianF32(8, 0);
    expect(gaussianF32(8, 1)).not.toEqual(zero);
    expect(gaussianF32(8, 2 ** 32)).not.toEqual(zero);
  });
});
