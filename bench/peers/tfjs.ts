// The TensorFlow.js peer of `kiln bench cpu`: @tensorflow/tfjs on the wasm backend (XNNPACK, SIMD, one
// thread on Node 20), every row inside tf.tidy, formulated as tfjs-wasm runs fastest (see tfjs-model.ts).

import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { seededNormal, sizeOf } from "../random-data.ts";
import type { BenchRow } from "../rows.ts";
import {
  type AaaDitConfig,
  adamW,
  type DitBatch,
  type DitWeights,
  ditParamSpecs,
  initDitWeights,
  makeDitBatch,
  timestepFrequencies,
} from "../tiny-dit.ts";
import { type TimingOptions, timeRuns } from "../timing.ts";
import { attention, ditForward, ditLoss, isLinearWeight, layerNorm, silu, type TfParams } from "./tfjs-model.ts";
import { measurePrepared, type DitPeer, type Measurement, type PreparedRow } from "./types.ts";

function randomTensor(shape: readonly number[], seed: number): tf.Tensor {
  return tf.tensor(seededNormal(sizeOf(shape), seed), [...shape], "float32");
}

/**
 * Forces the result to exist by reading one element of it. Kernels of the wasm backend run
 * synchronously inside each op call, so this proves completion without timing a full copy to JS.
 */
function touch(result: tf.Tensor): void {
  (tf.backend() as BackendWasm).readSync(result.dataId, 0, 1);
}

/** Times `compute` (run inside tf.tidy) until its result exists, freeing every intermediate. */
function timeTidy(compute: () => tf.Tensor, options: TimingOptions): Promise<number[]> {
  return timeRuns(() => {
    const out = tf.tidy(compute);
    touch(out);
    out.dispose();
  }, options);
}

let variableRun = 0;

/** Parameters as tensors (or trainable variables), Linear weights transposed once to [in, out] here, outside any timing. */
function paramsFrom(config: AaaDitConfig, weights: DitWeights, trainable: boolean): TfParams {
  const prefix = `bench-dit-${variableRun++}/`;
  const params: TfParams = {};
  for (const spec of ditParamSpecs(config)) {
    params[spec.name] = tf.tidy(() => {
      const reference = tf.tensor(weights[spec.name]!, [...spec.shape], "float32");
      const stored = isLinearWeight(spec.name, spec.shape) ? tf.transpose(reference) : reference;
      return trainable ? tf.variable(stored, true, prefix + spec.name) : stored;
    });
  }
  return params;
}

interface DitInputs {
  latents: tf.Tensor;
  promptEmbeds: tf.Tensor;
  timestep: tf.Tensor1D;
  frequencies: tf.Tensor1D;
  target: tf.Tensor;
}

function ditInputs(config: AaaDitConfig, batch: DitBatch): DitInputs {
  const latentShape = [batch.batch, config.latentChannels, config.latentHeight, config.latentWidth];
  return {
    latents: tf.tensor(batch.latents, latentShape),
    promptEmbeds: tf.tensor(batch.promptEmbeds, [batch.batch, config.textTokens, config.textFeatures]),
    timestep: tf.tensor1d(batch.timestep),
    frequencies: tf.tensor1d(timestepFrequencies(config)),
    target: tf.tensor(batch.target, latentShape),
  };
}

function disposeAll(values: Record<string, tf.Tensor>): void {
  for (const value of Object.values(values)) value.dispose();
}

/** A training loop on one fixed batch; each `step()` returns that step's loss (computed before the update). */
function ditTrainer(config: AaaDitConfig, weights: DitWeights, batch: DitBatch) {
  const params = paramsFrom(config, weights, true);
  const variables = Object.values(params) as tf.Variable[];
  const inputs = ditInputs(config, batch);
  // tfjs's Adam is PyTorch's (bias-corrected m̂/(√v̂ + eps)); the decoupled decay of AdamW is one multiply per parameter.
  const optimizer = tf.train.adam(adamW.lr, adamW.beta1, adamW.beta2, adamW.eps);
  const decay = 1 - adamW.lr * adamW.weightDecay;
  return {
    step(): tf.Scalar {
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => ditLoss(config, params, inputs.latents, inputs.promptEmbeds, inputs.timestep, inputs.frequencies, inputs.target),
          variables,
        );
        for (const variable of variables) variable.assign(tf.mul(variable, decay));
        optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        return value;
      });
    },
    release(): void {
      disposeAll(params);
      disposeAll({ ...inputs });
      optimizer.dispose();
    },
  };
}

function prepare(row: BenchRow): PreparedRow {
  switch (row.kind) {
    case "gemm": {
      const a = randomTensor([row.m, row.k], 1);
      // For x·Wᵀ the best tfjs-wasm form is W transposed once, here, then a plain product (transposeB is ~10× slower).
      // tfjs-wasm keeps XNNPACK's packed copy of B while the same B tensor is passed again, as in this loop;
      // repacking would add about 7% at 1024³ (measured).
      const b = row.transposeB ? tf.tidy(() => tf.transpose(randomTensor([row.n, row.k], 2))) : randomTensor([row.k, row.n], 2);
      return { run: (o) => timeTidy(() => tf.matMul(a, b), o), release: () => tf.dispose([a, b]) };
    }
    case "elementwise": {
      const [x, a, b, c] = [1, 2, 3, 4].map((seed) => randomTensor([row.size], seed)) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return { run: (o) => timeTidy(() => tf.mul(silu(tf.add(tf.mul(x, a), b)), c), o), release: () => tf.dispose([x, a, b, c]) };
    }
    case "layer_norm": {
      const x = randomTensor([row.rows, row.cols], 1) as tf.Tensor2D;
      const weight = randomTensor([row.cols], 2);
      const bias = randomTensor([row.cols], 3);
      return { run: (o) => timeTidy(() => layerNorm(x, weight, bias, row.eps), o), release: () => tf.dispose([x, weight, bias]) };
    }
    case "softmax": {
      const x = randomTensor([row.rows, row.cols], 1);
      return { run: (o) => timeTidy(() => tf.softmax(x), o), release: () => x.dispose() };
    }
    case "attention": {
      const shape = [row.batch, row.seq, row.heads * row.headDim];
      const [q, k, v] = [1, 2, 3].map((seed) => randomTensor(shape, seed)) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const flat = [row.batch * row.seq, row.heads * row.headDim] as [number, number];
      const heads = { batch: row.batch, seq: row.seq, heads: row.heads, dh: row.headDim };
      const run = (o: TimingOptions) =>
        timeTidy(() => tf.reshape(attention(tf.reshape(q, flat), tf.reshape(k, flat), tf.reshape(v, flat), heads), shape), o);
      return { run, release: () => tf.dispose([q, k, v]) };
    }
    case "dit_forward": {
      const params = paramsFrom(row.config, initDitWeights(row.config, 1), false);
      const inputs = ditInputs(row.config, makeDitBatch(row.config, row.batch, 2));
      const run = (o: TimingOptions) =>
        timeTidy(() => ditForward(row.config, params, inputs.latents, inputs.promptEmbeds, inputs.timestep, inputs.frequencies), o);
      return { run, release: () => (disposeAll(params), disposeAll({ ...inputs })) };
    }
    case "dit_train_step": {
      const trainer = ditTrainer(row.config, initDitWeights(row.config, 1), makeDitBatch(row.config, row.batch, 2));
      const run = (o: TimingOptions) =>
        timeRuns(() => {
          const loss = trainer.step();
          touch(loss);
          loss.dispose();
        }, o);
      return { run, release: trainer.release };
    }
    default:
      return row satisfies never;
  }
}

export const tfjsPeer: DitPeer = {
  name: "tfjs-wasm",
  describe: () => `@tensorflow/tfjs ${tf.version_core}, wasm backend (XNNPACK, SIMD), 1 thread`,

  async init(): Promise<void> {
    const ok = await tf.setBackend("wasm");
    await tf.ready();
    if (!ok || tf.getBackend() !== "wasm") throw new Error(`tfjs: expected the wasm backend to initialise, found '${tf.getBackend()}'`);
  },

  measure: (row: BenchRow, options: TimingOptions): Promise<Measurement> => measurePrepared(prepare, row, options),

  async ditForward(config: AaaDitConfig, weights: DitWeights, batch: DitBatch): Promise<Float32Array> {
    const params = paramsFrom(config, weights, false);
    const inputs = ditInputs(config, batch);
    const out = tf.tidy(() => ditForward(config, params, inputs.latents, inputs.promptEmbeds, inputs.timestep, inputs.frequencies));
    const values = Float32Array.from(await out.data());
    out.dispose();
    disposeAll(params);
    disposeAll({ ...inputs });
    return values;
  },

  async ditTrainLosses(config: AaaDitConfig, weights: DitWeights, batch: DitBatch, steps: number): Promise<number[]> {
    const trainer = ditTrainer(config, weights, batch);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = trainer.step();
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    trainer.release();
    return losses;
  },
};
