// The "pca" VAE (models/vae/pca.ts): the Jacobi eigen-solver gives A·v = λ·v with orthonormal v; a
// fit keeping every component round-trips images exactly and one keeping fewer gives the host-side
// projection, with unit mean latent variance; a run saves the fitted tensors beside every checkpoint,
// sampling reads them from there, a resumed run keeps them, and a set without them is refused by name.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { Tensor } from "../compiler/index.ts";
import { compile } from "../runtime/compile.ts";
import {
  fitPcaVae,
  pcaDecode,
  pcaEncode,
  pcaVaeParamSpec,
  refineParamSpec,
  symmetricEigen,
  unfittedPcaVae,
  type PcaVaeConfig,
} from "../models/vae/pca.ts";
import { fitPcaRefine } from "../models/vae/pca-refine.ts";
import { ditConfig } from "../models/dit.ts";
import { CONFIGS, modelParts, type ModelConfig } from "../models/config.ts";
import { train } from "../models/train.ts";
import { checkpointPaths, loadFittedVae } from "../models/checkpoint.ts";
import { loadWeights } from "../models/weights.ts";
import { Sampler } from "../models/pipeline.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

/** A deterministic image [3, H, W] in [−1, 1]: smooth colour fields with a few sharp edges. */
function testImage(seed: number, height: number, width: number): Float32Array {
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const smooth = Math.sin((x + 1) * (seed + c + 1) * 0.21) * Math.cos(y * (seed + 2) * 0.13);
        out[(c * height + y) * width + x] = Math.max(-1, Math.min(1, smooth + ((x * 7 + y * 3 + seed) % 11 < 2 ? 0.5 : 0)));
      }
  return out;
}

function roundTrip(config: PcaVaeConfig, images: Float32Array[], height: number, width: number) {
  const fitted = fitPcaVae(images, height, width, config);
  const spec = (name: string) => ({
    shape: [
      ...(name === "mean"
        ? [3 * config.patchSize ** 2]
        : name === "basis"
          ? [config.channels, 3 * config.patchSize ** 2]
          : [config.whiten ? config.channels : 1]),
    ],
  });
  const params = Object.fromEntries(["mean", "basis", "scale"].map((n) => [n, spec(n)]));
  const step = compile(
    (tree: unknown) => {
      const t = tree as { params: Record<string, Tensor>; x: Tensor };
      const latents = pcaEncode(t.params, t.x, config);
      return [latents, pcaDecode(t.params, latents, config)];
    },
    { params, x: { shape: [1, 3, height, width] } },
  );
  const results = images.map((x) => step.run({ params: Object.fromEntries(fitted), x }) as Float32Array[]);
  step.dispose();
  return { fitted, results };
}

describe("the pca VAE", () => {
  test("the Jacobi solver gives A·v = λ·v with orthonormal eigenvectors", () => {
    const n = 9;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = Math.sin(i * 3.1 + j * 1.7) + (i === j ? i : 0);
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * vectors[j * n + k]!;
        expect(av).toBeCloseTo(values[k]! * vectors[i * n + k]!, 10);
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[i * n + k]! * vectors[i * n + l]!;
        expect(dot).toBeCloseTo(k === l ? 1 : 0, 10);
      }
    }
  });

  test("keeping every component round-trips an image; keeping fewer gives the projection on the leading ones, with unit mean latent variance", () => {
    const [h, w] = [16, 24];
    const images = [0, 1, 2, 3].map((s) => testImage(s, h, w));
    const full = roundTrip({ patchSize: 4, channels: 48 }, images, h, w);
    full.results.forEach(([, decoded], i) => decoded!.forEach((v, j) => expect(Math.abs(v - images[i]![j]!)).toBeLessThan(1e-4)));

    const few = roundTrip({ patchSize: 4, channels: 5 }, images, h, w);
    const basis = few.fitted.get("basis")!;
    const mean = few.fitted.get("mean")!;
    // Host-side projection of one patch (image 1, grid cell (1, 2)) in the patchify order.
    const image = images[1]!;
    const patch = Array.from({ length: 48 }, (_, k) => image[(Math.floor(k / 16) * h + 4 + Math.floor((k % 16) / 4)) * w + 8 + (k % 4)]!);
    const coefficients = Array.from({ length: 5 }, (_, c) => patch.reduce((s, v, k) => s + (v - mean[k]!) * basis[c * 48 + k]!, 0));
    const [latents, decoded] = few.results[1]!;
    const scale = few.fitted.get("scale")![0]!;
    coefficients.forEach((z, c) => expect(latents![(c * (h / 4) + 1) * (w / 4) + 2]).toBeCloseTo(z * scale, 4));
    patch.forEach((_, k) => {
      const projected = mean[k]! + coefficients.reduce((s, z, c) => s + z * basis[c * 48 + k]!, 0);
      expect(decoded![(Math.floor(k / 16) * h + 4 + Math.floor((k % 16) / 4)) * w + 8 + (k % 4)]).toBeCloseTo(projected, 4);
    });
    // The kept components' latents have unit variance on average over the fitted images.
    let sum = 0;
    let sumSq = 0;
    let count = 0;
    for (const [z] of few.results) for (const v of z!) ((sum += v), (sumSq += v * v), count++);
    expect(sumSq / count - (sum / count) ** 2).toBeCloseTo(1, 2);
    // The same images give the same fit (each component's sign is fixed).
    expect(fitPcaVae(images, h, w, { patchSize: 4, channels: 5 }).get("basis")).toEqual(basis);
  });

  test("whitening scales component k by λₖ^(−w/2): each latent channel unit variance at w = 1, unit mean variance at w = ½, and the decode still inverts it", () => {
    const [h, w] = [16, 24];
    const images = [0, 1, 2, 3].map((s) => testImage(s, h, w));
    const channelVariances = (latents: Float32Array[], channels: number): number[] =>
      Array.from({ length: channels }, (_, c) => {
        const values = latents.flatMap((z) => Array.from(z.subarray(c * (h / 4) * (w / 4), (c + 1) * (h / 4) * (w / 4))));
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      });
    const plain = roundTrip({ patchSize: 4, channels: 6 }, images, h, w);
    const full = roundTrip({ patchSize: 4, channels: 6, whiten: 1 }, images, h, w);
    const half = roundTrip({ patchSize: 4, channels: 6, whiten: 0.5 }, images, h, w);
    expect(full.fitted.get("scale")!.length).toBe(6);
    for (const v of channelVariances(
      full.results.map(([z]) => z!),
      6,
    ))
      expect(v).toBeCloseTo(1, 2);
    const plainVariances = channelVariances(
      plain.results.map(([z]) => z!),
      6,
    );
    const halfVariances = channelVariances(
      half.results.map(([z]) => z!),
      6,
    );
    expect(halfVariances.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(1, 2);
    // Half-way: the spread of the channels' variances is the square root of the unwhitened spread.
    const spread = (v: number[]): number => Math.max(...v) / Math.min(...v);
    expect(spread(halfVariances)).toBeCloseTo(Math.sqrt(spread(plainVariances)), 1);
    // Whitening changes the latents, not what they decode to.
    full.results.forEach(([, decoded], i) => decoded!.forEach((v, j) => expect(v).toBeCloseTo(plain.results[i]![1]![j]!, 4)));
  });

  test("the learned refinement starts as the identity and its fit brings reconstructions closer to the images", () => {
    const [h, w] = [16, 16];
    const images = Array.from({ length: 6 }, (_, i) => testImage(i, h, w));
    const plain: PcaVaeConfig = { patchSize: 4, channels: 6 };
    const refined: PcaVaeConfig = { ...plain, refine: { width: 8, steps: 150, noise: 0.05 } };
    const projection = fitPcaVae(images, h, w, plain);
    const fitted = new Map([...projection, ...fitPcaRefine(images, h, w, projection, { ...refined, refine: refined.refine! })]);
    expect([...fitted.keys()].filter((k) => k.startsWith("refine."))).toEqual(refineParamSpec(refined.refine!).map((s) => s.name));
    const shapes = Object.fromEntries(pcaVaeParamSpec(refined).map((s) => [s.name, { shape: s.shape }]));
    const step = compile(
      (tree: unknown) => {
        const t = tree as { params: Record<string, Tensor>; x: Tensor };
        return pcaDecode(t.params, pcaEncode(t.params, t.x, refined), refined);
      },
      { params: shapes, x: { shape: [1, 3, h, w] } },
    );
    const meanSquare = (params: Map<string, Float32Array>): number => {
      step.set({ params: Object.fromEntries(params) });
      let total = 0;
      for (const x of images) {
        const y = step.run({ x }) as Float32Array;
        total += y.reduce((sum, v, i) => sum + (v - x[i]!) ** 2, 0) / y.length;
      }
      return total / images.length;
    };
    // Unfitted, the refinement is the identity: the plain projection's error exactly.
    const unfitted = unfittedPcaVae(pcaVaeParamSpec(refined));
    const identity = new Map([...projection, ...[...unfitted].filter(([k]) => k.startsWith("refine."))]);
    const before = meanSquare(identity);
    const after = meanSquare(fitted);
    step.dispose();
    const { results } = roundTrip(plain, images, h, w);
    const projectionOnly =
      results.reduce((sum, [, y], k) => sum + y!.reduce((a, v, i) => a + (v - images[k]![i]!) ** 2, 0) / y!.length, 0) / images.length;
    expect(before).toBeCloseTo(projectionOnly, 6);
    expect(after).toBeLessThan(0.8 * before);
  }, 120_000);

  test("a fit to images that do not vary is refused", () => {
    expect(() => fitPcaVae([new Float32Array(3 * 8 * 8).fill(0.5)], 8, 8, { patchSize: 4, channels: 3 })).toThrow(/do not vary/);
  });
});

describe("training with a fitted VAE", () => {
  const config: ModelConfig = {
    ...CONFIGS.tiny!,
    name: "test-pca",
    dit: ditConfig({ dim: 32, depth: 1, heads: 2, latentChannels: 12, textDim: 32, posGrid: 8 }),
    text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
    vae: { kind: "pca", config: { patchSize: 4, channels: 12 } },
    height: 32,
    width: 32,
    batch: 2,
  };
  let data: string;
  beforeAll(async () => {
    data = mkdtempSync(path.join(tmpdir(), "kiln-pca-data-"));
    await writeShapesDataset(data, 32, 6);
  }, 60_000);

  test("saves the fitted tensors beside every checkpoint, samples and resumes with them, and refuses a set without them", async () => {
    const out = mkdtempSync(path.join(tmpdir(), "kiln-pca-run-"));
    await train({ config, data, out, steps: 2, quiet: true });
    const parts = modelParts(config);
    const saved = loadFittedVae(checkpointPaths(out, 2).dit, "pca", parts.vae.paramSpec);
    expect(saved.get("basis")!.some((v) => v !== 0)).toBe(true);
    const weights = loadWeights(parts, { checkpoint: out });
    expect(weights.vae.get("basis")).toEqual(saved.get("basis"));
    const sampler = new Sampler(parts, weights);
    const image = sampler.sample({ prompt: "red, square", seed: 1, steps: 3, progress: false });
    sampler.dispose();
    expect(image.length).toBe(32 * 32 * 3);
    // A resumed run reads the fitted tensors back rather than fitting again, and saves them with its own steps.
    await train({ config, data, out, steps: 3, resume: true, quiet: true });
    expect(loadFittedVae(checkpointPaths(out, 3).dit, "pca", parts.vae.paramSpec).get("basis")).toEqual(saved.get("basis"));
    rmSync(checkpointPaths(out, 3).vae);
    expect(() => loadWeights(parts, { checkpoint: checkpointPaths(out, 3).dit })).toThrow(
      /pca VAE is fitted to the training data .*step-3\.vae\.safetensors does not exist/,
    );
  }, 300_000);

  test("untrained weights (--random-init) sample noise that changes with the seed, not one flat colour", () => {
    const parts = modelParts(config);
    const sampler = new Sampler(parts, loadWeights(parts, { randomInit: true, seed: 3 }));
    const [a, b] = [1, 2].map((seed) => sampler.sample({ prompt: "red, square", seed, steps: 2, progress: false }));
    sampler.dispose();
    expect(new Set(a).size).toBeGreaterThan(10);
    expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(false);
  });
});
