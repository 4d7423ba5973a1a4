// Named configurations: the reference's "aaa-0.1b" (Qwen3-0.6B text encoder and FLUX.2 VAE, both
// frozen and loaded from local files) and the embedded default "tiny" (a small text encoder trained
// jointly with the DiT, and the weightless pixel VAE), plus JSON files with the same fields.

import { existsSync, readFileSync } from "node:fs";
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
}

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
  },
  tiny: {
    name: "tiny",
    // 8×8 pixel patches: 64 image tokens of 192 values each, so a 10-minute CPU run sees ~5 000
    // batches (4 px patches give 256 tokens and ~3× fewer steps, and memorised far less; see the notes).
    dit: ditConfig({ dim: 192, depth: 4, heads: 6, latentChannels: 192, textDim: TINY_TEXT_DIM, posGrid: 8 }),
    text: { kind: "tiny", config: { tableSize: 2048, dim: TINY_TEXT_DIM, layers: 1, heads: 4, ffDim: 256, maxLength: 32 } },
    trainText: true,
    vae: { kind: "pixel", config: { patchSize: 8 } },
    height: 64,
    width: 64,
    batch: 16,
    lr: 1e-3,
    timestepWeights: "uniform",
  },
};

/** A configuration by name, or from a JSON file with the same fields (missing fields from "tiny"). */
export function loadConfig(nameOrFile: string): ModelConfig {
  const named = CONFIGS[nameOrFile];
  if (named) return named;
  if (nameOrFile.endsWith(".json")) {
    if (!existsSync(nameOrFile)) throw new Error(`config: ${nameOrFile} does not exist`);
    const parsed = JSON.parse(readFileSync(nameOrFile, "utf8")) as Partial<ModelConfig> & { dit?: Partial<DitConfig>; base?: string };
    const base = CONFIGS[parsed.base ?? parsed.name ?? "tiny"] ?? CONFIGS.tiny!;
    return { ...base, ...parsed, dit: { ...base.dit, ...parsed.dit } } as ModelConfig;
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
  if (height % v.downsample !== 0 || width % v.downsample !== 0) throw new Error(`image size ${width}×${height}: must be a multiple of the VAE's ${v.downsample}× downsampling`);
  if (text.outputDim !== config.dit.textDim) throw new Error(`config ${config.name}: the text encoder gives ${text.outputDim} features but the DiT expects ${config.dit.textDim}`);
  if (v.latentChannels !== config.dit.latentChannels) throw new Error(`config ${config.name}: the VAE gives ${v.latentChannels} latent channels but the DiT expects ${config.dit.latentChannels}`);
  return { config, ditSpec: ditParamSpec(config.dit), text, vae: v, latent: [v.latentChannels, height / v.downsample, width / v.downsample] };
}

/** The prefix under which a jointly trained text encoder's tensors live in the training state. */
export const TEXT_PREFIX = "text_encoder.";
