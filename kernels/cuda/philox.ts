// In-kernel random numbers for the `random` op: Philox4x32-10 with kiln's fixed definition
// (compiler/philox.ts), so a (seed, offset) pair gives the same values on the GPU as in the interpreter.
import { CUDA_HELPERS, philoxRounds } from "../../compiler/index.ts";
import { PREAMBLE, pointer, scalar, signature, type CudaKernel, type KernelParam, type StorageType } from "./kernel.ts";

/**
 * Device functions, valid C++ on the host too (the tests compile them with gcc against the TS definitions):
 *   bits(i)    = philox4x32_10(counter (i >> 2, offset, 0, 0), key (seed, 0))[i & 3]
 *   uniform(i) = (bits(i) >> 8) · 2⁻²⁴, in [0, 1)
 *   normal(i)  = Box–Muller in double on the pair of words (2p, 2p+1), p = (i & 3) >> 1, each word w taken as
 *                (w + 0.5) · 2⁻³²: r = √(−2 ln u₁), θ = 2π u₂; cos for even i, sin for odd i. With offset 0 this is
 *                models/noise.ts gaussianF32 for seeds below 2³².
 */
/** The rounds of the renderers' kiln_philox (compiler/codegen/c-family-helpers.ts), on an array counter. */
const ROUNDS = philoxRounds(CUDA_HELPERS, ["c[0]", "c[1]", "c[2]", "c[3]"], ["k0", "k1"])
  .map((line) => `  ${line}`)
  .join("\n");

export const PHILOX_SOURCE = `#ifndef KILN_PHILOX
#define KILN_PHILOX
// Philox4x32-10 (Salmon et al., SC'11): ten rounds on a 4-word counter with a 2-word key, in place.
__device__ __forceinline__ void philox4x32_10(unsigned (&c)[4], unsigned k0, unsigned k1) {
${ROUNDS}
}
// The four words of element group i >> 2 of random node (seed, offset).
__device__ __forceinline__ void philox_words(unsigned (&w)[4], unsigned seed, unsigned offset, unsigned long long i) {
  w[0] = (unsigned)(i >> 2);
  w[1] = offset;
  w[2] = 0u;
  w[3] = 0u;
  philox4x32_10(w, seed, 0u);
}
__device__ __forceinline__ float philox_uniform_of(unsigned bits) { return (float)(bits >> 8) * 5.9604644775390625e-8f; }
// Box–Muller on two words; cos for the first element of the pair, sin for the second.
__device__ __forceinline__ float philox_normal_of(unsigned w0, unsigned w1, int odd) {
  const double u1 = ((double)w0 + 0.5) * 2.3283064365386963e-10;
  const double u2 = ((double)w1 + 0.5) * 2.3283064365386963e-10;
  const double radius = sqrt(-2.0 * log(u1));
  const double theta = 6.283185307179586 * u2;
  return (float)(odd ? radius * sin(theta) : radius * cos(theta));
}
__device__ __forceinline__ float philox_uniform(unsigned seed, unsigned offset, unsigned long long i) {
  unsigned w[4];
  philox_words(w, seed, offset, i);
  return philox_uniform_of(w[i & 3]);
}
__device__ __forceinline__ float philox_normal(unsigned seed, unsigned offset, unsigned long long i) {
  unsigned w[4];
  philox_words(w, seed, offset, i);
  const int pair = (int)(i & 3) >> 1;
  return philox_normal_of(w[2 * pair], w[2 * pair + 1], (int)(i & 1));
}
#endif
`;

export type Distribution = "uniform" | "normal";

/** Fills out[0..count) with random node (seed, offset) values; each thread makes one group of four. */
export function philoxFill(o: { count: number; distribution: Distribution; out: StorageType }): CudaKernel {
  const name = `philox_${o.distribution}_${o.out}_n${o.count}`;
  const params: KernelParam[] = [
    pointer("out", `${o.out === "bf16" ? "bf16_t" : "float"}* __restrict__`),
    scalar("seed", "u32"),
    scalar("offset", "u32"),
  ];
  const value = o.distribution === "uniform" ? "philox_uniform_of(w[j])" : "philox_normal_of(w[j & 2], w[(j & 2) + 1], j & 1)";
  const store = o.out === "bf16" ? `f32_to_bf16(${value})` : value;
  const groups = Math.ceil(o.count / 4);
  const source = `${PREAMBLE}${PHILOX_SOURCE}
// ${name}: out[i] = ${o.distribution}(seed, offset, i) for i < ${o.count} (kiln's Philox definition), ${o.out}.
extern "C" __global__ void __launch_bounds__(256) ${name}(${signature(params)}) {
  const unsigned long long group = (unsigned long long)blockIdx.x * 256 + threadIdx.x;
  if (group >= ${groups}ull) return;
  unsigned w[4];
  philox_words(w, seed, offset, group * 4);
  #pragma unroll
  for (int j = 0; j < 4; ++j) {
    const unsigned long long i = group * 4 + j;
    if (i < ${o.count}ull) out[i] = ${store};
  }
}
`;
  return { name, source, grid: [Math.ceil(groups / 256), 1, 1], block: [256, 1, 1], smemBytes: 0, params };
}
