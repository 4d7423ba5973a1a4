// The tiny AAA-style DiT that the CPU benchmark trains and runs on kiln and on every peer: its config,
// parameter list (reference key names, spec Appendix A), seeded weights and inputs, and FLOP counts.
//
// The exact computation every implementation performs (batch B, D = dim, S = image tokens + text tokens):
//  1. pos [1,S,D] = concat_seq( image_emb [1,D,h,w] as "1 C H W -> 1 (H W) C"  (bilinear resize to the
//     same h×w is the identity), text_emb [D] repeated over the text tokens ).
//  2. timestep t [B] (one per sample): f_i = exp(-ln(10000)·i/128) in f32, i = 0..127; a = t ⊗ f [B,128];
//     sinusoid = [cos a, sin a] (cosines first, spec §3) [B,256];
//     temb = Linear₂(SiLU(Linear₀(sinusoid))) [B,D]   (timestep_embedder.timestep_embedder.{0,2}).
//  3. x = concat_seq( LayerNorm(Linear(latents as "B C H W -> B (H W) C")),
//                     LayerNorm(Linear(prompt_embeds)) ) [B,S,D]; LayerNorm has affine weight/bias, eps 1e-5.
//  4. each block: [g_a | g_m] = to_gate(temb) [B,2D], each broadcast over the S tokens of its sample;
//       a = RMSNorm(x + pos)                  (no affine, eps = 2⁻²³, spec A.4: x / sqrt(mean(x²) + eps))
//       x = x + to_out(Attention(to_q a, to_k a, to_v a)) ⊙ (1 + g_a)
//            Attention: heads are contiguous head_dim slices of D, softmax(q kᵀ / √head_dim) v, full
//            bidirectional over all S tokens, no mask;
//       b = RMSNorm(x + pos)
//       x = x + ff.2(SiLU(ff.0(b))) ⊙ (1 + g_m)
//  5. keep the first h·w tokens, proj_out → [B,h·w,C], reshape "B (H W) C -> B C H W".
// Every Linear is y = x·Wᵀ + b with W stored [out, in] as in PyTorch.
// Training step: loss = mean((output − target)²) over all elements; backward; AdamW (decoupled decay,
// constants in `adamW`) on every parameter, biases and embeddings included, as the spec's §8.

import { ditConfig, type DitConfig } from "../models/dit.ts";

import { seededNormal, seededUniform, sizeOf } from "./random-data.ts";

export interface AaaDitConfig {
  dim: number;
  depth: number;
  heads: number;
  ffDim: number;
  latentChannels: number;
  latentHeight: number;
  latentWidth: number;
  textTokens: number;
  textFeatures: number;
  /** Width of the sinusoidal timestep embedding (cosine half then sine half). */
  timestepFeatures: number;
  layerNormEps: number;
  rmsNormEps: number;
}

/** The benchmark's tiny DiT: 4 blocks of width 192, 288 tokens (256 image + 32 text), about 2M parameters. */
export const tinyDitConfig: AaaDitConfig = {
  dim: 192,
  depth: 4,
  heads: 6,
  ffDim: 576,
  latentChannels: 48,
  latentHeight: 16,
  latentWidth: 16,
  textTokens: 32,
  textFeatures: 256,
  timestepFeatures: 256,
  layerNormEps: 1e-5,
  rmsNormEps: 2 ** -23,
};

/** The DiT of the embedded default (`npm start`, models/config.ts "tiny"), without its jointly trained text encoder. */
export const startDitConfig: AaaDitConfig = { ...tinyDitConfig, latentChannels: 192, latentHeight: 8, latentWidth: 8, textFeatures: 128 };

/** The reference 0.1B AAADiT (spec Appendix A) at 256², for checking the parameter list against the spec. */
export const referenceAaaDitConfig: AaaDitConfig = {
  dim: 1024,
  depth: 10,
  heads: 32,
  ffDim: 3072,
  latentChannels: 128,
  latentHeight: 16,
  latentWidth: 16,
  textTokens: 128,
  textFeatures: 1024,
  timestepFeatures: 256,
  layerNormEps: 1e-5,
  rmsNormEps: 2 ** -23,
};

/** AdamW as in the reference training loop (spec §8), with the learning rate held constant. */
export const adamW = { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } as const;

export type ParamInit =
  | { kind: "normal" } // randn, std 1 (the positional embeddings)
  | { kind: "uniform"; bound: number } // PyTorch Linear default: U(-1/√fan_in, 1/√fan_in) for weight and bias
  | { kind: "ones" }
  | { kind: "zeros" };

export interface ParamSpec {
  name: string;
  shape: readonly number[];
  init: ParamInit;
}

/** Parameters by reference key, in the reference's module order. */
export type DitWeights = Record<string, Float32Array>;

export interface DitBatch {
  batch: number;
  latents: Float32Array; // [B, C, h, w]
  promptEmbeds: Float32Array; // [B, textTokens, textFeatures]
  timestep: Float32Array; // [B]
  target: Float32Array; // [B, C, h, w]
}

/** The same DiT as kiln's models/dit.ts configuration. */
export function kilnDitConfig(config: AaaDitConfig): DitConfig {
  const { dim, depth, heads, ffDim, latentChannels } = config;
  return ditConfig({ dim, depth, heads, ffDim, latentChannels, textDim: config.textFeatures, posGrid: config.latentHeight });
}

export function headDim(config: AaaDitConfig): number {
  if (config.dim % config.heads !== 0) {
    throw new Error(`AaaDitConfig: dim ${config.dim} must be a multiple of heads ${config.heads}`);
  }
  return config.dim / config.heads;
}

export const imageTokens = (config: AaaDitConfig): number => config.latentHeight * config.latentWidth;
export const sequenceLength = (config: AaaDitConfig): number => imageTokens(config) + config.textTokens;

function linear(prefix: string, inFeatures: number, outFeatures: number): ParamSpec[] {
  const init: ParamInit = { kind: "uniform", bound: 1 / Math.sqrt(inFeatures) };
  return [
    { name: `${prefix}.weight`, shape: [outFeatures, inFeatures], init },
    { name: `${prefix}.bias`, shape: [outFeatures], init },
  ];
}

function layerNorm(prefix: string, features: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [features], init: { kind: "ones" } },
    { name: `${prefix}.bias`, shape: [features], init: { kind: "zeros" } },
  ];
}

/** Every parameter of the DiT with its reference key and shape (spec Appendix A, resized by `config`). */
export function ditParamSpecs(config: AaaDitConfig): ParamSpec[] {
  const { dim, ffDim } = config;
  const specs: ParamSpec[] = [
    { name: "pos_embedder.image_emb", shape: [1, dim, config.latentHeight, config.latentWidth], init: { kind: "normal" } },
    { name: "pos_embedder.text_emb", shape: [dim], init: { kind: "normal" } },
    ...linear("timestep_embedder.timestep_embedder.0", config.timestepFeatures, dim),
    ...linear("timestep_embedder.timestep_embedder.2", dim, dim),
    ...linear("image_embedder.0", config.latentChannels, dim),
    ...layerNorm("image_embedder.1", dim),
    ...linear("text_embedder.0", config.textFeatures, dim),
    ...layerNorm("text_embedder.1", dim),
  ];
  for (let i = 0; i < config.depth; i++) {
    const block = `blocks.${i}`;
    specs.push(
      ...linear(`${block}.to_q`, dim, dim),
      ...linear(`${block}.to_k`, dim, dim),
      ...linear(`${block}.to_v`, dim, dim),
      ...linear(`${block}.to_out`, dim, dim),
      ...linear(`${block}.ff.0`, dim, ffDim),
      ...linear(`${block}.ff.2`, ffDim, dim),
      ...linear(`${block}.to_gate`, dim, 2 * dim),
    );
  }
  specs.push(...linear("proj_out", dim, config.latentChannels));
  return specs;
}

export function ditParamCount(config: AaaDitConfig): number {
  return ditParamSpecs(config).reduce((total, spec) => total + sizeOf(spec.shape), 0);
}

/** Seeded weights with the reference initialisation (each tensor from its own seed, so order is irrelevant). */
export function initDitWeights(config: AaaDitConfig, seed: number): DitWeights {
  const weights: DitWeights = {};
  ditParamSpecs(config).forEach((spec, index) => {
    const count = sizeOf(spec.shape);
    const tensorSeed = (seed * 7919 + index * 104729) >>> 0;
    switch (spec.init.kind) {
      case "normal":
        weights[spec.name] = seededNormal(count, tensorSeed);
        break;
      case "uniform":
        weights[spec.name] = seededUniform(count, tensorSeed, -spec.init.bound, spec.init.bound);
        break;
      case "ones":
        weights[spec.name] = new Float32Array(count).fill(1);
        break;
      case "zeros":
        weights[spec.name] = new Float32Array(count);
        break;
      default:
        spec.init satisfies never;
    }
  });
  return weights;
}

/** Seeded inputs for one step: standard-normal latents, prompt embeddings and target, timesteps in [0, 1000). */
export function makeDitBatch(config: AaaDitConfig, batch: number, seed: number): DitBatch {
  const latentSize = batch * config.latentChannels * imageTokens(config);
  return {
    batch,
    latents: seededNormal(latentSize, seed + 1),
    promptEmbeds: seededNormal(batch * config.textTokens * config.textFeatures, seed + 2),
    timestep: seededUniform(batch, seed + 3, 0, 1000),
    target: seededNormal(latentSize, seed + 4),
  };
}

/** f_i = exp(-ln(10000)·i/half) rounded to f32 (spec §3 step 1: the exponent and exp are f32). */
export function timestepFrequencies(config: AaaDitConfig): Float32Array {
  const half = config.timestepFeatures / 2;
  const frequencies = new Float32Array(half);
  for (let i = 0; i < half; i++) frequencies[i] = Math.exp(Math.fround((-Math.log(10000) * i) / half));
  return frequencies;
}

/**
 * Multiply-add FLOPs of one forward at `batch` (2 per multiply-add of every Linear and of the two
 * attention products); normalisations, activations and softmax are not counted.
 */
export function ditForwardFlops(config: AaaDitConfig, batch: number): number {
  const { dim, ffDim } = config;
  const tokens = batch * sequenceLength(config);
  const seq = sequenceLength(config);
  const embed =
    2 * batch * (config.timestepFeatures * dim + dim * dim) +
    2 * batch * imageTokens(config) * config.latentChannels * dim +
    2 * batch * config.textTokens * config.textFeatures * dim;
  const perBlock =
    2 * batch * dim * 2 * dim + // to_gate on the timestep embedding
    4 * 2 * tokens * dim * dim + // to_q, to_k, to_v, to_out
    2 * 2 * tokens * dim * ffDim + // ff.0, ff.2
    2 * 2 * batch * seq * seq * dim; // q·kᵀ and p·v over all heads
  const head = 2 * batch * imageTokens(config) * dim * config.latentChannels;
  return embed + config.depth * perBlock + head;
}

/**
 * FLOPs of one training step, same convention: backward is twice the forward (input and weight
 * gradients), except that the three Linears fed by data (timestep sinusoid, latents, prompt) need no
 * input gradient. The AdamW update is not counted.
 */
export function ditTrainStepFlops(config: AaaDitConfig, batch: number): number {
  const { dim } = config;
  const dataFedInputGradients =
    2 * batch * config.timestepFeatures * dim +
    2 * batch * imageTokens(config) * config.latentChannels * dim +
    2 * batch * config.textTokens * config.textFeatures * dim;
  return 3 * ditForwardFlops(config, batch) - dataFedInputGradients;
}
