// Checkpoints: `step-N.safetensors` holds the DiT with the reference's keys (bf16 by default; what
// the reference's load_model reads), and beside it `step-N.train.safetensors` (f32 master weights of
// everything trained, AdamW moments) and `step-N.json` (step, configuration, seed), so a run resumes
// exactly. Every file is written atomically, and `latest.json` moves only after a complete save.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { loadStateDict, openSafetensors, writeSafetensors, type TensorToWrite } from "../runtime/safetensors.ts";
import { writeAtomic } from "../runtime/cache.ts";
import { numel, type ParamSpec, type ParamValues } from "./params.ts";

export interface TrainingState {
  step: number;
  /** Every trained tensor by name (DiT keys as the reference; a jointly trained text encoder's under "text_encoder."). */
  params: ParamValues;
  m: ParamValues;
  v: ParamValues;
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
}

export const checkpointPaths = (dir: string, step: number) => ({
  dit: path.join(dir, `step-${step}.safetensors`),
  train: path.join(dir, `step-${step}.train.safetensors`),
  meta: path.join(dir, `step-${step}.json`),
  latest: path.join(dir, "latest.json"),
});

function shapeOf(name: string, specs: ReadonlyMap<string, readonly number[]>): readonly number[] {
  const shape = specs.get(name);
  if (!shape) throw new Error(`checkpoint: no shape known for '${name}'`);
  return shape;
}

/** Save a complete checkpoint; the previous one stays valid until the last rename. */
export function saveCheckpoint(dir: string, state: TrainingState, meta: CheckpointMeta, specs: readonly ParamSpec[], options: SaveOptions): string {
  const shapes = new Map(specs.map((s) => [s.name, s.shape]));
  const files = checkpointPaths(dir, state.step);
  const train: Record<string, TensorToWrite> = {};
  for (const [group, values] of [["params", state.params], ["m", state.m], ["v", state.v]] as const)
    for (const [name, data] of values) train[`${group}/${name}`] = { dtype: "F32", shape: shapeOf(name, shapes), data };
  writeSafetensors(files.train, train, { format: "kiln-train", step: String(state.step) });
  const dit: Record<string, TensorToWrite> = {};
  for (const spec of options.ditSpec) {
    const data = state.params.get(spec.name);
    if (!data) throw new Error(`checkpoint: the DiT tensor '${spec.name}' is not in the training state`);
    dit[spec.name] = { dtype: options.dtype ?? "BF16", shape: spec.shape, data };
  }
  writeSafetensors(files.dit, dit, { format: "pt" });
  writeAtomic(files.meta, JSON.stringify(meta, null, 2) + "\n");
  writeAtomic(files.latest, JSON.stringify({ step: state.step, dit: path.basename(files.dit), train: path.basename(files.train), meta: path.basename(files.meta) }, null, 2) + "\n");
  return files.dit;
}

/** The newest complete checkpoint in `dir` (by latest.json, else the highest step with all three files). */
export function findLatestCheckpoint(dir: string): number | undefined {
  const latest = path.join(dir, "latest.json");
  if (existsSync(latest)) {
    try {
      const step = (JSON.parse(readFileSync(latest, "utf8")) as { step: number }).step;
      const files = checkpointPaths(dir, step);
      if (existsSync(files.dit) && existsSync(files.train) && existsSync(files.meta)) return step;
    } catch {
      // An unreadable pointer falls back to scanning.
    }
  }
  if (!existsSync(dir)) return undefined;
  const steps = readdirSync(dir)
    .map((f) => /^step-(\d+)\.json$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .filter((step) => Object.values(checkpointPaths(dir, step)).slice(0, 3).every((f) => existsSync(f)))
    .sort((a, b) => b - a);
  return steps[0];
}

/** Load the training state saved at `step` in `dir`, checking every tensor against `specs`. */
export function loadTrainingState(dir: string, step: number, specs: readonly ParamSpec[]): { state: TrainingState; meta: CheckpointMeta } {
  const files = checkpointPaths(dir, step);
  const meta = JSON.parse(readFileSync(files.meta, "utf8")) as CheckpointMeta;
  const entries = ["params", "m", "v"].flatMap((group) => specs.map((s) => ({ name: `${group}/${s.name}`, shape: s.shape })));
  const loaded = loadStateDict(files.train, entries, { strict: true });
  const pick = (group: string): ParamValues => new Map(specs.map((s) => [s.name, loaded.get(`${group}/${s.name}`)!]));
  return { state: { step, params: pick("params"), m: pick("m"), v: pick("v") }, meta };
}

/** DiT weights from a `step-N.safetensors` (ours or the reference's), strictly checked against the spec. */
export function loadDitWeights(file: string, specs: readonly ParamSpec[]): ParamValues {
  if (!existsSync(file)) throw new Error(`checkpoint: ${file} does not exist`);
  return loadStateDict(file, specs.map((s) => ({ name: s.name, shape: s.shape })), { strict: true });
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
