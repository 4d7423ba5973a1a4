// What `kiln serve` serves from a training run's folder: the model (its configuration, and its
// sampling weights as kiln sample loads them), the loss log and the sample grids kiln wrote there.

import { existsSync, statSync } from "node:fs";
import path from "node:path";
import {
  findLatestCheckpoint,
  findNewestRun,
  checkpointConfig,
  loadWeights,
  modelParts,
  readTrainLog,
  type LoadedWeights,
  type ModelConfig,
  type ModelParts,
} from "../../models/index.ts";

/** The grid PNGs kiln writes into a run folder (`npm start`), in the order the page shows them, with what each holds. */
export const GRID_FILES = {
  "grid.png": "npm start's samples of the starter prompts",
  "starter-grid.png": "the starter prompts, a row each, over seeds",
  "eval-grid.png": "kiln eval: one sample per training prompt",
} as const;

export interface ServedRun {
  readonly dir: string;
  readonly step: number;
  readonly config: ModelConfig;
  readonly parts: ModelParts;
  readonly weights: LoadedWeights;
  readonly logFile: string;
}

/** The run folder to serve: the one given, else the newest under ./runs, or an error saying how to train one. */
export function chooseRunFolder(given: string | undefined, cwd = process.cwd()): { dir: string; step: number } {
  if (given !== undefined) {
    if (!existsSync(given) || !statSync(given).isDirectory())
      throw new Error(`--checkpoint ${given}: not a folder; give a training run's folder (what 'kiln train --out DIR' wrote)`);
    const step = findLatestCheckpoint(given);
    if (step === undefined)
      throw new Error(
        `--checkpoint ${given}: the folder holds no complete checkpoint (a step-N.json beside every file it lists); train one with 'npx kiln train --out ${given}'`,
      );
    return { dir: given, step };
  }
  const root = path.join(cwd, "runs");
  const newest = findNewestRun(root);
  if (!newest)
    throw new Error(
      `no training run under ${root}: train one first ('npx kiln train' writes runs/tiny, 'npm start' writes runs/start) or pass --checkpoint RUN_DIR`,
    );
  return newest;
}

/** Loads the run's newest checkpoint as `kiln sample --checkpoint DIR` does, with its configuration from step-N.json. */
export function loadServedRun(dir: string, step: number): ServedRun {
  const config = checkpointConfig(undefined, dir);
  if (!config.trainText)
    throw new Error(
      `${dir}: the ${config.name} config's text encoder is frozen and loaded from local files (hundreds of MB); kiln serve samples configs whose text encoder is trained with the DiT (tiny)`,
    );
  const parts = modelParts(config);
  const weights = loadWeights(parts, { checkpoint: dir });
  return { dir, step, config, parts, weights, logFile: path.join(dir, "train-log.jsonl") };
}

/** The grids in the run folder now (npm start writes them after training, possibly while the page is open). */
export const presentGrids = (run: ServedRun): { name: string; caption: string }[] =>
  Object.entries(GRID_FILES)
    .filter(([name]) => existsSync(path.join(run.dir, name)))
    .map(([name, caption]) => ({ name, caption }));

/** The run's loss curve points (steps and losses from train-log.jsonl). */
export const lossPoints = (run: ServedRun) => readTrainLog(run.logFile).map(({ step, loss }) => ({ step, loss }));
