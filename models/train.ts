// Training from scratch (the seed's main job): load and encode the data set once, then run the
// compiled training step (loss of spec §2, backward, AdamW of §8) with a progress bar, a JSON log
// of every step, atomic checkpoints with everything needed to resume exactly, a loss plot, a clean
// stop on Ctrl-C or SIGTERM (after saving) and on a non-finite loss or gradient norm (keeping the last
// good checkpoint). The run folder is this process's alone while it trains (models/run-folder.ts).

import { appendFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { philox4x32, type Tensor } from "../compiler/index.ts";
import { compileStep, type DeviceName, type Step } from "../runtime/index.ts";
import { openDataset, formatWarning, type Dataset, type DatasetItem } from "./data/dataset.ts";
import { shuffled, xoshiro128 } from "./data/shuffle.ts";
import { drawTrainingTimestep, setTimesteps } from "./scheduler.ts";
import { accumulationExamples, applyStep, gradientStep, trainStep, trainStepExample, type TrainStepOptions } from "./train-step.ts";
import { initParams, type ParamSpec, type ParamValues } from "./params.ts";
import { loadFittedVae, loadTrainingState, saveCheckpoint, zerosLike, checkpointPaths, type TrainingState } from "./checkpoint.ts";
import { emaDecayOf, modelParts, TEXT_PREFIX, type ModelConfig, type ModelParts } from "./config.ts";
import { promptVariant } from "./data/prompt-variants.ts";
import { promptVocabulary } from "./text/vocabulary.ts";
import { encodedCacheFolders, encodedCacheKey, readEncoded, weightsFingerprint, writeEncoded, type EncodedItems } from "./data/encoded-cache.ts";
import { describeDataSource, resolveDataSource, type DataLocation, type DataSource } from "./data/source.ts";
import { progressBar, type Progress as ProgressBar } from "./progress.ts";
import { plotLoss } from "./plot.ts";
import { ncclCommunicator, ncclVersionText, openMpThreads, singleProcess, type Nccl, type World } from "../runtime/index.ts";
import {
  broadcastState,
  checkSameSettings,
  dataFingerprint,
  deviceGradientExchange,
  gradientReducer,
  shardLanes,
  shardOf,
  type DeviceExchange,
  type GradientReducer,
  type StopRequest,
} from "./distributed.ts";
import { claimRunFolder } from "./run-folder.ts";
import { planTraining, unhealthyStep, type PlanOptions, type TrainPlan } from "./train-plan.ts";
import { readTrainLog, truncateTrainLog } from "./train-log.ts";

/** What a training run takes: the plan's settings (models/train-plan.ts) and where the data, weights and steps come from. */
export interface TrainOptions extends DataLocation, Omit<PlanOptions, "ranks"> {
  checkpointBlocks?: boolean;
  /** Frozen encoders' weights, by name (qwen3 and flux2 come from local files). */
  frozen?: { text?: ParamValues; vae?: ParamValues };
  /** Where the steps run: this CPU (default) or an NVIDIA GPU. */
  device?: DeviceName;
  quiet?: boolean;
  /** The ranks training together (runtime/collective; models/distributed.ts): `batch` is per rank. Default: this process alone. */
  world?: World;
  /**
   * NCCL for the gradients of a device whose memory the host does not view (CUDA): they are summed
   * in device memory (models/distributed.ts, deviceGradientExchange). Given on one rank too, it
   * runs the several-rank path there (to measure it). Without it such a device stages them through MPI.
   */
  nccl?: Nccl;
  /**
   * Split each micro-batch over this many threads of this process (the CPU): each computes its share's
   * gradients alone on its own copy of the gradient step, then they are summed and one update runs
   * on every thread. "auto" (default): the OpenMP threads on the CPU when they divide the batch into
   * shares of at least MIN_SHARE_BATCH samples, else 1 (one step on every thread).
   */
  batchThreads?: number | "auto";
}

/**
 * The smallest share of a batch "auto" gives a thread. Measured on the 2-core development machine
 * (`kiln bench cpu`): shares of 4 and 8 ran as fast as one step on both threads (the tiny DiT b8:
 * 165 against 167 ms; npm start's DiT b16: 99 against 101 ms) and held up far better beside another
 * busy process; shares of 1 (the AAADiT 0.1B at b2) were 27 % slower.
 */
export const MIN_SHARE_BATCH = 4;

export interface TrainResult {
  steps: number;
  losses: number[];
  checkpoint: string;
  seconds: number;
  imagesPerSecond: number;
  stoppedBy: "steps" | "minutes" | "interrupt" | "nan";
}

interface EncodedData {
  latents: Float32Array[];
  /** Prompts as written; a jointly trained text encoder's ids are made from them step by step (makeBatch). */
  prompts: string[];
  /** A frozen text encoder's embeddings, per item (none for a jointly trained one). */
  embeds: Float32Array[];
  /** The VAE's weights the latents were encoded with (fitted to the data, for a VAE that is; saved with every checkpoint then). */
  vaeWeights: ParamValues;
}

const specTree = (specs: readonly ParamSpec[]) => Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }]));

/** Everything the step trains: the DiT's tensors, and a jointly trained text encoder's under its prefix. */
export function trainedSpecs(parts: ModelParts): ParamSpec[] {
  const text = parts.config.trainText ? parts.text.paramSpec.map((s) => ({ ...s, name: TEXT_PREFIX + s.name })) : [];
  return [...parts.ditSpec, ...text];
}

/** The compiled step's options for a model: a jointly trained text encoder reads its tensors under TEXT_PREFIX. */
export function trainStepOptions(
  parts: ModelParts,
  batch: number,
  options: Pick<TrainOptions, "clipNorm" | "pureBf16" | "checkpointBlocks"> = {},
): TrainStepOptions {
  const { config, text } = parts;
  return {
    dit: config.dit,
    batch,
    latent: parts.latent,
    textLength: text.maxLength,
    text: config.trainText
      ? {
          kind: "encoder",
          paramSpec: text.paramSpec,
          idsShape: text.idsShape,
          encode: (p, ids, mask) => text.encode(Object.fromEntries(text.paramSpec.map((s) => [s.name, p[TEXT_PREFIX + s.name]!])), ids, mask),
        }
      : { kind: "embeds" },
    ...(options.clipNorm !== undefined ? { clipNorm: options.clipNorm } : {}),
    pureBf16: options.pureBf16 ?? false,
    checkpointBlocks: options.checkpointBlocks ?? false,
    prediction: config.prediction,
  };
}

/**
 * Encode the data set once: latents through the (frozen) VAE and, for a frozen text encoder, prompt
 * embeddings — cached on disk beside the data (models/data/encoded-cache.ts) for later runs.
 */
async function encodeData(parts: ModelParts, options: TrainOptions, log: (s: string) => void, savedVae?: ParamValues): Promise<EncodedData> {
  const [, h, w] = parts.latent;
  const size = { height: h * parts.vae.downsample, width: w * parts.vae.downsample };
  const source = resolveDataSource(options);
  const { metadataPath } = source;
  const dataset = await openDataset({
    metadataPath,
    basePath: source.imagesDir,
    ...size,
    onWarning: (w) => log(`skipped: ${formatWarning(w)}`),
  });
  const loadItems = itemLoader(dataset, source);
  // A fitted VAE is fitted when a run starts and read back from its checkpoint when it resumes.
  const vaeWeights = await vaeWeightsFor(parts, options.frozen?.vae?.size ? options.frozen.vae : savedVae, loadItems, size, log);
  const textWeights = options.frozen?.text;
  const { config } = parts;
  const key = encodedCacheKey(
    metadataPath,
    dataset.entries.map((e) => e.file),
    {
      ...size,
      vae: config.vae,
      vaeWeights: weightsFingerprint(vaeWeights),
      text: config.trainText ? null : { choice: config.text, weights: textWeights ? weightsFingerprint(textWeights) : null },
    },
  );
  const cacheFolders = encodedCacheFolders(source.home);
  let encoded = readEncoded(cacheFolders, key);
  if (encoded) log(`encoded data from the cache (${encoded.latents.length} images)`);
  else {
    const items = await loadItems();
    const device = options.device ?? "cpu";
    const latents = encodeLatents(parts, items, vaeWeights, size, device);
    let embeds: Float32Array[] = [];
    if (!config.trainText) {
      if (!textWeights) throw new Error(`train: the ${parts.text.name} text encoder is frozen and needs its weights (--text-encoder DIR)`);
      embeds = encodePrompts(parts, items, textWeights, device);
    }
    encoded = { prompts: items.map((i) => i.prompt), files: items.map((i) => i.file), latents, embeds };
    cacheEncoded(cacheFolders, key, encoded, log);
  }
  return { latents: encoded.latents, prompts: encoded.prompts, embeds: encoded.embeds, vaeWeights };
}

/** The images' size in pixels. */
interface ImageSize {
  readonly height: number;
  readonly width: number;
}

/** Every usable item of the data set, loaded on the first call only (a fitted VAE needs them before the cache key). */
function itemLoader(dataset: Dataset, source: DataSource): () => Promise<DatasetItem[]> {
  let loaded: DatasetItem[] | undefined;
  return async () => {
    if (loaded) return loaded;
    loaded = [];
    for (let i = 0; i < dataset.entries.length; i++) {
      const item = await dataset.load(i);
      if (item) loaded.push(item);
    }
    if (loaded.length === 0) throw new Error(`train: no usable image in ${describeDataSource(source)} (${dataset.warnings.length} rows skipped)`);
    return loaded;
  };
}

/** The VAE's weights: `given` (the options' or the resumed checkpoint's), else fitted to the images now for a VAE that is fitted, else none. */
async function vaeWeightsFor(
  parts: ModelParts,
  given: ParamValues | undefined,
  loadItems: () => Promise<DatasetItem[]>,
  size: ImageSize,
  log: (s: string) => void,
): Promise<ParamValues> {
  const { fit } = parts.vae;
  if (!fit || given) return given ?? new Map<string, Float32Array>();
  const started = performance.now();
  const images = (await loadItems()).map((item) => item.image);
  const vaeWeights = fit(images, size.height, size.width);
  log(`fitted the ${parts.vae.name} VAE to ${images.length} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return vaeWeights;
}

/** Each item's latents through the VAE with `vaeWeights`, one image at a time on `device`. */
function encodeLatents(
  parts: ModelParts,
  items: readonly DatasetItem[],
  vaeWeights: ParamValues,
  size: ImageSize,
  device: DeviceName,
): Float32Array[] {
  const encode = compileStep(
    (t) => {
      const { params, x } = t as { params: Record<string, Tensor>; x: Tensor };
      return parts.vae.encode(params, x);
    },
    { params: specTree(parts.vae.paramSpec), x: { shape: [1, 3, size.height, size.width] } },
    { name: `vae_${parts.vae.name}_encode`, device },
  );
  encode.set({ params: Object.fromEntries(vaeWeights) });
  const latents = items.map((item) => encode.run({ x: item.image }) as Float32Array);
  encode.dispose();
  return latents;
}

/** Each item's prompt embeddings through the frozen text encoder with `textWeights`, one prompt at a time on `device`. */
function encodePrompts(parts: ModelParts, items: readonly DatasetItem[], textWeights: ParamValues, device: DeviceName): Float32Array[] {
  const L = parts.text.maxLength;
  const encodeText = compileStep(
    (t) => {
      const { params, ids, mask } = t as { params: Record<string, Tensor>; ids: Tensor; mask: Tensor };
      return parts.text.encode(params, ids, mask);
    },
    { params: specTree(parts.text.paramSpec), ids: { shape: [1, ...parts.text.idsShape], dtype: "i32" }, mask: { shape: [1, L], dtype: "i32" } },
    { name: `text_${parts.text.name}_encode`, device },
  );
  encodeText.set({ params: Object.fromEntries(textWeights) });
  const embeds = items.map((item) => {
    const t = parts.text.promptIds(item.prompt);
    return encodeText.run({ ids: t.ids, mask: t.mask }) as Float32Array;
  });
  encodeText.dispose();
  return embeds;
}

/** Writes the encoded data to the cache, saying where it went when the first folder refused it. */
function cacheEncoded(cacheFolders: readonly string[], key: string, encoded: EncodedItems, log: (s: string) => void): void {
  const written = writeEncoded(cacheFolders, key, encoded);
  if (written.failed.length > 0)
    log(
      `cannot cache the encoded data in ${written.failed.join("; ")}; ${written.file ? `cached in ${written.file} instead` : "going on without a cache"}`,
    );
}

/** Uniform in [0, 1) for (seed, step, lane): kiln's Philox, so a resumed run draws the same values. */
const uniform = (seed: number, step: number, lane: number, stream: number): number =>
  (philox4x32([step, lane, stream, 0], [seed, 0x6b696c6e])[0]! >>> 8) * 2 ** -24;

/**
 * The form of an item's prompt (as written, or some of its parts reordered) that lane `lane` of the
 * global batch trains on in micro-batch `micro`: drawn like the timestep from (seed, micro, lane), on
 * Philox streams 2, 3, … beside the timestep's 1, so every rank and a resumed run draw the same.
 */
export const trainingPrompt = (prompt: string, seed: number, micro: number, lane: number, variation: number, dropout = 0): string =>
  dropout > 0 && uniform(seed, micro, lane, 0) < dropout ? "" : promptVariant(prompt, (k) => uniform(seed, micro, lane, 2 + k), variation);

/** The data order: a fresh seeded permutation each epoch; step s takes batch positions [s·B, s·B + B). */
function batchIndices(n: number, batch: number, step: number, seed: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < batch; j++) {
    const position = (step - 1) * batch + j;
    const epoch = Math.floor(position / n);
    const order = shuffled(
      Array.from({ length: n }, (_, i) => i),
      xoshiro128(seed * 7919 + epoch),
    );
    out.push(order[position % n]!);
  }
  return out;
}

/** Train into `options.out`, which this process holds (locked) until the run ends. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  // Data parallelism: rank 0 logs and writes (and holds the run folder); every rank trains its lanes of each global batch.
  const world = options.world ?? singleProcess();
  const lead = world.rank === 0;
  const plan = planTraining({ ...options, ranks: world.size }, { checkFolder: lead });
  const lock = lead ? claimRunFolder(options.out, options) : undefined;
  try {
    return await trainHolding(options, plan, world);
  } finally {
    lock?.release();
  }
}

/**
 * The learning rate of optimizer step `step` (1-based) at `progress` (0 to 1) through the run:
 * PyTorch's ConstantLR default, a third of the rate for the first 5 steps, then constant, falling
 * linearly to zero over the last `cooldown` fraction of the run when one is asked for.
 */
export function scheduledLr(lr: number, step: number, progress: number, cooldown: number): number {
  const warm = step <= 5 ? lr / 3 : lr;
  if (cooldown <= 0) return warm;
  return warm * Math.min(1, Math.max(0, (1 - progress) / cooldown));
}

/** What every phase of a run reads: its options, plan and ranks, the model, the trained tensors and the log. */
interface Run {
  readonly options: TrainOptions;
  readonly plan: TrainPlan;
  readonly world: World;
  /** Rank 0: it logs, writes the run folder and saves. */
  readonly lead: boolean;
  /** A line on stderr, from rank 0 unless quiet. */
  readonly log: (s: string) => void;
  readonly config: ModelConfig;
  readonly parts: ModelParts;
  readonly specs: ParamSpec[];
}

/** This rank's lanes of each global batch. */
type Lanes = ReturnType<typeof shardLanes>;

/** The compiled training step(s). */
interface CompiledTraining {
  /** The step that holds the state (donated, updated in place) and applies AdamW; alone, it also computes the loss and gradients. */
  readonly step: Step;
  /** With accumulation or several ranks: the step that computes one micro-batch's loss and gradients. */
  readonly gradStep: Step | undefined;
  /** With the batch split over threads: one gradient step per share (gradStep is the first), run side by side. */
  readonly shares: readonly Step[];
  /**
   * The shares read the weights from the update step's memory and the update step reads their
   * gradients from theirs (one rank, one micro-batch a step): nothing is copied between them.
   */
  readonly sharedMemory: boolean;
  /** Micro-batches per optimizer step. */
  readonly accum: number;
}

/** Where a run is: the last step taken, the losses so far, the last step and file saved, and why it stopped. */
interface RunProgress {
  current: number;
  readonly losses: number[];
  lastSaved: number;
  lastCheckpoint: string;
  stoppedBy: TrainResult["stoppedBy"];
}

/** Ctrl-C and SIGTERM (and, under mpirun, SIGUSR1) as a flag read between steps; remove() stops listening. */
interface StopSignals {
  interrupted: boolean;
  remove(): void;
}

/** What the step loop works with besides the run: the compiled steps, the inputs, when to stop, and how it reports and saves. */
interface StepLoop {
  readonly compiled: CompiledTraining;
  readonly makeBatch: (micro: number) => Record<string, Float32Array | Int32Array>;
  /** Each share's inputs of micro-batch `micro`, when the batch is split over threads. */
  readonly makeShares: readonly ((micro: number) => Record<string, Float32Array | Int32Array>)[];
  /** Sums the micro-batches' gradients across ranks through host memory (with the gradient step, when `exchange` is null). */
  readonly reducer: GradientReducer | undefined;
  /** Sums the gradients across ranks in device memory (a CUDA device, one micro-batch a step). */
  readonly exchange: DeviceExchange | null;
  /** The last step to take (infinite when only the clock stops the run). */
  readonly target: number;
  readonly deadline: number;
  readonly started: number;
  readonly logFile: string;
  readonly bar: ProgressBar | undefined;
  readonly signals: StopSignals;
  /** Writes a checkpoint of the current step; returns the DiT's file. */
  readonly save: () => string;
}

/** The loss and gradient norm of an optimizer step, as the step returns them. */
interface StepOutcome {
  readonly loss: Float32Array;
  readonly gradNorm: Float32Array;
}

/** A run in the folder this process holds, phase by phase: settings, data, state, compiled steps, the step loop, the finish. */
async function trainHolding(options: TrainOptions, plan: TrainPlan, world: World): Promise<TrainResult> {
  const run = startRun(options, plan, world);
  const data = await loadData(run);
  // Other ranks get the state from rank 0 (broadcastState).
  const latest = run.lead ? plan.latest : undefined;
  const emaDecay = emaDecayOf(run.config);
  const state = startingState(run, latest, emaDecay);
  const lanes = shardLanes(world, plan.settings.batch);
  const compiled = compileTraining(run, state, lanes, emaDecay);
  const logFile = path.join(options.out, "train-log.jsonl");
  if (run.lead && latest === undefined) writeFileSync(logFile, "");
  else if (run.lead && latest !== undefined) truncateTrainLog(logFile, latest);
  const target = options.steps ?? (options.minutes ? Number.POSITIVE_INFINITY : 1000);
  const deadline = options.minutes ? performance.now() + options.minutes * 60_000 : Number.POSITIVE_INFINITY;
  const signals = listenForStop(world);
  const bar = options.quiet || !run.lead ? undefined : progressBar("training", Number.isFinite(target) ? target : undefined, "it", latest ?? 0);
  const started = performance.now();
  const progress: RunProgress = {
    current: state.step,
    losses: [],
    lastSaved: latest ?? 0,
    lastCheckpoint: latest !== undefined ? checkpointPaths(options.out, latest).dit : "",
    stoppedBy: "steps",
  };
  const exchange = compiled.gradStep ? deviceExchange(run, compiled) : null;
  const loop: StepLoop = {
    compiled,
    makeBatch: batchMaker(run, data, lanes, plan.settings.batch),
    makeShares: shareLanes(lanes, plan.settings.batch, compiled.shares.length).map((l) => batchMaker(run, data, l, l.batch)),
    reducer: compiled.gradStep && !exchange && !compiled.sharedMemory ? gradientReducer(world, run.specs) : undefined,
    exchange,
    target,
    deadline,
    started,
    logFile,
    bar,
    signals,
    save: checkpointSaver(run, data, compiled.step, emaDecay, progress),
  };
  await runSteps(run, loop, progress);
  return finishRun(run, loop, progress, state.step);
}

/** The run's context, after checking that every rank will apply the same learning rates; logs the run's settings. */
function startRun(options: TrainOptions, plan: TrainPlan, world: World): Run {
  const lead = world.rank === 0;
  const log = (s: string): void => {
    if (!options.quiet && lead) process.stderr.write(s + "\n");
  };
  const { config } = options;
  const parts = modelParts(config);
  const { batch, seed, lr } = plan.settings;
  // Every rank must apply the same rate: a cooldown by the clock would differ between ranks.
  if ((config.lrCooldown ?? 0) > 0 && options.steps === undefined && world.size > 1)
    throw new Error(
      `config ${config.name}: lrCooldown ${config.lrCooldown} with --minutes needs a single rank (each rank's clock would give its own rate); give --steps instead`,
    );
  const specs = trainedSpecs(parts);
  log(
    `kiln train: ${config.name}, batch ${batch}${world.size > 1 ? ` per rank × ${world.size} ranks` : ""}, lr ${lr}, seed ${seed}, data ${describeDataSource(resolveDataSource(options))}, out ${options.out}`,
  );
  return { options, plan, world, lead, log, config, parts, specs };
}

/** The encoded data set (a fitted VAE read back from the checkpoint being resumed), then a check that every rank has the same settings and data. */
async function loadData(run: Run): Promise<EncodedData> {
  const { options, plan, world, lead, log, config, parts } = run;
  const { batch, seed, lr } = plan.settings;
  const savedVae =
    parts.vae.fit && lead && plan.latest !== undefined
      ? loadFittedVae(checkpointPaths(options.out, plan.latest).dit, parts.vae.name, parts.vae.paramSpec)
      : undefined;
  const data = await encodeData(parts, options, log, savedVae);
  log(`encoded ${data.latents.length} images to latents ${parts.latent.join("×")}`);
  checkSameSettings(world, {
    config,
    batch,
    lr,
    seed,
    steps: options.steps ?? null,
    minutes: options.minutes ?? null,
    resume: options.resume ?? false,
    saveSteps: options.saveSteps ?? null,
    gradAccum: plan.settings.gradAccum,
    clipNorm: plan.settings.clipNorm,
    pureBf16: plan.settings.pureBf16,
    checkpointBlocks: options.checkpointBlocks ?? false,
    device: options.device ?? "cpu",
    data: dataFingerprint(data.latents),
  });
  return data;
}

/**
 * The state training starts from: resumed from checkpoint `latest` (rank 0's) or freshly initialised
 * (PyTorch's default initialisers), with a moving average when the config keeps one; the same on every rank.
 */
function startingState(run: Run, latest: number | undefined, emaDecay: number): TrainingState {
  const { options, world, log, specs } = run;
  const { batch, seed } = run.plan.settings;
  let state: TrainingState;
  if (options.resume && latest === undefined) log(`no checkpoint in ${options.out}: starting from scratch`);
  if (latest !== undefined) {
    const loaded = loadTrainingState(options.out, latest, specs);
    state = loaded.state;
    log(`resuming from step ${latest}`);
    const savedGlobal = typeof loaded.meta.globalBatch === "number" ? loaded.meta.globalBatch : loaded.meta.batch;
    if (savedGlobal !== batch * world.size)
      log(
        `note: the checkpoint was trained with a global batch of ${String(savedGlobal)}, this run's is ${batch * world.size}: the run will not reproduce an uninterrupted one`,
      );
  } else {
    const params = initParams(specs, seed);
    state = { step: 0, params, m: zerosLike(params), v: zerosLike(params) };
  }
  // The moving average starts from the weights (fresh, or resumed from a checkpoint that kept none).
  if (emaDecay > 0 && !state.ema) {
    if (latest !== undefined) log(`note: the checkpoint keeps no moving average of the weights; it starts from the step-${latest} weights`);
    state = { ...state, ema: new Map([...state.params].map(([name, values]) => [name, Float32Array.from(values)])) };
  }
  if (emaDecay === 0) state = { step: state.step, params: state.params, m: state.m, v: state.v };
  return broadcastState(world, state, specs);
}

/**
 * The compiled step(s), holding `state`. With accumulation, one step computes a micro-batch's
 * gradients and another applies AdamW; the second holds the state (donated, updated in place), the
 * first reads a copy of the parameters. Several ranks split the same way, with the gradients summed
 * across ranks in between.
 */
function compileTraining(run: Run, state: TrainingState, lanes: Lanes, emaDecay: number): CompiledTraining {
  const { options, plan, world, log, config, parts, specs } = run;
  const { batch, clipNorm, pureBf16 } = plan.settings;
  const stepOptions: TrainStepOptions = {
    ...trainStepOptions(parts, batch, { ...(clipNorm !== null ? { clipNorm } : {}), pureBf16, checkpointBlocks: options.checkpointBlocks ?? false }),
    ...(world.size > 1 ? { noiseLanes: lanes } : {}),
    emaDecay,
  };
  const compileStarted = performance.now();
  const accum = plan.settings.gradAccum;
  if (!Number.isInteger(accum) || accum < 1) throw new Error(`train: --grad-accum must be a positive integer, got ${accum}`);
  const example = trainStepExample(stepOptions, specs) as {
    state: Record<string, unknown>;
    batch: Record<string, unknown>;
    control: Record<string, unknown>;
  };
  const device = options.device ?? "cpu";
  const threads = batchThreadsOf(run);
  const sharedMemory = threads > 1 && accum === 1 && world.size === 1 && options.nccl === undefined;
  const accumulation = accumulationExamples(stepOptions, specs, sharedMemory ? threads : 1);
  const split = accum > 1 || world.size > 1 || options.nccl !== undefined || threads > 1;
  const step: Step = !split
    ? compileStep(trainStep(stepOptions, specs) as never, example, { donate: ["state"], name: `train_${config.name}`, device })
    : compileStep(applyStep(stepOptions, specs) as never, accumulation.apply, { donate: ["state"], name: `train_apply_${config.name}`, device });
  // Each share draws the noise of its own lanes of the batch, so the split changes nothing but the order of sums.
  const shares =
    threads > 1
      ? shareLanes(lanes, batch, threads).map(({ batch: part, ...noiseLanes }, i) => {
          const shareOptions: TrainStepOptions = { ...stepOptions, batch: part, noiseLanes };
          return compileStep(gradientStep(shareOptions, specs) as never, accumulationExamples(shareOptions, specs).gradients, {
            name: `train_grads_${config.name}_share${i}`,
            device,
          });
        })
      : [];
  const gradStep: Step | undefined = !split
    ? undefined
    : (shares[0] ?? compileStep(gradientStep(stepOptions, specs) as never, accumulation.gradients, { name: `train_grads_${config.name}`, device }));
  const kernels = step.kernelCount + (shares.length > 0 ? shares.reduce((n, s) => n + s.kernelCount, 0) : (gradStep?.kernelCount ?? 0));
  log(
    `compiled the training step for the ${device}: ${kernels} kernels in ${((performance.now() - compileStarted) / 1000).toFixed(1)} s${accum > 1 ? `, ${accum} micro-batches per optimizer step` : ""}${threads > 1 ? `, the batch split over ${threads} threads (${batch / threads} samples each)` : ""}`,
  );
  const asTree = (values: ParamValues) => Object.fromEntries(values);
  step.set({ state: { params: asTree(state.params), m: asTree(state.m), v: asTree(state.v), ...(state.ema ? { ema: asTree(state.ema) } : {}) } });
  if (sharedMemory)
    shares.forEach((share, i) => {
      for (const s of specs) {
        share.shareInput(`params/${s.name}`, step, `state/params/${s.name}`);
        step.shareInput(`grads/${i}/${s.name}`, share, `grads/${s.name}`);
      }
    });
  return { step, gradStep, shares, sharedMemory, accum };
}

/** The threads "auto" and --batch-threads give one micro-batch (1: one step on every thread); checked against the batch and device. */
function batchThreadsOf(run: Run): number {
  const { options, plan } = run;
  const { batch } = plan.settings;
  const given = options.batchThreads ?? "auto";
  const cpu = (options.device ?? "cpu") === "cpu";
  if (given === "auto") {
    const threads = openMpThreads();
    return cpu && threads > 1 && batch % threads === 0 && batch / threads >= MIN_SHARE_BATCH ? threads : 1;
  }
  if (!Number.isInteger(given) || given < 1) throw new Error(`train: --batch-threads must be a positive integer or auto, got ${given}`);
  if (given > 1 && !cpu)
    throw new Error(
      `train: --batch-threads ${given} splits the batch over CPU threads; the ${options.device} device runs one step (drop --batch-threads)`,
    );
  if (batch % given !== 0) throw new Error(`train: --batch-threads ${given} must divide the batch (${batch}) into equal shares`);
  return given;
}

/** Share i of `lanes` when a micro-batch of `batch` is split over `threads`: its lanes of the global batch and its size. */
function shareLanes(lanes: Lanes, batch: number, threads: number): (Lanes & { batch: number })[] {
  const part = batch / threads;
  return threads > 1 ? Array.from({ length: threads }, (_, i) => ({ first: lanes.first + i * part, total: lanes.total, batch: part })) : [];
}

/** The inputs of micro-batch `micro` (1-based, counting across optimizer steps): a pure function of (seed, micro). */
function batchMaker(run: Run, data: EncodedData, lanes: Lanes, batch: number): (micro: number) => Record<string, Float32Array | Int32Array> {
  const { config, parts } = run;
  const { seed } = run.plan.settings;
  const schedule = setTimesteps({ steps: 1000, training: true });
  const [c, h, w] = parts.latent;
  const latentSize = c * h * w;
  const L = parts.text.maxLength;
  const idsSize = parts.text.idsShape.reduce((a, b) => a * b, 1);
  return (micro) => {
    const indices = shardOf(batchIndices(data.latents.length, lanes.total, micro, seed), lanes, batch);
    const latents = new Float32Array(batch * latentSize);
    const sigma = new Float32Array(batch);
    const timestep = new Float32Array(batch);
    const weight = new Float32Array(batch);
    const batchTree: Record<string, Float32Array | Int32Array> = { latents, sigma, timestep, weight };
    if (config.trainText) {
      batchTree.ids = new Int32Array(batch * idsSize);
      batchTree.mask = new Int32Array(batch * L);
    } else batchTree.promptEmbeds = new Float32Array(batch * L * config.dit.textDim);
    indices.forEach((item, j) => {
      latents.set(data.latents[item]!, j * latentSize);
      const k = Math.min(999, Math.floor(uniform(seed, micro, lanes.first + j, 1) * 1000));
      const drawn = drawTrainingTimestep(schedule, k);
      sigma[j] = drawn.sigma;
      timestep[j] = drawn.timestep;
      weight[j] = config.timestepWeights === "uniform" ? 1 : drawn.weight;
      if (config.trainText) {
        // Encoded here rather than cached as a fixed set of forms per image: hashing a batch's words is
        // a few thousand FNV-1a hashes, nothing next to the step, and every step can show a new subset.
        const inputs = parts.text.promptIds(
          trainingPrompt(data.prompts[item]!, seed, micro, lanes.first + j, config.promptVariation, config.promptDropout ?? 0),
        );
        (batchTree.ids as Int32Array).set(inputs.ids, j * idsSize);
        (batchTree.mask as Int32Array).set(inputs.mask, j * L);
      } else (batchTree.promptEmbeds as Float32Array).set(data.embeds[item]!, j * L * config.dit.textDim);
    });
    return batchTree;
  };
}

/** The noise seed of micro-batch `micro`: kiln's Philox of (seed, micro), the same on every rank and on resuming. */
const noiseSeedOf = (seed: number, micro: number): number => (philox4x32([micro, 0, 0, 0], [seed, 0x6e6f6973])[0]! & 0x7fffffff) | 0;

/** The checkpoint writer: the state as the step holds it at `progress.current`, with what resuming and sampling need. */
function checkpointSaver(run: Run, data: EncodedData, step: Step, emaDecay: number, progress: RunProgress): () => string {
  const { options, plan, world, config, parts, specs } = run;
  const vocabulary = promptVocabulary(data.prompts);
  const snapshot = (): TrainingState => {
    const read = (group: "params" | "m" | "v" | "ema"): ParamValues =>
      new Map(specs.map((s) => [s.name, Float32Array.from(step.input(`state/${group}/${s.name}`))]));
    return { step: progress.current, params: read("params"), m: read("m"), v: read("v"), ...(emaDecay > 0 ? { ema: read("ema") } : {}) };
  };
  return () => {
    const s = snapshot();
    const meta = {
      step: progress.current,
      config: config.name,
      configHash: plan.configHash,
      // The whole configuration, so that sample, eval and serve read the run as it was trained.
      modelConfig: config,
      prediction: config.prediction,
      ...plan.settings,
      globalBatch: plan.settings.batch * world.size,
      ranks: world.size,
      losses: progress.losses.length,
    };
    // A jointly trained text encoder goes beside the DiT, under its own names, for sampling.
    const file = saveCheckpoint(options.out, s, meta, specs, {
      ditSpec: parts.ditSpec,
      ...(parts.vae.fit ? { vae: { spec: parts.vae.paramSpec, values: data.vaeWeights } } : {}),
      ...(config.trainText ? { textEncoder: { spec: parts.text.paramSpec, prefix: TEXT_PREFIX, vocabulary } } : {}),
    });
    progress.lastSaved = progress.current;
    return file;
  };
}

/** Listens for Ctrl-C and SIGTERM; under mpirun, Ctrl-C reaches the ranks as SIGUSR1 (what mpirun forwards; see runtime/collective/launch.ts). */
function listenForStop(world: World): StopSignals {
  const onSignal = (): void => {
    signals.interrupted = true;
  };
  const signals: StopSignals = {
    interrupted: false,
    remove() {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      process.removeListener("SIGUSR1", onSignal);
    },
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  if (world.size > 1) process.once("SIGUSR1", onSignal);
  return signals;
}

/** The step loop: optimizer steps until the target step, the deadline, a stop request (agreed between ranks) or an unhealthy step. */
async function runSteps(run: Run, loop: StepLoop, progress: RunProgress): Promise<void> {
  const { world, log, config } = run;
  const { target, deadline, started, signals, compiled, reducer } = loop;
  // With several ranks, stopping early (Ctrl-C, --minutes) is agreed in each step's allreduce, so
  // that every rank runs the same steps.
  const wantsStop = (): StopRequest => (signals.interrupted ? "interrupt" : performance.now() >= deadline ? "minutes" : null);
  let agreedStop: StopRequest = null;
  while (progress.current < target && (world.size > 1 ? agreedStop : wantsStop()) === null) {
    // Let the event loop run between steps, so Ctrl-C (and timers) are seen promptly.
    await new Promise((resolve) => setImmediate(resolve));
    if (signals.interrupted && world.size === 1) break;
    const current = ++progress.current;
    const runFraction = Number.isFinite(target) ? (current - 1) / target : (performance.now() - started) / (run.options.minutes! * 60_000);
    const stepLr = scheduledLr(run.plan.settings.lr, current, runFraction, config.lrCooldown ?? 0);
    let out: StepOutcome;
    if (!compiled.gradStep) out = wholeStep(run, loop, current, stepLr);
    else {
      const { exchange } = loop;
      const reduced = exchange
        ? exchange.reduce(deviceGradients(run, loop, compiled.gradStep, exchange, current), wantsStop(), current)
        : compiled.sharedMemory
          ? { lossSum: await sharesInPlace(run, loop, current), stop: wantsStop() }
          : reducer!.reduce(await accumulateGradients(run, loop, compiled.gradStep, reducer!.grads, current), wantsStop(), current);
      agreedStop = reduced.stop;
      // Every rank records the same reason, whichever of them the signal reached first.
      if (agreedStop === "interrupt") signals.interrupted = true;
      const shares = compiled.accum * world.size * Math.max(1, compiled.shares.length);
      const control = { step: current, lr: stepLr, scale: 1 / shares };
      // With the device exchange or shared memory the gradients are already in the update step's inputs.
      compiled.step.execute(exchange || compiled.sharedMemory ? { control } : { grads: Object.fromEntries(reducer!.grads), control });
      out = { loss: Float32Array.of(reduced.lossSum / shares), gradNorm: compiled.step.output("gradNorm") as Float32Array };
    }
    const loss = out.loss[0]!;
    const gradNorm = out.gradNorm[0]!;
    const unhealthy = unhealthyStep(loss, gradNorm);
    // The step already applied its update, so the weights it leaves are not saved.
    if (unhealthy) {
      progress.stoppedBy = "nan";
      log(`\nstep ${current}: ${unhealthy}; stopping. The last good checkpoint is ${progress.lastCheckpoint || "(none saved yet)"}.`);
      progress.current--;
      break;
    }
    recordStep(run, loop, progress, { loss, lr: stepLr, gradNorm });
  }
}

/** One optimizer step of the single step (one rank, no accumulation) on micro-batch `current`. */
function wholeStep(run: Run, loop: StepLoop, current: number, stepLr: number): StepOutcome {
  const { step } = loop.compiled;
  // Only the two scalars come back: run() would copy out the whole updated state (weights,
  // moments, average: 48 MB for the tiny model) every step, a third of its time on 2 cores.
  step.execute({ batch: loop.makeBatch(current), control: { seed: noiseSeedOf(run.plan.settings.seed, current), step: current, lr: stepLr } });
  return { loss: step.output("loss") as Float32Array, gradNorm: step.output("gradNorm") as Float32Array };
}

/**
 * The gradient exchange in device memory when the steps' memory is a device's (CUDA) and each step
 * takes one micro-batch; null otherwise (the host path), or an error when NCCL was asked for there.
 */
function deviceExchange(run: Run, compiled: CompiledTraining): DeviceExchange | null {
  const { options, world, log, specs } = run;
  const { gradStep, step: applyStep, accum } = compiled;
  if (!gradStep?.backend.memory || accum > 1) {
    if (options.nccl && accum > 1)
      throw new Error(
        `train: NCCL sums one micro-batch's gradients in GPU memory; --grad-accum ${accum} accumulates them on the host (drop one of the two)`,
      );
    if (options.nccl)
      throw new Error(
        `train: NCCL sums gradients in GPU memory; the ${applyStep.device.name} device has none (use --device cuda, or drop --collectives nccl)`,
      );
    return null;
  }
  const ranks = options.nccl ? { nccl: options.nccl, comm: ncclCommunicator(options.nccl, world) } : null;
  const exchange = deviceGradientExchange(world, gradStep, applyStep, specs, ranks);
  if (!exchange && options.nccl)
    throw new Error(`train: NCCL here needs f32 gradients and weights in both steps (drop --pure-bf16, or --collectives nccl)`);
  if (exchange)
    log(
      `gradients stay in ${gradStep.device.name} memory; ${ranks ? `summed by NCCL ${ncclVersionText(options.nccl!.version)} (${options.nccl!.path})` : "summed through the host by MPI (no NCCL)"}`,
    );
  return exchange;
}

/** Micro-batch `current`'s gradients on the device, with the weights copied in from the update step first; returns its loss. */
function deviceGradients(run: Run, loop: StepLoop, gradStep: Step, exchange: DeviceExchange, current: number): number {
  exchange.prepare();
  gradStep.execute({ batch: loop.makeBatch(current), control: { seed: noiseSeedOf(run.plan.settings.seed, current) } });
  return gradStep.output("loss")[0]!;
}

/** Micro-batch `index`'s shares side by side, each on a thread of its own with one OpenMP thread. */
function runShares(run: Run, loop: StepLoop, index: number): Promise<void[]> {
  const control = { seed: noiseSeedOf(run.plan.settings.seed, index) };
  return Promise.all(loop.compiled.shares.map((share, i) => share.executeOnThread(1, { batch: loop.makeShares[i]!(index), control })));
}

/** Optimizer step `current`'s shares, each reading the weights and leaving its gradients where the update step reads them; returns their summed loss. */
async function sharesInPlace(run: Run, loop: StepLoop, current: number): Promise<number> {
  await runShares(run, loop, current);
  return loop.compiled.shares.reduce((sum, share) => sum + share.output("loss")[0]!, 0);
}

/**
 * This rank's gradients of optimizer step `current` summed over its micro-batches (and, with the batch
 * split over threads, over the shares computed side by side) into `accumulated`; returns their summed loss.
 */
async function accumulateGradients(run: Run, loop: StepLoop, gradStep: Step, accumulated: ParamValues, current: number): Promise<number> {
  const { specs } = run;
  const { step, accum, shares } = loop.compiled;
  const steps = shares.length > 0 ? shares : [gradStep];
  const params = Object.fromEntries(specs.map((s) => [s.name, step.input(`state/params/${s.name}`)]));
  for (const g of steps) g.set({ params });
  let lossSum = 0;
  for (let micro = 0; micro < accum; micro++) {
    const index = (current - 1) * accum + micro + 1;
    if (shares.length > 0) await runShares(run, loop, index);
    else gradStep.execute({ batch: loop.makeBatch(index), control: { seed: noiseSeedOf(run.plan.settings.seed, index) } });
    steps.forEach((g, share) => {
      lossSum += g.output("loss")[0]!;
      for (const s of specs) {
        const values = g.output(`grads/${s.name}`);
        const a = accumulated.get(s.name)!;
        // The first gradients are copied (a memcpy), later ones added.
        if (micro === 0 && share === 0) a.set(values);
        else for (let i = 0; i < a.length; i++) a[i]! += values[i]!;
      }
    });
  }
  return lossSum;
}

/** A healthy step: its loss kept, its line in the JSON log (rank 0), the progress bar, and every saveSteps a checkpoint. */
function recordStep(run: Run, loop: StepLoop, progress: RunProgress, step: { loss: number; lr: number; gradNorm: number }): void {
  const { lead, options } = run;
  const { current, losses } = progress;
  const { loss, lr, gradNorm } = step;
  losses.push(loss);
  if (lead)
    appendFileSync(loop.logFile, JSON.stringify({ step: current, loss, lr, gradNorm, seconds: (performance.now() - loop.started) / 1000 }) + "\n");
  const recent = losses.slice(-50);
  loop.bar?.tick(current, { loss: loss.toFixed(4), avg: (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4) });
  if (lead && options.saveSteps && current % options.saveSteps === 0) progress.lastCheckpoint = loop.save();
}

/** After the loop: why the run stopped, a last checkpoint, the loss plot, the steps released, the summary. */
async function finishRun(run: Run, loop: StepLoop, progress: RunProgress, firstStep: number): Promise<TrainResult> {
  const { options, world, lead } = run;
  if (loop.signals.interrupted) progress.stoppedBy = "interrupt";
  else if (progress.stoppedBy !== "nan" && progress.current < loop.target) progress.stoppedBy = "minutes";
  loop.signals.remove();
  // mpirun may forward Ctrl-C to this rank after the ranks already agreed to stop: a late SIGUSR1
  // must not kill the rank while it saves.
  if (world.size > 1) process.on("SIGUSR1", () => undefined);
  loop.bar?.done();
  if (lead && progress.stoppedBy !== "nan" && progress.current > progress.lastSaved) progress.lastCheckpoint = loop.save();
  const seconds = (performance.now() - loop.started) / 1000;
  const trained = progress.current - firstStep;
  if (lead) await plotLoss(path.join(options.out, "loss.png"), readTrainLog(loop.logFile));
  loop.compiled.step.dispose();
  loop.compiled.gradStep?.dispose();
  for (const share of loop.compiled.shares.slice(1)) share.dispose();
  const result: TrainResult = {
    steps: progress.current,
    losses: progress.losses,
    checkpoint: progress.lastCheckpoint,
    seconds,
    imagesPerSecond: (trained * run.plan.settings.batch * run.plan.settings.gradAccum * world.size) / Math.max(seconds, 1e-9),
    stoppedBy: progress.stoppedBy,
  };
  logSummary(run, loop, result, trained);
  return result;
}

/** The last lines of a run: the allreduce's share of the time (several ranks), then the steps, speed and files. */
function logSummary(run: Run, loop: StepLoop, result: TrainResult, trained: number): void {
  const { options, world, log } = run;
  const reducer = loop.exchange ?? loop.reducer;
  if (world.size > 1 && reducer)
    log(
      `gradient allreduce over ${world.size} ranks (waiting for the slowest included): ${((reducer.seconds() / Math.max(trained, 1)) * 1000).toFixed(1)} ms per step, ${((100 * reducer.seconds()) / Math.max(result.seconds, 1e-9)).toFixed(1)} % of the training time`,
    );
  log(
    `trained ${trained} steps in ${result.seconds.toFixed(1)} s (${result.imagesPerSecond.toFixed(1)} images/s); checkpoint ${result.checkpoint}; loss plot ${path.join(options.out, "loss.png")}; log ${loop.logFile}`,
  );
}
