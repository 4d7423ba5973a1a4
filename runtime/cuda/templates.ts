// The CUDA device's kernel templates, handed to the compiler's CUDA renderer through its interface
// (compiler/codegen/cuda-templates.ts): the mma.sync bf16 GEMM with the fused epilogue, and flash
// attention forward and backward. Tile choice is a table lookup, or, when the caller passes a chooser
// (runtime/cuda/autotune.ts), the tile timed fastest on the device.
import type { AttentionTemplateShape, CudaKernelSource, CudaTemplates, GemmTemplateProblem } from "../../compiler/index.ts";
import {
  attentionBackward,
  attentionBackwardConvertDq,
  attentionBackwardPreprocess,
  attentionForward,
  attentionShapeProblem,
  type AttentionShape,
  MMA_TILES,
  gemmMma,
  gemmTileProblem,
  type GemmTile,
} from "../../kernels/cuda/index.ts";

/** Tiles from largest to smallest; the first whose grid fills `multiprocessors` is used, else the last. */
export const GEMM_TILE_ORDER: readonly GemmTile[] = [MMA_TILES.large, MMA_TILES.square, MMA_TILES.small];

export function chooseGemmTile(p: { m: number; n: number; batch: number; layout: "tn" | "nn" }, multiprocessors = 132): GemmTile {
  const usable = GEMM_TILE_ORDER.filter((t) => gemmTileProblem(t, p.layout) === null);
  for (const t of usable) if (Math.ceil(p.m / t.bm) * Math.ceil(p.n / t.bn) * p.batch >= multiprocessors) return t;
  return usable[usable.length - 1]!;
}

const attentionShape = (s: AttentionTemplateShape): AttentionShape => ({
  batch: s.batch,
  heads: s.heads,
  seqQ: s.seqQ,
  seqK: s.seqK,
  headDim: s.headDim,
  mask: s.mask,
  scale: s.scale,
});

export interface TemplateOptions {
  /** SMs of the device (default 132, an H100 SXM). */
  multiprocessors?: number;
  /** Picks the GEMM tile given the table's choice (the autotuner's cache); default: the table's choice. */
  chooseTile?: (p: GemmTemplateProblem, fallback: GemmTile) => GemmTile;
}

/** kiln's CUDA templates for a device with `multiprocessors` SMs. */
export function cudaTemplates(options: TemplateOptions = {}): CudaTemplates {
  return {
    gemm(p: GemmTemplateProblem): CudaKernelSource | null {
      const table = chooseGemmTile(p, options.multiprocessors);
      const tile = options.chooseTile ? options.chooseTile(p, table) : table;
      return gemmMma(
        {
          m: p.m,
          n: p.n,
          k: p.k,
          batch: p.batch,
          layout: p.layout,
          strideA: p.strideA,
          strideB: p.strideB,
          strideC: p.strideC,
          out: p.out,
          epilogue: { tag: p.epilogue.tag, body: p.epilogue.body, params: [...p.epilogue.params] },
        },
        tile,
      );
    },
    attentionForward(s) {
      const shape = attentionShape(s);
      return attentionShapeProblem(shape) ? null : attentionForward(shape);
    },
    attentionBackward(s) {
      const shape = attentionShape(s);
      if (attentionShapeProblem(shape)) return null;
      try {
        return { delta: attentionBackwardPreprocess(shape), main: attentionBackward(shape), convertDq: attentionBackwardConvertDq(shape) };
      } catch {
        return null; // a head size the backward's warp split does not cover
      }
    },
  };
}
