// The FLUX.2 VAE (spec §5): images in [−1, 1] ⇄ the 128-channel, 16×-downsampled latents the DiT
// works on, with the 2×2 patchify and BatchNorm-statistics normalisation inside encode/decode.

import { nn, ops, type Tensor } from "../../compiler/index.ts";
import { layerNormSpec, linearSpec, numel, type ParamSpec, type ParamValues } from "../params.ts";

export interface Flux2VaeConfig {
  /** Channels of each encoder down block (the decoder runs them in reverse). */
  blockOutChannels: readonly number[];
  /** ResNet blocks per encoder block; the decoder has one more per block. */
  layersPerBlock: number;
  /** GroupNorm groups of every norm. */
  normGroups: number;
  /** Channels of the posterior mean before the 2×2 patchify (the encoder emits twice as many: mean ‖ logvar). */
  latentChannels: number;
}

/**
 * The reference (FLUX.2 / FLUX.2-klein) configuration: 251 tensors, of which 248 are parameters
 * (84,046,115 values) and 3 are BatchNorm buffers (FLUX2_VAE_BUFFERS).
 */
export const FLUX2_VAE: Flux2VaeConfig = { blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, normGroups: 32, latentChannels: 32 };

export const IMAGE_CHANNELS = 3;
/** Side of the latent patchify: 2×2 pixels of the posterior mean become 4 channels of one latent pixel. */
export const LATENT_PATCH = 2;
/** GroupNorm epsilon of every norm in the VAE. */
const GROUP_NORM_EPS = 1e-6;
/** Epsilon of the BatchNorm-statistics normalisation, hard-coded in the reference (= batch_norm_eps). */
export const BN_EPS = 1e-4;

/** Channels of the latents the DiT sees: the patchified posterior mean (128 for the reference). */
export const flux2LatentChannels = (c: Flux2VaeConfig): number => c.latentChannels * LATENT_PATCH * LATENT_PATCH;
/** Pixels per latent pixel along each side: one halving per down block but the last, then the patchify (16). */
export const flux2Downsample = (c: Flux2VaeConfig): number => 2 ** (c.blockOutChannels.length - 1) * LATENT_PATCH;

// --- parameter spec ------------------------------------------------------------------------------

/** Checkpoint tensors that are PyTorch buffers, not parameters: statistics, never trained. */
export const FLUX2_VAE_BUFFERS: ReadonlySet<string> = new Set(["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]);

/** torch.nn.Conv2d's parameters: weight [out, in, k, k] and bias [out], both U(−1/√fan_in, 1/√fan_in). */
function conv2dSpec(name: string, inChannels: number, outChannels: number, kernel: number): ParamSpec[] {
  const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
  return [
    { name: `${name}.weight`, shape: [outChannels, inChannels, kernel, kernel], init: { kind: "uniform", bound } },
    { name: `${name}.bias`, shape: [outChannels], init: { kind: "uniform", bound } },
  ];
}

function resnetSpec(name: string, inChannels: number, outChannels: number): ParamSpec[] {
  return [
    ...layerNormSpec(`${name}.norm1`, inChannels),
    ...conv2dSpec(`${name}.conv1`, inChannels, outChannels, 3),
    ...layerNormSpec(`${name}.norm2`, outChannels),
    ...conv2dSpec(`${name}.conv2`, outChannels, outChannels, 3),
    ...(inChannels === outChannels ? [] : conv2dSpec(`${name}.conv_shortcut`, inChannels, outChannels, 1)),
  ];
}

function midBlockSpec(name: string, channels: number): ParamSpec[] {
  const attn = `${name}.attentions.0`;
  return [
    ...resnetSpec(`${name}.resnets.0`, channels, channels),
    ...layerNormSpec(`${attn}.group_norm`, channels),
    ...["to_q", "to_k", "to_v", "to_out.0"].flatMap((proj) => linearSpec(`${attn}.${proj}`, channels, channels)),
    ...resnetSpec(`${name}.resnets.1`, channels, channels),
  ];
}

/** Every tensor of the checkpoint, in the file's (module registration) order. */
export function flux2VaeParamSpec(c: Flux2VaeConfig = FLUX2_VAE): ParamSpec[] {
  const blocks = c.blockOutChannels;
  const top = blocks[blocks.length - 1]!;
  const specs: ParamSpec[] = [...conv2dSpec("encoder.conv_in", IMAGE_CHANNELS, blocks[0]!, 3)];
  blocks.forEach((channels, i) => {
    let inChannels = i === 0 ? blocks[0]! : blocks[i - 1]!;
    for (let j = 0; j < c.layersPerBlock; j++, inChannels = channels)
      specs.push(...resnetSpec(`encoder.down_blocks.${i}.resnets.${j}`, inChannels, channels));
    if (i < blocks.length - 1) specs.push(...conv2dSpec(`encoder.down_blocks.${i}.downsamplers.0.conv`, channels, channels, 3));
  });
  specs.push(
    ...midBlockSpec("encoder.mid_block", top),
    ...layerNormSpec("encoder.conv_norm_out", top),
    ...conv2dSpec("encoder.conv_out", top, 2 * c.latentChannels, 3),
    ...conv2dSpec("quant_conv", 2 * c.latentChannels, 2 * c.latentChannels, 1),
    ...conv2dSpec("post_quant_conv", c.latentChannels, c.latentChannels, 1),
    ...conv2dSpec("decoder.conv_in", c.latentChannels, top, 3),
    ...midBlockSpec("decoder.mid_block", top),
  );
  const reversed = [...blocks].reverse();
  let inChannels = top;
  reversed.forEach((channels, i) => {
    for (let j = 0; j <= c.layersPerBlock; j++, inChannels = channels)
      specs.push(...resnetSpec(`decoder.up_blocks.${i}.resnets.${j}`, inChannels, channels));
    if (i < reversed.length - 1) specs.push(...conv2dSpec(`decoder.up_blocks.${i}.upsamplers.0.conv`, channels, channels, 3));
  });
  const latent = flux2LatentChannels(c);
  specs.push(
    ...layerNormSpec("decoder.conv_norm_out", blocks[0]!),
    ...conv2dSpec("decoder.conv_out", blocks[0]!, IMAGE_CHANNELS, 3),
    // BatchNorm2d(affine=False) buffers: only the running statistics are used; a fresh one is N(0, 1).
    { name: "bn.running_mean", shape: [latent], init: { kind: "const", value: 0 } },
    { name: "bn.running_var", shape: [latent], init: { kind: "const", value: 1 } },
    // Kept so the key set equals the checkpoint's (DiffSynth's hash counts it); the forward ignores it.
    { name: "bn.num_batches_tracked", shape: [], init: { kind: "const", value: 0 } },
  );
  return specs;
}

// --- forward -------------------------------------------------------------------------------------

export type Flux2VaeParams = Readonly<Record<string, Tensor>>;

const get = (p: Flux2VaeParams, name: string): Tensor => {
  const t = p[name];
  if (!t) throw new Error(`FLUX.2 VAE: missing parameter '${name}'`);
  return t;
};

const conv = (p: Flux2VaeParams, name: string, x: Tensor, padding: number | readonly [number, number, number, number] = 0, stride = 1): Tensor =>
  nn.conv2d(x, get(p, `${name}.weight`), get(p, `${name}.bias`), { stride, padding });

const groupNorm = (p: Flux2VaeParams, name: string, x: Tensor, groups: number): Tensor =>
  nn.groupNorm(x, groups, { weight: get(p, `${name}.weight`), bias: get(p, `${name}.bias`), eps: GROUP_NORM_EPS });

/** ResnetBlock2D without time embedding: skip(x) + conv2(SiLU(GN2(conv1(SiLU(GN1(x)))))). */
function resnet(p: Flux2VaeParams, name: string, x: Tensor, groups: number): Tensor {
  const h = conv(p, `${name}.conv1`, nn.silu(groupNorm(p, `${name}.norm1`, x, groups)), 1);
  const out = conv(p, `${name}.conv2`, nn.silu(groupNorm(p, `${name}.norm2`, h, groups)), 1);
  const skip = p[`${name}.conv_shortcut.weight`] ? conv(p, `${name}.conv_shortcut`, x) : x;
  return ops.add(skip, out);
}

/** Single-head self-attention over the H·W pixels, residual on the un-normed input. */
function midAttention(p: Flux2VaeParams, name: string, x: Tensor, groups: number): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const tokens = ops.permute(ops.reshape(groupNorm(p, `${name}.group_norm`, x, groups), [b, c, h * w]), [0, 2, 1]);
  const project = (proj: string, t: Tensor): Tensor => nn.linear(t, get(p, `${name}.${proj}.weight`), get(p, `${name}.${proj}.bias`));
  const attended = nn.attention(project("to_q", tokens), project("to_k", tokens), project("to_v", tokens), { heads: 1 });
  const out = ops.reshape(ops.permute(project("to_out.0", attended), [0, 2, 1]), [b, c, h, w]);
  return ops.add(out, x);
}

function midBlock(p: Flux2VaeParams, name: string, x: Tensor, groups: number): Tensor {
  const h = resnet(p, `${name}.resnets.0`, x, groups);
  return resnet(p, `${name}.resnets.1`, midAttention(p, `${name}.attentions.0`, h, groups), groups);
}

/** The encoder, image [B, 3, H, W] → mean ‖ logvar [B, 2·latentChannels, H/8, W/8] (for the reference). */
export function flux2Encoder(p: Flux2VaeParams, image: Tensor, c: Flux2VaeConfig = FLUX2_VAE): Tensor {
  const g = c.normGroups;
  let h = conv(p, "encoder.conv_in", image, 1);
  c.blockOutChannels.forEach((_, i) => {
    for (let j = 0; j < c.layersPerBlock; j++) h = resnet(p, `encoder.down_blocks.${i}.resnets.${j}`, h, g);
    // Downsample2D with padding=0: pad right and bottom by one pixel, then a 3×3 stride-2 conv.
    if (i < c.blockOutChannels.length - 1) h = conv(p, `encoder.down_blocks.${i}.downsamplers.0.conv`, h, [0, 1, 0, 1], 2);
  });
  h = midBlock(p, "encoder.mid_block", h, g);
  return conv(p, "encoder.conv_out", nn.silu(groupNorm(p, "encoder.conv_norm_out", h, g)), 1);
}

/** The decoder, [B, latentChannels, h, w] → image [B, 3, 8h, 8w] (for the reference). */
export function flux2Decoder(p: Flux2VaeParams, z: Tensor, c: Flux2VaeConfig = FLUX2_VAE): Tensor {
  const g = c.normGroups;
  let h = midBlock(p, "decoder.mid_block", conv(p, "decoder.conv_in", z, 1), g);
  const blocks = c.blockOutChannels.length;
  for (let i = 0; i < blocks; i++) {
    for (let j = 0; j <= c.layersPerBlock; j++) h = resnet(p, `decoder.up_blocks.${i}.resnets.${j}`, h, g);
    if (i < blocks - 1) h = conv(p, `decoder.up_blocks.${i}.upsamplers.0.conv`, nn.upsampleNearest2x(h), 1);
  }
  return conv(p, "decoder.conv_out", nn.silu(groupNorm(p, "decoder.conv_norm_out", h, g)), 1);
}

/**
 * "B C (H P) (W Q) -> B (C P Q) H W": channel c·p² + py·p + px of latent pixel (i, j) is
 * channel c of pixel (p·i + py, p·j + px). Shared with the pixel VAE, which uses the same order.
 */
export function patchify(x: Tensor, patch: number): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  if (h % patch !== 0 || w % patch !== 0) throw new Error(`patchify: image ${h}×${w} is not divisible into ${patch}×${patch} patches`);
  const split = ops.reshape(x, [b, c, h / patch, patch, w / patch, patch]);
  return ops.reshape(ops.permute(split, [0, 1, 3, 5, 2, 4]), [b, c * patch * patch, h / patch, w / patch]);
}

/** The inverse of patchify: [B, C·p², h, w] → [B, C, p·h, p·w]. */
export function unpatchify(x: Tensor, patch: number): Tensor {
  const [b, cp, h, w] = x.shape as [number, number, number, number];
  if (cp % (patch * patch) !== 0) throw new Error(`unpatchify: ${cp} channels are not a multiple of ${patch}×${patch}`);
  const c = cp / (patch * patch);
  const split = ops.reshape(x, [b, c, patch, patch, h, w]);
  return ops.reshape(ops.permute(split, [0, 1, 4, 2, 5, 3]), [b, c, h * patch, w * patch]);
}

/** √(running_var + 1e-4) and running_mean as [1, C, 1, 1] for broadcasting over latents. */
function bnStatistics(p: Flux2VaeParams, channels: number): { mean: Tensor; std: Tensor } {
  const mean = ops.reshape(get(p, "bn.running_mean"), [1, channels, 1, 1]);
  const std = ops.sqrt(ops.add(ops.reshape(get(p, "bn.running_var"), [1, channels, 1, 1]), BN_EPS));
  return { mean, std };
}

/**
 * encode (spec §5.3): image [B, 3, H, W] in [−1, 1] → latents [B, 128, H/16, W/16]. Deterministic:
 * the posterior mean, patchified 2×2, normalised by the BatchNorm running statistics.
 */
export function flux2Encode(p: Flux2VaeParams, image: Tensor, c: Flux2VaeConfig = FLUX2_VAE): Tensor {
  const moments = conv(p, "quant_conv", flux2Encoder(p, image, c));
  // Patchify keeps the channel blocks in order, so the first latentChannels·4 channels of the
  // patchified moments are exactly the patchified mean; slicing first is the same and cheaper.
  const [b, , h, w] = moments.shape as [number, number, number, number];
  const mean = ops.shrink(moments, [
    [0, b],
    [0, c.latentChannels],
    [0, h],
    [0, w],
  ]);
  const patched = patchify(mean, LATENT_PATCH);
  const stats = bnStatistics(p, flux2LatentChannels(c));
  return nn.div(nn.sub(patched, stats.mean), stats.std);
}

/** decode (spec §5.4): latents [B, 128, h, w] → image [B, 3, 16h, 16w], roughly in [−1, 1], not clamped. */
export function flux2Decode(p: Flux2VaeParams, latents: Tensor, c: Flux2VaeConfig = FLUX2_VAE): Tensor {
  const stats = bnStatistics(p, flux2LatentChannels(c));
  const z = unpatchify(ops.add(ops.mul(latents, stats.std), stats.mean), LATENT_PATCH);
  return flux2Decoder(p, conv(p, "post_quant_conv", z), c);
}
