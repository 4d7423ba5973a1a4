// The sampling pipeline (the seed's AAAImagePipeline): prompt → embeddings; seeded noise (or an
// input image noised to the denoising strength); N Euler steps of the flow-matching schedule with
// classifier-free guidance, where one compiled step (positive and negative as a batch of 2) is built
// once and run N times; decoding and the reference's conversion to 8-bit pixels (spec §4.3). It runs in
// a browser bundle too (`kiln serve`), so it imports runtime/portable.ts and no Node module; PNG files
// are written by models/png.ts. The steps' order is written once, as a generator of step runs
// (`Sampling`): sample() drives it synchronously (the CPU, unchanged), sampleAsync() on any device,
// including those that read results back asynchronously (WebGPU).

import { nn, ops, roundBf16, type Pytree, type Tensor } from "../compiler/index.ts";
import { compileStep, type DeviceChoice, type Step, type StepValues } from "../runtime/portable.ts";
import { ditForward } from "./dit.ts";
import { setTimesteps, timestepIndex, addNoise } from "./scheduler.ts";
import { torchCpuRandnBf16 } from "./noise.ts";
import { promptBatch } from "./prompts.ts";
import { readPrompt, type PromptReading } from "./text/vocabulary.ts";
import { progressBar } from "./progress.ts";
import type { ModelParts } from "./config.ts";
import type { ParamValues } from "./params.ts";

export interface SampleOptions {
  prompt: string;
  /** The negative prompt (the reference's call-site default is ""). */
  negative?: string;
  /** Guidance scale; 1 skips the negative branch (spec §4.4). */
  cfg?: number;
  steps?: number;
  seed?: number;
  /** Image-to-image: an input image (CHW in [−1, 1] at the output size) and the denoising strength. */
  image?: Float32Array;
  strength?: number;
  /** A progress bar on stderr (Node); default on. */
  progress?: boolean;
  /** Called after each denoising step (a browser's progress bar). */
  onStep?: (done: number, total: number) => void;
}

/** One run of a compiled step that the sampling generator asks its driver for; the driver sends back the output. */
interface StepRun {
  readonly step: Step;
  readonly values: StepValues;
}

/** The pipeline's order of step runs, ending with a value: driven by drive() or driveAsync(). */
type Sampling<T> = Generator<StepRun, T, Float32Array>;

/** Runs every step the generator asks for with Step.run (devices that read back synchronously). */
function drive<T>(sampling: Sampling<T>): T {
  let next = sampling.next();
  while (!next.done) next = sampling.next(next.value.step.run(next.value.values) as Float32Array);
  return next.value;
}

/** The same with Step.runAsync, which every device answers; the event loop runs between steps. */
async function driveAsync<T>(sampling: Sampling<T>): Promise<T> {
  let next = sampling.next();
  while (!next.done) next = sampling.next((await next.value.step.runAsync(next.value.values)) as Float32Array);
  return next.value;
}

export interface Weights {
  dit: ParamValues;
  /** Text encoder tensors by the encoder's own names (none for an encoder without weights). */
  text: ParamValues;
  vae: ParamValues;
  /**
   * The words a jointly trained text encoder saw in training (from its checkpoint): prompts are read
   * with them (models/text/vocabulary.ts): an unseen word as the seen word it extends or shortens, or left out.
   */
  vocabulary?: ReadonlySet<string>;
}

const tree = (values: ParamValues): Record<string, Float32Array> => Object.fromEntries(values);
const specTree = (specs: readonly { name: string; shape: readonly number[] }[]) => Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }]));

/**
 * The Euler step of the sampler as a pure function: latents ← latents + v·dt, where v is the DiT's
 * prediction, guided (out = negative + cfg · (positive − negative), positive branches first) when
 * `guided`, on the configuration's `guidanceChannels` only. A DiT that predicts the clean latent x̂0
 * (config `prediction: "image"`) is guided in the same linear way and its velocity is (latents − x̂0)/σ,
 * so the step takes the exact σ as an input.
 * Its example tree gives the shapes: `images` latents and 2·images prompt rows when guided.
 */
export function denoiseStep(
  parts: Pick<ModelParts, "config" | "latent" | "text" | "ditSpec">,
  images: number,
  guided: boolean,
): { fn: (tree: Pytree<Tensor>) => Tensor; example: Record<string, unknown> } {
  const { config, latent, text } = parts;
  const [c, h, w] = latent;
  const branches = guided ? 2 * images : images;
  const predictsImage = config.prediction === "image";
  const fn = (t: Pytree<Tensor>): Tensor => {
    const { params, latents, embeds, timestep, dt, cfg, sigma } = t as Record<string, Tensor> & { params: Record<string, Tensor> };
    const batched = guided ? ops.concat([latents!, latents!], 0) : latents!;
    const pred = ditForward(params, batched, embeds!, ops.expand(ops.reshape(timestep!, [1]), [branches]), config.dit);
    let out = pred;
    if (guided) {
      const [positive, negative] = nn.split(pred, [images, images], 0) as [Tensor, Tensor];
      out = ops.add(negative, ops.mul(nn.sub(positive, negative), guidanceScale(cfg!, c, config.guidanceChannels)));
    }
    const velocity = predictsImage ? nn.div(nn.sub(latents!, out), sigma!) : out;
    return ops.add(latents!, ops.mul(velocity, dt!));
  };
  const example = {
    params: specTree(parts.ditSpec),
    latents: { shape: [images, c, h, w] },
    embeds: { shape: [branches, text.maxLength, config.dit.textDim] },
    timestep: { shape: [] },
    dt: { shape: [] },
    cfg: { shape: [] },
    ...(predictsImage ? { sigma: { shape: [] } } : {}),
  };
  return { fn, example };
}

/**
 * The guidance scale by latent channel: `cfg` on the first `channels`, 1 (the prompt's own
 * prediction) on the rest; the scalar itself when every channel is guided.
 */
function guidanceScale(cfg: Tensor, latentChannels: number, channels = latentChannels): Tensor {
  if (channels >= latentChannels) return cfg;
  const shape = [1, latentChannels, 1, 1];
  const coarse = ops.cmplt(ops.iota(shape, 1), channels);
  return ops.where(coarse, ops.expand(ops.reshape(cfg, [1, 1, 1, 1]), shape), ops.full(shape, 1));
}

/** A pipeline for one model at one resolution: its steps are compiled on first use and reused. */
export class Sampler {
  private textSteps = new Map<number, Step>();
  private denoiseSteps = new Map<number, Step>();
  private decodeStep?: Step;
  private encodeStep?: Step;
  readonly height: number;
  readonly width: number;

  constructor(
    readonly parts: ModelParts,
    readonly weights: Weights,
    /** A registered device's name, or a device object (a browser passes the WebGPU device; it registers none). */
    readonly device: DeviceChoice = "cpu",
  ) {
    this.height = parts.latent[1] * parts.vae.downsample;
    this.width = parts.latent[2] * parts.vae.downsample;
  }

  /** How the text encoder reads `prompt`: as written, or with its unseen words replaced or left out. */
  reading(prompt: string): PromptReading {
    return this.weights.vocabulary ? readPrompt(prompt, this.weights.vocabulary) : { text: prompt, replaced: [], dropped: [] };
  }

  /** Prompt embeddings [n, L, D] for n prompts. */
  embed(prompts: readonly string[]): Float32Array {
    return drive(this.embedding(prompts));
  }

  private *embedding(prompts: readonly string[]): Sampling<Float32Array> {
    const { text } = this.parts;
    const n = prompts.length;
    let step = this.textSteps.get(n);
    if (!step) {
      step = compileStep(
        (t) => {
          const { params, ids, mask } = t as { params: Record<string, Tensor>; ids: Tensor; mask: Tensor };
          return text.encode(params, ids, mask);
        },
        { params: specTree(text.paramSpec), ids: { shape: [n, ...text.idsShape], dtype: "i32" }, mask: { shape: [n, text.maxLength], dtype: "i32" } },
        { name: `text_encoder_${text.name}_${n}`, device: this.device },
      );
      step.set({ params: tree(this.weights.text) });
      this.textSteps.set(n, step);
    }
    const batch = promptBatch(
      text,
      prompts.map((p) => this.reading(p).text),
    );
    return yield { step, values: { ids: batch.ids, mask: batch.mask } };
  }

  /** One denoising step for `images` latents (doubled into positive and negative branches with guidance), compiled once. */
  private denoiser(images: number, guided: boolean): Step {
    const key = images * 2 + (guided ? 1 : 0);
    let step = this.denoiseSteps.get(key);
    if (step) return step;
    const { config } = this.parts;
    const { fn, example } = denoiseStep(this.parts, images, guided);
    step = compileStep(fn, example, { name: `denoise_${config.name}_${images}${guided ? "_cfg" : ""}`, device: this.device });
    step.set({ params: tree(this.weights.dit) });
    this.denoiseSteps.set(key, step);
    return step;
  }

  private vaeStep(direction: "encode" | "decode"): Step {
    const existing = direction === "encode" ? this.encodeStep : this.decodeStep;
    if (existing) return existing;
    const { vae, latent } = this.parts;
    const example = direction === "encode" ? { shape: [1, 3, this.height, this.width] } : { shape: [1, ...latent] };
    const step = compileStep(
      (t) => {
        const { params, x } = t as { params: Record<string, Tensor>; x: Tensor };
        return direction === "encode" ? vae.encode(params, x) : vae.decode(params, x);
      },
      { params: specTree(vae.paramSpec), x: example },
      { name: `vae_${vae.name}_${direction}`, device: this.device },
    );
    step.set({ params: tree(this.weights.vae) });
    if (direction === "encode") this.encodeStep = step;
    else this.decodeStep = step;
    return step;
  }

  /** Generate one image: RGB bytes (H × W × 3). */
  sample(options: SampleOptions): Uint8Array {
    return this.sampleMany([options])[0]!;
  }

  /** sample() on every device (WebGPU reads its results back asynchronously). */
  async sampleAsync(options: SampleOptions): Promise<Uint8Array> {
    return (await this.sampleManyAsync([options]))[0]!;
  }

  /**
   * Generate several images in one batch (one compiled step runs them all). They share the step
   * count, guidance scale and denoising strength of the first request; prompts, negatives, seeds
   * and input images are per request.
   */
  sampleMany(requests: readonly SampleOptions[]): Uint8Array[] {
    return drive(this.sampling(requests));
  }

  /** sampleMany() on every device. */
  sampleManyAsync(requests: readonly SampleOptions[]): Promise<Uint8Array[]> {
    return driveAsync(this.sampling(requests));
  }

  private *sampling(requests: readonly SampleOptions[]): Sampling<Uint8Array[]> {
    const first = requests[0];
    if (!first) return [];
    const { latent } = this.parts;
    const [c, h, w] = latent;
    const n = requests.length;
    const steps = first.steps ?? 30;
    const cfg = first.cfg ?? 1;
    const strength = first.image ? (first.strength ?? 1) : 1;
    if (!(strength > 0 && strength <= 1)) throw new Error(`sample: denoising strength must be in (0, 1], got ${strength}`);
    // A NaN guidance scale or step count gives an all-black image, not an error, further down.
    if (!Number.isFinite(cfg)) throw new Error(`sample: the guidance scale (cfg) must be a finite number, got ${cfg}`);
    if (!Number.isSafeInteger(steps) || steps < 1) throw new Error(`sample: steps must be a positive integer, got ${steps}`);
    for (const r of requests) {
      const seed = r.seed ?? 0;
      if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
        throw new Error(`sample: the seed must be an integer from 0 to ${2 ** 32 - 1}, got ${seed}`);
    }
    const schedule = setTimesteps({ steps, denoisingStrength: strength, dynamicShiftLen: h * w });
    const guided = cfg !== 1;
    const embeds = yield* this.embedding(
      guided ? [...requests.map((r) => r.prompt), ...requests.map((r) => r.negative ?? "")] : requests.map((r) => r.prompt),
    );
    const size = c * h * w;
    let latents: Float32Array = new Float32Array(n * size);
    const images: { at: number; image: Float32Array; noise: Float32Array }[] = [];
    requests.forEach((r, i) => {
      // The reference draws its noise on the CPU in bf16 from torch.manual_seed(seed).
      const noise = torchCpuRandnBf16([1, c, h, w], r.seed ?? 0);
      if (r.image) {
        if (r.image.length !== 3 * this.height * this.width)
          throw new Error(`sample: the input image must be 3×${this.height}×${this.width}, got ${r.image.length} values`);
        images.push({ at: i * size, image: r.image, noise });
      } else latents.set(noise, i * size);
    });
    for (const { at, image, noise } of images) {
      const encoded = yield { step: this.vaeStep("encode"), values: { x: image } };
      latents.set(addNoise(encoded, noise, schedule.sigmas[0]!), at);
    }
    // Guidance stops below the configuration's guidanceMinSigma: those steps run the prompts alone.
    const minSigma = this.parts.config.guidanceMinSigma ?? 0;
    const guidedStep = guided ? this.denoiser(n, true) : undefined;
    guidedStep?.set({ embeds });
    let promptStep: Step | undefined;
    const stepAt = (sigma: number): Step => {
      if (guidedStep && sigma > minSigma) return guidedStep;
      if (!promptStep) {
        promptStep = this.denoiser(n, false);
        promptStep.set({ embeds: guided ? embeds.subarray(0, embeds.length / 2) : embeds });
      }
      return promptStep;
    };
    const bar = first.progress === false ? undefined : progressBar(n > 1 ? `sampling ${n} images` : "sampling", steps, "step");
    for (let i = 0; i < schedule.timesteps.length; i++) {
      const t = schedule.timesteps[i]!;
      const id = timestepIndex(schedule, t);
      const sigma = schedule.sigmas[id]!;
      const next = id + 1 < schedule.sigmas.length ? schedule.sigmas[id + 1]! : 0;
      const step = stepAt(sigma);
      // The DiT sees the bf16-rounded timestep (spec §4.7); the Euler update uses the exact σ's.
      const inputs = { latents, timestep: roundBf16(t), dt: Math.fround(next - sigma), cfg };
      latents = yield { step, values: this.parts.config.prediction === "image" ? { ...inputs, sigma } : inputs };
      bar?.tick(i + 1);
      first.onStep?.(i + 1, schedule.timesteps.length);
    }
    bar?.done();
    const decode = this.vaeStep("decode");
    const rgb: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const image = yield { step: decode, values: { x: latents.subarray(i * size, (i + 1) * size) } };
      rgb.push(toRgbBytes(image, this.height, this.width));
    }
    return rgb;
  }

  dispose(): void {
    for (const s of [...this.textSteps.values(), ...this.denoiseSteps.values(), this.decodeStep, this.encodeStep]) s?.dispose();
  }
}

/**
 * The reference's vae_output_to_image (spec §4.3): (x + 1)·127.5 in bf16, clipped to [0, 255] and
 * truncated (not rounded) to 8 bits; CHW → HWC.
 */
export function toRgbBytes(image: Float32Array, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width * 3);
  const plane = height * width;
  for (let ch = 0; ch < 3; ch++)
    for (let p = 0; p < plane; p++) {
      const x = roundBf16(image[ch * plane + p]!);
      const scaled = roundBf16(roundBf16(x + 1) * 127.5);
      out[p * 3 + ch] = Math.trunc(Math.min(255, Math.max(0, Number.isNaN(scaled) ? 0 : scaled)));
    }
  return out;
}

/** The inverse for inputs (spec §4.2): 8-bit HWC → CHW in [−1, 1]. */
export function fromRgbBytes(rgb: Uint8Array, height: number, width: number): Float32Array {
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) out[ch * plane + p] = (rgb[p * 3 + ch]! * 2) / 255 - 1;
  return out;
}
