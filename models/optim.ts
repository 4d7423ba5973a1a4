// AdamW as a pure function over tensors (spec §8): decoupled weight decay θ ← θ(1 − lr·λ), then
// the Adam moments with bias correction. The compiler fuses the updates of every parameter of a
// tree into one multi-tensor kernel.

import { nn, ops, type Tensor } from "../compiler/index.ts";

export interface AdamWOptions {
  /** The optimizer step, counting from 1 (an f32 scalar input, so one compiled step serves every iteration). */
  step: Tensor;
  /** The learning rate for this step (an f32 scalar input: schedules change it without recompiling). */
  lr: Tensor;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface AdamWState {
  param: Tensor;
  m: Tensor;
  v: Tensor;
}

/** A tree of trained tensors and its two AdamW moments, by tensor name. */
export type AdamWTree = { params: Record<string, Tensor>; m: Record<string, Tensor>; v: Record<string, Tensor> };

/** One AdamW step for every tensor `names` lists, `grads` in the same order. */
export function adamwTree(state: AdamWTree, names: readonly string[], grads: readonly Tensor[], options: AdamWOptions): AdamWTree {
  const next: AdamWTree = { params: {}, m: {}, v: {} };
  names.forEach((name, i) => {
    const u = adamwUpdate(state.params[name]!, grads[i]!, state.m[name]!, state.v[name]!, options);
    next.params[name] = u.param;
    next.m[name] = u.m;
    next.v[name] = u.v;
  });
  return next;
}

/** One AdamW step for one tensor (PyTorch's torch.optim.AdamW, amsgrad off). */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): AdamWState {
  const { step, lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01 } = options;
  const g = ops.cast(grad, m.dtype);
  const mNext = ops.add(ops.mul(m, beta1), ops.mul(g, 1 - beta1));
  const vNext = ops.add(ops.mul(v, beta2), ops.mul(nn.square(g), 1 - beta2));
  // Bias corrections 1 − β^t, as scalars: β^t = 2^(t·log2 β).
  const correction1 = nn.sub(1, ops.exp2(ops.mul(step, Math.log2(beta1))));
  const correction2 = nn.sub(1, ops.exp2(ops.mul(step, Math.log2(beta2))));
  // Scalars are computed in f32 and cast to the state's dtype (bf16 for pure-bf16 training).
  const stepSize = ops.cast(nn.div(lr, correction1), m.dtype);
  const denom = ops.add(nn.div(ops.sqrt(vNext), ops.cast(ops.sqrt(correction2), m.dtype)), eps);
  const decayed = ops.mul(param, ops.cast(nn.sub(1, ops.mul(lr, weightDecay)), param.dtype));
  const update = ops.mul(nn.div(mNext, denom), stepSize);
  const paramNext = ops.cast(nn.sub(ops.cast(decayed, m.dtype), update), param.dtype);
  return { param: paramNext, m: mNext, v: vNext };
}
