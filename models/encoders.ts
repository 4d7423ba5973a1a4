// The two interfaces the pipeline programs against: a text encoder (prompt ids → embeddings the DiT
// attends to) and a VAE (image ⇄ latents), with the reference's and the embedded default's choices.

import type { Tensor } from "../compiler/index.ts";
import type { ParamSpec, ParamValues } from "./params.ts";
import { encodePrompt, qwen3ParamSpec, QWEN3_0_6B, type Qwen3Config } from "./text/qwen3.ts";
import { encodeTiny, tinyTextInputs, tinyTextParamSpec, TINY_TEXT, type TinyTextConfig } from "./text/tiny.ts";
import { bundledTokenizer, MAX_PROMPT_TOKENS, tokenizePrompt, type TextTokenizer } from "./text/tokenizer.ts";
import { flux2Decode, flux2Downsample, flux2Encode, flux2LatentChannels, flux2VaeParamSpec, FLUX2_VAE, type Flux2VaeConfig } from "./vae/flux2.ts";
import { pixelDecode, pixelEncode, pixelLatentChannels, PIXEL_VAE, type PixelVaeConfig } from "./vae/pixel.ts";
import { fitPcaRefine } from "./vae/pca-refine.ts";
import { fitPcaVae, pcaDecode, pcaEncode, pcaVaeParamSpec, unfittedPcaVae, PCA_VAE, type PcaVaeConfig } from "./vae/pca.ts";

/** Parameters as graph tensors, keyed by checkpoint name (the models' param specs). */
export type ModelParams = Readonly<Record<string, Tensor>>;

/** One prompt as a text encoder takes it. */
export interface PromptIds {
  /** The encoder's ids, of its idsShape: Qwen3 token ids, or the tiny encoder's hashed word features. */
  ids: Int32Array;
  /** [maxLength]: 1 for real tokens (words), 0 for padding. */
  mask: Int32Array;
}

export interface TextEncoder {
  readonly name: "qwen3" | "tiny";
  readonly paramSpec: readonly ParamSpec[];
  /** Features per token of encode's output: the DiT's textDim. */
  readonly outputDim: number;
  /** Tokens per prompt (right-padded): the sequence length encode expects. */
  readonly maxLength: number;
  /** The shape of one prompt's ids: [maxLength] token ids (Qwen3), [maxLength, K] hashed word features (tiny). */
  readonly idsShape: readonly number[];
  /**
   * Host side, before the graph: a prompt → its ids and mask. Qwen3 applies the chat template and its
   * BPE tokenizer (`tokenizer`, default the bundled one); the tiny encoder hashes words and needs none.
   */
  promptIds(prompt: string, tokenizer?: TextTokenizer): PromptIds;
  /** ids [B, ...idsShape] i32 (from promptIds) and mask [B, maxLength] (1 real, 0 pad) → [B, maxLength, outputDim]. */
  encode(params: ModelParams, ids: Tensor, mask: Tensor): Tensor;
}

export interface Vae {
  readonly name: "flux2" | "pixel" | "pca";
  readonly paramSpec: readonly ParamSpec[];
  readonly latentChannels: number;
  /** Image pixels per latent pixel along each side. */
  readonly downsample: number;
  /** image [B, 3, H, W] in [−1, 1] → latents [B, latentChannels, H/downsample, W/downsample]. */
  encode(params: ModelParams, image: Tensor): Tensor;
  /** The inverse direction: latents → image [B, 3, H, W], roughly in [−1, 1] and not clamped. */
  decode(params: ModelParams, latents: Tensor): Tensor;
  /**
   * A VAE whose weights are fitted to the training images (each [3, H, W] in [−1, 1]) when training
   * starts, in closed form, and saved beside every checkpoint (step-N.vae.safetensors) for sampling.
   */
  readonly fit?: (images: readonly Float32Array[], height: number, width: number) => ParamValues;
  /** Such a VAE's weights without data to fit (sampling from untrained weights). */
  readonly unfitted?: () => ParamValues;
}

export type TextEncoderChoice = { kind: "qwen3"; config?: Partial<Qwen3Config> } | { kind: "tiny"; config?: Partial<TinyTextConfig> };

export function textEncoder(choice: TextEncoderChoice): TextEncoder {
  switch (choice.kind) {
    case "qwen3": {
      const config = { ...QWEN3_0_6B, ...choice.config };
      return {
        name: "qwen3",
        paramSpec: qwen3ParamSpec(config),
        outputDim: config.hiddenSize,
        maxLength: MAX_PROMPT_TOKENS,
        idsShape: [MAX_PROMPT_TOKENS],
        promptIds: (prompt, tokenizer = bundledTokenizer()) => {
          const tokens = tokenizePrompt(prompt, MAX_PROMPT_TOKENS, tokenizer);
          return { ids: tokens.ids, mask: Int32Array.from(tokens.mask) };
        },
        encode: (params, ids, mask) => encodePrompt(params, ids, mask, config),
      };
    }
    case "tiny": {
      const config = { ...TINY_TEXT, ...choice.config };
      return {
        name: "tiny",
        paramSpec: tinyTextParamSpec(config),
        outputDim: config.dim,
        maxLength: config.maxLength,
        idsShape: [config.maxLength, config.featuresPerWord],
        promptIds: (prompt) => tinyTextInputs(prompt, config),
        encode: (params, ids, mask) => encodeTiny(params, ids, mask, config),
      };
    }
    default:
      return choice satisfies never;
  }
}

export type VaeChoice =
  | { kind: "flux2"; config?: Partial<Flux2VaeConfig> }
  | { kind: "pixel"; config?: Partial<PixelVaeConfig> }
  | { kind: "pca"; config?: Partial<PcaVaeConfig> };

export function vae(choice: VaeChoice): Vae {
  switch (choice.kind) {
    case "flux2": {
      const config = { ...FLUX2_VAE, ...choice.config };
      return {
        name: "flux2",
        paramSpec: flux2VaeParamSpec(config),
        latentChannels: flux2LatentChannels(config),
        downsample: flux2Downsample(config),
        encode: (params, image) => flux2Encode(params, image, config),
        decode: (params, latents) => flux2Decode(params, latents, config),
      };
    }
    case "pixel": {
      const config = { ...PIXEL_VAE, ...choice.config };
      return {
        name: "pixel",
        paramSpec: [],
        latentChannels: pixelLatentChannels(config),
        downsample: config.patchSize,
        encode: (_params, image) => pixelEncode(image, config),
        decode: (_params, latents) => pixelDecode(latents, config),
      };
    }
    case "pca": {
      const config = { ...PCA_VAE, ...choice.config };
      return {
        name: "pca",
        paramSpec: pcaVaeParamSpec(config),
        latentChannels: config.channels,
        downsample: config.patchSize,
        encode: (params, image) => pcaEncode(params, image, config),
        decode: (params, latents) => pcaDecode(params, latents, config),
        fit: (images, height, width) => {
          const projection = fitPcaVae(images, height, width, config);
          const refine = config.refine;
          return refine ? new Map([...projection, ...fitPcaRefine(images, height, width, projection, { ...config, refine })]) : projection;
        },
        unfitted: () => unfittedPcaVae(pcaVaeParamSpec(config)),
      };
    }
    default:
      return choice satisfies never;
  }
}
