/// <reference lib="dom" />
// The three libraries of `kiln bench webgpu`, each on its own GPUDevice from the browser's adapter:
// kiln (steps compiled for the `webgpu` device, as models compile them), TensorFlow.js on its
// `webgpu` backend and jax-js on its WebGPU backend, running the same GEMMs and the same DiT
// (bench/peers/{tfjs,jaxjs}-model.ts, the CPU bench's models) on the same seeded weights and inputs.
// Every run returns only once the GPU has finished its work (onSubmittedWorkDone, or a zero-byte
// readback in jax-js), so the medians time the GPU work and not its submission.

import { ops, type Tensor } from "../../compiler/index.ts";
import { ditForward as kilnDitForward } from "../../models/dit.ts";
import { compileStep, openWebGpu, webGpuDevice, type Step } from "../../runtime/portable.ts";
import { seededNormal } from "../random-data.ts";
import { type AaaDitConfig, type DitBatch, type DitWeights, ditParamSpecs, kilnDitConfig, timestepFrequencies } from "../tiny-dit.ts";
import type { ContenderName, GemmShape } from "./core.ts";
import type * as Tf from "@tensorflow/tfjs";
import type { Array as JaxArray } from "@jax-js/jax";

/** A row made ready on one library: a timed run, its output for the comparison, and what frees it. */
export interface Prepared {
  /** One run, resolved once the GPU has finished it. */
  run(): Promise<void>;
  /** The output of one run, read back. */
  output(): Promise<Float32Array>;
  release(): void;
}

export interface Contender {
  name: ContenderName;
  describe: string;
  adapter: string;
  gemm(shape: GemmShape, a: Float32Array, b: Float32Array): Promise<Prepared>;
  dit(config: AaaDitConfig, weights: DitWeights, batch: DitBatch): Promise<Prepared>;
}

const describeInfo = (info: GPUAdapterInfo | undefined): string | null => {
  if (!info) return null;
  const parts = [info.vendor, info.architecture, info.description].filter((s) => s && s.length > 0);
  return parts.length ? parts.join(" / ") : null;
};

/** The adapter a library's GPUDevice came from (GPUDevice.adapterInfo, Chromium 132 on), or what it asked for. */
const deviceAdapter = (device: GPUDevice | undefined, fallback: string): string =>
  describeInfo((device as (GPUDevice & { adapterInfo?: GPUAdapterInfo }) | undefined)?.adapterInfo) ?? fallback;

// ---- kiln ----

/** A compiled step's run until the GPU is done (Step.execute submits one command buffer; settle awaits it). */
function kilnPrepared(step: Step): Prepared {
  return {
    async run() {
      step.execute();
      await step.backend.settle();
    },
    async output() {
      return (await step.runAsync()) as Float32Array;
    },
    release: () => step.dispose(),
  };
}

export async function kilnContender(): Promise<Contender> {
  const gpu = await openWebGpu();
  return {
    name: "kiln",
    describe: "kiln, the webgpu device (generated WGSL, one command buffer per step)",
    adapter: gpu.adapter,
    async gemm({ m, k, n }, a, b) {
      const step = compileStep(
        (t) => {
          const { a, b } = t as { a: Tensor; b: Tensor };
          return ops.dot(a, b);
        },
        { a: { shape: [m, k] }, b: { shape: [k, n] } },
        { name: `bench_gemm_${m}x${k}x${n}`, device: webGpuDevice },
      );
      step.set({ a, b });
      return kilnPrepared(step);
    },
    async dit(config, weights, batch) {
      const dit = kilnDitConfig(config);
      const paramShapes = Object.fromEntries(ditParamSpecs(config).map((s) => [s.name, { shape: s.shape }]));
      const step = compileStep(
        (t) => {
          const { params, latents, promptEmbeds, timestep } = t as { params: Record<string, Tensor> } & Record<string, Tensor>;
          return kilnDitForward(params, latents!, promptEmbeds!, timestep!, dit);
        },
        {
          params: paramShapes,
          latents: { shape: [batch.batch, config.latentChannels, config.latentHeight, config.latentWidth] },
          promptEmbeds: { shape: [batch.batch, config.textTokens, config.textFeatures] },
          timestep: { shape: [batch.batch] },
        },
        { name: "bench_dit_step", device: webGpuDevice },
      );
      step.set({ params: weights, latents: batch.latents, promptEmbeds: batch.promptEmbeds, timestep: batch.timestep });
      return kilnPrepared(step);
    },
  };
}

// ---- TensorFlow.js ----

export async function tfjsContender(): Promise<Contender> {
  const tf = await import("@tensorflow/tfjs");
  await import("@tensorflow/tfjs-backend-webgpu");
  const { ditForward, isLinearWeight } = await import("../peers/tfjs-model.ts");
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed (see the browser console)");
  await tf.ready();
  type WebGpuBackend = { device: GPUDevice; ensureCommandEncoderReady(): void; endComputePassEncoder(): void; submitQueue(): void };
  const backend = tf.backend() as unknown as WebGpuBackend;
  /**
   * tfjs-webgpu records its dispatches into an open compute pass until something must submit them;
   * close the pass and submit as its own reads do (getBufferData), then wait for the queue.
   */
  const finished = async (): Promise<void> => {
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    await backend.device.queue.onSubmittedWorkDone();
  };
  const prepared = (compute: () => Tf.Tensor, inputs: Tf.Tensor[]): Prepared => ({
    async run() {
      const out = tf.tidy(compute);
      await finished();
      out.dispose();
    },
    async output() {
      const out = tf.tidy(compute);
      const values = Float32Array.from(await out.data());
      out.dispose();
      return values;
    },
    release: () => tf.dispose(inputs),
  });

  /**
   * Attention for a GPU: all (sample, head) blocks in one batched product each for q·kᵀ and p·v (the
   * per-head 2-D products of tfjs-model.ts suit wasm, where batched products are slow; here each is
   * a dispatch: the tiny config's step took 2.55 s per head against 2.3 s batched on SwiftShader).
   */
  const attendBatched = (
    q: Tf.Tensor2D,
    k: Tf.Tensor2D,
    v: Tf.Tensor2D,
    s: { batch: number; seq: number; heads: number; dh: number },
  ): Tf.Tensor2D => {
    const split = (t: Tf.Tensor2D) =>
      tf.reshape(tf.transpose(tf.reshape(t, [s.batch, s.seq, s.heads, s.dh]), [0, 2, 1, 3]), [s.batch * s.heads, s.seq, s.dh]) as Tf.Tensor3D;
    const scores = tf.matMul(split(tf.mul(q, 1 / Math.sqrt(s.dh))), split(k), false, true);
    const out = tf.matMul(tf.softmax(scores), split(v));
    return tf.reshape(tf.transpose(tf.reshape(out, [s.batch, s.heads, s.seq, s.dh]), [0, 2, 1, 3]), [s.batch * s.seq, s.heads * s.dh]);
  };

  return {
    name: "tfjs-webgpu",
    describe: `@tensorflow/tfjs ${tf.version_core}, webgpu backend (@tensorflow/tfjs-backend-webgpu)`,
    adapter: deviceAdapter(backend.device, "(the browser's high-performance adapter)"),
    async gemm({ m, k, n }, a, b) {
      const [ta, tb] = [tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])];
      return prepared(() => tf.matMul(ta, tb), [ta, tb]);
    },
    async dit(config, weights, batch) {
      const params: Record<string, Tf.Tensor> = {};
      for (const spec of ditParamSpecs(config)) {
        // Linear weights held as Wᵀ [in, out], as tfjs-model.ts expects.
        params[spec.name] = tf.tidy(() => {
          const reference = tf.tensor(weights[spec.name]!, [...spec.shape], "float32");
          return isLinearWeight(spec.name, spec.shape) ? tf.transpose(reference) : reference;
        });
      }
      const latents = tf.tensor(batch.latents, [batch.batch, config.latentChannels, config.latentHeight, config.latentWidth]);
      const promptEmbeds = tf.tensor(batch.promptEmbeds, [batch.batch, config.textTokens, config.textFeatures]);
      const timestep = tf.tensor1d(batch.timestep);
      const frequencies = tf.tensor1d(timestepFrequencies(config));
      return prepared(
        () => ditForward(config, params, latents, promptEmbeds, timestep, frequencies, attendBatched),
        [...Object.values(params), latents, promptEmbeds, timestep, frequencies],
      );
    },
  };
}

// ---- jax-js ----

export async function jaxjsContender(): Promise<Contender> {
  const jax = await import("@jax-js/jax");
  const { ditForward } = await import("../peers/jaxjs-model.ts");
  const { np, tree } = { np: jax.numpy, tree: jax.tree };
  const devices = await jax.init("webgpu");
  if (!devices.includes("webgpu")) throw new Error(`jax-js: init('webgpu') gave only [${devices.join(", ")}]`);
  jax.defaultDevice("webgpu");
  const array = (values: Float32Array, shape: readonly number[]): JaxArray => np.array(values, { shape: [...shape], device: "webgpu" });
  /** A jitted function over arrays that it consumes; each run passes fresh references. */
  const prepared = (call: () => JaxArray, release: () => void): Prepared => ({
    async run() {
      const out = call();
      await out.blockUntilReady();
      out.dispose();
    },
    async output() {
      return Float32Array.from((await call().data()) as Float32Array);
    },
    release,
  });
  return {
    name: "jaxjs-webgpu",
    describe: "@jax-js/jax, webgpu device, jit",
    adapter: deviceAdapter(jax.getWebGPUDevice(), "(the browser's high-performance adapter)"),
    async gemm({ m, k, n }, a, b) {
      const [ja, jb] = [array(a, [m, k]), array(b, [k, n])];
      const f = jax.jit((x: JaxArray, y: JaxArray) => np.matmul(x, y));
      return prepared(
        () => f(ja.ref, jb.ref),
        () => (tree.dispose([ja, jb]), f.dispose()),
      );
    },
    async dit(config, weights, batch) {
      const params: Record<string, JaxArray> = {};
      for (const spec of ditParamSpecs(config)) params[spec.name] = array(weights[spec.name]!, spec.shape);
      const latents = array(batch.latents, [batch.batch, config.latentChannels, config.latentHeight, config.latentWidth]);
      const promptEmbeds = array(batch.promptEmbeds, [batch.batch, config.textTokens, config.textFeatures]);
      const timestep = array(batch.timestep, [batch.batch]);
      const frequencies = array(timestepFrequencies(config), [config.timestepFeatures / 2]);
      // Attention as 4-D products over all heads (per head measured the same on SwiftShader: 770 ms a step either way).
      const f = jax.jit((p: Record<string, JaxArray>, l: JaxArray, e: JaxArray, t: JaxArray, fr: JaxArray) =>
        ditForward(config, p, l, e, t, fr, "batched"),
      );
      return prepared(
        () => f(tree.ref(params), latents.ref, promptEmbeds.ref, timestep.ref, frequencies.ref),
        () => (tree.dispose([params, latents, promptEmbeds, timestep, frequencies]), f.dispose()),
      );
    },
  };
}

/** Seeded inputs for a GEMM, the same bytes for every library. */
export function gemmInputs({ m, k, n }: GemmShape): { a: Float32Array; b: Float32Array } {
  return { a: seededNormal(m * k, 1), b: seededNormal(k * n, 2) };
}
