// What a training run will do, settled before any work starts: the options checked (integers where
// integers, finite and in range), the run folder checked (models/run-folder.ts), and on --resume the
// checkpoint's settings taken over — a setting given that differs from the checkpoint's is refused,
// since it would silently break the exact resume, unless the caller allows changes.

import { createHash } from "node:crypto";
import { checkRunFolder } from "./run-folder.ts";
import { findLatestCheckpoint, readCheckpointMeta } from "./checkpoint.ts";
import type { ModelConfig } from "./config.ts";

/** The settings that determine a run's trajectory, recorded in every step-N.json. */
export interface RunSettings {
  batch: number;
  lr: number;
  seed: number;
  gradAccum: number;
  clipNorm: number | null;
  pureBf16: boolean;
}

export interface PlanOptions {
  config: ModelConfig;
  out: string;
  steps?: number;
  /** Stop after this many minutes instead of (or before) `steps`. */
  minutes?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  saveSteps?: number;
  /** Micro-batches whose gradients are summed before each optimizer step (effective batch = batch × this). */
  gradAccum?: number;
  clipNorm?: number;
  pureBf16?: boolean;
  resume?: boolean;
  /** Delete the run already in `out` (its checkpoints, log and plot) and start over. */
  overwrite?: boolean;
  /** With resume: accept settings that differ from the checkpoint's (the run is then no longer an exact continuation). */
  allowChanges?: boolean;
  /** Data-parallel ranks of this run (batch is per rank): a checkpoint's global batch must match batch × ranks. */
  ranks?: number;
}

export interface TrainPlan {
  /** The checkpoint to resume from, if any. */
  latest: number | undefined;
  settings: RunSettings;
  configHash: string;
}

/** Largest batch: beyond it the batch's arrays alone pass what a JS typed array or this machine holds. */
export const MAX_BATCH = 4096;

/** A fingerprint of a configuration's contents (a JSON config keeps its name when its fields change). */
export const configHash = (config: ModelConfig): string => createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 16);

function requireInteger(name: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min || value > max))
    throw new Error(`train: ${name} must be an integer from ${min} to ${max}, got ${value}`);
}

function requirePositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`train: ${name} must be a finite number > 0, got ${value}`);
}

/** Why a step's result must not be kept (a non-finite loss or gradient norm: the update it applied is garbage), or undefined. */
export function unhealthyStep(loss: number, gradNorm: number): string | undefined {
  if (!Number.isFinite(loss)) return `the loss is ${loss}`;
  if (!Number.isFinite(gradNorm)) return `the gradient norm is ${gradNorm}`;
  return undefined;
}

/** Checks `options` and (unless `checkFolder` is false: a data-parallel rank other than 0) the run folder, and settles the settings; changes nothing on disk. */
export function planTraining(options: PlanOptions, { checkFolder = true }: { checkFolder?: boolean } = {}): TrainPlan {
  requireInteger("batch", options.batch, 1, MAX_BATCH);
  requireInteger("steps", options.steps, 1);
  requireInteger("saveSteps", options.saveSteps, 1);
  requireInteger("gradAccum", options.gradAccum, 1, 1024);
  requireInteger("seed", options.seed, 0, 2 ** 32 - 1);
  requirePositive("minutes", options.minutes);
  requirePositive("lr", options.lr);
  requirePositive("clipNorm", options.clipNorm);
  if (checkFolder) checkRunFolder(options.out, options);
  const { config } = options;
  const hash = configHash(config);
  const given: Partial<RunSettings> = {
    ...(options.batch !== undefined ? { batch: options.batch } : {}),
    ...(options.lr !== undefined ? { lr: options.lr } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.gradAccum !== undefined ? { gradAccum: options.gradAccum } : {}),
    ...(options.clipNorm !== undefined ? { clipNorm: options.clipNorm } : {}),
    ...(options.pureBf16 !== undefined ? { pureBf16: options.pureBf16 } : {}),
  };
  const defaults: RunSettings = { batch: config.batch, lr: config.lr, seed: 0, gradAccum: 1, clipNorm: null, pureBf16: false };
  const latest = options.resume ? findLatestCheckpoint(options.out) : undefined;
  if (latest === undefined) return { latest, settings: { ...defaults, ...given }, configHash: hash };

  const meta = readCheckpointMeta(options.out, latest);
  if (meta.config !== config.name)
    throw new Error(`train --resume: the checkpoint in ${options.out} (step ${latest}) is for config '${meta.config}', not '${config.name}'`);
  // Settings the checkpoint recorded; older checkpoints recorded fewer.
  const saved: Partial<RunSettings> = Object.fromEntries(
    Object.keys(defaults)
      .filter((k) => k in meta)
      .map((k) => [k, meta[k]]),
  );
  // A data-parallel run recorded its global batch: what must match is that, split over this run's ranks.
  const perRank = typeof meta.globalBatch === "number" ? meta.globalBatch / (options.ranks ?? 1) : undefined;
  if (perRank !== undefined && Number.isSafeInteger(perRank)) saved.batch = perRank;
  const changed = (Object.keys(given) as (keyof RunSettings)[]).filter((k) => k in saved && saved[k] !== given[k]);
  const configChanged = typeof meta.configHash === "string" && meta.configHash !== hash;
  if ((changed.length || configChanged) && !options.allowChanges) {
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const what = [
      ...changed.map((k) => `${flag(k)} ${given[k]} (the run used ${saved[k]})`),
      ...(configChanged ? [`the fields of config '${config.name}' (they changed since the run started)`] : []),
    ];
    throw new Error(
      `train --resume: ${options.out} was trained with different settings: ${what.join(", ")}. A resumed run repeats the original exactly only with the same settings: drop ${changed.length ? "those flags" : "the change"}, or pass --allow-changes to continue anyway`,
    );
  }
  return { latest, settings: { ...defaults, ...saved, ...given }, configHash: hash };
}
