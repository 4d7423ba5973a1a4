// kiln and the PyTorch reference model (the seed's AAADiT, bench/peers/aaa_dit_torch.py) checked both
// ways on small sizes: a checkpoint written by training loads strictly into PyTorch and its forward
// equals kiln's; a bf16 state dict saved from PyTorch loads into kiln and samples the same image as the
// reference's sampling loop; one training step's gradients agree for every parameter. Skipped, with
// the reason printed, where no Python with torch is found (.ci/run installs Debian's python3-torch).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { nn, type Tensor } from "../compiler/index.ts";
import { compile } from "../runtime/compile.ts";
import { loadStateDict, writeSafetensors, type TensorToWrite } from "../runtime/safetensors.ts";
import { ditConfig, ditForward } from "../models/dit.ts";
import { CONFIGS, modelParts, type ModelConfig } from "../models/config.ts";
import { train } from "../models/train.ts";
import { loadDitWeights } from "../models/checkpoint.ts";
import { gradientStep, type TrainStepOptions } from "../models/train-step.ts";
import { initParams, type ParamValues } from "../models/params.ts";
import { loadWeights } from "../models/weights.ts";
import { Sampler, toRgbBytes } from "../models/pipeline.ts";
import { setTimesteps } from "../models/scheduler.ts";
import { seededNormal } from "../bench/random-data.ts";
import { findTorchPython, runTorch, torchPeers } from "../bench/peers/torch.ts";
import { isSkipped } from "../bench/peers/types.ts";
import { attentionRow, ditForwardRow, ditTrainStepRow, elementwiseRow, gemmRow, layerNormRow, softmaxRow } from "../bench/rows.ts";
import { tinyDitConfig } from "../bench/tiny-dit.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

const torch = findTorchPython();
const skipReason = "missing" in torch ? torch.missing : undefined;
if (skipReason) console.warn(`test/torch-interop.test.ts skipped: ${skipReason}`);

// Two blocks, every width different, latents 8×8 from 32 px with 4 px patches.
const config: ModelConfig = {
  ...CONFIGS.tiny!,
  name: "interop",
  dit: ditConfig({ dim: 32, depth: 2, heads: 2, latentChannels: 48, textDim: 24, ffDim: 40, posGrid: 8 }),
  text: { kind: "tiny", config: { tableSize: 256, dim: 24, layers: 1, heads: 2, ffDim: 48, maxLength: 12 } },
  vae: { kind: "pixel", config: { patchSize: 4 } },
  height: 32,
  width: 32,
  batch: 2,
  lr: 1e-3,
  // The reference's guidance, on every latent channel (the tiny config guides its coarse ones only).
  guidanceChannels: 48,
};
const parts = modelParts(config);
const [channels, height, width] = parts.latent;
const textLength = 12;

/** The AAADiT's arguments in bench/peers/aaa_dit_torch.py for `config`. */
const torchModel = {
  dim: config.dit.dim,
  depth: config.dit.depth,
  heads: config.dit.heads,
  ff_dim: config.dit.ffDim,
  latent_channels: config.dit.latentChannels,
  text_dim: config.dit.textDim,
  pos_height: config.dit.posGrid,
  pos_width: config.dit.posGrid,
  timestep_features: 256,
};

const dir = mkdtempSync(path.join(tmpdir(), "kiln-torch-interop-"));
const file = (name: string) => path.join(dir, name);
const specTree = (specs: readonly { name: string; shape: readonly number[] }[]) => Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }]));
const f32 = (shape: readonly number[], data: Float32Array): TensorToWrite => ({ dtype: "F32", shape, data });

/** max |a − b| / max |b|: the error relative to the tensor's scale. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    expect(Number.isFinite(a[i]!)).toBe(true);
    difference = Math.max(difference, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return difference / scale;
}

/** kiln's AAADiT forward on `weights` for inputs of `batch` samples at a latent grid of h × w. */
function kilnForward(
  weights: ParamValues,
  inputs: { latents: Float32Array; promptEmbeds: Float32Array; timestep: Float32Array },
  batch: number,
  h: number,
  w: number,
): Float32Array {
  const step = compile(
    (t) => {
      const { params, latents, promptEmbeds, timestep } = t as { params: Record<string, Tensor> } & Record<string, Tensor>;
      return ditForward(params, latents!, promptEmbeds!, timestep!, config.dit);
    },
    {
      params: specTree(parts.ditSpec),
      latents: { shape: [batch, channels, h, w] },
      promptEmbeds: { shape: [batch, textLength, config.dit.textDim] },
      timestep: { shape: [batch] },
    },
    { name: "interop_forward" },
  );
  try {
    return step.run({ params: Object.fromEntries(weights), ...inputs }) as Float32Array;
  } finally {
    step.dispose();
  }
}

describe.skipIf(skipReason !== undefined)("PyTorch interop (the seed's AAADiT)", () => {
  let checkpoint: string;

  beforeAll(async () => {
    const data = file("data");
    await writeShapesDataset(data, 32, 4);
    checkpoint = (await train({ config, data, out: file("run"), steps: 2, quiet: true })).checkpoint;
  }, 300_000);

  test.each([
    ["at the training grid 8×8", 8, 8],
    ["at 4×6, where the position grid is resized bilinearly", 4, 6],
  ])(
    "a checkpoint from training loads strictly into PyTorch and its forward equals kiln's %s (f32, relative 1e-5)",
    (_label, h, w) => {
      const batch = 2;
      const inputs = {
        latents: seededNormal(batch * channels * h * w, 31),
        promptEmbeds: seededNormal(batch * textLength * config.dit.textDim, 32),
        timestep: new Float32Array([137.5, 861.25]),
      };
      const inputFile = file(`forward-inputs-${h}x${w}.safetensors`);
      writeSafetensors(inputFile, {
        latents: f32([batch, channels, h, w], inputs.latents),
        prompt_embeds: f32([batch, textLength, config.dit.textDim], inputs.promptEmbeds),
        timestep: f32([batch], inputs.timestep),
      });
      const out = file(`forward-torch-${h}x${w}.safetensors`);
      runTorch({ op: "forward", model: torchModel, weights: checkpoint, inputs: inputFile, out });
      const fromTorch = loadStateDict(out, [{ name: "output", shape: [batch, channels, h, w] }]).get("output")!;
      const fromKiln = kilnForward(loadDitWeights(checkpoint, parts.ditSpec), inputs, batch, h, w);
      expect(relativeError(fromKiln, fromTorch)).toBeLessThan(1e-5);
    },
    300_000,
  );

  test("a bf16 state dict saved from PyTorch loads into kiln and samples the same image as the reference's loop", () => {
    const dit = file("from-torch.safetensors");
    runTorch({ op: "write_state_dict", model: torchModel, seed: 5, dtype: "bf16", out: dit });
    // The tiny config trains its text encoder with the DiT: kiln reads it from beside the checkpoint.
    const textEncoder = initParams(parts.text.paramSpec, 6);
    writeSafetensors(
      file("from-torch.text_encoder.safetensors"),
      Object.fromEntries(parts.text.paramSpec.map((s) => [s.name, f32(s.shape, textEncoder.get(s.name)!)])),
    );
    const weights = loadWeights(parts, { checkpoint: dit });
    const sampler = new Sampler(parts, weights);
    try {
      const request = { prompt: "a red square", negative: "blurry", cfg: 3, steps: 4, seed: 7, progress: false };
      const [image] = sampler.sampleMany([request]);
      // The same embeddings, schedule and seed through the reference's loop in PyTorch.
      const embeds = sampler.embed([request.prompt, request.negative]);
      writeSafetensors(file("embeds.safetensors"), { embeds: f32([2, parts.text.maxLength, config.dit.textDim], embeds) });
      const schedule = setTimesteps({ steps: request.steps, denoisingStrength: 1, dynamicShiftLen: height * width });
      const out = file("sample-torch.safetensors");
      runTorch({
        op: "sample",
        model: torchModel,
        weights: dit,
        embeds: file("embeds.safetensors"),
        latent: parts.latent,
        seed: request.seed,
        timesteps: [...schedule.timesteps],
        sigmas: [...schedule.sigmas],
        cfg: request.cfg,
        out,
      });
      const latents = loadStateDict(out, [{ name: "latents", shape: [1, channels, height, width] }]).get("latents")!;
      const decode = compile(
        (t) => parts.vae.decode({}, (t as { x: Tensor }).x),
        { x: { shape: [1, channels, height, width] } },
        { name: "interop_decode" },
      );
      const fromTorch = toRgbBytes(decode.run({ x: latents }) as Float32Array, config.height, config.width);
      decode.dispose();
      expect(image).toHaveLength(fromTorch.length);
      let differing = 0;
      let largest = 0;
      for (let i = 0; i < fromTorch.length; i++) {
        const d = Math.abs(image![i]! - fromTorch[i]!);
        largest = Math.max(largest, d);
        if (d > 0) differing++;
      }
      // Truncation to 8 bits can flip a value that sits on a boundary by one level; nothing more.
      expect(largest).toBeLessThanOrEqual(1);
      expect(differing / fromTorch.length).toBeLessThan(0.01);
      expect(new Set(fromTorch).size).toBeGreaterThan(20); // an image, not a constant
    } finally {
      sampler.dispose();
    }
  }, 300_000);

  test("one training step's loss and every parameter's gradient agree with PyTorch's (f32)", () => {
    const batch = 2;
    const options: TrainStepOptions = { dit: config.dit, batch, latent: parts.latent, textLength, text: { kind: "embeds" } };
    const latentShape = [batch, channels, height, width];
    const inputs = {
      latents: seededNormal(batch * channels * height * width, 41),
      promptEmbeds: seededNormal(batch * textLength * config.dit.textDim, 42),
      sigma: new Float32Array([0.3, 0.85]),
      timestep: new Float32Array([300, 850]),
      weight: new Float32Array([1.25, 0.5]),
    };
    const params = loadDitWeights(checkpoint, parts.ditSpec);
    const paramShapes = specTree(parts.ditSpec);
    const step = compile(
      (t) => gradientStep(options, parts.ditSpec)(t as Parameters<ReturnType<typeof gradientStep>>[0]),
      {
        params: paramShapes,
        batch: {
          latents: { shape: latentShape },
          promptEmbeds: { shape: [batch, textLength, config.dit.textDim] },
          sigma: { shape: [batch] },
          timestep: { shape: [batch] },
          weight: { shape: [batch] },
        },
        control: { seed: { shape: [], dtype: "i32" } },
      },
      { name: "interop_grads" },
    );
    const result = step.run({ params: Object.fromEntries(params), batch: inputs, control: { seed: 9 } }) as {
      grads: Record<string, Float32Array>;
      loss: Float32Array;
    };
    step.dispose();
    // The noise the step drew in-graph from its seed, handed to PyTorch.
    const noiseStep = compile(
      (t) => nn.randomNormal((t as { seed: Tensor }).seed, latentShape, 0),
      { seed: { shape: [], dtype: "i32" } },
      { name: "interop_noise" },
    );
    const noise = noiseStep.run({ seed: 9 }) as Float32Array;
    noiseStep.dispose();
    const inputFile = file("grad-inputs.safetensors");
    writeSafetensors(inputFile, {
      latents: f32(latentShape, inputs.latents),
      prompt_embeds: f32([batch, textLength, config.dit.textDim], inputs.promptEmbeds),
      sigma: f32([batch], inputs.sigma),
      timestep: f32([batch], inputs.timestep),
      weight: f32([batch], inputs.weight),
      noise: f32(latentShape, noise),
    });
    const out = file("grads-torch.safetensors");
    const answer = runTorch({ op: "train_grads", model: torchModel, weights: checkpoint, inputs: inputFile, out });
    expect(Math.abs(result.loss[0]! - (answer.loss as number)) / (answer.loss as number)).toBeLessThan(1e-5);
    const fromTorch = loadStateDict(
      out,
      parts.ditSpec.map((s) => ({ name: s.name, shape: s.shape })),
    );
    const largest = (x: Float32Array): number => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // A key bias shifts every score of a query by the same amount, which softmax ignores: its exact
    // gradient is zero, so both sides hold rounding noise; it must be negligible next to the query bias's.
    const keyBias = (name: string): boolean => /\.to_k\.bias$/.test(name);
    for (const s of parts.ditSpec.filter((spec) => keyBias(spec.name))) {
      const scale = largest(result.grads[s.name.replace("to_k", "to_q")]!);
      expect(largest(result.grads[s.name]!)).toBeLessThan(1e-5 * scale);
      expect(largest(fromTorch.get(s.name)!)).toBeLessThan(1e-5 * scale);
    }
    const errors = parts.ditSpec
      .filter((s) => !keyBias(s.name))
      .map((s) => [s.name, relativeError(result.grads[s.name]!, fromTorch.get(s.name)!)] as const);
    expect(errors).toHaveLength(2 + 12 + 13 * config.dit.depth + 2);
    // Worst seen: 3e-5 on the first timestep Linear's weight (f32 sin and cos of angles up to 850 differ
    // by an ulp between libraries); the rest 1e-6.
    const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(worst[1], `worst: ${worst[0]}`).toBeLessThan(1e-4);
  }, 300_000);
});

describe.skipIf(skipReason !== undefined)("the PyTorch benchmark peer", () => {
  const small = {
    ...tinyDitConfig,
    dim: 32,
    depth: 1,
    heads: 2,
    ffDim: 48,
    latentChannels: 8,
    latentHeight: 4,
    latentWidth: 3,
    textTokens: 5,
    textFeatures: 24,
  };
  const rows = [
    gemmRow(16, 24, 8, false),
    gemmRow(16, 24, 8, true),
    elementwiseRow(1000),
    layerNormRow(8, 32),
    softmaxRow(8, 32),
    attentionRow(2, 2, 8, 12),
    ditForwardRow(1, small),
    ditTrainStepRow(2, small),
  ];

  test("measures every row kind with kiln's thread count, and names its torch and BLAS", async () => {
    const { eager, compiled } = torchPeers();
    try {
      await eager.init();
      await compiled.init();
      expect(eager.describe()).toMatch(/^PyTorch eager: torch \d+\.\d+.*\d+ threads, BLAS: \S/);
      for (const row of rows) {
        const measured = await eager.measure(row, { warmup: 1, iters: 3 });
        if (isSkipped(measured)) throw new Error(`torch skipped ${row.name}: ${measured.skipped}`);
        expect(measured.samplesMs).toHaveLength(3);
        expect(measured.ms).toBeGreaterThan(0);
      }
      // torch.compile is measured where torch has it, and otherwise reported as skipped with the reason.
      const viaCompile = await compiled.measure(rows[0]!, { warmup: 1, iters: 2 });
      if (isSkipped(viaCompile)) expect(viaCompile.skipped).toMatch(/torch\.compile needs torch >= 2/);
      else expect(viaCompile.samplesMs).toHaveLength(2);
    } finally {
      eager.close();
    }
  }, 300_000);
});
