// The tiny DiT (bench/tiny-dit.ts) and its building blocks written in TensorFlow.js for the wasm
// backend, the way a performance-minded tfjs user would on this backend:
//  - tfjs-wasm multiplies fast only for plain 2-D A·B: with transposeA/transposeB or batch dims it falls
//    back to a loop 10–40× slower (measured: 42 GFLOP/s plain, 3.5 with transposeB, 0.9 with
//    transposeA or a batch dim). So Linear weights are kept transposed ([in, out]), activations are
//    2-D [tokens, features], attention runs per (sample, head) as 2-D products, and Linear and
//    attention get custom gradients (tf.customGrad) whose products are again plain A·B with explicit
//    transposes, where tfjs's built-in gradients would use the slow transposed forms.
//  - bias adds are fused into the product (tf.fused.matMul); everything else is tfjs's own kernels.

import * as tf from "@tensorflow/tfjs";
import { type AaaDitConfig, headDim, imageTokens, sequenceLength } from "../tiny-dit.ts";

export type TfParams = Record<string, tf.Tensor>;

function param(params: TfParams, name: string): tf.Tensor {
  const value = params[name];
  if (value === undefined) throw new Error(`tfjs DiT: expected parameter '${name}', found none`);
  return value;
}

/** Linear weights are held as Wᵀ [in, out]; everything else in the reference layout. */
export function isLinearWeight(name: string, shape: readonly number[]): boolean {
  return name.endsWith(".weight") && shape.length === 2;
}

const linearWithGradient = tf.customGrad<tf.Tensor>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, weightT, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, weightT]);
  return {
    value: tf.fused.matMul({ a: x, b: weightT, bias }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xSaved, weightTSaved] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(weightTSaved)), tf.matMul(tf.transpose(xSaved), dy), tf.sum(dy, 0)];
    },
  };
});

/** y = x·Wᵀ + b for 2-D x [tokens, in], with `${name}.weight` held as Wᵀ [in, out]. */
export function linear(x: tf.Tensor2D, params: TfParams, name: string): tf.Tensor2D {
  return linearWithGradient(x, param(params, `${name}.weight`), param(params, `${name}.bias`)) as tf.Tensor2D;
}

export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

export function rmsNorm<T extends tf.Tensor>(x: T, eps: number): T {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)));
}

export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  dh: number;
}

/**
 * The slices of `t` along its first axis. tfjs-wasm's slice (and so unstack and split) copies its
 * whole input to JS for every slice it cuts, so n slices of one tensor cost n full copies; cutting
 * first into about √n groups and then each group costs about 2√n (measured: 32 heads of
 * [384, 32] in 8 ms instead of 22).
 */
function unstackInGroups(t: tf.Tensor): tf.Tensor[] {
  const count = t.shape[0]!;
  let groups = Math.ceil(Math.sqrt(count));
  while (count % groups !== 0) groups++;
  if (groups === count) return tf.unstack(t);
  return tf.unstack(tf.reshape(t, [groups, count / groups, ...t.shape.slice(1)])).flatMap((group) => tf.unstack(group));
}

/** The (sample, head) blocks of a [batch·seq, heads·dh] tensor as 2-D tensors, sample-major: [seq, dh] each, or [dh, seq] with `transposed`. */
function splitHeads(t: tf.Tensor2D, shape: AttentionShape, transposed: boolean): tf.Tensor2D[] {
  const { batch, seq, heads, dh } = shape;
  const perHead = tf.transpose(tf.reshape(t, [batch, seq, heads, dh]), transposed ? [0, 2, 3, 1] : [0, 2, 1, 3]);
  return unstackInGroups(tf.reshape(perHead, [batch * heads, ...perHead.shape.slice(2)])) as tf.Tensor2D[];
}

/** Inverse of `splitHeads`. */
function mergeHeads(blocks: tf.Tensor2D[], shape: AttentionShape, transposed: boolean): tf.Tensor2D {
  const { batch, seq, heads, dh } = shape;
  const stacked = tf.reshape(tf.stack(blocks), transposed ? [batch, heads, dh, seq] : [batch, heads, seq, dh]);
  return tf.reshape(tf.transpose(stacked, transposed ? [0, 3, 1, 2] : [0, 2, 1, 3]), [batch * seq, heads * dh]);
}

const attentionByShape = new Map<string, (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor2D>();

/**
 * softmax(q·kᵀ/√dh)·v per (sample, head), over 2-D q, k, v [batch·seq, heads·dh] with contiguous heads.
 * The backward pass is hand-written: dV = pᵀ·dO, dP = dO·vᵀ, dS = p ⊙ (dP − rowsum(dP ⊙ p)),
 * dQ = dS·k·scale, dK = dSᵀ·(q·scale), each arranged as plain A·B products on small transposes.
 */
export function attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, shape: AttentionShape): tf.Tensor2D {
  const key = `${shape.batch}x${shape.seq}x${shape.heads}x${shape.dh}`;
  let op = attentionByShape.get(key);
  if (op === undefined) {
    op = makeAttention(shape);
    attentionByShape.set(key, op);
  }
  return op(q, k, v);
}

function makeAttention(shape: AttentionShape): (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor2D {
  const scale = 1 / Math.sqrt(shape.dh);
  const blocks = shape.batch * shape.heads;
  const op = tf.customGrad<tf.Tensor>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [q, k, v, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const qs = splitHeads(tf.mul(q, scale), shape, false);
    const kT = splitHeads(k, shape, true);
    const vs = splitHeads(v, shape, false);
    const probs = qs.map((qBlock, i) => tf.softmax(tf.matMul(qBlock, kT[i]!)));
    const out = mergeHeads(
      probs.map((p, i) => tf.matMul(p, vs[i]!)),
      shape,
      false,
    );
    save([...qs, ...kT, ...vs, ...probs]);
    return {
      value: out,
      gradFunc: (dOutput: tf.Tensor, saved: tf.Tensor[]) => {
        const dOut = dOutput as tf.Tensor2D;
        const part = (n: number) => saved.slice(n * blocks, (n + 1) * blocks) as tf.Tensor2D[];
        const [qSaved, kTSaved, vSaved, pSaved] = [part(0), part(1), part(2), part(3)];
        const dOs = splitHeads(dOut, shape, false);
        const dQ: tf.Tensor2D[] = [];
        const dKT: tf.Tensor2D[] = [];
        const dVT: tf.Tensor2D[] = [];
        for (let i = 0; i < blocks; i++) {
          const p = pSaved[i]!;
          const dO = dOs[i]!;
          dVT.push(tf.matMul(tf.transpose(dO), p));
          const dP = tf.matMul(dO, tf.transpose(vSaved[i]!));
          const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true)));
          dQ.push(tf.matMul(dS, tf.transpose(kTSaved[i]!)));
          dKT.push(tf.matMul(tf.transpose(qSaved[i]!), dS));
        }
        return [tf.mul(mergeHeads(dQ, shape, false), scale), mergeHeads(dKT, shape, true), mergeHeads(dVT, shape, true)];
      },
    };
  });
  return (q, k, v) => op(q, k, v) as tf.Tensor2D;
}

/** Attention over 2-D q, k, v [batch·seq, heads·dh] with contiguous heads; same layout out. */
export type AttentionOp = (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, shape: AttentionShape) => tf.Tensor2D;

/**
 * The DiT output [B, C, h, w]; `frequencies` is `timestepFrequencies(config)` as a tensor. `attend` is
 * the attention as the backend runs it best (the default: 2-D products per head, for wasm).
 */
export function ditForward(
  config: AaaDitConfig,
  params: TfParams,
  latents: tf.Tensor,
  promptEmbeds: tf.Tensor,
  timestep: tf.Tensor1D,
  frequencies: tf.Tensor1D,
  attend: AttentionOp = attention,
): tf.Tensor4D {
  const { dim, latentChannels: channels } = config;
  const batch = timestep.shape[0];
  const hw = imageTokens(config);
  const seq = sequenceLength(config);
  const tokens = batch * seq;
  const shape: AttentionShape = { batch, seq, heads: config.heads, dh: headDim(config) };

  const imagePos = tf.transpose(tf.reshape(param(params, "pos_embedder.image_emb"), [dim, hw]));
  const textPos = tf.broadcastTo(tf.reshape(param(params, "pos_embedder.text_emb"), [1, dim]), [config.textTokens, dim]);
  const pos = tf.concat([imagePos, textPos], 0); // [S, D], broadcast over the batch

  const angles = tf.mul(tf.reshape(timestep, [batch, 1]), tf.reshape(frequencies, [1, -1])) as tf.Tensor2D;
  const sinusoid = tf.concat([tf.cos(angles), tf.sin(angles)], -1);
  const temb = linear(silu(linear(sinusoid, params, "timestep_embedder.timestep_embedder.0")), params, "timestep_embedder.timestep_embedder.2");

  const imageIn = tf.reshape(tf.transpose(tf.reshape(latents, [batch, channels, hw]), [0, 2, 1]), [batch * hw, channels]) as tf.Tensor2D;
  const image = layerNorm(
    linear(imageIn, params, "image_embedder.0"),
    param(params, "image_embedder.1.weight"),
    param(params, "image_embedder.1.bias"),
    config.layerNormEps,
  );
  const textIn = tf.reshape(promptEmbeds, [batch * config.textTokens, config.textFeatures]) as tf.Tensor2D;
  const text = layerNorm(
    linear(textIn, params, "text_embedder.0"),
    param(params, "text_embedder.1.weight"),
    param(params, "text_embedder.1.bias"),
    config.layerNormEps,
  );
  let x: tf.Tensor = tf.concat([tf.reshape(image, [batch, hw, dim]), tf.reshape(text, [batch, config.textTokens, dim])], 1);

  for (let i = 0; i < config.depth; i++) {
    const block = `blocks.${i}`;
    const [gateAttn, gateMlp] = tf.split(linear(temb, params, `${block}.to_gate`), 2, -1).map((g) => tf.add(tf.reshape(g, [batch, 1, dim]), 1));

    const a = tf.reshape(rmsNorm(tf.add(x, pos), config.rmsNormEps), [tokens, dim]) as tf.Tensor2D;
    const q = linear(a, params, `${block}.to_q`);
    const k = linear(a, params, `${block}.to_k`);
    const v = linear(a, params, `${block}.to_v`);
    const attended = linear(attend(q, k, v, shape), params, `${block}.to_out`);
    x = tf.add(x, tf.mul(tf.reshape(attended, [batch, seq, dim]), gateAttn!));

    const b = tf.reshape(rmsNorm(tf.add(x, pos), config.rmsNormEps), [tokens, dim]) as tf.Tensor2D;
    const ff = linear(silu(linear(b, params, `${block}.ff.0`)), params, `${block}.ff.2`);
    x = tf.add(x, tf.mul(tf.reshape(ff, [batch, seq, dim]), gateMlp!));
  }

  const imageOut = tf.reshape(tf.slice(x, [0, 0, 0], [batch, hw, dim]), [batch * hw, dim]) as tf.Tensor2D;
  const out = linear(imageOut, params, "proj_out");
  return tf.reshape(tf.transpose(tf.reshape(out, [batch, hw, channels]), [0, 2, 1]), [batch, channels, config.latentHeight, config.latentWidth]);
}

export function ditLoss(
  config: AaaDitConfig,
  params: TfParams,
  latents: tf.Tensor,
  promptEmbeds: tf.Tensor,
  timestep: tf.Tensor1D,
  frequencies: tf.Tensor1D,
  target: tf.Tensor,
): tf.Scalar {
  return tf.mean(tf.squaredDifference(ditForward(config, params, latents, promptEmbeds, timestep, frequencies), target));
}
