// Random numbers for sampling and training: the reference's CPU generator (MT19937) and its bf16 `randn`
// (spec Appendix C) for seed-for-seed noise, and a counter-based Philox N(0,1) source for when parity is not needed.
import { roundBf16, philox4x32 } from "../compiler/index.ts";

export interface Mt19937 {
  /** The next tempered 32-bit output, as an unsigned number. */
  nextU32(): number;
}

const MT_N = 624;
const MT_M = 397;

/**
 * The standard MT19937 (Matsumoto & Nishimura, init_genrand seeding), as PyTorch's CPU generator after
 * `manual_seed(seed)`: only the low 32 bits of the seed are used.
 */
export function mt19937(seed: number | bigint): Mt19937 {
  const state = new Uint32Array(MT_N);
  state[0] = Number(BigInt.asUintN(32, BigInt(seed)));
  for (let i = 1; i < MT_N; i++) {
    const previous = state[i - 1]!;
    state[i] = Math.imul(1812433253, previous ^ (previous >>> 30)) + i;
  }
  let next = MT_N;

  const twist = (): void => {
    for (let i = 0; i < MT_N; i++) {
      const y = (state[i]! & 0x80000000) | (state[(i + 1) % MT_N]! & 0x7fffffff);
      state[i] = state[(i + MT_M) % MT_N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    next = 0;
  };

  return {
    nextU32: () => {
      if (next >= MT_N) twist();
      let y = state[next++]!;
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y >>> 0;
    },
  };
}

const elementCount = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

/**
 * PyTorch's CPU `torch.randn(shape, generator=manual_seed(seed), dtype=bfloat16)` (spec Appendix C), returned
 * as the bf16 values widened to a row-major Float32Array.
 *
 * UNVERIFIED: bit parity with real PyTorch has not been checked (no PyTorch here). This follows the spec's
 * reading of `normal_fill`/`normal_fill_16`: 8-bit uniforms, Box–Muller over blocks of 16, and every
 * intermediate (log, ×−2, sqrt, θ, cos/sin, products) rounded to bf16 as c10's BFloat16 math overloads do.
 * Check against PyTorch before claiming seed-exact noise.
 */
export function torchCpuRandnBf16(shape: readonly number[], seed: number | bigint): Float32Array {
  const count = elementCount(shape);
  if (count < 16) {
    // PyTorch takes a different path (a double-precision Box–Muller per element) below 16 elements.
    throw new Error(
      `torchCpuRandnBf16: expected at least 16 elements (the blocked sampler PyTorch uses for bf16), found shape [${shape.join(", ")}] with ${count}`,
    );
  }
  const generator = mt19937(seed);
  // bf16 has 8 significant digits, so the uniform keeps only the low 8 bits of each draw: k/256.
  const uniform = (): number => (generator.nextU32() & 0xff) / 256;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = uniform();
  for (let block = 0; block + 16 <= count; block += 16) boxMullerBlockBf16(values, block);
  if (count % 16 !== 0) {
    // The reference redraws the last 16 slots and transforms them again, overlapping the last full block.
    const block = count - 16;
    for (let i = 0; i < 16; i++) values[block + i] = uniform();
    boxMullerBlockBf16(values, block);
  }
  return values;
}

/** One `normal_fill_16` on bf16 data: slots j and j+8 (j < 8) hold uniforms in and normals out. */
function boxMullerBlockBf16(values: Float32Array, block: number): void {
  const mean = 0;
  const std = 1;
  for (let j = 0; j < 8; j++) {
    const u1 = roundBf16(1 - values[block + j]!);
    const u2 = values[block + j + 8]!;
    const radius = roundBf16(Math.sqrt(roundBf16(-2 * roundBf16(Math.log(u1)))));
    const theta = roundBf16(2 * Math.PI * u2);
    values[block + j] = roundBf16(roundBf16(roundBf16(radius * roundBf16(Math.cos(theta))) * std) + mean);
    values[block + j + 8] = roundBf16(roundBf16(roundBf16(radius * roundBf16(Math.sin(theta))) * std) + mean);
  }
}

/**
 * `count` independent N(0,1) float32 samples for `seed`: Philox4x32-10 (compiler/philox.ts) keyed by the 64-bit
 * seed, counter = the index of each group of four samples, Box–Muller in double. Element i depends only on (seed, i), so any slice can
 * be regenerated. Not PyTorch's stream; use `torchCpuRandnBf16` where parity matters.
 */
export function gaussianF32(count: number, seed: number | bigint): Float32Array {
  const seedBits = BigInt.asUintN(64, BigInt(seed));
  const key: [number, number] = [Number(seedBits & 0xffffffffn), Number(seedBits >> 32n)];
  const out = new Float32Array(count);
  // Uniforms in (0, 1): the half offset keeps log away from 0 and the circle away from its seam.
  const unit = (bits: number): number => (bits + 0.5) / 4294967296;
  for (let group = 0; group * 4 < count; group++) {
    const words = philox4x32([group >>> 0, Math.floor(group / 4294967296), 0, 0], key);
    for (let pair = 0; pair < 2; pair++) {
      const radius = Math.sqrt(-2 * Math.log(unit(words[2 * pair]!)));
      const theta = 2 * Math.PI * unit(words[2 * pair + 1]!);
      const index = group * 4 + pair * 2;
      if (index < count) out[index] = radius * Math.cos(theta);
      if (index + 1 < count) out[index + 1] = radius * Math.sin(theta);
    }
  }
  return out;
}
