// The Qwen3-0.6B text encoder (spec §6): token ids and mask of a templated prompt → the last hidden
// state after the final RMSNorm, the `prompt_embeds` the DiT attends to.

import { nn, ops, type Tensor } from "../../compiler/index.ts";
import type { ParamSpec } from "../params.ts";

export interface Qwen3Config {
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Grouped-query attention: query head h reads KV head ⌊h·kv/heads⌋. */
  numKeyValueHeads: number;
  /** Not hiddenSize/heads in Qwen3: 128 with hidden 1024 and 16 heads. */
  headDim: number;
  intermediateSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  vocabSize: number;
}

/** Qwen3-0.6B (spec §6.1): 310 tensors, 596,049,920 parameters without lm_head (440,467,456 outside the embedding). */
export const QWEN3_0_6B: Qwen3Config = {
  hiddenSize: 1024,
  numHiddenLayers: 28,
  numAttentionHeads: 16,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 3072,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  vocabSize: 151936,
};

export function qwen3ParamSpec(c: Qwen3Config = QWEN3_0_6B): ParamSpec[] {
  // HF's _init_weights: N(0, 0.02) for every projection and the embedding, ones for the norms.
  const normal = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: { kind: "normal", std: 0.02 } });
  const ones = (name: string, dim: number): ParamSpec => ({ name, shape: [dim], init: { kind: "const", value: 1 } });
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const specs: ParamSpec[] = [normal("model.embed_tokens.weight", [c.vocabSize, c.hiddenSize])];
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = `model.layers.${i}`;
    specs.push(
      ones(`${l}.input_layernorm.weight`, c.hiddenSize),
      normal(`${l}.self_attn.q_proj.weight`, [q, c.hiddenSize]),
      normal(`${l}.self_attn.k_proj.weight`, [kv, c.hiddenSize]),
      normal(`${l}.self_attn.v_proj.weight`, [kv, c.hiddenSize]),
      normal(`${l}.self_attn.o_proj.weight`, [c.hiddenSize, q]),
      ones(`${l}.self_attn.q_norm.weight`, c.headDim),
      ones(`${l}.self_attn.k_norm.weight`, c.headDim),
      ones(`${l}.post_attention_layernorm.weight`, c.hiddenSize),
      normal(`${l}.mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]),
      normal(`${l}.mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]),
      normal(`${l}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]),
    );
  }
  specs.push(ones("model.norm.weight", c.hiddenSize));
  return specs;
}

export type Qwen3Params = Readonly<Record<string, Tensor>>;

const get = (p: Qwen3Params, name: string): Tensor => {
  const t = p[name];
  if (!t) throw new Error(`Qwen3: missing parameter '${name}'`);
  return t;
};

// --- rotary position embedding -------------------------------------------------------------------

/**
 * cos and sin of the rotary angles, each [S, headDim], built in the graph from iota (a constant
 * subgraph; no table is passed in): φ[p, j] = p·θ^(−2j/D) for j < D/2, repeated for the second
 * half (HF's emb = cat(freqs, freqs)). Computed in f32; the reference rounds cos/sin to bf16.
 */
export function ropeTables(seqLen: number, headDim: number, theta: number): { cos: Tensor; sin: Tensor } {
  const half = headDim / 2;
  if (!Number.isInteger(half)) throw new Error(`Qwen3 RoPE: head_dim ${headDim} is odd`);
  const position = ops.cast(ops.iota([seqLen, half], 0), "f32");
  const pair = ops.cast(ops.iota([seqLen, half], 1), "f32");
  const inverseFrequency = ops.exp2(ops.mul(pair, (-2 * Math.log2(theta)) / headDim));
  const angles = ops.mul(position, inverseFrequency);
  const emb = ops.concat([angles, angles], 1);
  return { cos: nn.cos(emb), sin: ops.sin(emb) };
}

/**
 * RoPE on x [B, S, H, D] at positions 0..S−1 (split halves): x·cos + rotate_half(x)·sin with
 * rotate_half([x1, x2]) = [−x2, x1].
 */
export function applyRope(x: Tensor, theta: number): Tensor {
  const [, s, , d] = x.shape as [number, number, number, number];
  const { cos, sin } = ropeTables(s, d, theta);
  const [x1, x2] = nn.chunk(x, 2, -1) as [Tensor, Tensor];
  const rotated = ops.concat([ops.neg(x2), x1], -1);
  const table = (t: Tensor): Tensor => ops.reshape(t, [1, s, 1, d]);
  return ops.add(ops.mul(x, table(cos)), ops.mul(rotated, table(sin)));
}

// --- forward -------------------------------------------------------------------------------------

function selfAttention(p: Qwen3Params, prefix: string, a: Tensor, mask: Tensor, c: Qwen3Config): Tensor {
  const [b, s] = a.shape as [number, number];
  const w = (name: string): Tensor => get(p, `${prefix}.${name}.weight`);
  // Per-head RMSNorm over the head vector, then RoPE, then back to "b s (n d)".
  const headsOf = (t: Tensor, heads: number, norm: string | undefined): Tensor => {
    const perHead = ops.reshape(t, [b, s, heads, c.headDim]);
    const normed = norm ? applyRope(nn.rmsNorm(perHead, { weight: w(norm), eps: c.rmsNormEps }), c.ropeTheta) : perHead;
    return ops.reshape(normed, [b, s, heads * c.headDim]);
  };
  const q = headsOf(nn.linear(a, w("q_proj")), c.numAttentionHeads, "q_norm");
  const k = headsOf(nn.linear(a, w("k_proj")), c.numKeyValueHeads, "k_norm");
  const v = headsOf(nn.linear(a, w("v_proj")), c.numKeyValueHeads, undefined);
  // Spec §6.3: query i attends key j iff j ≤ i and mask[j] = 1 (causal AND key padding).
  const attended = nn.attention(q, k, v, { heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, keyMask: mask, causal: true });
  return nn.linear(attended, w("o_proj"));
}

function decoderLayer(p: Qwen3Params, prefix: string, h: Tensor, mask: Tensor, c: Qwen3Config): Tensor {
  const norm = (name: string, x: Tensor): Tensor => nn.rmsNorm(x, { weight: get(p, `${prefix}.${name}.weight`), eps: c.rmsNormEps });
  h = ops.add(h, selfAttention(p, `${prefix}.self_attn`, norm("input_layernorm", h), mask, c));
  const m = norm("post_attention_layernorm", h);
  const w = (name: string): Tensor => get(p, `${prefix}.mlp.${name}.weight`);
  return ops.add(h, nn.linear(ops.mul(nn.silu(nn.linear(m, w("gate_proj"))), nn.linear(m, w("up_proj"))), w("down_proj")));
}

/**
 * ids [B, S] (i32) and mask [B, S] (1 real, 0 pad; right padding) → last_hidden_state [B, S, hidden]
 * after the final norm (= hidden_states[−1], spec §6.4). Pad rows are computed as the reference
 * computes them: each attends the real tokens before it, not itself.
 */
export function encodePrompt(p: Qwen3Params, ids: Tensor, mask: Tensor, c: Qwen3Config = QWEN3_0_6B): Tensor {
  if (ids.shape.length !== 2 || ids.dtype !== "i32")
    throw new Error(`Qwen3 encodePrompt: expected ids i32 [B, S], found ${ids.dtype} [${ids.shape.join(", ")}]`);
  if (mask.shape.length !== 2 || mask.shape[0] !== ids.shape[0] || mask.shape[1] !== ids.shape[1])
    throw new Error(`Qwen3 encodePrompt: mask [${mask.shape.join(", ")}] does not match ids [${ids.shape.join(", ")}]`);
  let h = nn.embedding(ids, get(p, "model.embed_tokens.weight"));
  for (let i = 0; i < c.numHiddenLayers; i++) h = decoderLayer(p, `model.layers.${i}`, h, mask, c);
  return nn.rmsNorm(h, { weight: get(p, "model.norm.weight"), eps: c.rmsNormEps });
}
