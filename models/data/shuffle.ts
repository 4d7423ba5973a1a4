// Seeded shuffling for the data loader: the same seed gives the same order on every machine.
// xoshiro128** (Blackman & Vigna, 2018) for the stream, seeded through splitmix32 so that
// nearby seeds (0, 1, 2, …) give unrelated streams; all arithmetic is exact 32-bit integer math.

/** A stream of uniformly distributed unsigned 32-bit integers. */
export type Random32 = () => number;

/** splitmix32: one step of a 32-bit variant of Steele et al.'s SplitMix, used only to expand a seed. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** seeded from an integer seed (its low 32 bits) through four splitmix32 steps. */
export function xoshiro128(seed: number): Random32 {
  if (!Number.isSafeInteger(seed)) throw new Error(`xoshiro128: expected an integer seed, found ${seed}`);
  const init = { s: seed >>> 0 };
  return xoshiro128FromState([splitmix32(init), splitmix32(init), splitmix32(init), splitmix32(init)]);
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** xoshiro128** from an explicit 128-bit state (four 32-bit words, not all zero). */
export function xoshiro128FromState(state: readonly [number, number, number, number]): Random32 {
  const s = state.map((word) => word >>> 0);
  if (s.every((word) => word === 0)) throw new Error("xoshiro128FromState: expected a state that is not all zero, found four zero words");
  return () => {
    const [s0, s1, s2, s3] = s as [number, number, number, number];
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    s[0] = (s0 ^ n3) >>> 0;
    s[1] = (s1 ^ n2) >>> 0;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = rotl(n3, 11);
    return result;
  };
}

/** A uniform integer in [0, n) without modulo bias: draws above the largest multiple of n are redrawn. */
export function uniformBelow(random: Random32, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new Error(`uniformBelow: expected an integer bound in 1..2^32, found ${n}`);
  const limit = Math.floor(2 ** 32 / n) * n;
  for (;;) {
    const draw = random();
    if (draw < limit) return draw % n;
  }
}

/** Fisher–Yates shuffle of a copy of `items`, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: Random32): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = uniformBelow(random, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
