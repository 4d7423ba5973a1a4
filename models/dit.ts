// AAADiT, the seed's 0.1B text-to-image diffusion transformer (spec Appendix A), as pure functions
// over a parameter tree whose keys are the reference's state-dict keys.

import { nn, ops, type Tensor } from "../compiler/index.ts";
import { layerNormSpec, linearSpec, type ParamSpec } from "./params.ts";

export interface DitConfig {
  dim: number;
  depth: number;
  heads: number;
  /** Channels of the latent image (128 for the FLUX.2 VAE's patchified latents). */
  latentChannels: number;
  /** Features of each prompt token (1024 for Qwen3-0.6B). */
  textDim: number;
  /** Feed-forward hidden width (3·dim in the reference). */
  ffDim: number;
  /** Side of the learned image position grid (16 in the reference), resized bilinearly to the latent size. */
  posGrid: number;
}

/** The reference configuration: 156 tensors, 128,824,448 parameters. */
export const AAA_0_1B: DitConfig = { dim: 1024, depth: 10, heads: 32, latentChannels: 128, textDim: 1024, ffDim: 3072, posGrid: 16 };

export function ditConfig(overrides: Partial<DitConfig> & Pick<DitConfig, "dim">): DitConfig {
  return { ...AAA_0_1B, ffDim: overrides.dim * 3, ...overrides };
}

export const TIMESTEP_FEATURES = 256;

export function ditParamSpec(c: DitConfig): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: "pos_embedder.image_emb", shape: [1, c.dim, c.posGrid, c.posGrid], init: { kind: "normal", std: 1 } },
    { name: "pos_embedder.text_emb", shape: [c.dim], init: { kind: "normal", std: 1 } },
    ...linearSpec("timestep_embedder.timestep_embedder.0", TIMESTEP_FEATURES, c.dim),
    ...linearSpec("timestep_embedder.timestep_embedder.2", c.dim, c.dim),
    ...linearSpec("image_embedder.0", c.latentChannels, c.dim),
    ...layerNormSpec("image_embedder.1", c.dim),
    ...linearSpec("text_embedder.0", c.textDim, c.dim),
    ...layerNormSpec("text_embedder.1", c.dim),
  ];
  for (let i = 0; i < c.depth; i++) {
    for (const name of ["to_q", "to_k", "to_v", "to_out"]) specs.push(...linearSpec(`blocks.${i}.${name}`, c.dim, c.dim));
    specs.push(
      ...linearSpec(`blocks.${i}.ff.0`, c.dim, c.ffDim),
      ...linearSpec(`blocks.${i}.ff.2`, c.ffDim, c.dim),
      ...linearSpec(`blocks.${i}.to_gate`, c.dim, 2 * c.dim),
    );
  }
  specs.push(...linearSpec("proj_out", c.dim, c.latentChannels));
  return specs;
}

export type DitParams = Readonly<Record<string, Tensor>>;

const get = (p: DitParams, name: string): Tensor => {
  const t = p[name];
  if (!t) throw new Error(`AAADiT: missing parameter '${name}'`);
  return t;
};

const linear = (p: DitParams, name: string, x: Tensor): Tensor => nn.linear(x, get(p, `${name}.weight`), p[`${name}.bias`]);

/**
 * The sinusoidal timestep features of spec §3: for t [B], [cos(t·f_i), sin(t·f_i)] with
 * f_i = 10000^(−i/128), i = 0..127 (cosines first) → [B, 256].
 */
export function timestepFeatures(timestep: Tensor): Tensor {
  const half = TIMESTEP_FEATURES / 2;
  const [b] = timestep.shape as [number];
  const frequencies = nn.exp(ops.mul(ops.cast(ops.iota([1, half], 1), "f32"), -Math.log(10000) / half));
  const angles = ops.mul(ops.reshape(ops.cast(timestep, "f32"), [b, 1]), frequencies);
  return ops.concat([nn.cos(angles), ops.sin(angles)], 1);
}

/** The seed's AAABlock: gated attention and feed-forward, each on RMSNorm(x + pos). */
export function aaaBlock(p: DitParams, prefix: string, x: Tensor, pos: Tensor, temb: Tensor, heads: number): Tensor {
  const [gateAttn, gateMlp] = nn.chunk(linear(p, `${prefix}.to_gate`, temb), 2, -1) as [Tensor, Tensor];
  const a = nn.rmsNorm(ops.add(x, pos));
  const attended = nn.attention(linear(p, `${prefix}.to_q`, a), linear(p, `${prefix}.to_k`, a), linear(p, `${prefix}.to_v`, a), { heads });
  x = ops.add(x, ops.mul(linear(p, `${prefix}.to_out`, attended), ops.add(gateAttn, 1)));
  const m = nn.rmsNorm(ops.add(x, pos));
  const ff = linear(p, `${prefix}.ff.2`, nn.silu(linear(p, `${prefix}.ff.0`, m)));
  return ops.add(x, ops.mul(ff, ops.add(gateMlp, 1)));
}

export interface DitOptions {
  /** Recompute each block in backward instead of keeping its activations. */
  checkpointBlocks?: boolean;
}

/**
 * AAADiT forward: latents [B, C, h, w], prompt embeddings [B, L, textDim], timesteps [B] →
 * predicted velocity [B, C, h, w].
 */
export function ditForward(p: DitParams, latents: Tensor, promptEmbeds: Tensor, timestep: Tensor, c: DitConfig, options: DitOptions = {}): Tensor {
  const [b, channels, h, w] = latents.shape as [number, number, number, number];
  const textLen = promptEmbeds.shape[1]!;
  // Positions: the learned grid resized to the latent size, then the text embedding for every prompt token.
  const grid = nn.resizeBilinear(get(p, "pos_embedder.image_emb"), h, w);
  const imagePos = ops.permute(ops.reshape(grid, [1, c.dim, h * w]), [0, 2, 1]);
  const textPos = ops.expand(ops.reshape(get(p, "pos_embedder.text_emb"), [1, 1, c.dim]), [1, textLen, c.dim]);
  const pos = ops.concat([imagePos, textPos], 1);
  // Timestep embedding: sinusoid → Linear → SiLU → Linear, one per sample: [B, 1, D].
  const tFeatures = ops.cast(timestepFeatures(timestep), latents.dtype);
  const temb = ops.reshape(
    linear(p, "timestep_embedder.timestep_embedder.2", nn.silu(linear(p, "timestep_embedder.timestep_embedder.0", tFeatures))),
    [b, 1, c.dim],
  );
  const tokens = ops.permute(ops.reshape(latents, [b, channels, h * w]), [0, 2, 1]);
  const image = nn.layerNorm(linear(p, "image_embedder.0", tokens), {
    weight: get(p, "image_embedder.1.weight"),
    bias: get(p, "image_embedder.1.bias"),
  });
  const text = nn.layerNorm(linear(p, "text_embedder.0", promptEmbeds), {
    weight: get(p, "text_embedder.1.weight"),
    bias: get(p, "text_embedder.1.bias"),
  });
  let x = ops.concat([image, text], 1);
  const posB = ops.broadcastTo(pos, [b, h * w + textLen, c.dim]);
  for (let i = 0; i < c.depth; i++) {
    const prefix = `blocks.${i}`;
    if (options.checkpointBlocks)
      x = ops.call(`block${i}`, (xa, pa, ta) => aaaBlock(p, prefix, xa!, pa!, ta!, c.heads), [x, posB, temb], { checkpoint: true });
    else x = aaaBlock(p, prefix, x, posB, temb, c.heads);
  }
  const imageTokens = ops.shrink(x, [
    [0, b],
    [0, h * w],
    [0, c.dim],
  ]);
  const out = linear(p, "proj_out", imageTokens);
  return ops.reshape(ops.permute(out, [0, 2, 1]), [b, channels, h, w]);
}
