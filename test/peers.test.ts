// The CPU benchmark's peers: row FLOP counts against hand computation, the DiT parameter list against
// the spec, TensorFlow.js and jax-js against each other on the tiny DiT, and every row kind runnable.

import { beforeAll, describe, expect, test } from "vitest";
import { jaxjsPeer } from "../bench/peers/jaxjs.ts";
import { tfjsPeer } from "../bench/peers/tfjs.ts";
import { isSkipped } from "../bench/peers/types.ts";
import {
  attentionRow,
  type BenchRow,
  cpuRows,
  ditForwardRow,
  ditTrainStepRow,
  elementwiseRow,
  gemmRow,
  layerNormRow,
  softmaxRow,
} from "../bench/rows.ts";
import { median } from "../bench/timing.ts";
import {
  type AaaDitConfig,
  ditForwardFlops,
  ditParamCount,
  ditParamSpecs,
  initDitWeights,
  makeDitBatch,
  referenceAaaDitConfig,
  tinyDitConfig,
} from "../bench/tiny-dit.ts";

/** Small enough that both peers run it in well under a second; every dimension differs, to catch mixed-up axes. */
const smallConfig: AaaDitConfig = {
  ...tinyDitConfig,
  dim: 64,
  depth: 2,
  heads: 2,
  ffDim: 96,
  latentChannels: 8,
  latentHeight: 4,
  latentWidth: 3,
  textTokens: 5,
  textFeatures: 24,
  timestepFeatures: 16,
};

describe("row specifications", () => {
  test("FLOP and byte counts of several rows equal hand-computed values", () => {
    const byName = new Map(cpuRows().map((row) => [row.name, row]));
    expect(byName.get("gemm 1024x1024x1024")?.flops).toBe(2_147_483_648);
    expect(byName.get("gemm 1024x1024x1024")?.bytes).toBe(12_582_912);
    expect(byName.get("linear x·W^T 384x1024x3072")?.flops).toBe(2_415_919_104);
    expect(byName.get("attention b1 h32 d32 s384")?.flops).toBe(603_979_776);
    expect(byName.get("elementwise silu(x·a+b)·c 4194304")?.bytes).toBe(83_886_080);
    expect(byName.get("softmax 4096x1024")?.bytes).toBe(33_554_432);
  });

  test("tiny DiT forward FLOPs at batch 1 equal the hand count (1,117,495,296)", () => {
    // embeddings 8,036,352 + 4 blocks × 276,185,088 + proj_out 4,718,592, worked out by hand from the shapes.
    expect(ditForwardFlops(tinyDitConfig, 1)).toBe(1_117_495_296);
  });

  test("row names are unique and every rate-bearing count is positive", () => {
    const rows = cpuRows();
    expect(new Set(rows.map((row) => row.name)).size).toBe(rows.length);
    for (const row of rows) expect(row.metric === "GFLOP/s" ? row.flops : row.bytes).toBeGreaterThan(0);
  });
});

describe("DiT parameter list", () => {
  test("the reference config gives spec Appendix A's 156 tensors and 128,824,448 parameters", () => {
    expect(ditParamSpecs(referenceAaaDitConfig)).toHaveLength(156);
    expect(ditParamCount(referenceAaaDitConfig)).toBe(128_824_448);
  });

  test("the tiny config has 4·14 + 16 tensors and 1,981,680 parameters (counted by hand)", () => {
    expect(ditParamSpecs(tinyDitConfig)).toHaveLength(72);
    expect(ditParamCount(tinyDitConfig)).toBe(1_981_680);
  });

  test("keys and shapes follow the reference naming", () => {
    const shapes = new Map(ditParamSpecs(tinyDitConfig).map((spec) => [spec.name, spec.shape]));
    expect(shapes.get("pos_embedder.image_emb")).toEqual([1, 192, 16, 16]);
    expect(shapes.get("timestep_embedder.timestep_embedder.0.weight")).toEqual([192, 256]);
    expect(shapes.get("image_embedder.0.weight")).toEqual([192, 48]);
    expect(shapes.get("blocks.3.ff.0.weight")).toEqual([576, 192]);
    expect(shapes.get("blocks.3.to_gate.weight")).toEqual([384, 192]);
    expect(shapes.get("proj_out.bias")).toEqual([48]);
  });
});

describe("peers", () => {
  beforeAll(async () => {
    await tfjsPeer.init();
    await jaxjsPeer.init();
  });

  const weights = initDitWeights(smallConfig, 11);
  const batch = makeDitBatch(smallConfig, 2, 12);

  test("tfjs and jax-js DiT forwards agree within float32 tolerance on the same weights and inputs", async () => {
    const fromTfjs = await tfjsPeer.ditForward(smallConfig, weights, batch);
    const fromJax = await jaxjsPeer.ditForward(smallConfig, weights, batch);
    expect(fromTfjs).toHaveLength(2 * 8 * 4 * 3);
    expect(fromJax).toHaveLength(fromTfjs.length);
    let largestDifference = 0;
    let largestValue = 0;
    for (let i = 0; i < fromTfjs.length; i++) {
      expect(Number.isFinite(fromTfjs[i]!) && Number.isFinite(fromJax[i]!)).toBe(true);
      largestDifference = Math.max(largestDifference, Math.abs(fromTfjs[i]! - fromJax[i]!));
      largestValue = Math.max(largestValue, Math.abs(fromJax[i]!));
    }
    expect(largestValue).toBeGreaterThan(0.1); // a non-trivial output, so agreement means something
    expect(largestDifference).toBeLessThan(1e-4);
  });

  test("the two samples of a batch get different outputs (per-sample timestep and inputs are used)", async () => {
    const out = await jaxjsPeer.ditForward(smallConfig, weights, batch);
    const half = out.length / 2;
    let difference = 0;
    for (let i = 0; i < half; i++) difference = Math.max(difference, Math.abs(out[i]! - out[half + i]!));
    expect(difference).toBeGreaterThan(1e-3);
  });

  test("the loss decreases over AdamW steps for both peers, along the same trajectory", async () => {
    const steps = 4;
    const fromTfjs = await tfjsPeer.ditTrainLosses(smallConfig, weights, batch, steps);
    const fromJax = await jaxjsPeer.ditTrainLosses(smallConfig, weights, batch, steps);
    for (const losses of [fromTfjs, fromJax]) {
      expect(losses).toHaveLength(steps);
      for (let i = 1; i < steps; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    }
    // Same gradients and the same update give the same losses, which also checks tfjs's hand-written backward passes.
    for (let i = 0; i < steps; i++) expect(Math.abs(fromTfjs[i]! - fromJax[i]!) / fromJax[i]!).toBeLessThan(1e-4);
  });

  const tinyRows: BenchRow[] = [
    gemmRow(16, 24, 8, false),
    gemmRow(16, 24, 8, true),
    elementwiseRow(1000),
    layerNormRow(8, 32),
    softmaxRow(8, 32),
    attentionRow(2, 2, 8, 12),
    ditForwardRow(1, smallConfig),
    ditTrainStepRow(2, smallConfig),
  ];

  test.each(tinyRows.map((row) => [row.name, row] as const))("both peers measure row '%s' with a positive median time", async (_name, row) => {
    for (const peer of [tfjsPeer, jaxjsPeer]) {
      const measurement = await peer.measure(row, { warmup: 1, iters: 3 });
      if (isSkipped(measurement)) throw new Error(`${peer.name} skipped ${row.name}: ${measurement.skipped}`);
      expect(measurement.samplesMs).toHaveLength(3);
      expect(measurement.ms).toBe(median(measurement.samplesMs));
      expect(measurement.ms).toBeGreaterThan(0);
    }
  });
});

describe("median", () => {
  test("is the middle value for odd counts and the mean of the two middle values for even counts", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
