// The fixed corpus of CUDA kernels that every machine compiles (test/cuda-compile.test.ts: nvcc, no
// spills, source snapshots) and a GPU session runs against CPU references (bench/gpu/smoke.ts).
// Shapes are small and deliberately ragged (not multiples of the tiles) so bounds checks are exercised.
import { adamwMultiTensor, type AdamwOptions } from "./adamw.ts";
import { attentionBackward, attentionBackwardConvertDq, attentionBackwardPreprocess } from "./attention-backward.ts";
import { attentionForward, type AttentionShape } from "./attention.ts";
import { gemmMma, type GemmEpilogue, type GemmProblem, type GemmTile } from "./gemm-mma.ts";
import { gemmWgmma, type WgmmaTile } from "./gemm-wgmma.ts";
import { pointer, scalar, type CudaKernel } from "./kernel.ts";
import { philoxFill, type Distribution } from "./philox.ts";

/** An epilogue with the values its extra parameters take in a check, and its meaning in TS. */
export interface CorpusEpilogue {
  epilogue: GemmEpilogue;
  /** Extra inputs: a bf16 vector of `length(problem)` random values, or an f32 scalar. */
  extras: readonly ({ name: string; kind: "bf16"; length: (p: GemmProblem) => number } | { name: string; kind: "f32"; value: number })[];
  reference(acc: number, b: number, row: number, col: number, extras: Readonly<Record<string, number | Float64Array>>, p: GemmProblem): number;
}

const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
const vector = (extras: Readonly<Record<string, number | Float64Array>>, name: string) => extras[name] as Float64Array;

export const EPILOGUES = {
  plain: { epilogue: { tag: "plain", body: "return acc;", params: [] }, extras: [], reference: (acc: number) => acc },
  biasGelu: {
    epilogue: {
      tag: "bias_gelu",
      body: "const float x = acc + bf16_to_f32(bias[col]);\nreturn 0.5f * x * (1.f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));",
      params: [pointer("bias", "const bf16_t* __restrict__")],
    },
    extras: [{ name: "bias", kind: "bf16", length: (p: GemmProblem) => p.n }],
    reference: (acc: number, _b: number, _row: number, col: number, extras: Readonly<Record<string, number | Float64Array>>) =>
      geluTanh(acc + vector(extras, "bias")[col]!),
  },
  scaleResidual: {
    epilogue: {
      tag: "scale_residual",
      body: "return acc * alpha + bf16_to_f32(residual[((long long)b * M + row) * N + col]);",
      params: [pointer("residual", "const bf16_t* __restrict__"), scalar("alpha", "f32")],
    },
    extras: [
      { name: "residual", kind: "bf16", length: (p: GemmProblem) => (p.batch ?? 1) * p.m * p.n },
      { name: "alpha", kind: "f32", value: 0.5 },
    ],
    reference: (acc: number, b: number, row: number, col: number, extras: Readonly<Record<string, number | Float64Array>>, p: GemmProblem) =>
      acc * (extras.alpha as number) + vector(extras, "residual")[(b * p.m + row) * p.n + col]!,
  },
} satisfies Record<string, CorpusEpilogue>;

export type CorpusEntry =
  | { kind: "gemm"; problem: GemmProblem; epilogue: CorpusEpilogue; kernel: CudaKernel }
  | { kind: "attention"; shape: AttentionShape; forward: CudaKernel; delta: CudaKernel; backward: CudaKernel; convertDq: CudaKernel }
  | { kind: "adamw"; options: AdamwOptions; numels: readonly number[]; kernel: CudaKernel }
  | { kind: "philox"; count: number; distribution: Distribution; out: "f32" | "bf16"; kernel: CudaKernel };

export const MMA_TILES = {
  large: { bm: 128, bn: 256, bk: 32, warpsM: 2, warpsN: 4, stages: 3 },
  square: { bm: 128, bn: 128, bk: 32, warpsM: 2, warpsN: 4, stages: 3 },
  deep: { bm: 128, bn: 128, bk: 64, warpsM: 2, warpsN: 4, stages: 3 },
  small: { bm: 64, bn: 64, bk: 32, warpsM: 2, warpsN: 2, stages: 3 },
} satisfies Record<string, GemmTile>;

export const WGMMA_TILES = {
  wide: { warpgroups: 2, bn: 256, stages: 3 },
  square: { warpgroups: 2, bn: 128, stages: 4 },
} satisfies Record<string, WgmmaTile>;

const gemm = (problem: Omit<GemmProblem, "epilogue">, tile: GemmTile, epilogue: CorpusEpilogue = EPILOGUES.plain): CorpusEntry => {
  const full = { ...problem, epilogue: epilogue.epilogue };
  return { kind: "gemm", problem: full, epilogue, kernel: gemmMma(full, tile) };
};
const wgmma = (problem: Omit<GemmProblem, "epilogue">, tile: WgmmaTile, epilogue: CorpusEpilogue = EPILOGUES.plain): CorpusEntry => {
  const full = { ...problem, epilogue: epilogue.epilogue };
  return { kind: "gemm", problem: full, epilogue, kernel: gemmWgmma(full, tile) };
};
const attention = (shape: AttentionShape): CorpusEntry => ({
  kind: "attention",
  shape,
  forward: attentionForward(shape),
  delta: attentionBackwardPreprocess(shape),
  backward: attentionBackward(shape),
  convertDq: attentionBackwardConvertDq(shape),
});
const adamw = (numels: readonly number[], options: AdamwOptions): CorpusEntry => ({
  kind: "adamw",
  options,
  numels,
  kernel: adamwMultiTensor(numels, options),
});
const philox = (count: number, distribution: Distribution, out: "f32" | "bf16"): CorpusEntry => ({
  kind: "philox",
  count,
  distribution,
  out,
  kernel: philoxFill({ count, distribution, out }),
});

export function cudaCorpus(): CorpusEntry[] {
  return [
    gemm({ m: 512, n: 768, k: 256, layout: "tn", out: "bf16" }, MMA_TILES.square),
    gemm({ m: 300, n: 520, k: 264, layout: "tn", out: "bf16" }, MMA_TILES.large, EPILOGUES.biasGelu),
    gemm({ m: 384, n: 256, k: 320, layout: "tn", out: "f32" }, MMA_TILES.deep),
    gemm({ m: 200, n: 136, k: 96, layout: "nn", out: "f32", batch: 3 }, MMA_TILES.square, EPILOGUES.scaleResidual),
    gemm({ m: 130, n: 100, k: 77, layout: "tn", out: "f32" }, MMA_TILES.small),
    gemm({ m: 96, n: 77, k: 50, layout: "nn", out: "bf16", batch: 2 }, MMA_TILES.small),
    wgmma({ m: 512, n: 512, k: 512, layout: "tn", out: "bf16" }, WGMMA_TILES.square),
    wgmma({ m: 300, n: 520, k: 264, layout: "tn", out: "f32" }, WGMMA_TILES.wide, EPILOGUES.biasGelu),
    ...[32, 64, 128].flatMap((headDim) =>
      [false, true].map((mask) => attention({ batch: 2, heads: 3, seqQ: 200, seqK: mask ? 176 : 200, headDim, mask })),
    ),
    adamw([1000, 4096, 7, 70000], { param: "f32", grad: "bf16", state: "f32", bf16Copy: true }),
    adamw([1000, 4096, 7], { param: "bf16", grad: "bf16", state: "bf16", bf16Copy: false }),
    philox(10001, "uniform", "f32"),
    philox(10001, "normal", "f32"),
    philox(4096, "normal", "bf16"),
  ];
}

/** Every kernel of the corpus once (attention entries hold four), in corpus order. */
export function corpusKernels(corpus: readonly CorpusEntry[] = cudaCorpus()): { kernel: CudaKernel; kind: CorpusEntry["kind"] }[] {
  const seen = new Map<string, { kernel: CudaKernel; kind: CorpusEntry["kind"] }>();
  for (const entry of corpus) {
    const kernels = entry.kind === "attention" ? [entry.forward, entry.delta, entry.backward, entry.convertDq] : [entry.kernel];
    for (const kernel of kernels) if (!seen.has(kernel.name)) seen.set(kernel.name, { kernel, kind: entry.kind });
  }
  return [...seen.values()];
}
