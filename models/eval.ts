// Evaluation of a trained model on its training prompts: one image per prompt (fixed seeds), and
// recall@1 — the fraction of images whose nearest training image, in downscaled pixel space, is
// their own Pokémon — with the mean distance to their own image.

import { formatWarning, openDataset } from "./data/dataset.ts";
import { resolveDataSource, type DataLocation } from "./data/source.ts";
import { Sampler, saveGrid } from "./pipeline.ts";

export interface EvalOptions extends DataLocation {
  /** Side of the square the images are averaged down to before comparing. */
  compareSize?: number;
  steps?: number;
  cfg?: number;
  /** Images denoised together per compiled step. */
  batch?: number;
  /** Write a grid of the generated images here. */
  grid?: string;
  /** Evaluate only the first `limit` usable prompts (a quick check; recall@1 is then among those). */
  limit?: number;
}

export interface EvalResult {
  recall_at_1: number;
  mean_distance: number;
  n: number;
}

/** Average an H×W×3 byte image down to size×size, values in [0, 1]. */
export function downscale(rgb: Uint8Array, height: number, width: number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const counts = new Float32Array(size * size);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y * size) / height) * size + Math.floor((x * size) / width);
      counts[cell]!++;
      for (let c = 0; c < 3; c++) out[cell * 3 + c]! += rgb[(y * width + x) * 3 + c]! / 255;
    }
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) out[i * 3 + c]! /= counts[i]!;
  return out;
}

/** Root-mean-square difference of two equally long vectors. */
export const rmsDistance = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
};

/** Recall@1 of generated images against references (index i is image i's own reference). */
export function recallAtOne(generated: readonly Float32Array[], references: readonly Float32Array[]): EvalResult {
  let hits = 0;
  let own = 0;
  generated.forEach((g, i) => {
    let best = -1;
    let bestDistance = Infinity;
    references.forEach((r, j) => {
      const d = rmsDistance(g, r);
      if (d < bestDistance) [best, bestDistance] = [j, d];
    });
    if (best === i) hits++;
    own += rmsDistance(g, references[i]!);
  });
  return { recall_at_1: hits / generated.length, mean_distance: own / generated.length, n: generated.length };
}

export async function evaluate(sampler: Sampler, options: EvalOptions): Promise<EvalResult> {
  const size = options.compareSize ?? 16;
  const source = resolveDataSource(options);
  const dataset = await openDataset({ metadataPath: source.metadataPath, basePath: source.imagesDir, height: sampler.height, width: sampler.width, onWarning: (w) => process.stderr.write(`skipped: ${formatWarning(w)}\n`) });
  const references: Float32Array[] = [];
  const prompts: string[] = [];
  for (let i = 0; i < dataset.entries.length && (options.limit === undefined || prompts.length < options.limit); i++) {
    const item = await dataset.loadRgb(i);
    if (!item) continue;
    references.push(downscale(item.pixels, item.height, item.width, size));
    prompts.push(item.prompt);
  }
  const batch = options.batch ?? 32;
  const images: Uint8Array[] = [];
  for (let start = 0; start < prompts.length; start += batch) {
    const chunk = prompts.slice(start, start + batch).map((prompt, k) => ({ prompt, seed: start + k, steps: options.steps ?? 30, cfg: options.cfg ?? 1, negative: "", progress: false }));
    images.push(...sampler.sampleMany(chunk));
    process.stderr.write(`\reval: ${images.length}/${prompts.length} images`);
  }
  process.stderr.write("\n");
  if (options.grid) await saveGrid(options.grid, images, sampler.height, sampler.width, Math.ceil(Math.sqrt(images.length)));
  return recallAtOne(images.map((img) => downscale(img, sampler.height, sampler.width, size)), references);
}
