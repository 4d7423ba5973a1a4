// Evaluation of a trained model on its training prompts: one image per prompt (seed = its index, plus a first seed),
// measured as a person would look at it (models/image-metrics.ts) — recall@1 (is its nearest training
// image, in downscaled pixel space, its own Pokémon), PSNR against its own training image, the speckle
// on the training image's white background — and whether the tutorial's starter prompts, over several
// seeds, give a Pokémon of the evolution family they describe.

import path from "node:path";
import { formatWarning, openDataset } from "./data/dataset.ts";
import { pokemonImageName } from "./data/pokemon.ts";
import { resolveDataSource, type DataLocation } from "./data/source.ts";
import { backgroundSpeckle, downscale, meanOfDefined, nearestReference, psnr, rmsDistance } from "./image-metrics.ts";
import { Sampler } from "./pipeline.ts";
import { saveGrid } from "./png.ts";
import { STARTER_FAMILIES, type StarterFamily } from "./tutorial-prompts.ts";

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
  /** Seeds s … s+N−1 of each starter prompt for the family hit rate (default 8; 0 skips it). */
  familySeeds?: number;
  /**
   * The first seed s (default 0): training prompt i is sampled with seed s+i, the starter prompts with
   * s … s+familySeeds−1, so another s measures the same model on other noise.
   */
  seed?: number;
  /** Write a grid of the starter prompts' images here (a row per prompt, a column per seed). */
  familyGrid?: string;
}

export interface RecallResult {
  recall_at_1: number;
  mean_distance: number;
  n: number;
}

export interface FamilyResult {
  seeds: number;
  hits: number;
  samples: number;
  hit_rate: number;
  /** Per starter prompt: its family, the hits, and each seed's nearest training image (its file). */
  prompts: { family: string; hits: number; hit_rate: number; nearest: string[] }[];
}

export interface EvalResult extends RecallResult {
  cfg: number;
  steps: number;
  /** The first seed (EvalOptions.seed). */
  seed: number;
  /** Mean over the images of the PSNR (dB, peak 1 on [0, 1] RGB, full resolution) against the own training image. */
  psnr_db: number;
  /** Mean over the images of the background speckle (models/image-metrics.ts); null when no training image has a pure white pixel. */
  background_speckle: number | null;
  /** The starter prompts' family hit rate, or why it was skipped. */
  family: FamilyResult | { skipped: string };
}

/** Recall@1 of generated images against references (index i is image i's own reference). */
export function recallAtOne(generated: readonly Float32Array[], references: readonly Float32Array[]): RecallResult {
  let hits = 0;
  let own = 0;
  generated.forEach((g, i) => {
    if (nearestReference(g, references) === i) hits++;
    own += rmsDistance(g, references[i]!);
  });
  return { recall_at_1: hits / generated.length, mean_distance: own / generated.length, n: generated.length };
}

/**
 * The Pokédex number of each starter family member among the training images (by file name, as the
 * Pokémon data set names them: "001-bulbasaur.png"), or why the data set is not the Pokémon one.
 */
export function starterFamilyImages(files: readonly string[]): Map<number, number> | { skipped: string } {
  const wanted = STARTER_FAMILIES.flatMap((f) => f.dex);
  const byName = new Map(wanted.map((dex) => [pokemonImageName(dex), dex]));
  const dexOfIndex = new Map<number, number>();
  files.forEach((file, index) => {
    const dex = byName.get(path.basename(file));
    if (dex !== undefined) dexOfIndex.set(index, dex);
  });
  const missing = wanted.filter((dex) => ![...dexOfIndex.values()].includes(dex));
  if (missing.length > 0)
    return { skipped: `the data set is not the Pokémon one: no training image is named ${missing.map((dex) => pokemonImageName(dex)).join(", ")}` };
  return dexOfIndex;
}

/** The family hit rate from each starter prompt's samples' nearest training images (`nearest[prompt][seed]`, indices into `files`). */
export function familyHits(
  families: readonly StarterFamily[],
  nearest: readonly (readonly number[])[],
  files: readonly string[],
  dexOfIndex: ReadonlyMap<number, number>,
): FamilyResult {
  const prompts = families.map((family, k) => {
    const hits = nearest[k]!.filter((index) => family.dex.includes(dexOfIndex.get(index) ?? -1)).length;
    return { family: family.family, hits, hit_rate: hits / nearest[k]!.length, nearest: nearest[k]!.map((index) => path.basename(files[index]!)) };
  });
  const hits = prompts.reduce((a, p) => a + p.hits, 0);
  const samples = nearest.reduce((a, n) => a + n.length, 0);
  return { seeds: nearest[0]?.length ?? 0, hits, samples, hit_rate: hits / samples, prompts };
}

/** One line per measure, for people. */
export function describeEval(result: EvalResult): string[] {
  const family = result.family;
  return [
    `recall@1 on the ${result.n} training prompts: ${result.recall_at_1.toFixed(3)} (${Math.round(result.recall_at_1 * result.n)}/${result.n}), mean distance to the own image ${result.mean_distance.toFixed(4)}`,
    `PSNR against the own training image: ${result.psnr_db.toFixed(2)} dB (mean over the ${result.n} images)`,
    `background speckle (mean deviation from white where the training image is pure white): ${result.background_speckle === null ? "n/a (no pure white pixel)" : result.background_speckle.toFixed(4)}`,
    "skipped" in family
      ? `starter prompts' family hit rate: skipped (${family.skipped})`
      : `starter prompts' family hit rate over ${family.seeds} seeds: ${family.hit_rate.toFixed(3)} (${family.hits}/${family.samples}; ${family.prompts.map((p) => `${p.family} ${p.hits}/${family.seeds}`).join(", ")})`,
  ];
}

export async function evaluate(sampler: Sampler, options: EvalOptions): Promise<EvalResult> {
  const size = options.compareSize ?? 16;
  const steps = options.steps ?? 30;
  const cfg = options.cfg ?? 1;
  const familySeeds = options.familySeeds ?? 8;
  const firstSeed = options.seed ?? 0;
  const source = resolveDataSource(options);
  const dataset = await openDataset({
    metadataPath: source.metadataPath,
    basePath: source.imagesDir,
    height: sampler.height,
    width: sampler.width,
    onWarning: (w) => process.stderr.write(`skipped: ${formatWarning(w)}\n`),
  });
  // Every usable training image is a candidate nearest image; the first `limit` are evaluated.
  const references: Float32Array[] = [];
  const pixels: Uint8Array[] = [];
  const prompts: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < dataset.entries.length; i++) {
    const item = await dataset.loadRgb(i);
    if (!item) continue;
    references.push(downscale(item.pixels, item.height, item.width, size));
    pixels.push(item.pixels);
    prompts.push(item.prompt);
    files.push(item.file);
  }
  const evaluated = options.limit === undefined ? prompts.length : Math.min(options.limit, prompts.length);
  const batch = options.batch ?? 32;
  const generate = (requests: readonly { prompt: string; seed: number }[], label: string): Uint8Array[] => {
    const images: Uint8Array[] = [];
    for (let start = 0; start < requests.length; start += batch) {
      const chunk = requests.slice(start, start + batch).map((r) => ({ ...r, steps, cfg, negative: "", progress: false }));
      images.push(...sampler.sampleMany(chunk));
      process.stderr.write(`\r${label}: ${images.length}/${requests.length} images`);
    }
    process.stderr.write("\n");
    return images;
  };
  const images = generate(
    prompts.slice(0, evaluated).map((prompt, i) => ({ prompt, seed: firstSeed + i })),
    "eval",
  );
  if (options.grid) await saveGrid(options.grid, images, sampler.height, sampler.width, Math.ceil(Math.sqrt(images.length)));
  const recall = recallAtOne(
    images.map((img) => downscale(img, sampler.height, sampler.width, size)),
    references.slice(0, evaluated),
  );
  const psnrs = images.map((img, i) => psnr(img, pixels[i]!));
  const speckle = meanOfDefined(images.map((img, i) => backgroundSpeckle(img, pixels[i]!)));

  const familyImages = familySeeds === 0 ? { skipped: "no seeds asked for (--family-seeds 0)" } : starterFamilyImages(files);
  const measureFamilies = async (dexOfIndex: ReadonlyMap<number, number>): Promise<FamilyResult> => {
    const requests = STARTER_FAMILIES.flatMap((f) => Array.from({ length: familySeeds }, (_, i) => ({ prompt: f.prompt, seed: firstSeed + i })));
    const starterImages = generate(requests, "starter prompts");
    if (options.familyGrid) await saveGrid(options.familyGrid, starterImages, sampler.height, sampler.width, familySeeds);
    const nearest = STARTER_FAMILIES.map((_, k) =>
      starterImages
        .slice(k * familySeeds, (k + 1) * familySeeds)
        .map((img) => nearestReference(downscale(img, sampler.height, sampler.width, size), references)),
    );
    return familyHits(STARTER_FAMILIES, nearest, files, dexOfIndex);
  };
  const family = familyImages instanceof Map ? await measureFamilies(familyImages) : familyImages;
  return {
    ...recall,
    cfg,
    steps,
    seed: firstSeed,
    psnr_db: psnrs.reduce((a, b) => a + b, 0) / psnrs.length,
    background_speckle: speckle ?? null,
    family,
  };
}
