// Named configurations: the reference's "aaa-0.1b" (Qwen3-0.6B text encoder and FLUX.2 VAE, both
// frozen and loaded from local files) and the embedded default "tiny" (a small text encoder trained
// jointly with the DiT, and the weightless pixel VAE); JSON files with the same fields are read by
// config-file.ts (this file also runs in a browser bundle).

import { AAA_0_1B, ditConfig, ditParamSpec, type DitConfig } from "./dit.ts";
import { textEncoder, vae, type TextEncoder, type TextEncoderChoice, type Vae, type VaeChoice } from "./encoders.ts";
import type { ParamSpec } from "./params.ts";

export interface ModelConfig {
  name: string;
  dit: DitConfig;
  text: TextEncoderChoice;
  /** Whether the text encoder is trained with the DiT (tiny) or frozen (qwen3, as the reference). */
  trainText: boolean;
  vae: VaeChoice;
  /** Training and default sampling resolution. */
  height: number;
  width: number;
  /** Training defaults. */
  batch: number;
  lr: number;
  /**
   * The loss weight per timestep: "reference" is spec §1.5's (near zero at the ends of the
   * schedule), "uniform" weighs every timestep alike, which a short CPU run needs to learn the last,
   * low-noise steps that sharpen an image.
   */
  timestepWeights: "reference" | "uniform";
  /**
   * The fraction of training draws that show an image's prompt as a random subset of its
   * comma-separated parts in random order instead of as written (models/data/prompt-variants.ts).
   * 0 is the reference's (always as written); more needs a jointly trained text encoder, since the
   * varied prompts are encoded step by step.
   */
  promptVariation: number;
  /**
   * The decay of an exponential moving average of the weights, kept during training and used for
   * sampling (models/train-step.ts); false (or 0) keeps none, as the reference.
   */
  ema: number | false;
  /**
   * What the DiT's output means: "velocity" (ε − x0, the reference's) or "image" (the clean latent
   * x0, turned into a velocity (x_t − x̂0)/σ for the loss and the sampler). An image is easier for a
   * small network whose token width is no larger than a patch's values: noise is full-rank in every
   * patch, a clean sprite is not (Li & He 2025, "Back to Basics: Let Denoising Generative Models Denoise").
   */
  prediction: Prediction;
  /**
   * The last fraction of the run over which the learning rate falls linearly to zero (a
   * warmup-stable-decay schedule); 0 keeps it constant, as the reference. The fraction is of the
   * steps asked for, or, with --minutes, of the time.
   */
  lrCooldown?: number;
  /**
   * The fraction of training draws whose prompt is replaced by the empty one, so that the model
   * learns the unconditional prediction classifier-free guidance subtracts (the negative prompt " "
   * encodes as the empty one). 0, the reference's, never trains it.
   */
  promptDropout?: number;
  /**
   * Classifier-free guidance on the leading latent channels only (for the PCA VAE, the coarse
   * principal components: shape and colour); the others take the prompt's own prediction. Unset:
   * every channel, as the reference.
   */
  guidanceChannels?: number;
  /**
   * Classifier-free guidance only on the sampling steps whose σ is above this; the steps below it
   * follow the prompt's own prediction (and skip the negative branch). Guidance in a limited interval
   * of noise levels (Kynkäänniemi et al. 2024): at low noise it only sharpens the guided errors into
   * specks at the figure's edges. Unset: every step, as the reference.
   */
  guidanceMinSigma?: number;
}

export type Prediction = "velocity" | "image";

const TINY_TEXT_DIM = 128;

export const CONFIGS: Readonly<Record<string, ModelConfig>> = {
  "aaa-0.1b": {
    name: "aaa-0.1b",
    dit: AAA_0_1B,
    text: { kind: "qwen3" },
    trainText: false,
    vae: { kind: "flux2" },
    height: 256,
    width: 256,
    batch: 1,
    lr: 2e-4,
    timestepWeights: "reference",
    promptVariation: 0,
    ema: false,
    prediction: "velocity",
  },
  tiny: {
    name: "tiny",
    // 8×8 patches, each projected on the 48 leading principal components of the training images'
    // patches (models/vae/pca.ts): 64 image tokens of 48 values, so a 10-minute CPU run sees a few
    // thousand batches; raw 8×8 pixel patches (192 values a token) left per-pixel speckle (see the notes).
    dit: ditConfig({ dim: 192, depth: 4, heads: 6, latentChannels: 48, textDim: TINY_TEXT_DIM, posGrid: 8 }),
    // 8192 rows: the Pokémon prompts have about 2 000 distinct words and trigrams, of which about 80 %
    // then get a row of their own (2048 rows: about 40 %); 1.0M parameters, half the DiT's 2.0M.
    text: { kind: "tiny", config: { tableSize: 8192, featuresPerWord: 16, dim: TINY_TEXT_DIM, layers: 1, heads: 4, ffDim: 256, maxLength: 32 } },
    trainText: true,
    // Components scaled half-way to unit variance (λₖ^(−¼)), so the noise drowns fine detail less far
    // ahead of the coarse shape. 5 000 steps, EMA, seeds 0–7, guidance 1 / 4 (PSNR dB, speckle, starter family):
    // w = 0: 16.2 / 16.3, 0.032 / 0.028, 3 / 14 of 24; w = ½: 20.2 / 17.5, 0.017 / 0.020, 11 / 16;
    // w = ¾: 21.3 / 16.6, 0.016 / 0.025, 12 / 16; w = 1: 20.6 / 15.4, 0.020 / 0.038, 22 / 24 (pale patch blocks).
    // A learned refinement after the projection (models/vae/pca-refine.ts), fitted for 600 steps (about 50 s
    // on 2 cores) on latents with noise σ 0.15. Added to npm start's 7 059-step model (guidance 1 / 4: PSNR dB,
    // speckle): none 22.83 / 19.97, 0.0123 / 0.0145; width 32, σ 0: 23.77 / 20.11, 0.0090 / 0.0118; width 16,
    // σ 0.15: 23.48 / 20.22, 0.0086 / 0.0103; width 16, σ 0.3: 23.08 / 20.16, 0.0092 / 0.0108; width 32,
    // σ 0.15: 23.70 / 20.31, 0.0072 / 0.0094.
    vae: { kind: "pca", config: { patchSize: 8, channels: 48, whiten: 0.5, refine: { width: 32, steps: 600, noise: 0.15 } } },
    height: 64,
    width: 64,
    batch: 16,
    lr: 1e-3,
    timestepWeights: "uniform",
    // Most draws keep the prompt as written, so the exact training prompts still give their image. 5 000
    // steps, EMA, guidance 1 / 4 (PSNR dB, speckle, starter family of 24): 0.5: 20.21 / 18.77, 0.0167 /
    // 0.0169, 11 / 16 (Bulbasaur 0 / 0); 0.3: 21.75 / 19.32, 0.0141 / 0.0161, 15 / 24 (Bulbasaur 4 / 8).
    promptVariation: 0.3,
    ema: 0.999,
    // The clean-image reading measured worse here (recall 0.02–0.04 against 0.29–0.41 at equal time).
    prediction: "velocity",
    // A tenth of the prompts empty, so guidance's negative branch is a trained unconditional prediction:
    // at 5 000 steps the starter prompts' family hit rate at guidance 4 went 15/24 → 20/24 (with the
    // vocabulary reading), recall unchanged; 0.2 lost recall and PSNR.
    promptDropout: 0.1,
    // Guidance amplifies the DiT's errors on the fine components too (speckle, patch seams). The
    // 5 000-step w = ½ model at guidance 4, 30 steps, seeds 0–7 (PSNR dB, speckle, starter family):
    // all 48 channels 17.52, 0.0195, 16/24; the first 24: 18.20, 0.0175, 16; 16: 18.55, 0.0170, 16;
    // 12: 18.77, 0.0169, 16; 8: 18.99, 0.0168, 13; 4: 19.26, 0.0168, 12 (guidance 1: 20.21, 0.0167, 11).
    guidanceChannels: 12,
    // Guided only above σ 0.6 (the last 6 of 30 steps follow the prompt alone). npm start's 5 405-step
    // model at guidance 4, seeds as eval's (PSNR dB, speckle, starter family of 24): every step 19.74,
    // 0.0105, 24; σ > 0.3: 20.68, 0.0079, 24; > 0.45: 20.94, 0.0072, 24; > 0.6: 21.29, 0.0065, 24;
    // > 0.7: 21.38, 0.0064, 24; > 0.8: 21.55, 0.0066, 24. Over half of the speckle was on the pixels
    // next to the figure, sharpened there by guidance in the last steps; the family at 32 seeds stays 96/96.
    guidanceMinSigma: 0.6,
  },
};

/** The configuration's components: DiT parameter spec, text encoder and VAE. */
export interface ModelParts {
  config: ModelConfig;
  ditSpec: ParamSpec[];
  text: TextEncoder;
  vae: Vae;
  /** Latent grid [channels, h, w] at the configuration's resolution. */
  latent: [number, number, number];
}

export function modelParts(config: ModelConfig, height = config.height, width = config.width): ModelParts {
  const text = textEncoder(config.text);
  const v = vae(config.vae);
  if (height % 16 !== 0 || width % 16 !== 0) throw new Error(`image size ${width}×${height}: height and width must be multiples of 16`);
  if (height % v.downsample !== 0 || width % v.downsample !== 0)
    throw new Error(`image size ${width}×${height}: must be a multiple of the VAE's ${v.downsample}× downsampling`);
  if (text.outputDim !== config.dit.textDim)
    throw new Error(`config ${config.name}: the text encoder gives ${text.outputDim} features but the DiT expects ${config.dit.textDim}`);
  // Prompts that change step by step need an encoder run in the step; a frozen one's embeddings are cached.
  for (const [field, value] of [
    ["promptVariation", config.promptVariation],
    ["promptDropout", config.promptDropout ?? 0],
  ] as const)
    if (value > 0 && !config.trainText)
      throw new Error(
        `config ${config.name}: ${field} ${value} needs a jointly trained text encoder (trainText: true); a frozen one's embeddings are computed once per prompt`,
      );
  const guided = config.guidanceChannels;
  if (guided !== undefined && !(Number.isSafeInteger(guided) && guided >= 1 && guided <= v.latentChannels))
    throw new Error(
      `config ${config.name}: guidanceChannels must be a whole number from 1 to the VAE's ${v.latentChannels} latent channels, got ${guided}`,
    );
  const minSigma = config.guidanceMinSigma;
  if (minSigma !== undefined && !(minSigma >= 0 && minSigma < 1))
    throw new Error(`config ${config.name}: guidanceMinSigma must be a noise level from 0 up to, not including, 1, got ${minSigma}`);
  if (v.latentChannels !== config.dit.latentChannels)
    throw new Error(`config ${config.name}: the VAE gives ${v.latentChannels} latent channels but the DiT expects ${config.dit.latentChannels}`);
  return { config, ditSpec: ditParamSpec(config.dit), text, vae: v, latent: [v.latentChannels, height / v.downsample, width / v.downsample] };
}

/** The decay of the moving average of the weights a configuration keeps in training (0: none). */
export const emaDecayOf = (config: Pick<ModelConfig, "ema">): number => (config.ema === false ? 0 : config.ema);

/** The prefix under which a jointly trained text encoder's tensors live in the training state. */
export const TEXT_PREFIX = "text_encoder.";
