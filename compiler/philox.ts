// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// counter-based generator behind the `random` op. kiln's definition, identical on every backend:
//   element i of a random node with seed s and offset o uses
//     key     = (s as u32, 0)
//     counter = (i >>> 2, o, 0, 0)            (i is the row-major element index)
//     bits    = philox4x32_10(counter, key)[i & 3]
//     value   = (bits >>> 8) · 2^-24          (uniform in [0, 1), exactly representable in f32)

/** The round multipliers and the key increments (Weyl sequence) of Philox4x32; the renderers print them too. */
export const PHILOX_CONSTANTS = { M0: 0xd2511f53, M1: 0xcd9e8d57, W0: 0x9e3779b9, W1: 0xbb67ae85 } as const;
const { M0, M1, W0, W1 } = PHILOX_CONSTANTS;

/** High 32 bits of the 64-bit product of two u32 values (exact, via 16-bit limbs). */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const lohi = aLo * bHi;
  const hilo = aHi * bLo;
  const carry = ((lolo >>> 16) + (lohi & 0xffff) + (hilo & 0xffff)) >>> 16;
  return (aHi * bHi + (lohi >>> 16) + (hilo >>> 16) + carry) >>> 0;
}

/** The four output words for a counter and key (all u32), after 10 rounds. */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number]): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((c) => c >>> 0) as [number, number, number, number];
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** Fills `out` with the uniform values of a random node (seed, offset), by kiln's definition above. */
export function philoxUniform(out: { length: number; [i: number]: number }, seed: number, offset: number): void {
  const key: [number, number] = [seed >>> 0, 0];
  for (let block = 0; block * 4 < out.length; block++) {
    const words = philox4x32([block, offset >>> 0, 0, 0], key);
    for (let lane = 0; lane < 4 && block * 4 + lane < out.length; lane++) out[block * 4 + lane] = (words[lane]! >>> 8) * 2 ** -24;
  }
}
