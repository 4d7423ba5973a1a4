// The rows of `kiln bench cpu`: what each row computes, as plain data with its FLOP and byte counts,
// shared by kiln's side of the benchmark and by the TensorFlow.js and jax-js peers (bench/peers/).

import {
  type AaaDitConfig,
  ditForwardFlops,
  ditParamCount,
  ditTrainStepFlops,
  imageTokens,
  referenceAaaDitConfig,
  startDitConfig,
  tinyDitConfig,
} from "./tiny-dit.ts";
import type { TimingOptions } from "./timing.ts";

const f32 = 4;

/** Which rate a row is judged by: compute-bound rows by GFLOP/s, memory-bound rows by GB/s. */
export type RowMetric = "GFLOP/s" | "GB/s";

export type RowShape =
  /** C[M,N] = A[M,K]·B[K,N]; with `transposeB`, y = x·Wᵀ with W stored [N,K] (PyTorch's Linear layout). */
  | { kind: "gemm"; m: number; k: number; n: number; transposeB: boolean }
  /** y = silu(x·a + b)·c, all five arrays of `size` f32 elements. */
  | { kind: "elementwise"; size: number }
  /** LayerNorm over the last axis of [rows, cols] with affine weight and bias. */
  | { kind: "layer_norm"; rows: number; cols: number; eps: number }
  /** softmax over the last axis of [rows, cols]. */
  | { kind: "softmax"; rows: number; cols: number }
  /** Forward attention; q, k, v and the output are [batch, seq, heads·headDim], heads contiguous. */
  | { kind: "attention"; batch: number; heads: number; headDim: number; seq: number; scale: number; causal: false }
  /** One AdamW training step (forward, MSE loss, backward, update) of the tiny DiT (bench/tiny-dit.ts). */
  | { kind: "dit_train_step"; batch: number; config: AaaDitConfig }
  /** One forward of the tiny DiT. */
  | { kind: "dit_forward"; batch: number; config: AaaDitConfig };

export type RowKind = RowShape["kind"];

export type BenchRow = RowShape & {
  /** Unique, stable label used to match kiln's and the peers' results. */
  name: string;
  /** FLOPs of one run (conventions in the constructors below). */
  flops: number;
  /** Bytes that one run must move at least (each input read once, each output written once). */
  bytes: number;
  metric: RowMetric;
  /** Only the peers of these names (Peer.name) run the row; the others would take minutes at its size. All when absent. */
  peers?: readonly string[];
  /** This row's warm-up and timed runs instead of the run's (a step of seconds needs fewer). */
  timing?: TimingOptions;
};

export function gemmRow(m: number, k: number, n: number, transposeB: boolean): BenchRow {
  const name = transposeB ? `linear x·W^T ${m}x${k}x${n}` : `gemm ${m}x${k}x${n}`;
  return { kind: "gemm", m, k, n, transposeB, name, flops: 2 * m * k * n, bytes: f32 * (m * k + k * n + m * n), metric: "GFLOP/s" };
}

/** silu(z) = z·σ(z) is counted as 4 FLOPs (negate, exp, add, divide-and-multiply as one), so 7 per element. */
export function elementwiseRow(size: number): BenchRow {
  return { kind: "elementwise", size, name: `elementwise silu(x·a+b)·c ${size}`, flops: 7 * size, bytes: 5 * f32 * size, metric: "GB/s" };
}

/** 8 FLOPs per element: mean, centre, square, variance sum, scale, weight, bias (plus per-row work). */
export function layerNormRow(rows: number, cols: number): BenchRow {
  return {
    kind: "layer_norm",
    rows,
    cols,
    eps: 1e-5,
    name: `layer_norm ${rows}x${cols}`,
    flops: 8 * rows * cols,
    bytes: f32 * (2 * rows * cols + 2 * cols),
    metric: "GB/s",
  };
}

/** 5 FLOPs per element: max, subtract, exp, sum, normalise. */
export function softmaxRow(rows: number, cols: number): BenchRow {
  return { kind: "softmax", rows, cols, name: `softmax ${rows}x${cols}`, flops: 5 * rows * cols, bytes: f32 * 2 * rows * cols, metric: "GB/s" };
}

/** Only the two products count: 2·S·S·d for q·kᵀ and 2·S·S·d for p·v, per head. */
export function attentionRow(batch: number, heads: number, headDim: number, seq: number): BenchRow {
  return {
    kind: "attention",
    batch,
    heads,
    headDim,
    seq,
    scale: 1 / Math.sqrt(headDim),
    causal: false,
    name: `attention b${batch} h${heads} d${headDim} s${seq}`,
    flops: 4 * batch * heads * seq * seq * headDim,
    bytes: f32 * 4 * batch * seq * heads * headDim,
    metric: "GFLOP/s",
  };
}

function ditInputElements(config: AaaDitConfig, batch: number): number {
  return batch * (config.latentChannels * imageTokens(config) + config.textTokens * config.textFeatures + 1);
}

/** Bytes: parameters and both AdamW moments read and written once, inputs and target read once. */
export function ditTrainStepRow(batch: number, config: AaaDitConfig = tinyDitConfig, label = ""): BenchRow {
  const params = ditParamCount(config);
  const target = batch * config.latentChannels * imageTokens(config);
  return {
    kind: "dit_train_step",
    batch,
    config,
    name: `dit_train_step${label} b${batch}`,
    flops: ditTrainStepFlops(config, batch),
    bytes: f32 * (3 * 2 * params + ditInputElements(config, batch) + target),
    metric: "GFLOP/s",
  };
}

/** Bytes: parameters and inputs read once, output written once. */
export function ditForwardRow(batch: number, config: AaaDitConfig = tinyDitConfig): BenchRow {
  const output = batch * config.latentChannels * imageTokens(config);
  return {
    kind: "dit_forward",
    batch,
    config,
    name: `dit_forward b${batch}`,
    flops: ditForwardFlops(config, batch),
    bytes: f32 * (ditParamCount(config) + ditInputElements(config, batch) + output),
    metric: "GFLOP/s",
  };
}

/** The full CPU list: square GEMMs, the AAADiT Linear shapes at M = 384 (256 image + 128 text tokens), kernels, tiny DiT. */
export function cpuRows(): BenchRow[] {
  return [
    gemmRow(256, 256, 256, false),
    gemmRow(512, 512, 512, false),
    gemmRow(1024, 1024, 1024, false),
    gemmRow(384, 1024, 1024, true), // to_q / to_k / to_v / to_out
    gemmRow(384, 1024, 3072, true), // ff.0
    gemmRow(384, 3072, 1024, true), // ff.2
    gemmRow(384, 1024, 2048, true), // to_gate's width
    elementwiseRow(4_194_304),
    layerNormRow(4096, 1024),
    softmaxRow(4096, 1024),
    attentionRow(1, 32, 32, 384),
    ditTrainStepRow(8),
    ditForwardRow(2),
    // The DiT that `npm start` trains (models/config.ts "tiny"): 8×8 tokens of 192 pixel values, 32 text tokens × 128.
    ditTrainStepRow(16, startDitConfig, " (npm start's DiT)"),
    ...referenceDitRows(),
  ];
}

/**
 * The reference recipe's step (issue 15): the AAADiT 0.1B (spec Appendix A) at 256 image + 128 text
 * tokens, f32, AdamW, at batch 1 (the reference's) and 2; PyTorch is its only peer (tfjs and jax-js
 * would take minutes per step), with 1 warm-up and 3 timed runs.
 */
export function referenceDitRows(): BenchRow[] {
  return [1, 2].map((batch) => ({
    ...ditTrainStepRow(batch, referenceAaaDitConfig, " (AAADiT 0.1B)"),
    peers: ["torch", "torch.compile"],
    timing: { warmup: 1, iters: 3 },
  }));
}

/** A smoke-test list for CI: one of each kind, small enough to finish in seconds per peer. */
export function cpuQuickRows(): BenchRow[] {
  return [
    gemmRow(256, 256, 256, false),
    gemmRow(128, 256, 512, true),
    elementwiseRow(262_144),
    layerNormRow(256, 1024),
    softmaxRow(256, 1024),
    attentionRow(1, 4, 32, 128),
    ditTrainStepRow(1),
    ditForwardRow(1),
  ];
}

/** A row's rate from its time: GFLOP/s or GB/s according to its metric. */
export function rowRate(row: BenchRow, ms: number): number {
  const amount = row.metric === "GFLOP/s" ? row.flops : row.bytes;
  return amount / (ms * 1e6);
}
