// Properties of the models and the sampling pipeline: AAADiT's parameter list is the reference's;
// a small AAADiT compiled for the CPU agrees with the interpreter; the same seed gives the same image
// and different seeds different images; guidance at scale 1 ignores the negative prompt; image-to-
// image depends on the input image; a checkpoint saved and loaded samples identically; sizes that are
// not multiples of 16 are refused with a message.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { interpret, ops, type HostArray, type Tensor } from "../compiler/index.ts";
import { AAA_0_1B, ditConfig, ditForward, ditParamSpec } from "../models/dit.ts";
import { initParams, paramCount } from "../models/params.ts";
import { CONFIGS, modelParts, type ModelConfig, type Prediction } from "../models/config.ts";
import { flowMatchingLoss } from "../models/train-step.ts";
import { trainStepOptions } from "../models/train.ts";
import { Sampler, denoiseStep, fromRgbBytes } from "../models/pipeline.ts";
import { saveCheckpoint, loadDitWeights, zerosLike } from "../models/checkpoint.ts";
import { resolveCheckpoint } from "../models/weights.ts";
import { compile } from "../runtime/compile.ts";
import { setTimesteps } from "../models/scheduler.ts";

const config: ModelConfig = {
  ...CONFIGS.tiny!,
  name: "test-pipeline",
  dit: ditConfig({ dim: 32, depth: 1, heads: 2, latentChannels: 192, textDim: 32, posGrid: 4 }),
  text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
  vae: { kind: "pixel", config: { patchSize: 8 } },
  height: 32,
  width: 32,
};
const parts = modelParts(config);
const imageParts = modelParts({ ...config, prediction: "image" });
const weights = { dit: initParams(parts.ditSpec, 1), text: initParams(parts.text.paramSpec, 2), vae: new Map() };

test("AAADiT has the reference's 156 tensors and 128,824,448 parameters", () => {
  const specs = ditParamSpec(AAA_0_1B);
  expect(specs.length).toBe(156);
  expect(paramCount(specs)).toBe(128_824_448);
  expect(specs.map((s) => s.name)).toContain("timestep_embedder.timestep_embedder.2.weight");
  expect(specs.find((s) => s.name === "blocks.9.to_gate.weight")?.shape).toEqual([2048, 1024]);
  expect(specs.some((s) => s.name.includes("norm"))).toBe(false);
});

test("a small AAADiT compiled for the CPU agrees with the interpreter", () => {
  const dit = ditConfig({ dim: 32, depth: 2, heads: 2, latentChannels: 12, textDim: 16, posGrid: 4 });
  const specs = ditParamSpec(dit);
  const values = initParams(specs, 3);
  const example = {
    params: Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }])),
    latents: { shape: [2, 12, 3, 5] },
    text: { shape: [2, 7, 16] },
    t: { shape: [2] },
  };
  const fn = (tree: unknown) => {
    const t = tree as { params: Record<string, Tensor>; latents: Tensor; text: Tensor; t: Tensor };
    return ditForward(t.params, t.latents, t.text, t.t, dit);
  };
  const step = compile(fn, example);
  const latents = Float32Array.from({ length: 2 * 12 * 15 }, (_, i) => Math.sin(i));
  const text = Float32Array.from({ length: 2 * 7 * 16 }, (_, i) => Math.cos(i));
  const t = Float32Array.of(996, 332);
  const got = step.run({ params: Object.fromEntries(values), latents, text, t }) as Float32Array;
  const feeds: Record<string, HostArray | Float32Array> = { latents: latents, text: text, t: t };
  for (const s of specs) feeds[`params/${s.name}`] = values.get(s.name)!;
  const inputs = {
    params: Object.fromEntries(specs.map((s) => [s.name, ops.input(`params/${s.name}`, s.shape)])),
    latents: ops.input("latents", [2, 12, 3, 5]),
    text: ops.input("text", [2, 7, 16]),
    t: ops.input("t", [2]),
  };
  const expected = (interpret(fn(inputs), feeds as never, { precision: "native" }) as HostArray).data;
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - v))));
  expect(worst / scale).toBeLessThan(2e-4);
  step.dispose();
});

describe("sampling", () => {
  const sampler = new Sampler(parts, weights);
  const options = { prompt: "red, circle", steps: 6, progress: false } as const;

  test("the same seed gives the same image, different seeds different images", () => {
    const a = sampler.sample({ ...options, seed: 3 });
    const b = sampler.sample({ ...options, seed: 3 });
    const c = sampler.sample({ ...options, seed: 4 });
    expect(a.length).toBe(32 * 32 * 3);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  test("guidance at scale 1 ignores the negative prompt; above 1 it does not", () => {
    const one = (negative: string) => sampler.sample({ ...options, seed: 5, cfg: 1, negative });
    expect(Buffer.from(one("blue")).equals(Buffer.from(one("green, square")))).toBe(true);
    const three = (negative: string) => sampler.sample({ ...options, seed: 5, cfg: 3, negative });
    expect(Buffer.from(three("blue")).equals(Buffer.from(three("green, square")))).toBe(false);
  });

  test("guidance on the leading guidanceChannels only: the other channels step with the prompt's own prediction", () => {
    const [c, h, w] = parts.latent;
    const L = parts.text.maxLength;
    const D = config.dit.textDim;
    const latents = Float32Array.from({ length: c * h * w }, (_, i) => Math.sin(0.37 * i));
    const embeds = Float32Array.from({ length: 2 * L * D }, (_, i) => Math.cos(0.11 * i) * (i < L * D ? 1 : -0.5));
    const stepOf = (guidanceChannels: number, guided: boolean): Float32Array => {
      const { fn, example } = denoiseStep(modelParts({ ...config, guidanceChannels }), 1, guided);
      const step = compile(fn as never, example);
      const out = step.run({
        params: Object.fromEntries(weights.dit),
        latents,
        embeds: guided ? embeds : embeds.subarray(0, L * D),
        timestep: 500,
        dt: -0.1,
        cfg: 3,
      }) as Float32Array;
      step.dispose();
      return out;
    };
    const all = stepOf(c, true);
    const some = stepOf(12, true);
    const none = stepOf(c, false);
    const plane = h * w;
    const worst = (a: Float32Array, b: Float32Array, from: number, to: number): number => {
      let m = 0;
      for (let i = from * plane; i < to * plane; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return m;
    };
    expect(worst(some, all, 0, 12)).toBeLessThan(1e-5);
    expect(worst(some, none, 12, c)).toBeLessThan(1e-5);
    // Guidance does change both halves, so the checks above tell the channels apart.
    expect(worst(all, none, 0, 12)).toBeGreaterThan(1e-3);
    expect(worst(all, none, 12, c)).toBeGreaterThan(1e-3);
    expect(() => modelParts({ ...config, guidanceChannels: c + 1 })).toThrow(
      /guidanceChannels must be a whole number from 1 to the VAE's 192 latent channels, got 193/,
    );
  });

  test("guidance stops below guidanceMinSigma: those steps follow the prompt alone", () => {
    const m = 0.9;
    const limited = new Sampler(modelParts({ ...config, guidanceMinSigma: m }), weights);
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    // Text to image starts at σ = 1 > m: guided steps, so the scale and the negative prompt matter,
    // and stopping early differs from guiding every step.
    const t2i = (s: Sampler, cfg: number, negative = "") => s.sample({ ...options, seed: 7, cfg, negative });
    expect(same(t2i(limited, 3), t2i(limited, 1))).toBe(false);
    expect(same(t2i(limited, 3, "blue"), t2i(limited, 3, "green"))).toBe(false);
    expect(same(t2i(limited, 3), t2i(sampler, 3))).toBe(false);
    expect(same(t2i(limited, 1), t2i(sampler, 1))).toBe(true);
    // Image to image at a strength whose every σ is at most m: no guided step, so guidance changes nothing.
    const [, h, w] = parts.latent;
    const strength = 0.3;
    expect(setTimesteps({ steps: options.steps, denoisingStrength: strength, dynamicShiftLen: h * w }).sigmas[0]).toBeLessThanOrEqual(m);
    const image = fromRgbBytes(
      Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256),
      32,
      32,
    );
    const i2i = (s: Sampler, cfg: number) => s.sample({ ...options, seed: 7, cfg, negative: "blue", image, strength });
    expect(same(i2i(limited, 4), i2i(limited, 1))).toBe(true);
    expect(same(i2i(sampler, 4), i2i(sampler, 1))).toBe(false);
    limited.dispose();
    expect(() => modelParts({ ...config, guidanceMinSigma: 1 })).toThrow(
      /guidanceMinSigma must be a noise level from 0 up to, not including, 1, got 1/,
    );
  });

  test("image-to-image starts from the input image noised to the strength's σ", () => {
    // With an all-zero DiT the velocity is 0, so the result is the starting point (1 − σ₀)·image + σ₀·noise:
    // its brightness follows the input image, and follows it more at a lower strength.
    const still = new Sampler(parts, { ...weights, dit: zerosLike(weights.dit) });
    const image = (value: number) => fromRgbBytes(new Uint8Array(32 * 32 * 3).fill(value), 32, 32);
    const mean = (x: Uint8Array) => x.reduce((s, v) => s + v, 0) / x.length;
    const at = (value: number, strength: number) => mean(still.sample({ ...options, seed: 6, image: image(value), strength }));
    expect(at(235, 0.5)).toBeGreaterThan(at(20, 0.5) + 10);
    expect(at(235, 0.3) - at(20, 0.3)).toBeGreaterThan(at(235, 0.9) - at(20, 0.9));
    still.dispose();
  });

  test("a checkpoint saved and loaded samples identically", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-pipeline-"));
    const state = { step: 1, params: weights.dit, m: zerosLike(weights.dit), v: zerosLike(weights.dit) };
    // f32 so the round trip is exact (the default bf16 file rounds the weights).
    const file = saveCheckpoint(dir, state, { step: 1, config: config.name, seed: 0 }, parts.ditSpec, { ditSpec: parts.ditSpec, dtype: "F32" });
    const reloaded = new Sampler(parts, { ...weights, dit: loadDitWeights(file, parts.ditSpec) });
    const a = sampler.sample({ ...options, seed: 7 });
    const b = reloaded.sample({ ...options, seed: 7 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    reloaded.dispose();
    // The run's folder stands for its newest checkpoint; a folder without one is refused by name.
    expect(resolveCheckpoint(dir)).toBe(file);
    const empty = mkdtempSync(path.join(tmpdir(), "kiln-empty-run-"));
    expect(() => resolveCheckpoint(empty)).toThrow(/holds no complete checkpoint/);
    expect(() => resolveCheckpoint(path.join(empty, "nope"))).toThrow(/no such file or folder/);
  });
});

describe("a DiT that predicts the clean image", () => {
  test("its training loss is the velocity's: with σ = 1 and a DiT that predicts 0, w·mean(x0²), whatever the noise", () => {
    // x_t = ε at σ = 1, so the velocity (x_t − x̂0)/σ = ε and the target ε − x0 leave exactly x0;
    // a velocity-predicting DiT's loss for the same zero output is mean((ε − x0)²), which depends on ε.
    const b = 2;
    const [c, h, w] = parts.latent;
    const specs = parts.ditSpec;
    const lossOf = (prediction: Prediction) => {
      const options = { ...trainStepOptions(modelParts({ ...config, prediction }), b), text: { kind: "embeds" as const } };
      const fn = (tree: unknown) => {
        const t = tree as { params: Record<string, Tensor>; batch: Record<string, Tensor>; seed: Tensor };
        return flowMatchingLoss(t.params, t.batch, t.seed, options);
      };
      const example = {
        params: Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }])),
        batch: {
          latents: { shape: [b, c, h, w] },
          sigma: { shape: [b] },
          timestep: { shape: [b] },
          weight: { shape: [b] },
          promptEmbeds: { shape: [b, parts.text.maxLength, config.dit.textDim] },
        },
        seed: { shape: [], dtype: "i32" as const },
      };
      const step = compile(fn, example);
      const latents = Float32Array.from({ length: b * c * h * w }, (_, i) => Math.sin(i * 0.37));
      const run = (seed: number) =>
        (
          step.run({
            params: Object.fromEntries(zerosLike(weights.dit)),
            batch: {
              latents,
              sigma: Float32Array.of(1, 1),
              timestep: Float32Array.of(1000, 1000),
              weight: Float32Array.of(0.5, 0.5),
              promptEmbeds: new Float32Array(b * parts.text.maxLength * config.dit.textDim),
            },
            seed: Int32Array.of(seed),
          }) as Float32Array
        )[0]!;
      const losses = [run(1), run(2)];
      step.dispose();
      return { losses, expected: (0.5 * latents.reduce((s, x) => s + x * x, 0)) / latents.length };
    };
    const image = lossOf("image");
    expect(image.losses[0]).toBeCloseTo(image.expected, 5);
    expect(image.losses[1]).toBeCloseTo(image.expected, 5);
    const velocity = lossOf("velocity");
    expect(Math.abs(velocity.losses[0]! - velocity.losses[1]!)).toBeGreaterThan(1e-3);
  });

  test("sampling steps to the prediction: a DiT that predicts 0 ends every sample at the zero latent (mid-grey), whatever the seed, guidance or input image", () => {
    const still = new Sampler(imageParts, { ...weights, dit: zerosLike(weights.dit) });
    const grey = (bytes: Uint8Array) => bytes.every((v) => v === 127);
    expect(grey(still.sample({ ...options(), seed: 1 }))).toBe(true);
    expect(grey(still.sample({ ...options(), seed: 2, cfg: 4 }))).toBe(true);
    expect(grey(still.sample({ ...options(), seed: 3, image: fromRgbBytes(new Uint8Array(32 * 32 * 3).fill(240), 32, 32), strength: 0.5 }))).toBe(
      true,
    );
    // The velocity reading of the same zero output keeps the starting noise instead.
    const moving = new Sampler(parts, { ...weights, dit: zerosLike(weights.dit) });
    expect(grey(moving.sample({ ...options(), seed: 1 }))).toBe(false);
    still.dispose();
    moving.dispose();
  });
});

const options = () => ({ prompt: "red, circle", steps: 6, progress: false }) as const;

test("heights and widths that are not multiples of 16 are refused with a message", () => {
  expect(() => modelParts(config, 40, 32)).toThrow(/image size 32×40: height and width must be multiples of 16/);
});
