// The flow-matching training step of spec §2 as one pure function: noise drawn in-graph from the
// step's seed, x_t = (1 − σ)·x0 + σ·ε, the DiT's prediction against ε − x0, the per-timestep weight,
// then backward and AdamW (spec §8), and optionally an exponential moving average of the weights for
// sampling (the reference keeps none) — compiled into one step with the state donated.

import { backward, nn, ops, type DType, type Tensor } from "../compiler/index.ts";
import { ditForward, type DitConfig } from "./dit.ts";
import { adamwTree, type AdamWTree } from "./optim.ts";
import type { ParamSpec } from "./params.ts";
import type { Prediction } from "./config.ts";

export interface TrainStepOptions {
  dit: DitConfig;
  batch: number;
  /** Latent grid: [channels, height, width]. */
  latent: readonly [number, number, number];
  /** Prompt tokens and their features (the text encoder's output). */
  textLength: number;
  /**
   * How prompts reach the DiT: precomputed embeddings (a frozen encoder, as the reference), or ids
   * (of `idsShape` per prompt) through a text encoder trained jointly (its parameters join the trained tree).
   */
  text:
    | { kind: "embeds" }
    | {
        kind: "encoder";
        paramSpec: readonly ParamSpec[];
        idsShape: readonly number[];
        encode: (params: Readonly<Record<string, Tensor>>, ids: Tensor, mask: Tensor) => Tensor;
      };
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value (off when undefined, as the reference). */
  clipNorm?: number;
  /** Parameters and optimizer state in bf16, as the reference trains (no f32 master copy). */
  pureBf16?: boolean;
  checkpointBlocks?: boolean;
  /**
   * Data parallelism: this step's batch is lanes [first, first + batch) of a global batch of `total`,
   * and draws exactly the noise those lanes get in one step over the whole global batch.
   */
  noiseLanes?: { first: number; total: number };
  /**
   * Keep an exponential moving average of the trained tensors (f32, in `state/ema/<name>`), updated
   * after AdamW with this decay (warmed up over the first steps); 0 or undefined keeps none.
   */
  emaDecay?: number;
  /** What the DiT predicts (models/config.ts): the velocity (default, the reference's) or the clean latent. */
  prediction?: Prediction;
}

/**
 * The smallest σ an image prediction's velocity (x_t − x̂0)/σ divides by in the loss: without a floor
 * the loss weighs the image error by 1/σ², unbounded at the clean end of the schedule.
 */
export const SIGMA_FLOOR = 0.05;

export interface TrainTree {
  state: AdamWTree & { ema?: Record<string, Tensor> };
  batch: Record<string, Tensor>;
  control: { seed: Tensor; step: Tensor; lr: Tensor };
}

/** The example tree (shapes and dtypes) of the step's inputs. */
export function trainStepExample(options: TrainStepOptions, specs: readonly ParamSpec[]): Record<string, unknown> {
  const dtype: DType = options.pureBf16 ? "bf16" : "f32";
  const tree = (f: (s: ParamSpec) => unknown) => Object.fromEntries(specs.map((s) => [s.name, f(s)]));
  const [c, h, w] = options.latent;
  const b = options.batch;
  const batch: Record<string, { shape: number[]; dtype: DType }> = {
    latents: { shape: [b, c, h, w], dtype: "f32" },
    sigma: { shape: [b], dtype: "f32" },
    timestep: { shape: [b], dtype: "f32" },
    weight: { shape: [b], dtype: "f32" },
  };
  if (options.text.kind === "embeds") batch.promptEmbeds = { shape: [b, options.textLength, options.dit.textDim], dtype: "f32" };
  else {
    batch.ids = { shape: [b, ...options.text.idsShape], dtype: "i32" };
    batch.mask = { shape: [b, options.textLength], dtype: "i32" };
  }
  const state: Record<string, unknown> = {
    params: tree((s) => ({ shape: s.shape, dtype })),
    m: tree((s) => ({ shape: s.shape, dtype })),
    v: tree((s) => ({ shape: s.shape, dtype })),
  };
  // The average is f32 even in pure-bf16 training: its per-step change, (1 − d)·(θ − ema), is below bf16's resolution.
  if (keepsEma(options)) state.ema = tree((s) => ({ shape: s.shape, dtype: "f32" }));
  return {
    state,
    batch,
    control: { seed: { shape: [], dtype: "i32" }, step: { shape: [], dtype: "f32" }, lr: { shape: [], dtype: "f32" } },
  };
}

/**
 * The example trees of gradient accumulation's two steps: a micro-batch's gradients, then AdamW from
 * their f32 sum — one tree of gradients, or `shares` trees (`grads/<i>/…`) it sums itself.
 */
export function accumulationExamples(
  options: TrainStepOptions,
  specs: readonly ParamSpec[],
  shares = 1,
): { gradients: Record<string, unknown>; apply: Record<string, unknown> } {
  const step = trainStepExample(options, specs) as { state: { params: Record<string, unknown> }; batch: Record<string, unknown> };
  const f32 = Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape, dtype: "f32" }]));
  return {
    gradients: { params: step.state.params, batch: step.batch, control: { seed: { shape: [], dtype: "i32" } } },
    apply: {
      state: step.state,
      grads: shares > 1 ? Array.from({ length: shares }, () => f32) : f32,
      control: { step: { shape: [] }, lr: { shape: [] }, scale: { shape: [] } },
    },
  };
}

/** The weighted flow-matching loss of spec §2 for a batch (mean over samples of w_b · MSE_b). */
export function flowMatchingLoss(
  params: Readonly<Record<string, Tensor>>,
  batch: Readonly<Record<string, Tensor>>,
  seed: Tensor,
  options: TrainStepOptions,
): Tensor {
  const latents = batch.latents!;
  const [b] = latents.shape as [number];
  const perSample = (t: Tensor): Tensor => ops.reshape(t, [b, 1, 1, 1]);
  const dtype = params["proj_out.weight"]!.dtype;
  const lanes = options.noiseLanes;
  const noise = lanes
    ? ops.shrink(nn.randomNormal(seed, [lanes.total, ...latents.shape.slice(1)], 0), [
        [lanes.first, lanes.first + b],
        ...latents.shape.slice(1).map((n) => [0, n] as const),
      ])
    : nn.randomNormal(seed, latents.shape, 0);
  const sigma = perSample(batch.sigma!);
  const noisy = ops.add(ops.mul(latents, nn.sub(1, sigma)), ops.mul(noise, sigma));
  const target = nn.sub(noise, latents);
  const promptEmbeds = options.text.kind === "embeds" ? batch.promptEmbeds! : options.text.encode(params, batch.ids!, batch.mask!);
  const pred = ditForward(params, ops.cast(noisy, dtype), ops.cast(promptEmbeds, dtype), ops.cast(batch.timestep!, dtype), options.dit, {
    checkpointBlocks: options.checkpointBlocks ?? false,
  });
  const velocity =
    options.prediction === "image" ? nn.div(nn.sub(noisy, ops.cast(pred, "f32")), ops.maximum(sigma, SIGMA_FLOOR)) : ops.cast(pred, "f32");
  const perSampleMse = nn.mean(nn.square(nn.sub(velocity, target)), [1, 2, 3]);
  return nn.mean(ops.mul(perSampleMse, batch.weight!));
}

type Params = Record<string, Tensor>;

/** Global L2 norm of the gradients, and the factor that clips it to `clipNorm` (undefined: no clipping). */
function clipping(grads: readonly Tensor[], clipNorm: number | undefined): { norm: Tensor; scale: Tensor | undefined } {
  const norm = ops.sqrt(grads.reduce<Tensor>((acc, g) => ops.add(acc, ops.sum(nn.square(ops.cast(g, "f32")))), ops.scalar(0)));
  return { norm, scale: clipNorm === undefined ? undefined : nn.minimum(nn.div(clipNorm, ops.add(norm, 1e-6)), 1) };
}

/** Whether the step keeps an exponential moving average of the weights. */
export const keepsEma = (options: Pick<TrainStepOptions, "emaDecay">): boolean => (options.emaDecay ?? 0) > 0;

/**
 * The new average of every tensor, ema·d + θ·(1 − d), with the decay warmed up over the optimizer steps
 * (`step` counts from 1): d = min(decay, (1 + step) / (10 + step)), so that the first steps' average
 * follows the weights instead of remembering the random initialisation.
 */
function emaAll(decay: number, names: readonly string[], ema: Readonly<Params>, params: Readonly<Params>, step: Tensor): Params {
  const d = nn.minimum(nn.div(ops.add(step, 1), ops.add(step, 10)), decay);
  const keep = nn.sub(1, d);
  return Object.fromEntries(names.map((name) => [name, ops.add(ops.mul(ema[name]!, d), ops.mul(ops.cast(params[name]!, "f32"), keep))]));
}

/** AdamW on every tensor, then (when the step keeps one) the moving average of the updated weights. */
function optimize(
  options: TrainStepOptions,
  names: readonly string[],
  state: TrainTree["state"],
  grads: readonly Tensor[],
  control: { step: Tensor; lr: Tensor },
): TrainTree["state"] {
  const next = adamwAll(options, names, state, grads, control);
  if (!keepsEma(options)) return next;
  if (!state.ema) throw new Error(`train step: emaDecay ${options.emaDecay} needs the state's 'ema' group (see trainStepExample)`);
  return { ...next, ema: emaAll(options.emaDecay!, names, state.ema, next.params, control.step) };
}

function adamwAll(
  options: TrainStepOptions,
  names: readonly string[],
  state: TrainTree["state"],
  grads: readonly Tensor[],
  control: { step: Tensor; lr: Tensor },
): TrainTree["state"] {
  return adamwTree(state, names, grads, {
    step: control.step,
    lr: control.lr,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? 0.01,
  });
}

/** The whole step: loss, gradients, optional clipping, AdamW. Returns the new state and the loss. */
export function trainStep(
  options: TrainStepOptions,
  specs: readonly ParamSpec[],
): (tree: TrainTree) => { state: TrainTree["state"]; loss: Tensor; gradNorm: Tensor } {
  return ({ state, batch, control }) => {
    const names = specs.map((s) => s.name);
    const loss = flowMatchingLoss(state.params, batch, control.seed, options);
    const grads = backward(
      loss,
      names.map((n) => state.params[n]!),
      ops.scalar(1),
    );
    const { norm, scale } = clipping(grads, options.clipNorm);
    const scaled = grads.map((g) => (scale ? ops.mul(ops.cast(g, "f32"), scale) : g));
    return { state: optimize(options, names, state, scaled, control), loss, gradNorm: norm };
  };
}

/** Gradient accumulation, half one: one micro-batch's loss and f32 gradients (parameters are read, not changed). */
export function gradientStep(
  options: TrainStepOptions,
  specs: readonly ParamSpec[],
): (tree: { params: Params; batch: Params; control: { seed: Tensor } }) => { grads: Params; loss: Tensor } {
  return ({ params, batch, control }) => {
    const names = specs.map((s) => s.name);
    const loss = flowMatchingLoss(params, batch, control.seed, options);
    const grads = backward(
      loss,
      names.map((n) => params[n]!),
      ops.scalar(1),
    );
    return { grads: Object.fromEntries(names.map((n, i) => [n, ops.cast(grads[i]!, "f32")])), loss };
  };
}

/**
 * Gradient accumulation, half two: AdamW from summed gradients scaled by `scale` (1 / micro-batches);
 * given several trees of gradients (the shares of a batch split over threads), it sums them first.
 */
export function applyStep(
  options: TrainStepOptions,
  specs: readonly ParamSpec[],
): (tree: { state: TrainTree["state"]; grads: Params | Params[]; control: { step: Tensor; lr: Tensor; scale: Tensor } }) => {
  state: TrainTree["state"];
  gradNorm: Tensor;
} {
  return ({ state, grads, control }) => {
    const names = specs.map((s) => s.name);
    const trees = Array.isArray(grads) ? grads : [grads];
    const mean = names.map((n) =>
      ops.mul(
        trees.slice(1).reduce((sum, t) => ops.add(sum, t[n]!), trees[0]![n]!),
        control.scale,
      ),
    );
    const { norm, scale } = clipping(mean, options.clipNorm);
    const scaled = mean.map((g) => (scale ? ops.mul(g, scale) : g));
    return { state: optimize(options, names, state, scaled, control), gradNorm: norm };
  };
}
