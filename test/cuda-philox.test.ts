// The device Philox functions of kernels/cuda/philox.ts are plain C++: compiled on the host with g++,
// they must give kiln's uniform stream bit for bit (compiler/philox.ts) and the Philox normals of models/noise.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { philoxUniform } from "../compiler/philox.ts";
import { f32Bits } from "../compiler/dtype.ts";
import { PHILOX_SOURCE } from "../kernels/cuda/philox.ts";
import { gaussianF32 } from "../models/noise.ts";

const HOST_SHIM = `#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
using std::cos; using std::log; using std::sin; using std::sqrt;
#define __device__
#define __forceinline__ inline
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
`;
const MAIN = `
static unsigned bits_of(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
int main(int argc, char** argv) {
  const unsigned seed = (unsigned)std::strtoul(argv[1], 0, 10), offset = (unsigned)std::strtoul(argv[2], 0, 10);
  const unsigned long long first = std::strtoull(argv[3], 0, 10), count = std::strtoull(argv[4], 0, 10);
  for (unsigned long long i = first; i < first + count; ++i)
    std::printf("%u %u\\n", bits_of(philox_uniform(seed, offset, i)), bits_of(philox_normal(seed, offset, i)));
  return 0;
}
`;

const gxx = (() => {
  try {
    execFileSync("g++", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!gxx)("device Philox on the host (no g++: skipped)", () => {
  let dir = "";
  let binary = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-philox-"));
    binary = join(dir, "philox");
    writeFileSync(join(dir, "philox.cpp"), HOST_SHIM + PHILOX_SOURCE + MAIN);
    execFileSync("g++", ["-O2", "-w", "-std=c++17", "-o", binary, join(dir, "philox.cpp")]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (seed: number, offset: number, first: number, count: number) =>
    execFileSync(binary, [String(seed), String(offset), String(first), String(count)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((line) => line.split(" ").map(Number) as [number, number]);

  test.each([
    [0, 0],
    [42, 0],
    [0xdeadbeef, 7],
    [123456789, 0xffffffff],
  ])("uniforms of seed %i, offset %i equal compiler/philox.ts bit for bit", (seed, offset) => {
    const expected = new Float32Array(1003);
    philoxUniform(expected, seed, offset);
    const device = run(seed, offset, 0, expected.length);
    expect(device.map(([u]) => u)).toEqual([...expected].map(f32Bits));
  });

  test("the counter is (i >> 2) mod 2^32 on both sides: element 2^34 + j repeats element j", () => {
    const wrapped = new Float32Array(16);
    philoxUniform(wrapped, 9, 3);
    expect(run(9, 3, 2 ** 34 + 5, 8).map(([u]) => u)).toEqual([...wrapped.subarray(5, 13)].map(f32Bits));
  });

  test("normals with offset 0 equal models/noise.ts gaussianF32 (to one f32 ulp)", () => {
    for (const seed of [0, 1, 2024, 0xfffffffe]) {
      const expected = gaussianF32(1001, seed);
      const device = run(seed, 0, 0, expected.length).map(([, n]) => n);
      const ulps = device.map((bits, i) => Math.abs(bits - f32Bits(expected[i]!)));
      expect(Math.max(...ulps)).toBeLessThanOrEqual(1);
    }
  });

  test("normals look standard normal: mean ≈ 0, variance ≈ 1 over 20000 draws", () => {
    const values = run(5, 11, 0, 20000).map(([, n]) => new Float32Array(new Uint32Array([n]).buffer)[0]!);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
