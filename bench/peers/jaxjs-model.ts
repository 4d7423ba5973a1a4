// The tiny DiT (bench/tiny-dit.ts) and its building blocks written in jax-js, the way a jax-js user
// would: pure functions traced once by `jit`, gradients by `valueAndGrad`, AdamW as a jitted update.
//
// jax-js uses move semantics: every function consumes the Arrays passed to it, and `.ref` takes an
// extra reference for each further use. Every function in this file follows that rule.

import { blockUntilReady, jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { type AaaDitConfig, adamW, headDim, imageTokens, sequenceLength } from "../tiny-dit.ts";

export type JaxParams = Record<string, np.Array>;

function param(params: JaxParams, name: string): np.Array {
  const value = params[name];
  if (value === undefined) throw new Error(`jax-js DiT: expected parameter '${name}', found none`);
  return value.ref;
}

/** y = x·Wᵀ + b over a 2-D x, W in PyTorch's [out, in] layout (jax-js multiplies by the transposed W faster than by a pre-transposed one: 42 against 31 GFLOP/s, measured). */
export function linear(x: np.Array, params: JaxParams, name: string): np.Array {
  return np.matmul(x, np.transpose(param(params, `${name}.weight`))).add(param(params, `${name}.bias`));
}

export function layerNorm(x: np.Array, weight: np.Array, bias: np.Array, eps: number): np.Array {
  const centred = x.ref.sub(x.mean(-1, { keepdims: true }));
  const variance = np.square(centred.ref).mean(-1, { keepdims: true });
  return centred
    .div(np.sqrt(variance.add(eps)))
    .mul(weight)
    .add(bias);
}

export function rmsNorm(x: np.Array, eps: number): np.Array {
  return x.ref.div(np.sqrt(np.square(x).mean(-1, { keepdims: true }).add(eps)));
}

/**
 * How attention is written for jax-js's jit. Neither form wins everywhere (tiny DiT, measured):
 * "per-head" (2-D products on each (sample, head) block) runs the forward at batch 2 in 110 ms
 * against 158, and the 32-head attention row in 60 ms against 82; "batched" (4-D products over all
 * heads) runs the training step at batch 8 in 1.75 s against 2.0. Each row uses its faster form.
 */
export type AttentionForm = "per-head" | "batched";

/** softmax(q·kᵀ/√dh)·v on one block; the scale is folded into q and the normalisation applied after p·v. */
function attentionBlock(q: np.Array, k: np.Array, v: np.Array, dh: number, kTransposed: (k: np.Array) => np.Array): np.Array {
  const scores = np.matmul(q.mul(1 / Math.sqrt(dh)), kTransposed(k));
  const weights = np.exp(scores.ref.sub(np.max(scores, -1, { keepdims: true })));
  const total = weights.ref.sum(-1, { keepdims: true });
  return np.matmul(weights, v).div(total);
}

/** Attention over 2-D q, k, v [batch·seq, heads·dh] (heads are contiguous slices), one 2-D block per (sample, head); same layout out. */
export function attentionPerHead(q: np.Array, k: np.Array, v: np.Array, batch: number, seq: number, heads: number, dh: number): np.Array {
  const samples: np.Array[] = [];
  for (let b = 0; b < batch; b++) {
    const blocks: np.Array[] = [];
    for (let h = 0; h < heads; h++) {
      const block = (t: np.Array) => t.ref.slice([b * seq, (b + 1) * seq], [h * dh, (h + 1) * dh]);
      blocks.push(attentionBlock(block(q), block(k), block(v), dh, (kBlock) => np.transpose(kBlock)));
    }
    samples.push(np.concatenate(blocks, 1));
  }
  tree.dispose([q, k, v]);
  return np.concatenate(samples, 0);
}

/** Attention over 2-D q, k, v [batch·seq, heads·dh] as 4-D products over all heads, returning heads-major [batch, heads, seq, dh]. */
export function attentionHeads(q: np.Array, k: np.Array, v: np.Array, batch: number, seq: number, heads: number, dh: number): np.Array {
  const split = (t: np.Array) => np.transpose(t.reshape([batch, seq, heads, dh]), [0, 2, 1, 3]);
  return attentionBlock(split(q), split(k), split(v), dh, (kHeads) => np.swapaxes(kHeads, -1, -2));
}

/**
 * to_out applied to heads-major attention output: Σ_h o_h·W_hᵀ + b, with W_h the head's column
 * block of W [out, heads·dh], as one product batched over heads and a sum. Equal to to_out of o
 * transposed back to [batch·seq, heads·dh], but fed through that transpose jax-js's jit fuses the
 * 4-D permutation into the product's loads, and the tiny DiT's block ran 2× slower (measured).
 */
export function linearFromHeads(heads: np.Array, params: JaxParams, name: string): np.Array {
  const [batch, count, seq, dh] = heads.shape as [number, number, number, number];
  const weight = param(params, `${name}.weight`);
  const outFeatures = weight.shape[0]!;
  const weightByHead = np.transpose(weight.reshape([outFeatures, count, dh]), [1, 2, 0]).reshape([1, count, dh, outFeatures]);
  return np
    .matmul(heads, weightByHead)
    .sum(1)
    .reshape([batch * seq, outFeatures])
    .add(param(params, `${name}.bias`));
}

/** The DiT output [B, C, h, w]; `frequencies` is `timestepFrequencies(config)` as an Array. */
export function ditForward(
  config: AaaDitConfig,
  params: JaxParams,
  latents: np.Array,
  promptEmbeds: np.Array,
  timestep: np.Array,
  frequencies: np.Array,
  form: AttentionForm,
): np.Array {
  const { dim, latentChannels: channels } = config;
  const batch = timestep.shape[0]!;
  const hw = imageTokens(config);
  const seq = sequenceLength(config);
  const tokens = batch * seq;

  const imagePos = np.transpose(param(params, "pos_embedder.image_emb").reshape([dim, hw]));
  const textPos = np.broadcastTo(param(params, "pos_embedder.text_emb").reshape([1, dim]), [config.textTokens, dim]);
  const pos = np.concatenate([imagePos, textPos], 0); // [S, D], broadcast over the batch

  const angles = timestep.reshape([batch, 1]).mul(frequencies.reshape([1, -1]));
  const sinusoid = np.concatenate([np.cos(angles.ref), np.sin(angles)], -1);
  const temb = linear(nn.silu(linear(sinusoid, params, "timestep_embedder.timestep_embedder.0")), params, "timestep_embedder.timestep_embedder.2");

  const imageIn = np.transpose(latents.reshape([batch, channels, hw]), [0, 2, 1]).reshape([batch * hw, channels]);
  const image = layerNorm(
    linear(imageIn, params, "image_embedder.0"),
    param(params, "image_embedder.1.weight"),
    param(params, "image_embedder.1.bias"),
    config.layerNormEps,
  );
  const textIn = promptEmbeds.reshape([batch * config.textTokens, config.textFeatures]);
  const text = layerNorm(
    linear(textIn, params, "text_embedder.0"),
    param(params, "text_embedder.1.weight"),
    param(params, "text_embedder.1.bias"),
    config.layerNormEps,
  );
  let x = np.concatenate([image.reshape([batch, hw, dim]), text.reshape([batch, config.textTokens, dim])], 1);

  for (let i = 0; i < config.depth; i++) {
    const block = `blocks.${i}`;
    const gates = linear(temb.ref, params, `${block}.to_gate`);
    const gateAttn = gates.ref.slice([], [0, dim]).reshape([batch, 1, dim]).add(1);
    const gateMlp = gates
      .slice([], [dim, 2 * dim])
      .reshape([batch, 1, dim])
      .add(1);

    const a = rmsNorm(x.ref.add(pos.ref), config.rmsNormEps).reshape([tokens, dim]);
    const q = linear(a.ref, params, `${block}.to_q`);
    const k = linear(a.ref, params, `${block}.to_k`);
    const v = linear(a, params, `${block}.to_v`);
    const attended =
      form === "per-head"
        ? linear(attentionPerHead(q, k, v, batch, seq, config.heads, headDim(config)), params, `${block}.to_out`)
        : linearFromHeads(attentionHeads(q, k, v, batch, seq, config.heads, headDim(config)), params, `${block}.to_out`);
    x = x.add(attended.reshape([batch, seq, dim]).mul(gateAttn));

    const b = rmsNorm(x.ref.add(pos.ref), config.rmsNormEps).reshape([tokens, dim]);
    const ff = linear(nn.silu(linear(b, params, `${block}.ff.0`)), params, `${block}.ff.2`);
    x = x.add(ff.reshape([batch, seq, dim]).mul(gateMlp));
  }
  pos.dispose();
  temb.dispose();

  const imageOut = x.slice([], [0, hw], []).reshape([batch * hw, dim]);
  const out = linear(imageOut, params, "proj_out");
  tree.dispose(params); // every use above took its own reference
  return np.transpose(out.reshape([batch, hw, channels]), [0, 2, 1]).reshape([batch, channels, config.latentHeight, config.latentWidth]);
}

export function ditLoss(
  config: AaaDitConfig,
  params: JaxParams,
  latents: np.Array,
  promptEmbeds: np.Array,
  timestep: np.Array,
  frequencies: np.Array,
  target: np.Array,
): np.Array {
  return np.square(ditForward(config, params, latents, promptEmbeds, timestep, frequencies, "batched").sub(target)).mean();
}

// A `type` rather than an `interface`, so that jax-js accepts it as a JsTree.
export type JaxTrainState = {
  params: JaxParams;
  m: JaxParams;
  v: JaxParams;
  loss: np.Array;
};

/**
 * One training step as two jitted functions: loss and gradients by `valueAndGrad`, then AdamW on every
 * parameter. Two jits rather than one because in a single jit jax-js fuses the gradient computations
 * into the update kernels and the step took 540 ms instead of 255 + 70 ms (tiny DiT, batch 1, measured).
 * `stepSize` = lr/(1−β₁ᵗ) and `rsqrtBias2` = 1/√(1−β₂ᵗ) are scalar Arrays so that one trace serves
 * every step. The returned state replaces the consumed one (old buffers are freed, as in place).
 */
export function makeJaxTrainStep(config: AaaDitConfig) {
  const lossAndGrad = jit(
    valueAndGrad((params: JaxParams, latents: np.Array, promptEmbeds: np.Array, timestep: np.Array, frequencies: np.Array, target: np.Array) =>
      ditLoss(config, params, latents, promptEmbeds, timestep, frequencies, target),
    ),
  );
  const update = jit((params: JaxParams, m: JaxParams, v: JaxParams, grads: JaxParams, stepSize: np.Array, rsqrtBias2: np.Array) => {
    const next: { params: JaxParams; m: JaxParams; v: JaxParams } = { params: {}, m: {}, v: {} };
    for (const name of Object.keys(params)) {
      const g = grads[name]!;
      const mNext = m[name]!.mul(adamW.beta1).add(g.ref.mul(1 - adamW.beta1));
      const vNext = v[name]!.mul(adamW.beta2).add(np.square(g).mul(1 - adamW.beta2));
      const denominator = np.sqrt(vNext.ref).mul(rsqrtBias2.ref).add(adamW.eps);
      next.params[name] = params[name]!.mul(1 - adamW.lr * adamW.weightDecay).sub(mNext.ref.mul(stepSize.ref).div(denominator));
      next.m[name] = mNext;
      next.v[name] = vNext;
    }
    stepSize.dispose();
    rsqrtBias2.dispose();
    return next;
  });
  return {
    /**
     * Consumes `state` and the inputs; `step` is 1-based. The gradients are realised before the update
     * is dispatched: left lazy, the update's kernels re-evaluated parts of them (450 ms instead of 315).
     */
    async run(
      state: JaxTrainState,
      inputs: { latents: np.Array; promptEmbeds: np.Array; timestep: np.Array; frequencies: np.Array; target: np.Array },
      step: number,
    ): Promise<JaxTrainState> {
      const { stepSize, rsqrtBias2 } = adamWStepScalars(step);
      const [loss, grads] = lossAndGrad(
        tree.ref(state.params),
        inputs.latents,
        inputs.promptEmbeds,
        inputs.timestep,
        inputs.frequencies,
        inputs.target,
      );
      await blockUntilReady(grads);
      state.loss.dispose();
      const next = { ...update(state.params, state.m, state.v, grads, np.array(stepSize), np.array(rsqrtBias2)), loss };
      await blockUntilReady(next);
      return next;
    },
    dispose(): void {
      lossAndGrad.dispose();
      update.dispose();
    },
  };
}

/** lr/(1−β₁ᵗ) and 1/√(1−β₂ᵗ) for step t (1-based), PyTorch's AdamW bias corrections. */
export function adamWStepScalars(step: number): { stepSize: number; rsqrtBias2: number } {
  return {
    stepSize: adamW.lr / (1 - adamW.beta1 ** step),
    rsqrtBias2: 1 / Math.sqrt(1 - adamW.beta2 ** step),
  };
}
