// Checkpoints: `step-N.safetensors` holds the DiT with the reference's keys (bf16 by default; what
// the reference's load_model reads), and beside it `step-N.train.safetensors` (f32 master weights of
// everything trained, AdamW moments), for a jointly trained text encoder `step-N.text_encoder.safetensors`,
// and `step-N.json` (step, configuration, seed, the set's files), so a run resumes exactly. A run that
// keeps a moving average of its weights also writes it as `step-N.ema.safetensors` (DiT, reference keys)
// and `step-N.ema.text_encoder.safetensors`, laid out like the raw pair so that it loads as a DiT
// checkpoint; the training state holds it under `ema/`. A checkpoint
// is a set: each file is written atomically, `step-N.json` after all of its tensor files and
// `latest.json` last, so a kill or a full disk at any moment leaves the previous complete set usable.

import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { loadStateDict, openSafetensors, writeSafetensors, type TensorToWrite, writeAtomic, readJsonFile } from "../runtime/index.ts";
import { numel, type ParamSpec, type ParamValues } from "./params.ts";

export interface TrainingState {
  step: number;
  /** Every trained tensor by name (DiT keys as the reference; a jointly trained text encoder's under "text_encoder."). */
  params: ParamValues;
  m: ParamValues;
  v: ParamValues;
  /** The exponential moving average of every trained tensor, when the run keeps one. */
  ema?: ParamValues;
}

export interface CheckpointMeta {
  step: number;
  config: string;
  seed: number;
  [key: string]: unknown;
}

export interface SaveOptions {
  /** The DiT's tensors (they go to step-N.safetensors under their own names). */
  ditSpec: readonly ParamSpec[];
  dtype?: "BF16" | "F32";
  /** A jointly trained text encoder: its tensors (stored in the state under `prefix`) go to step-N.text_encoder.safetensors under their own names. */
  textEncoder?: { spec: readonly ParamSpec[]; prefix: string; vocabulary?: readonly string[] };
  /** A VAE fitted to the data (models/vae/pca.ts): its tensors go to step-N.vae.safetensors, the same for both weight sets. */
  vae?: { spec: readonly ParamSpec[]; values: ParamValues };
}

/** The text encoder file's metadata key holding the training prompts' words, space-separated. */
export const VOCABULARY_KEY = "kiln.vocabulary";

export const checkpointPaths = (dir: string, step: number) => ({
  dit: path.join(dir, `step-${step}.safetensors`),
  train: path.join(dir, `step-${step}.train.safetensors`),
  textEncoder: path.join(dir, `step-${step}.text_encoder.safetensors`),
  meta: path.join(dir, `step-${step}.json`),
  latest: path.join(dir, "latest.json"),
  ema: path.join(dir, `step-${step}.ema.safetensors`),
  emaTextEncoder: path.join(dir, `step-${step}.ema.text_encoder.safetensors`),
  vae: path.join(dir, `step-${step}.vae.safetensors`),
});

/** A file of the set a DiT file belongs to (step-N.safetensors or step-N.ema.safetensors): `suffix` ".json", ".vae.safetensors", … */
export const besideDit = (ditFile: string, suffix: string): string => ditFile.replace(/(\.ema)?\.safetensors$/, suffix);

function shapeOf(name: string, specs: ReadonlyMap<string, readonly number[]>): readonly number[] {
  const shape = specs.get(name);
  if (!shape) throw new Error(`checkpoint: no shape known for '${name}'`);
  return shape;
}

/**
 * The model files of one set of weights: the DiT under the reference's keys to `ditFile`, and a jointly
 * trained text encoder (held in `values` under its prefix) under its own names to `textFile`.
 */
function modelFiles(
  values: ParamValues,
  ditFile: string,
  textFile: string,
  options: SaveOptions,
): [string, Record<string, TensorToWrite>, Record<string, string>][] {
  const dit: Record<string, TensorToWrite> = {};
  for (const spec of options.ditSpec) {
    const data = values.get(spec.name);
    if (!data) throw new Error(`checkpoint: the DiT tensor '${spec.name}' is not in the training state (${path.basename(ditFile)})`);
    dit[spec.name] = { dtype: options.dtype ?? "BF16", shape: spec.shape, data };
  }
  const files: [string, Record<string, TensorToWrite>, Record<string, string>][] = [[ditFile, dit, { format: "pt" }]];
  if (options.textEncoder) {
    const { spec, prefix, vocabulary } = options.textEncoder;
    const text: Record<string, TensorToWrite> = {};
    for (const s of spec) {
      const data = values.get(prefix + s.name);
      if (!data)
        throw new Error(`checkpoint: the text encoder tensor '${prefix + s.name}' is not in the training state (${path.basename(textFile)})`);
      text[s.name] = { dtype: "F32", shape: s.shape, data };
    }
    // The words it was trained on, which sampling reads prompts with (models/text/vocabulary.ts).
    files.push([textFile, text, { format: "kiln", ...(vocabulary ? { [VOCABULARY_KEY]: vocabulary.join(" ") } : {}) }]);
  }
  return files;
}

function vaeFile(vae: NonNullable<SaveOptions["vae"]>, file: string): [string, Record<string, TensorToWrite>, Record<string, string>] {
  const tensors: Record<string, TensorToWrite> = {};
  for (const s of vae.spec) {
    const data = vae.values.get(s.name);
    if (!data) throw new Error(`checkpoint: the fitted VAE tensor '${s.name}' is missing (${path.basename(file)})`);
    tensors[s.name] = { dtype: "F32", shape: s.shape, data };
  }
  return [file, tensors, { format: "kiln" }];
}

/** Save a complete checkpoint set; the previous set stays the newest complete one until step-N.json lands. */
export function saveCheckpoint(dir: string, state: TrainingState, meta: CheckpointMeta, specs: readonly ParamSpec[], options: SaveOptions): string {
  const shapes = new Map(specs.map((s) => [s.name, s.shape]));
  const files = checkpointPaths(dir, state.step);
  const train: Record<string, TensorToWrite> = {};
  const groups = [["params", state.params], ["m", state.m], ["v", state.v], ...(state.ema ? [["ema", state.ema] as const] : [])] as const;
  for (const [group, values] of groups)
    for (const [name, data] of values) train[`${group}/${name}`] = { dtype: "F32", shape: shapeOf(name, shapes), data };
  const tensorFiles: [string, Record<string, TensorToWrite>, Record<string, string>][] = [
    [files.train, train, { format: "kiln-train", step: String(state.step) }],
    ...modelFiles(state.params, files.dit, files.textEncoder, options),
    ...(state.ema ? modelFiles(state.ema, files.ema, files.emaTextEncoder, options) : []),
    ...(options.vae ? [vaeFile(options.vae, files.vae)] : []),
  ];
  const written: string[] = [];
  try {
    for (const [file, tensors, metadata] of tensorFiles) {
      writeSafetensors(file, tensors, metadata);
      written.push(file);
    }
    writeAtomic(files.meta, JSON.stringify({ ...meta, files: tensorFiles.map(([file]) => path.basename(file)) }, null, 2) + "\n");
  } catch (error) {
    // Half a set is no checkpoint: remove its files so that nothing mistakes them for one.
    for (const file of written) rmSync(file, { force: true });
    throw new Error(
      `checkpoint step ${state.step} could not be saved in ${dir}: ${(error as Error).message}. The newest complete checkpoint there is unchanged (${findLatestCheckpoint(dir) ?? "none"}).`,
      { cause: error },
    );
  }
  // A pointer for people and other tools; readers find the newest complete set themselves.
  const pointer = {
    step: state.step,
    dit: path.basename(files.dit),
    ...(state.ema ? { ema: path.basename(files.ema) } : {}),
    train: path.basename(files.train),
    meta: path.basename(files.meta),
  };
  writeAtomic(files.latest, JSON.stringify(pointer, null, 2) + "\n");
  return files.dit;
}

/** The tensor files of the set `step` in `dir` if it is complete (its step-N.json lists them and all exist), else undefined. */
export function checkpointSet(dir: string, step: number): string[] | undefined {
  const files = checkpointPaths(dir, step);
  if (!existsSync(files.meta)) return undefined;
  let meta: unknown;
  try {
    meta = readJsonFile(files.meta);
  } catch {
    return undefined;
  }
  if (typeof meta !== "object" || meta === null || (meta as { step?: unknown }).step !== step) return undefined;
  // Sets written before step-N.json listed its files: the DiT and the training state.
  const listed = (meta as { files?: unknown }).files;
  const names =
    Array.isArray(listed) && listed.every((f) => typeof f === "string")
      ? (listed as string[])
      : [path.basename(files.dit), path.basename(files.train)];
  const paths = names.map((name) => path.join(dir, path.basename(name)));
  return paths.every((f) => existsSync(f)) ? paths : undefined;
}

/** The newest complete checkpoint set in `dir` (the highest step whose set is complete), or undefined. */
export function findLatestCheckpoint(dir: string): number | undefined {
  if (!existsSync(dir)) return undefined;
  const steps = readdirSync(dir)
    .map((f) => /^step-(\d+)\.json$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  return steps.find((step) => checkpointSet(dir, step) !== undefined);
}

/**
 * The newest training run under `root`: `root` itself or a folder directly inside it holding a complete
 * checkpoint, the one whose newest checkpoint was written last (`kiln train` writes runs/<config>,
 * `npm start` runs/start). Undefined when there is none.
 */
export function findNewestRun(root: string): { dir: string; step: number } | undefined {
  if (!existsSync(root)) return undefined;
  const candidates = [
    root,
    ...readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(root, e.name)),
  ];
  let newest: { dir: string; step: number; written: number } | undefined;
  for (const dir of candidates) {
    const step = findLatestCheckpoint(dir);
    if (step === undefined) continue;
    const written = statSync(checkpointPaths(dir, step).meta).mtimeMs;
    if (!newest || written > newest.written) newest = { dir, step, written };
  }
  return newest && { dir: newest.dir, step: newest.step };
}

/** Throws when any tensor holds NaN or ±Infinity: a diverged run or a damaged file, never something to sample from or resume. */
export function requireFinite(file: string, tensors: ReadonlyMap<string, Float32Array>): void {
  for (const [name, data] of tensors) {
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
    if (bad)
      throw new Error(
        `${file}: tensor '${name}' holds ${bad} non-finite values (NaN or Infinity) of ${data.length}; the file is damaged or the run diverged — use an earlier checkpoint`,
      );
  }
}

/** The step-N.json of a checkpoint, checked to be an object with the step, config and seed. */
export function readCheckpointMeta(dir: string, step: number): CheckpointMeta {
  const file = checkpointPaths(dir, step).meta;
  const meta = readJsonFile(file, "checkpoint");
  if (
    typeof meta !== "object" ||
    meta === null ||
    typeof (meta as CheckpointMeta).step !== "number" ||
    typeof (meta as CheckpointMeta).config !== "string"
  )
    throw new Error(`checkpoint ${file}: expected an object with "step" (a number) and "config" (a name)`);
  return meta as CheckpointMeta;
}

/**
 * Load the training state saved at `step` in `dir`, checking every tensor against `specs`. The moving
 * average is loaded when the file holds one (`ema/` tensors), and then it must be complete.
 */
export function loadTrainingState(dir: string, step: number, specs: readonly ParamSpec[]): { state: TrainingState; meta: CheckpointMeta } {
  const files = checkpointPaths(dir, step);
  const meta = readCheckpointMeta(dir, step);
  const hasEma = existsSync(files.train) && listTensors(files.train).some((t) => t.name.startsWith("ema/"));
  const groups = ["params", "m", "v", ...(hasEma ? ["ema"] : [])];
  const entries = groups.flatMap((group) => specs.map((s) => ({ name: `${group}/${s.name}`, shape: s.shape })));
  const loaded = loadStateDict(files.train, entries, { strict: true });
  requireFinite(files.train, loaded);
  const pick = (group: string): ParamValues => new Map(specs.map((s) => [s.name, loaded.get(`${group}/${s.name}`)!]));
  return { state: { step, params: pick("params"), m: pick("m"), v: pick("v"), ...(hasEma ? { ema: pick("ema") } : {}) }, meta };
}

/** DiT weights from a `step-N.safetensors` (ours or the reference's), strictly checked against the spec. */
export function loadDitWeights(file: string, specs: readonly ParamSpec[]): ParamValues {
  if (!existsSync(file)) throw new Error(`checkpoint: ${file} does not exist`);
  const weights = loadStateDict(
    file,
    specs.map((s) => ({ name: s.name, shape: s.shape })),
    { strict: true },
  );
  requireFinite(file, weights);
  return weights;
}

/**
 * The fitted VAE's tensors saved beside a DiT file (step-N.vae.safetensors), checked against its
 * spec; the error names the file and says how such a set is made.
 */
export function loadFittedVae(ditFile: string, vaeName: string, specs: readonly ParamSpec[]): ParamValues {
  const file = besideDit(ditFile, ".vae.safetensors");
  if (!existsSync(file))
    throw new Error(
      `checkpoint: the ${vaeName} VAE is fitted to the training data and saved beside each checkpoint, but ${file} does not exist (the set is incomplete, or it was trained with another VAE: check its --config)`,
    );
  const weights = loadStateDict(
    file,
    specs.map((s) => ({ name: s.name, shape: s.shape })),
    { strict: true },
  );
  requireFinite(file, weights);
  return weights;
}

/** Tensor names and shapes of a safetensors file (for `kiln info` and error messages). */
export function listTensors(file: string): { name: string; shape: readonly number[]; dtype: string }[] {
  const reader = openSafetensors(file);
  try {
    return reader.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype }));
  } finally {
    reader.close();
  }
}

export const zerosLike = (values: ParamValues): ParamValues => new Map([...values].map(([k, v]) => [k, new Float32Array(v.length)]));
export const sizeCheck = (spec: ParamSpec, data: Float32Array): boolean => data.length === numel(spec.shape);
