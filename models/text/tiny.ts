// The small text encoder of the embedded default, trained jointly with the DiT: Qwen3 token ids
// hashed into a small table, learned positions, a few pre-norm bidirectional transformer layers.

import { nn, ops, type Tensor } from "../../compiler/index.ts";
import { layerNormSpec, linearSpec, type ParamSpec } from "../params.ts";
import { hashTokenIds, MAX_PROMPT_TOKENS } from "./tokenizer.ts";

export interface TinyTextConfig {
  /** Slots of the hashed token table (slot 0 is the pad token's; see hashTokenIds). */
  tableSize: number;
  dim: number;
  layers: number;
  heads: number;
  ffDim: number;
  /** Longest sequence: rows of the learned position table. */
  maxLength: number;
}

/** 2 layers at width 256, 4096 slots: about 2.7M parameters, small next to the DiT. */
export const TINY_TEXT: TinyTextConfig = { tableSize: 4096, dim: 256, layers: 2, heads: 4, ffDim: 1024, maxLength: MAX_PROMPT_TOKENS };

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

/** Tokenizer ids → the table slots `encodeTiny` takes (host side, before the graph). */
export const tinyTextInputIds = (ids: ArrayLike<number>, c: TinyTextConfig = TINY_TEXT): Int32Array => hashTokenIds(ids, c.tableSize);

export type TinyTextParams = Readonly<Record<string, Tensor>>;

const get = (p: TinyTextParams, name: string): Tensor => {
  const t = p[name];
  if (!t) throw new Error(`tiny text encoder: missing parameter '${name}'`);
  return t;
};

const linear = (p: TinyTextParams, name: string, x: Tensor): Tensor => nn.linear(x, get(p, `${name}.weight`), get(p, `${name}.bias`));
const layerNorm = (p: TinyTextParams, name: string, x: Tensor): Tensor => nn.layerNorm(x, { weight: get(p, `${name}.weight`), bias: get(p, `${name}.bias`) });

/**
 * slots [B, L] (i32, from tinyTextInputIds) and mask [B, L] (1 real, 0 pad) → [B, L, dim]. Every
 * query, pad rows included, attends the real tokens only; pad rows are still produced, since the
 * DiT reads all L rows as the reference's does.
 */
export function encodeTiny(p: TinyTextParams, slots: Tensor, mask: Tensor, c: TinyTextConfig = TINY_TEXT): Tensor {
  if (slots.shape.length !== 2 || slots.dtype !== "i32") throw new Error(`tiny text encoder: expected slots i32 [B, L], found ${slots.dtype} [${slots.shape.join(", ")}]`);
  const l = slots.shape[1]!;
  if (l > c.maxLength) throw new Error(`tiny text encoder: ${l} tokens exceed the ${c.maxLength} learned positions`);
  const positions = ops.shrink(get(p, "position_embedding"), [[0, l], [0, c.dim]]);
  let x = ops.add(nn.embedding(slots, get(p, "token_embedding.weight")), ops.reshape(positions, [1, l, c.dim]));
  for (let i = 0; i < c.layers; i++) {
    const prefix = `layers.${i}`;
    const a = layerNorm(p, `${prefix}.norm1`, x);
    const attended = nn.attention(linear(p, `${prefix}.attn.to_q`, a), linear(p, `${prefix}.attn.to_k`, a), linear(p, `${prefix}.attn.to_v`, a), { heads: c.heads, keyMask: mask });
    x = ops.add(x, linear(p, `${prefix}.attn.to_out`, attended));
    const m = layerNorm(p, `${prefix}.norm2`, x);
    x = ops.add(x, linear(p, `${prefix}.ff.2`, nn.gelu(linear(p, `${prefix}.ff.0`, m))));
  }
  return layerNorm(p, "norm_out", x);
}
