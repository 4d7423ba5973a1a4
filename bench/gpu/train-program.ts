// The graphs the GPU training benchmark (bench/gpu/train.ts) compiles, kept apart from the device so
// that test/gpu-train-program.test.ts renders them and compiles their kernels with nvcc on any machine:
//   - the AAADiT 0.1B training step as the reference trains it (spec §2, §8): pure bf16 parameters and
//     AdamW moments (`.to(bfloat16)`, no f32 master copy), noise drawn in-graph, x_t = (1−σ)x0 + σε per
//     sample, the prediction against ε − x0 in f32, weighted per sample, backward, AdamW (lr and step
//     are inputs; weight decay 0.01, default betas and eps), at batch 32, 16×16 latents of 128 channels
//     (256 image tokens) and 128 prompt tokens of 1024 features;
//   - the fused-norm rows: RMSNorm (no affine, as in AAABlock) and LayerNorm (affine, as in the
//     embedders) at [32·384, 1024] bf16, forward and forward + backward.
import { backward, nn, ops, type DType, type Tensor } from "../../compiler/index.ts";
import { AAA_0_1B, ditParamSpec, TIMESTEP_FEATURES, type DitConfig } from "../../models/dit.ts";
import { adamwTree } from "../../models/optim.ts";
import type { ParamSpec } from "../../models/params.ts";
import { flowMatchingLoss, trainStepExample, type TrainStepOptions, type TrainTree } from "../../models/train-step.ts";

/** The training step's row name, shared with the PyTorch peer (bench/peers/aaa_dit_torch.py). */
export const TRAIN_ROW = "aaadit_train_step";

/** The optimizer's settings of the reference (spec §8): AdamW lr 2e-4, weight decay 0.01, default betas and eps. */
export const TRAIN_BENCH = { lr: 2e-4, weightDecay: 0.01 };

export interface TrainBenchShape {
  batch: number;
  /** Latent grid [channels, height, width]; channels must be the DiT's latentChannels. */
  latent: readonly [number, number, number];
  textLength: number;
  dit: DitConfig;
}

/** The shape: batch 32 at 256×256 pixels (16×16 latents of 128 channels) and 128 prompt tokens of 1024 features. */
export const AAA_TRAIN_SHAPE: TrainBenchShape = { batch: 32, latent: [128, 16, 16], textLength: 128, dit: AAA_0_1B };

export function trainBenchOptions(shape: TrainBenchShape = AAA_TRAIN_SHAPE): TrainStepOptions {
  if (shape.latent[0] !== shape.dit.latentChannels)
    throw new Error(`train benchmark: latents of ${shape.latent[0]} channels for a DiT of ${shape.dit.latentChannels}`);
  return {
    dit: shape.dit,
    batch: shape.batch,
    latent: shape.latent,
    textLength: shape.textLength,
    text: { kind: "embeds" },
    weightDecay: TRAIN_BENCH.weightDecay,
    pureBf16: true,
    checkpointBlocks: false,
  };
}

/**
 * One training step: the flow-matching loss (models/train-step.ts, loss in f32), its gradients, AdamW on
 * every parameter. Unlike models/train-step.ts's trainStep it computes no gradient norm, which the
 * reference (no clipping) does not compute either, so both sides do the same work.
 */
export function benchTrainStep(
  options: TrainStepOptions,
  specs: readonly ParamSpec[],
): (tree: TrainTree) => { state: TrainTree["state"]; loss: Tensor } {
  return ({ state, batch, control }) => {
    const names = specs.map((s) => s.name);
    const loss = flowMatchingLoss(state.params, batch, control.seed, options);
    const grads = backward(
      loss,
      names.map((n) => state.params[n]!),
      ops.scalar(1),
    );
    const next = adamwTree(state, names, grads, { step: control.step, lr: control.lr, weightDecay: options.weightDecay ?? 0.01 });
    return { state: next, loss };
  };
}

export interface TrainBenchProgram {
  options: TrainStepOptions;
  specs: ParamSpec[];
  fn: (tree: TrainTree) => { state: TrainTree["state"]; loss: Tensor };
  example: Record<string, unknown>;
  /** The state is donated: AdamW writes parameters and moments in place, as torch's optimizer does. */
  donate: readonly string[];
}

export function trainBenchProgram(shape: TrainBenchShape = AAA_TRAIN_SHAPE): TrainBenchProgram {
  const options = trainBenchOptions(shape);
  const specs = ditParamSpec(shape.dit);
  return { options, specs, fn: benchTrainStep(options, specs), example: trainStepExample(options, specs), donate: ["state"] };
}

/**
 * Matmul FLOPs of one AAADiT forward (2 per multiply-add): every Linear (embedders, timestep MLP, q/k/v/out,
 * feed-forward, gate, proj_out) and the attention's two products (QKᵀ and PV over all heads). Elementwise
 * work, norms and softmax are not counted. The training step's model FLOPs are taken as 3× this (forward,
 * and backward as twice the forward), the usual convention; recomputation and the optimizer are not counted.
 */
export function ditForwardMatmulFlops(c: DitConfig, batch: number, imageTokens: number, textTokens: number): number {
  const seq = imageTokens + textTokens;
  const linear = (tokens: number, inF: number, outF: number) => 2 * tokens * inF * outF;
  const perSample =
    linear(1, TIMESTEP_FEATURES, c.dim) +
    linear(1, c.dim, c.dim) +
    linear(imageTokens, c.latentChannels, c.dim) +
    linear(textTokens, c.textDim, c.dim) +
    c.depth *
      (4 * linear(seq, c.dim, c.dim) +
        linear(seq, c.dim, c.ffDim) +
        linear(seq, c.ffDim, c.dim) +
        linear(1, c.dim, 2 * c.dim) +
        2 * 2 * seq * seq * c.dim) +
    linear(imageTokens, c.dim, c.latentChannels);
  return batch * perSample;
}

/** The model FLOPs of one training step of the benchmark (3× the forward's matmul FLOPs). */
export function trainStepFlops(shape: TrainBenchShape = AAA_TRAIN_SHAPE): number {
  const [, h, w] = shape.latent;
  return 3 * ditForwardMatmulFlops(shape.dit, shape.batch, h * w, shape.textLength);
}

export interface NormBench {
  /** The row name, shared with the PyTorch peer's result keys. */
  name: string;
  example: Record<string, { shape: number[]; dtype: DType }>;
  fn: (tree: Record<string, Tensor>) => Tensor[];
  /**
   * Bytes a fused implementation must move at least: x read and y written (forward); x and the
   * output's cotangent read, y and dx written (forward + backward). Affine parameters are negligible.
   */
  bytes: number;
}

/** The norm rows at [rows, dim] bf16: the AAA block's RMSNorm and the embedders' LayerNorm, forward and forward + backward. */
export function normBenches(rows: number = AAA_TRAIN_SHAPE.batch * 384, dim: number = AAA_0_1B.dim): NormBench[] {
  const x = { shape: [rows, dim], dtype: "bf16" as const };
  const vector = { shape: [dim], dtype: "bf16" as const };
  const elements = rows * dim;
  const rms = (t: Record<string, Tensor>) => nn.rmsNorm(t.x!);
  const layer = (t: Record<string, Tensor>) => nn.layerNorm(t.x!, { weight: t.weight!, bias: t.bias! });
  // Forward + backward: the output and the vector-Jacobian product with a given cotangent (as torch.autograd.grad(y, inputs, g)).
  const withGrads = (f: (t: Record<string, Tensor>) => Tensor, wrt: readonly string[]) => (t: Record<string, Tensor>) => {
    const y = f(t);
    return [
      y,
      ...backward(
        y,
        wrt.map((k) => t[k]!),
        t.cotangent!,
      ),
    ];
  };
  return [
    { name: "rmsnorm_fwd", example: { x }, fn: (t) => [rms(t)], bytes: 2 * elements * 2 },
    { name: "rmsnorm_fwd_bwd", example: { x, cotangent: x }, fn: withGrads(rms, ["x"]), bytes: 4 * elements * 2 },
    { name: "layernorm_fwd", example: { x, weight: vector, bias: vector }, fn: (t) => [layer(t)], bytes: 2 * elements * 2 },
    {
      name: "layernorm_fwd_bwd",
      example: { x, weight: vector, bias: vector, cotangent: x },
      fn: withGrads(layer, ["x", "weight", "bias"]),
      bytes: 4 * elements * 2,
    },
  ];
}
