// Properties of training: a resumed run reproduces the uninterrupted run's loss curve exactly; a
// non-finite loss stops the run and keeps the last good checkpoint; Ctrl-C saves before stopping;
// checkpoints carry the reference's DiT keys in bf16 and are checked strictly on load; a failed save
// leaves the previous checkpoint intact; accumulation, clipping and pure-bf16 steps train.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ditConfig } from "../models/dit.ts";
import { CONFIGS, modelParts, type ModelConfig } from "../models/config.ts";
import { scheduledLr, train, trainedSpecs } from "../models/train.ts";
import { findLatestCheckpoint, loadDitWeights, checkpointPaths, loadTrainingState, VOCABULARY_KEY } from "../models/checkpoint.ts";
import { promptVocabulary } from "../models/text/vocabulary.ts";
import { initParams } from "../models/params.ts";
import { roundBf16 } from "../compiler/index.ts";
import { loadWeights } from "../models/weights.ts";
import { Sampler } from "../models/pipeline.ts";
import { evaluate } from "../models/eval.ts";
import { openSafetensors, writeSafetensors } from "../runtime/safetensors.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

const config: ModelConfig = {
  ...CONFIGS.tiny!,
  name: "test-tiny",
  dit: ditConfig({ dim: 32, depth: 1, heads: 2, latentChannels: 48, textDim: 32, posGrid: 8 }),
  text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
  vae: { kind: "pixel", config: { patchSize: 4 } },
  height: 32,
  width: 32,
  batch: 2,
  lr: 1e-3,
};

let data: string;
const fresh = (name: string): string => mkdtempSync(path.join(tmpdir(), `kiln-train-${name}-`));

beforeAll(async () => {
  data = fresh("data");
  await writeShapesDataset(data, 32, 6);
}, 60_000);

describe("training", () => {
  test("a resumed run reproduces the uninterrupted run's loss curve exactly", async () => {
    const wholeOut = fresh("whole");
    const whole = await train({ config, data, out: wholeOut, steps: 6, quiet: true });
    const out = fresh("resumed");
    const first = await train({ config, data, out, steps: 3, quiet: true });
    const second = await train({ config, data, out, steps: 6, resume: true, quiet: true });
    expect(first.losses).toEqual(whole.losses.slice(0, 3));
    expect(second.losses).toEqual(whole.losses.slice(3));
    expect(new Set(whole.losses).size).toBeGreaterThan(1);
    const log = readFileSync(path.join(out, "train-log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number });
    expect(log.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // The moving average of the weights resumes too: equal to the uninterrupted run's, and not the weights themselves.
    const specs = trainedSpecs(modelParts(config));
    const uninterrupted = loadTrainingState(wholeOut, 6, specs).state;
    const continued = loadTrainingState(out, 6, specs).state;
    expect(continued.ema).toBeDefined();
    for (const s of specs) expect(continued.ema!.get(s.name), s.name).toEqual(uninterrupted.ema!.get(s.name));
    expect(specs.some((s) => continued.ema!.get(s.name)!.some((x, i) => x !== continued.params.get(s.name)![i]))).toBe(true);
  });

  test("the moving average is d·ema + (1 − d)·θ after each step, d = min(decay, (1 + step) / (10 + step)), from the initial weights", async () => {
    // Decay 0.3: the warm-up term (2/11, 3/12) is below it for steps 1–2 and above it (4/13, 5/14) for steps 3–4.
    const emaConfig: ModelConfig = { ...config, name: "test-ema", ema: 0.3 };
    const out = fresh("ema");
    await train({ config: emaConfig, data, out, steps: 4, saveSteps: 1, quiet: true });
    const specs = trainedSpecs(modelParts(emaConfig));
    const decays = [2 / 11, 3 / 12, 0.3, 0.3];
    let expected = initParams(specs, 0);
    for (let step = 1; step <= 4; step++) {
      const { state } = loadTrainingState(out, step, specs);
      const d = decays[step - 1]!;
      expected = new Map(specs.map((s) => [s.name, expected.get(s.name)!.map((e, i) => d * e + (1 - d) * state.params.get(s.name)![i]!)]));
      for (const s of specs) {
        const got = state.ema!.get(s.name)!;
        const want = expected.get(s.name)!;
        const worst = got.reduce((w, x, i) => Math.max(w, Math.abs(x - want[i]!)), 0);
        expect(worst, `step ${step} ${s.name}`).toBeLessThan(1e-6);
      }
    }
    // The EMA weights load as a DiT checkpoint (reference keys) and as the text encoder's own names.
    const parts = modelParts(emaConfig);
    const dit = loadDitWeights(checkpointPaths(out, 4).ema, parts.ditSpec);
    expect(dit.get("proj_out.weight")).toEqual(Float32Array.from(expected.get("proj_out.weight")!, (x) => roundBf16(x)));
    const text = openSafetensors(checkpointPaths(out, 4).emaTextEncoder);
    expect(text.tensors.map((t) => t.name).sort()).toEqual(parts.text.paramSpec.map((s) => s.name).sort());
    text.close();
    // Sampling takes the average by default, the weights as trained with --weights raw, from the folder or either file.
    const byDefault = loadWeights(parts, { checkpoint: out });
    expect(byDefault.source).toEqual({ kind: "ema", file: checkpointPaths(out, 4).ema });
    expect(byDefault.dit.get("proj_out.weight")).toEqual(dit.get("proj_out.weight"));
    expect(loadWeights(parts, { checkpoint: checkpointPaths(out, 4).ema, weights: "raw" }).source).toEqual({
      kind: "raw",
      file: checkpointPaths(out, 4).dit,
    });
    const raw = loadWeights(parts, { checkpoint: checkpointPaths(out, 2).dit, weights: "raw" });
    expect(raw.dit).toEqual(loadDitWeights(checkpointPaths(out, 2).dit, parts.ditSpec));
    expect(raw.text.size).toBe(parts.text.paramSpec.length);
    // Evaluation on a data set other than the Pokémon one measures the pictures and skips the starter families, saying why.
    const sampler = new Sampler(parts, byDefault);
    const result = await evaluate(sampler, { data, steps: 2, limit: 2, familySeeds: 1 });
    // Another first seed samples other noise: the same seeds give the same figures, others not.
    const again = await evaluate(sampler, { data, steps: 2, limit: 2, familySeeds: 1, seed: 0 });
    const shifted = await evaluate(sampler, { data, steps: 2, limit: 2, familySeeds: 1, seed: 1000 });
    sampler.dispose();
    expect(again).toEqual(result);
    expect(shifted.seed).toBe(1000);
    expect(shifted.psnr_db).not.toBe(result.psnr_db);
    expect(result.n).toBe(2);
    expect(Number.isFinite(result.psnr_db)).toBe(true);
    expect(result.background_speckle).toBeGreaterThanOrEqual(0);
    expect(result.family).toEqual({ skipped: expect.stringMatching(/not the Pokémon one: no training image is named 001-bulbasaur\.png/) });
  });

  test("a configuration with ema false keeps no moving average", async () => {
    const out = fresh("no-ema");
    await train({ config: { ...config, name: "test-no-ema", ema: false }, data, out, steps: 1, quiet: true });
    expect(existsSync(checkpointPaths(out, 1).ema)).toBe(false);
    expect(loadTrainingState(out, 1, trainedSpecs(modelParts(config))).state.ema).toBeUndefined();
    expect(loadWeights(modelParts(config), { checkpoint: out }).source).toEqual({ kind: "raw", file: checkpointPaths(out, 1).dit });
    expect(() => loadWeights(modelParts(config), { checkpoint: out, weights: "ema" })).toThrow(
      /--weights ema: .*step-1\.safetensors has no moving average of its weights.*use --weights raw/,
    );
    // What the DiT was trained to predict travels with the checkpoint: a config that reads it the other way is refused.
    expect(JSON.parse(readFileSync(checkpointPaths(out, 1).meta, "utf8")).prediction).toBe(config.prediction);
    const other = config.prediction === "image" ? "velocity" : "image";
    expect(() => loadWeights(modelParts({ ...config, prediction: other }), { checkpoint: out })).toThrow(
      new RegExp(`step-1\\.safetensors: its DiT was trained to predict .*prediction "${config.prediction}".*samples with prediction "${other}"`),
    );
  });

  test("the rate: a third for the first 5 steps, then constant, falling linearly to zero over the cooldown", async () => {
    expect([1, 5, 6].map((step) => scheduledLr(3e-3, step, 0.1, 0))).toEqual([1e-3, 1e-3, 3e-3]);
    expect(scheduledLr(1, 50, 0.5, 0.4)).toBe(1);
    expect(scheduledLr(1, 50, 0.8, 0.4)).toBeCloseTo(0.5, 12);
    expect(scheduledLr(1, 50, 1, 0.4)).toBe(0);
    const out = fresh("cooldown");
    await train({ config: { ...config, name: "test-cooldown", lrCooldown: 0.5 }, data, out, steps: 10, quiet: true });
    const rates = readFileSync(path.join(out, "train-log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).lr as number);
    // Steps 1–5 at a third (ConstantLR), step 6 (progress 0.5) at the full rate, then 0.8, 0.6, 0.4, 0.2 of it.
    expect(rates.map((r) => Number((r / config.lr).toFixed(6)))).toEqual(
      [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1, 0.8, 0.6, 0.4, 0.2].map((r) => Number(r.toFixed(6))),
    );
  });

  test("a non-finite loss stops the run and keeps the last good checkpoint", async () => {
    const out = fresh("nan");
    const result = await train({ config, data, out, steps: 50, lr: 1e30, saveSteps: 1, quiet: true });
    expect(result.stoppedBy).toBe("nan");
    const latest = findLatestCheckpoint(out);
    expect(latest).toBe(result.steps);
    const weights = loadDitWeights(checkpointPaths(out, latest!).dit, modelParts(config).ditSpec);
    // The kept checkpoint's weights are finite; the step that produced a NaN was never saved.
    expect([...weights.values()].every((w) => w.every(Number.isFinite))).toBe(true);
    expect(existsSync(checkpointPaths(out, result.steps + 1).dit)).toBe(false);
  });

  test("a non-finite gradient norm stops the run like a non-finite loss, saving nothing of that step", async () => {
    const out = fresh("gradnorm");
    await train({ config, data, out, steps: 1, quiet: true });
    // Blow up the output layer: the loss (~scale²) stays finite in f32, the gradients before it (~scale²
    // each, squared in the norm) overflow to an infinite norm.
    const file = checkpointPaths(out, 1).train;
    const reader = openSafetensors(file);
    const tensors = Object.fromEntries(
      reader.tensors.map((t) => {
        const data = reader.readFloat32(t.name);
        if (t.name === "params/proj_out.weight") data.forEach((v, i) => (data[i] = v * 1e10));
        return [t.name, { dtype: "F32" as const, shape: t.shape, data }];
      }),
    );
    reader.close();
    writeSafetensors(file, tensors, { format: "kiln-train", step: "1" });
    const result = await train({ config, data, out, steps: 5, saveSteps: 1, resume: true, quiet: true });
    const log = readFileSync(path.join(out, "train-log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; loss: number; gradNorm: number });
    expect(result.stoppedBy).toBe("nan");
    expect(result.steps).toBe(1);
    expect(log.map((l) => l.step)).toEqual([1]);
    expect(findLatestCheckpoint(out)).toBe(1);
  });

  test("Ctrl-C saves the current step and stops", async () => {
    const out = fresh("sigint");
    setTimeout(() => process.emit("SIGINT"), 1500);
    const result = await train({ config, data, out, steps: 100_000, quiet: true });
    expect(result.stoppedBy).toBe("interrupt");
    expect(result.steps).toBeGreaterThan(0);
    expect(findLatestCheckpoint(out)).toBe(result.steps);
  });

  test("SIGTERM saves the current step and stops, as Ctrl-C does", async () => {
    const out = fresh("sigterm");
    setTimeout(() => process.emit("SIGTERM"), 1500);
    const result = await train({ config, data, out, steps: 100_000, quiet: true });
    expect(result.stoppedBy).toBe("interrupt");
    expect(result.steps).toBeGreaterThan(0);
    expect(findLatestCheckpoint(out)).toBe(result.steps);
  });

  test("a run folder is one training's: a second one into it is refused, and a new run never wipes an old one", async () => {
    const out = fresh("owned");
    const first = train({ config, data, out, steps: 4, saveSteps: 2, quiet: true });
    await expect(train({ config, data, out, steps: 2, seed: 9, quiet: true })).rejects.toThrow(/in use by another training \(pid/);
    await first;
    const log = readFileSync(path.join(out, "train-log.jsonl"), "utf8");
    // Without --resume or --overwrite the finished run is refused, not truncated.
    await expect(train({ config, data, out, steps: 2, quiet: true })).rejects.toThrow(/already holds a training run/);
    expect(readFileSync(path.join(out, "train-log.jsonl"), "utf8")).toBe(log);
    expect(findLatestCheckpoint(out)).toBe(4);
    // A kill after step 3 (the step-4 set never completed, the log has steps 1-4): the resumed log holds each step once.
    for (const file of Object.values(checkpointPaths(out, 4)).slice(0, 4)) rmSync(file, { force: true });
    const resumed = await train({ config, data, out, steps: 5, resume: true, quiet: true });
    expect(resumed.losses.length).toBe(3);
    const steps = readFileSync(path.join(out, "train-log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    // --overwrite starts over: only the new run's checkpoints remain.
    await train({ config, data, out, steps: 1, overwrite: true, quiet: true });
    expect(
      readdirSync(out)
        .filter((f) => f.startsWith("step-"))
        .sort(),
    ).toEqual([
      "step-1.ema.safetensors",
      "step-1.ema.text_encoder.safetensors",
      "step-1.json",
      "step-1.safetensors",
      "step-1.text_encoder.safetensors",
      "step-1.train.safetensors",
    ]);
  });

  test("checkpoints hold the reference's DiT keys in bf16, and a wrong key set is refused with the list", async () => {
    const out = fresh("keys");
    const result = await train({ config, data, out, steps: 1, quiet: true });
    const parts = modelParts(config);
    const reader = openSafetensors(result.checkpoint);
    expect(reader.tensors.map((t) => t.name).sort()).toEqual(parts.ditSpec.map((s) => s.name).sort());
    expect(new Set(reader.tensors.map((t) => t.dtype))).toEqual(new Set(["BF16"]));
    expect(reader.metadata).toEqual({ format: "pt" });
    reader.close();
    // The text encoder's file records the training prompts' words; sampling reads prompts with them.
    const words = openSafetensors(checkpointPaths(out, 1).textEncoder);
    const vocabulary = words.metadata[VOCABULARY_KEY]!.split(" ");
    words.close();
    expect(vocabulary).toEqual(
      promptVocabulary(
        readFileSync(path.join(data, "metadata.csv"), "utf8")
          .trim()
          .split("\n")
          .slice(1)
          .map((row) => row.slice(row.indexOf(",") + 1)),
      ),
    );
    const sampler = new Sampler(parts, loadWeights(parts, { checkpoint: out }));
    expect(sampler.reading(`${vocabulary[0]}, unheardofword`)).toEqual({ text: vocabulary[0], replaced: [], dropped: ["unheardofword"] });
    sampler.dispose();
    const bad = path.join(out, "bad.safetensors");
    const tensors = Object.fromEntries(
      parts.ditSpec
        .filter((s) => s.name !== "proj_out.bias")
        .map((s) => [s.name, { dtype: "F32" as const, shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)) }]),
    );
    tensors["blocks.0.extra"] = { dtype: "F32", shape: [1], data: new Float32Array(1) };
    writeSafetensors(bad, tensors);
    expect(() => loadDitWeights(bad, parts.ditSpec)).toThrow(/proj_out\.bias[\s\S]*blocks\.0\.extra|blocks\.0\.extra[\s\S]*proj_out\.bias/);
  });

  test("a save that fails midway leaves the previous checkpoint intact", async () => {
    const out = fresh("full");
    await train({ config, data, out, steps: 2, quiet: true });
    const before = readFileSync(checkpointPaths(out, 2).dit);
    // Make the next save fail: its training-state file's name is taken by a folder.
    mkdirSync(checkpointPaths(out, 4).train);
    await expect(train({ config, data, out, steps: 4, resume: true, quiet: true })).rejects.toThrow();
    expect(findLatestCheckpoint(out)).toBe(2);
    expect(readFileSync(checkpointPaths(out, 2).dit).equals(before)).toBe(true);
  });

  test("the encoded data set is cached beside the data and reused until an image changes", async () => {
    const local = fresh("cache-data");
    await writeShapesDataset(local, 32, 4);
    const cacheDir = path.join(local, ".kiln-cache");
    await train({ config, data: local, out: fresh("cache-a"), steps: 1, quiet: true });
    const first = readdirSync(cacheDir);
    expect(first.length).toBe(1);
    const stamp = statSync(path.join(cacheDir, first[0]!)).mtimeMs;
    await train({ config, data: local, out: fresh("cache-b"), steps: 1, quiet: true });
    expect(readdirSync(cacheDir)).toEqual(first);
    expect(statSync(path.join(cacheDir, first[0]!)).mtimeMs).toBe(stamp);
    // A changed image gets a new entry.
    await writeShapesDataset(local, 32, 4);
    utimesSync(path.join(local, "images", "0.png"), new Date(), new Date(Date.now() + 5000));
    await train({ config, data: local, out: fresh("cache-c"), steps: 1, quiet: true });
    expect(readdirSync(cacheDir).length).toBe(2);
  });

  test("gradient accumulation, clipping and pure-bf16 steps train with finite, falling losses", async () => {
    for (const extra of [{ gradAccum: 2 }, { clipNorm: 0.5 }, { pureBf16: true }]) {
      const result = await train({ config, data, out: fresh("variant"), steps: 8, quiet: true, ...extra });
      expect(result.losses.every(Number.isFinite), JSON.stringify(extra)).toBe(true);
      expect(result.losses.length).toBe(8);
      // images/s counts every micro-batch of every step: batch × accumulation images a step.
      expect(result.imagesPerSecond * result.seconds).toBeCloseTo(8 * config.batch! * (extra.gradAccum ?? 1), 6);
    }
    expect(trainedSpecs(modelParts(config)).some((s) => s.name.startsWith("text_encoder."))).toBe(true);
  });

  test("a batch split over threads trains as the whole batch does: the same losses and weights, up to the order of sums", async () => {
    const specs = trainedSpecs(modelParts(config));
    const run = async (extra: { batchThreads?: number; gradAccum?: number }) => {
      const out = fresh("threads");
      const result = await train({ config, data, out, steps: 4, quiet: true, batchThreads: 1, ...extra });
      return { losses: result.losses, params: loadTrainingState(out, 4, specs).state.params };
    };
    // Shares in shared memory (one micro-batch), and shares summed on the host (two micro-batches).
    for (const gradAccum of [1, 2]) {
      const whole = await run({ gradAccum });
      const split = await run({ gradAccum, batchThreads: 2 });
      expect(new Set(whole.losses).size).toBeGreaterThan(1);
      split.losses.forEach((loss, i) =>
        expect(Math.abs(loss - whole.losses[i]!), `accum ${gradAccum}, step ${i + 1}`).toBeLessThan(1e-5 * Math.abs(whole.losses[i]!)),
      );
      // The keys' bias adds q·b to every logit of a query alike, which the softmax ignores: its gradient
      // is zero but for rounding, so what AdamW makes of it is rounding noise, not the split's doing.
      for (const s of specs.filter((s) => !s.name.endsWith("to_k.bias"))) {
        const a = whole.params.get(s.name)!;
        const b = split.params.get(s.name)!;
        const scale = Math.max(...a.map(Math.abs), 1e-6);
        const worst = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
        expect(worst / scale, `accum ${gradAccum}, ${s.name}`).toBeLessThan(1e-4);
      }
    }
    await expect(train({ config, data, out: fresh("threads-bad"), steps: 1, quiet: true, batchThreads: 3 })).rejects.toThrow(
      /--batch-threads 3 must divide the batch \(2\)/,
    );
  }, 120_000);
});
