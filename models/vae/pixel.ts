// The weightless "pixel" VAE of the embedded default: latents are the image's p×p patches stacked
// as channels (the FLUX.2 patchify order), scaled to about unit variance; decode is the exact inverse.

import { ops, type Tensor } from "../../compiler/index.ts";
import { IMAGE_CHANNELS, patchify, unpatchify } from "./flux2.ts";

export interface PixelVaeConfig {
  /** Side of a patch: an H×W image becomes a (H/p)×(W/p) grid of 3·p² channels. */
  patchSize: number;
  /** latents = (pixels − shift) · scale. */
  shift: number;
  scale: number;
}

/**
 * p = 4: a 64×64 image is a 16×16 grid of 48 channels. Scale 2 and shift 0: the gen-1 Pokémon
 * renders at 64×64 have pixel mean 0.64 and standard deviation 0.55 in [−1, 1] (white backgrounds),
 * so latents have std ≈ 1.1; a power-of-two scale and no shift keep decode(encode(x)) == x exactly.
 */
export const PIXEL_VAE: PixelVaeConfig = { patchSize: 4, shift: 0, scale: 2 };

export const pixelLatentChannels = (c: PixelVaeConfig): number => IMAGE_CHANNELS * c.patchSize * c.patchSize;

/** image [B, 3, H, W] in [−1, 1] → latents [B, 3p², H/p, W/p]; channel c·p² + py·p + px. */
export function pixelEncode(image: Tensor, c: PixelVaeConfig = PIXEL_VAE): Tensor {
  if (image.shape.length !== 4 || image.shape[1] !== IMAGE_CHANNELS)
    throw new Error(`pixel VAE encode: expected an image [B, ${IMAGE_CHANNELS}, H, W], found [${image.shape.join(", ")}]`);
  const shifted = c.shift === 0 ? image : ops.add(image, -c.shift);
  return ops.mul(patchify(shifted, c.patchSize), c.scale);
}

/** latents [B, 3p², h, w] → image [B, 3, p·h, p·w]. */
export function pixelDecode(latents: Tensor, c: PixelVaeConfig = PIXEL_VAE): Tensor {
  const channels = pixelLatentChannels(c);
  if (latents.shape.length !== 4 || latents.shape[1] !== channels)
    throw new Error(`pixel VAE decode: expected latents [B, ${channels}, h, w] for patch size ${c.patchSize}, found [${latents.shape.join(", ")}]`);
  const image = unpatchify(ops.mul(latents, 1 / c.scale), c.patchSize);
  return c.shift === 0 ? image : ops.add(image, c.shift);
}
