// Named configurations: the reference's "aaa-0.1b" (Qwen3-0.6B text encoder and FLUX.2 VAE, both
// frozen and loaded from local files) and the embedded default "tiny" (a small text encoder trained
// jointly with the DiT, and the weightless pixel VAE), plus JSON files with the same fields.

import { existsSync } from "node:fs";
import { readJsonFile, nearestName } from "../runtime/index.ts";
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
    vae: { kind: "pca", config: { patchSize: 8, channels: 48 } },
    height: 64,
    width: 64,
    batch: 16,
    lr: 1e-3,
    timestepWeights: "uniform",
    // Half the draws keep the prompt as written, so the exact training prompts still give their image.
    promptVariation: 0.5,
    ema: 0.999,
    // The clean-image reading measured worse here (recall 0.02–0.04 against 0.29–0.41 at equal time).
    prediction: "velocity",
    // A tenth of the prompts empty, so guidance's negative branch is a trained unconditional prediction:
    // at 5 000 steps the starter prompts' family hit rate at guidance 4 went 15/24 → 20/24 (with the
    // vocabulary reading), recall unchanged; 0.2 lost recall and PSNR.
    promptDropout: 0.1,
  },
};

type ConfigFile = Partial<Omit<ModelConfig, "dit">> & { dit?: Partial<DitConfig>; base?: string };

const TOP_KEYS = [
  "name",
  "base",
  "dit",
  "text",
  "trainText",
  "vae",
  "height",
  "width",
  "batch",
  "lr",
  "timestepWeights",
  "promptVariation",
  "ema",
  "prediction",
  "lrCooldown",
  "promptDropout",
] as const;
const DIT_KEYS = ["dim", "depth", "heads", "latentChannels", "textDim", "ffDim", "posGrid"] as const;

/** Checks a JSON configuration's fields (names, types, ranges), naming the file and the field; unknown fields are refused with the nearest known one. */
function checkConfigFile(parsed: unknown, file: string): asserts parsed is ConfigFile {
  const fail = (message: string): never => {
    throw new Error(`config ${file}: ${message}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const unknownKeys = (object: Record<string, unknown>, known: readonly string[], where: string): void => {
    for (const key of Object.keys(object))
      if (!known.includes(key)) {
        const near = nearestName(key, known);
        fail(`unknown field ${where}${key}${near ? ` (did you mean ${where}${near}?)` : ""}; known: ${known.join(", ")}`);
      }
  };
  const positiveInt = (value: unknown, where: string, multipleOf = 1): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0 && (value as number) % multipleOf === 0))
      fail(`${where} must be a positive integer${multipleOf > 1 ? ` multiple of ${multipleOf}` : ""}, found ${JSON.stringify(value)}`);
  };
  if (!isObject(parsed)) return fail(`expected a JSON object, found ${Array.isArray(parsed) ? "an array" : typeof parsed}`);
  unknownKeys(parsed, TOP_KEYS, "");
  for (const key of ["name", "base"] as const)
    if (parsed[key] !== undefined && (typeof parsed[key] !== "string" || !parsed[key])) fail(`${key} must be a non-empty string`);
  if (parsed.base !== undefined && !CONFIGS[parsed.base as string])
    fail(`base '${String(parsed.base)}' is not a configuration (expected one of ${Object.keys(CONFIGS).join(", ")})`);
  if (parsed.dit !== undefined) {
    if (!isObject(parsed.dit)) fail(`dit must be an object`);
    const dit = parsed.dit as Record<string, unknown>;
    unknownKeys(dit, DIT_KEYS, "dit.");
    for (const key of DIT_KEYS) positiveInt(dit[key], `dit.${key}`);
  }
  positiveInt(parsed.height, "height", 16);
  positiveInt(parsed.width, "width", 16);
  positiveInt(parsed.batch, "batch");
  if (parsed.lr !== undefined && !(typeof parsed.lr === "number" && Number.isFinite(parsed.lr) && parsed.lr > 0))
    fail(`lr must be a finite number > 0, found ${JSON.stringify(parsed.lr)}`);
  const variation = parsed.promptVariation;
  if (variation !== undefined && !(typeof variation === "number" && variation >= 0 && variation <= 1))
    fail(`promptVariation must be a number in [0, 1], found ${JSON.stringify(variation)}`);
  for (const key of ["lrCooldown", "promptDropout"] as const) {
    const value = parsed[key];
    if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= 1))
      fail(`${key} must be a number in [0, 1], found ${JSON.stringify(value)}`);
  }
  if (parsed.trainText !== undefined && typeof parsed.trainText !== "boolean") fail(`trainText must be true or false`);
  if (parsed.ema !== undefined && parsed.ema !== false && !(typeof parsed.ema === "number" && parsed.ema >= 0 && parsed.ema < 1))
    fail(`ema must be false or a decay from 0 (none) up to, not including, 1, found ${JSON.stringify(parsed.ema)}`);
  if (parsed.prediction !== undefined && parsed.prediction !== "velocity" && parsed.prediction !== "image")
    fail(`prediction must be "velocity" or "image", found ${JSON.stringify(parsed.prediction)}`);
  if (parsed.timestepWeights !== undefined && parsed.timestepWeights !== "reference" && parsed.timestepWeights !== "uniform")
    fail(`timestepWeights must be "reference" or "uniform"`);
  for (const [key, kinds] of [
    ["text", ["qwen3", "tiny"]],
    ["vae", ["flux2", "pixel", "pca"]],
  ] as const) {
    const part = parsed[key];
    if (part === undefined) continue;
    if (!isObject(part) || !kinds.includes(part.kind as never)) fail(`${key} must be an object with "kind" one of ${kinds.join(", ")}`);
    const nested = (part as Record<string, unknown>).config;
    if (nested !== undefined && !isObject(nested)) fail(`${key}.config must be an object`);
    for (const [field, value] of Object.entries((nested ?? {}) as Record<string, unknown>))
      if (typeof value === "number" && !(Number.isFinite(value) && value > 0))
        fail(`${key}.config.${field} must be a finite number > 0, found ${value}`);
  }
}

/** A configuration by name, or from a JSON file with the same fields (missing fields from "tiny"). */
export function loadConfig(nameOrFile: string): ModelConfig {
  const named = CONFIGS[nameOrFile];
  if (named) return named;
  if (nameOrFile.endsWith(".json")) {
    if (!existsSync(nameOrFile)) throw new Error(`config: ${nameOrFile} does not exist`);
    const parsed = readJsonFile(nameOrFile, "config");
    checkConfigFile(parsed, nameOrFile);
    const base = CONFIGS[parsed.base ?? parsed.name ?? "tiny"] ?? CONFIGS.tiny!;
    const config = { ...base, ...parsed, dit: { ...base.dit, ...parsed.dit } } as ModelConfig;
    if (config.dit.dim % config.dit.heads !== 0)
      throw new Error(`config ${nameOrFile}: dit.dim ${config.dit.dim} must be a multiple of dit.heads ${config.dit.heads}`);
    return config;
  }
  throw new Error(`config: unknown configuration '${nameOrFile}' (expected one of ${Object.keys(CONFIGS).join(", ")} or a .json file)`);
}

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
  if (v.latentChannels !== config.dit.latentChannels)
    throw new Error(`config ${config.name}: the VAE gives ${v.latentChannels} latent channels but the DiT expects ${config.dit.latentChannels}`);
  return { config, ditSpec: ditParamSpec(config.dit), text, vae: v, latent: [v.latentChannels, height / v.downsample, width / v.downsample] };
}

/** The decay of the moving average of the weights a configuration keeps in training (0: none). */
export const emaDecayOf = (config: Pick<ModelConfig, "ema">): number => (config.ema === false ? 0 : config.ema);

/** The prefix under which a jointly trained text encoder's tensors live in the training state. */
export const TEXT_PREFIX = "text_encoder.";
