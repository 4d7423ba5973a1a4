// The jax-js peer of `kiln bench cpu`: every row as jitted functions on the wasm device (one thread on
// Node 20, which has no web Worker for jax-js's pool), timed with blockUntilReady.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defaultDevice, init, jit, nn, numpy as np, tree } from "@jax-js/jax";
import type { BenchRow } from "../rows.ts";
import { seededNormal, sizeOf } from "../random-data.ts";
import { type AaaDitConfig, type DitBatch, type DitWeights, ditParamSpecs, initDitWeights, makeDitBatch, timestepFrequencies } from "../tiny-dit.ts";
import { type TimingOptions, timeRuns } from "../timing.ts";
import { attentionPerHead, ditForward, type JaxParams, type JaxTrainState, layerNorm, makeJaxTrainStep } from "./jaxjs-model.ts";
import { measurePrepared, type DitPeer, type Measurement, type PreparedRow } from "./types.ts";

/** The installed @jax-js/jax version, read from its package.json (the package exports no version). */
function jaxVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve("@jax-js/jax");
    return (JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "(version unknown)";
  }
}

function tensor(values: Float32Array, shape: readonly number[]): np.Array {
  return np.array(values, { shape: [...shape] });
}

function randomTensor(shape: readonly number[], seed: number): np.Array {
  return tensor(seededNormal(sizeOf(shape), seed), shape);
}

function paramsFrom(config: AaaDitConfig, weights: DitWeights): JaxParams {
  const params: JaxParams = {};
  for (const spec of ditParamSpecs(config)) params[spec.name] = tensor(weights[spec.name]!, spec.shape);
  return params;
}

// A `type` rather than an `interface`, so that jax-js accepts it as a JsTree.
type DitInputs = {
  latents: np.Array;
  promptEmbeds: np.Array;
  timestep: np.Array;
  frequencies: np.Array;
  target: np.Array;
};

function ditInputs(config: AaaDitConfig, batch: DitBatch): DitInputs {
  const latentShape = [batch.batch, config.latentChannels, config.latentHeight, config.latentWidth];
  return {
    latents: tensor(batch.latents, latentShape),
    promptEmbeds: tensor(batch.promptEmbeds, [batch.batch, config.textTokens, config.textFeatures]),
    timestep: tensor(batch.timestep, [batch.batch]),
    frequencies: tensor(timestepFrequencies(config), [config.timestepFeatures / 2]),
    target: tensor(batch.target, latentShape),
  };
}

/** The jitted DiT forward, with per-head attention (the faster form for a forward, see AttentionForm). */
function jitDitForward(config: AaaDitConfig) {
  return jit((p: JaxParams, latents: np.Array, prompt: np.Array, t: np.Array, freqs: np.Array) =>
    ditForward(config, p, latents, prompt, t, freqs, "per-head"),
  );
}

/** Times `compute` (which consumes references to the row's inputs) until its result is ready. */
async function timeJitted(compute: () => np.Array, options: TimingOptions): Promise<number[]> {
  return timeRuns(async () => {
    const out = compute();
    await out.blockUntilReady();
    out.dispose();
  }, options);
}

function prepare(row: BenchRow): PreparedRow {
  switch (row.kind) {
    case "gemm": {
      const a = randomTensor([row.m, row.k], 1);
      // x·Wᵀ is written as such: jax-js fuses the transpose into its matmul tiling (faster than a pre-transposed W, measured).
      const b = randomTensor(row.transposeB ? [row.n, row.k] : [row.k, row.n], 2);
      const f = jit(row.transposeB ? (x: np.Array, w: np.Array) => np.matmul(x, np.transpose(w)) : (x: np.Array, y: np.Array) => np.matmul(x, y));
      return { run: (o) => timeJitted(() => f(a.ref, b.ref), o), release: () => (tree.dispose([a, b]), f.dispose()) };
    }
    case "elementwise": {
      const [x, a, b, c] = [1, 2, 3, 4].map((seed) => randomTensor([row.size], seed)) as [np.Array, np.Array, np.Array, np.Array];
      const f = jit((x: np.Array, a: np.Array, b: np.Array, c: np.Array) => nn.silu(x.mul(a).add(b)).mul(c));
      return { run: (o) => timeJitted(() => f(x.ref, a.ref, b.ref, c.ref), o), release: () => (tree.dispose([x, a, b, c]), f.dispose()) };
    }
    case "layer_norm": {
      const x = randomTensor([row.rows, row.cols], 1);
      const weight = randomTensor([row.cols], 2);
      const bias = randomTensor([row.cols], 3);
      const f = jit((x: np.Array, w: np.Array, b: np.Array) => layerNorm(x, w, b, row.eps));
      return { run: (o) => timeJitted(() => f(x.ref, weight.ref, bias.ref), o), release: () => (tree.dispose([x, weight, bias]), f.dispose()) };
    }
    case "softmax": {
      const x = randomTensor([row.rows, row.cols], 1);
      const f = jit((x: np.Array) => nn.softmax(x, -1));
      return { run: (o) => timeJitted(() => f(x.ref), o), release: () => (x.dispose(), f.dispose()) };
    }
    case "attention": {
      const shape = [row.batch, row.seq, row.heads * row.headDim];
      const [q, k, v] = [1, 2, 3].map((seed) => randomTensor(shape, seed)) as [np.Array, np.Array, np.Array];
      const rows = row.batch * row.seq;
      const width = row.heads * row.headDim;
      const f = jit((q: np.Array, k: np.Array, v: np.Array) =>
        attentionPerHead(
          q.reshape([rows, width]),
          k.reshape([rows, width]),
          v.reshape([rows, width]),
          row.batch,
          row.seq,
          row.heads,
          row.headDim,
        ).reshape(shape),
      );
      return { run: (o) => timeJitted(() => f(q.ref, k.ref, v.ref), o), release: () => (tree.dispose([q, k, v]), f.dispose()) };
    }
    case "dit_forward": {
      const params = paramsFrom(row.config, initDitWeights(row.config, 1));
      const inputs = ditInputs(row.config, makeDitBatch(row.config, row.batch, 2));
      const f = jitDitForward(row.config);
      const run = (o: TimingOptions) =>
        timeJitted(() => f(tree.ref(params), inputs.latents.ref, inputs.promptEmbeds.ref, inputs.timestep.ref, inputs.frequencies.ref), o);
      return { run, release: () => (tree.dispose([params, inputs]), f.dispose()) };
    }
    case "dit_train_step": {
      const trainer = ditTrainer(row.config, initDitWeights(row.config, 1), makeDitBatch(row.config, row.batch, 2));
      const run = (o: TimingOptions) =>
        timeRuns(async () => {
          (await trainer.step()).dispose();
        }, o);
      return { run, release: trainer.release };
    }
    default:
      return row satisfies never;
  }
}

/** A training loop on one fixed batch; each `step()` returns that step's loss (computed before the update). */
function ditTrainer(config: AaaDitConfig, weights: DitWeights, batch: DitBatch) {
  const trainStep = makeJaxTrainStep(config);
  const inputs = ditInputs(config, batch);
  const params = paramsFrom(config, weights);
  const zeros = () => tree.map((p: np.Array) => np.zerosLike(p.ref), params);
  let state: JaxTrainState = { params, m: zeros(), v: zeros(), loss: np.array(0) };
  let step = 0;
  return {
    async step(): Promise<np.Array> {
      step += 1;
      state = await trainStep.run(state, tree.ref(inputs), step);
      return state.loss.ref;
    },
    release(): void {
      tree.dispose([state, inputs]);
      trainStep.dispose();
    },
  };
}

export const jaxjsPeer: DitPeer = {
  name: "jax-js",
  describe: () => `@jax-js/jax ${jaxVersion()}, wasm device, jit, 1 thread`,

  async init(): Promise<void> {
    const devices = await init("wasm", "cpu");
    if (!devices.includes("wasm")) throw new Error(`jax-js: expected the wasm device to initialise, found only [${devices.join(", ")}]`);
    defaultDevice("wasm");
  },

  measure: (row: BenchRow, options: TimingOptions): Promise<Measurement> => measurePrepared(prepare, row, options),

  async ditForward(config: AaaDitConfig, weights: DitWeights, batch: DitBatch): Promise<Float32Array> {
    const params = paramsFrom(config, weights);
    const inputs = ditInputs(config, batch);
    inputs.target.dispose();
    const f = jitDitForward(config);
    const out = f(params, inputs.latents, inputs.promptEmbeds, inputs.timestep, inputs.frequencies);
    const values = Float32Array.from(await out.data());
    f.dispose();
    return values;
  },

  async ditTrainLosses(config: AaaDitConfig, weights: DitWeights, batch: DitBatch, steps: number): Promise<number[]> {
    const trainer = ditTrainer(config, weights, batch);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = await trainer.step();
      losses.push((await loss.data())[0]!);
    }
    trainer.release();
    return losses;
  },
};
