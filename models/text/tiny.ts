// The small text encoder of the embedded default, trained jointly with the DiT: each word of the
// prompt is the scaled sum of its hashed sub-word features' rows (models/text/words.ts), plus learned
// positions, then a few pre-norm bidirectional transformer layers.

import { nn, ops, type Tensor } from "../../compiler/index.ts";
import { layerNormSpec, linearSpec, type ParamSpec } from "../params.ts";
import { MAX_PROMPT_TOKENS } from "./tokenizer.ts";
import { promptFeatures } from "./words.ts";

export interface TinyTextConfig {
  /** Rows of the hashed feature table (row 0 is the empty feature's, never read; see words.ts). */
  tableSize: number;
  /** K: hashed features per word, the whole word and its first K − 1 trigrams. */
  featuresPerWord: number;
  dim: number;
  layers: number;
  heads: number;
  ffDim: number;
  /** Longest sequence: rows of the learned position table. */
  maxLength: number;
}

/**
 * 2 layers at width 256, 4096 rows: about 2.7M parameters, small next to the DiT. 16 features per
 * word cover words of up to 15 letters whole (a word of n letters has n trigrams).
 */
export const TINY_TEXT: TinyTextConfig = {
  tableSize: 4096,
  featuresPerWord: 16,
  dim: 256,
  layers: 2,
  heads: 4,
  ffDim: 1024,
  maxLength: MAX_PROMPT_TOKENS,
};

export function tinyTextParamSpec(c: TinyTextConfig = TINY_TEXT): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: "token_embedding.weight", shape: [c.tableSize, c.dim], init: { kind: "normal", std: 0.02 } },
    { name: "position_embedding", shape: [c.maxLength, c.dim], init: { kind: "normal", std: 0.02 } },
  ];
  for (let i = 0; i < c.layers; i++) {
    const l = `layers.${i}`;
    specs.push(...layerNormSpec(`${l}.norm1`, c.dim));
    for (const proj of ["to_q", "to_k", "to_v", "to_out"]) specs.push(...linearSpec(`${l}.attn.${proj}`, c.dim, c.dim));
    specs.push(...layerNormSpec(`${l}.norm2`, c.dim), ...linearSpec(`${l}.ff.0`, c.dim, c.ffDim), ...linearSpec(`${l}.ff.2`, c.ffDim, c.dim));
  }
  specs.push(...layerNormSpec("norm_out", c.dim));
  return specs;
}

/** A prompt → the features [maxLength, K] and mask [maxLength] `encodeTiny` takes (host side, before the graph). */
export function tinyTextInputs(prompt: string, c: TinyTextConfig = TINY_TEXT): { ids: Int32Array; mask: Int32Array } {
  const { features, mask } = promptFeatures(prompt, c);
  return { ids: features, mask };
}

export type TinyTextParams = Readonly<Record<string, Tensor>>;

const get = (p: TinyTextParams, name: string): Tensor => {
  const t = p[name];
  if (!t) throw new Error(`tiny text encoder: missing parameter '${name}'`);
  return t;
};

const linear = (p: TinyTextParams, name: string, x: Tensor): Tensor => nn.linear(x, get(p, `${name}.weight`), get(p, `${name}.bias`));
const layerNorm = (p: TinyTextParams, name: string, x: Tensor): Tensor =>
  nn.layerNorm(x, { weight: get(p, `${name}.weight`), bias: get(p, `${name}.bias`) });

/**
 * features [B, L, K] (i32 table rows, 0 for an empty slot; from tinyTextInputs) and mask [B, L]
 * (1 real, 0 pad) → [B, L, dim]. A word is the sum of its n features' rows over √n, so at
 * initialisation a word has one row's scale whatever its length, next to the positions'. Every query,
 * pad rows included, attends the real words only; pad rows are still produced, since the DiT reads
 * all L rows as the reference's does.
 */
export function encodeTiny(p: TinyTextParams, features: Tensor, mask: Tensor, c: TinyTextConfig = TINY_TEXT): Tensor {
  if (features.shape.length !== 3 || features.dtype !== "i32")
    throw new Error(`tiny text encoder: expected features i32 [B, L, K], found ${features.dtype} [${features.shape.join(", ")}]`);
  const [b, l, k] = features.shape as [number, number, number];
  if (l > c.maxLength) throw new Error(`tiny text encoder: ${l} words exceed the ${c.maxLength} learned positions`);
  const table = get(p, "token_embedding.weight");
  const present = ops.cast(ops.cmplt(0, features), table.dtype);
  const scale = ops.mul(present, nn.rsqrt(ops.maximum(ops.sum(present, 2, true), 1)));
  const words = ops.sum(ops.mul(nn.embedding(features, table), ops.reshape(scale, [b, l, k, 1])), 2);
  const positions = ops.shrink(get(p, "position_embedding"), [
    [0, l],
    [0, c.dim],
  ]);
  let x = ops.add(words, ops.reshape(positions, [1, l, c.dim]));
  for (let i = 0; i < c.layers; i++) {
    const prefix = `layers.${i}`;
    const a = layerNorm(p, `${prefix}.norm1`, x);
    const attended = nn.attention(linear(p, `${prefix}.attn.to_q`, a), linear(p, `${prefix}.attn.to_k`, a), linear(p, `${prefix}.attn.to_v`, a), {
      heads: c.heads,
      keyMask: mask,
    });
    x = ops.add(x, linear(p, `${prefix}.attn.to_out`, attended));
    const m = layerNorm(p, `${prefix}.norm2`, x);
    x = ops.add(x, linear(p, `${prefix}.ff.2`, nn.gelu(linear(p, `${prefix}.ff.0`, m))));
  }
  return layerNorm(p, "norm_out", x);
}
