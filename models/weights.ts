// Loading a model's weights for sampling: the DiT from a step-N.safetensors (ours or the
// reference's) or the run's moving average of it (step-N.ema.safetensors, preferred when there), a
// jointly trained text encoder from beside it, frozen encoders from local files.

import { existsSync, statSync } from "node:fs";
import { besideDit, checkpointPaths, findLatestCheckpoint, loadDitWeights, loadFittedVae, requireFinite, VOCABULARY_KEY } from "./checkpoint.ts";
import { readJsonFile, requireRegularFile, loadStateDict, openSafetensors } from "../runtime/index.ts";
import { initParams, type ParamValues } from "./params.ts";
import { CONFIGS, type ModelConfig, type ModelParts } from "./config.ts";
import { configFromObject, loadConfig } from "./config-file.ts";
import type { TextEncoderChoice, VaeChoice } from "./encoders.ts";
import { loadQwen3 } from "./text/qwen3-file.ts";
import { QWEN3_0_6B } from "./text/qwen3.ts";
import { loadFlux2Vae } from "./vae/flux2-file.ts";
import { FLUX2_VAE } from "./vae/flux2.ts";
import type { Weights } from "./pipeline.ts";

/** Which weights of a checkpoint set to sample from: the moving average of the weights, or the weights as trained. */
export type WeightsKind = "ema" | "raw";
export const WEIGHTS_KINDS: readonly WeightsKind[] = ["ema", "raw"];

export interface WeightSources {
  checkpoint?: string;
  /** Default: "ema" when the checkpoint set has it, else "raw". */
  weights?: WeightsKind;
  /** A local Qwen3-0.6B folder (model.safetensors). */
  textEncoderDir?: string;
  /** A local FLUX.2 VAE diffusion_pytorch_model.safetensors. */
  vaeFile?: string;
  /** Fresh random weights (for testing the pipeline without a trained model). */
  randomInit?: boolean;
  seed?: number;
}

/** A checkpoint file as given, or a training run's folder as its newest complete checkpoint. */
export function resolveCheckpoint(given: string): string {
  if (!existsSync(given)) throw new Error(`--checkpoint ${given}: no such file or folder`);
  if (!statSync(given).isDirectory()) {
    requireRegularFile(given, "--checkpoint");
    return given;
  }
  const step = findLatestCheckpoint(given);
  if (step === undefined)
    throw new Error(`--checkpoint ${given}: the folder holds no complete checkpoint (a step-N.json beside every file it lists)`);
  return checkpointPaths(given, step).dit;
}

/**
 * The configuration of a checkpoint (to sample it, evaluate it or resume its run): `given` (a name or
 * a JSON file) when there is one; else the one the checkpoint's step-N.json records — the whole
 * configuration a run saves since kiln recorded it (`modelConfig`), or, for an older run, the named
 * configuration it names; else (no checkpoint, or the reference's files with no step-N.json) tiny.
 */
export function checkpointConfig(given: string | undefined, checkpoint: string | undefined): ModelConfig {
  if (given !== undefined) return loadConfig(given);
  if (checkpoint === undefined) return CONFIGS.tiny!;
  const json = besideDit(resolveCheckpoint(checkpoint), ".json");
  if (!json.endsWith(".json") || !existsSync(json)) return CONFIGS.tiny!;
  const meta = readJsonFile(json, "checkpoint") as { config?: unknown; modelConfig?: unknown };
  if (meta.modelConfig !== undefined) return configFromObject(meta.modelConfig, `${json} (modelConfig)`);
  const named = typeof meta.config === "string" ? CONFIGS[meta.config] : undefined;
  if (named) return named;
  throw new Error(
    `--checkpoint ${checkpoint}: ${json} names config '${String(meta.config)}', which is not a named configuration, and the run predates kiln saving its configuration: pass the file it was trained with as --config FILE.json`,
  );
}

/**
 * The DiT file of the chosen weights of `dit`'s set: step-N.safetensors holds the weights as trained,
 * step-N.ema.safetensors their moving average. Either may be given; without a choice the average is
 * taken when the set has one.
 */
export function chooseWeights(dit: string, choice: WeightsKind | undefined): { file: string; kind: WeightsKind } {
  const raw = dit.replace(/\.ema\.safetensors$/, ".safetensors");
  const ema = raw.replace(/\.safetensors$/, ".ema.safetensors");
  const hasEma = ema !== raw && existsSync(ema);
  if (choice === "ema" && !hasEma)
    throw new Error(
      `--weights ema: ${dit} has no moving average of its weights beside it (${ema}); the run kept none (its config's ema is false, or it predates it): use --weights raw`,
    );
  if (choice === "raw" && !existsSync(raw)) throw new Error(`--weights raw: ${raw}, the weights as trained beside ${dit}, does not exist`);
  const kind = choice ?? (hasEma ? "ema" : "raw");
  return { file: kind === "ema" ? ema : raw, kind };
}

/**
 * Refuses a checkpoint of our own (a step-N.json beside it) whose DiT was trained to predict something
 * other than what `config` samples with: a velocity read as a clean image (or the reverse) samples
 * noise, not an error. Runs from before the field trained velocity; the reference's files have no json.
 */
function requireSamePrediction(file: string, config: Pick<ModelConfig, "name" | "prediction">): void {
  const json = besideDit(file, ".json");
  if (json === file || !existsSync(json)) return;
  const meta = readJsonFile(json, "checkpoint") as { config?: unknown; prediction?: unknown };
  const trained = meta.prediction ?? "velocity";
  if (trained !== config.prediction)
    throw new Error(
      `--checkpoint ${file}: its DiT was trained to predict the ${trained === "image" ? "clean image" : "velocity"} (prediction "${String(trained)}" in ${json}), ` +
        `but the ${config.name} config samples with prediction "${config.prediction}"; pass a --config whose prediction is "${String(trained)}" (a JSON file with "base": "${String(meta.config ?? config.name)}", "prediction": "${String(trained)}")`,
    );
}

/** A model's weights, with the DiT file they came from and which of the set's weights it holds. */
export interface LoadedWeights extends Weights {
  source?: { file: string; kind: WeightsKind };
}

export function loadWeights(parts: ModelParts, given: WeightSources): LoadedWeights {
  const { config } = parts;
  const source = given.checkpoint ? chooseWeights(resolveCheckpoint(given.checkpoint), given.weights) : undefined;
  if (!source && given.weights) throw new Error(`--weights ${given.weights} needs --checkpoint (a run folder or a step-N.safetensors)`);
  if (source) requireSamePrediction(source.file, config);
  const sources = source ? { ...given, checkpoint: source.file } : given;
  let dit: ParamValues;
  if (sources.checkpoint) dit = loadDitWeights(sources.checkpoint, parts.ditSpec);
  else if (sources.randomInit) dit = initParams(parts.ditSpec, sources.seed ?? 0);
  else
    throw new Error(
      `no DiT weights: pass --checkpoint step-N.safetensors (from 'kiln train') or the run's folder, or --random-init to sample from untrained weights`,
    );

  let text: ParamValues = new Map();
  let vocabulary: ReadonlySet<string> | undefined;
  if (config.trainText && parts.text.paramSpec.length) {
    const beside = sources.checkpoint?.replace(/\.safetensors$/, ".text_encoder.safetensors");
    if (beside && existsSync(beside)) {
      text = loadStateDict(
        beside,
        parts.text.paramSpec.map((s) => ({ name: s.name, shape: s.shape })),
      );
      requireFinite(beside, text);
      vocabulary = trainedVocabulary(beside);
    } else if (sources.randomInit) text = initParams(parts.text.paramSpec, (sources.seed ?? 0) + 1);
    else
      throw new Error(
        `the ${config.name} config trains its text encoder with the DiT; expected ${beside ?? "step-N.text_encoder.safetensors"} beside the checkpoint`,
      );
  }
  const frozen = loadFrozen(parts, sources);
  let vae = frozen.vae;
  if (parts.vae.fit) {
    if (sources.checkpoint) vae = loadFittedVae(sources.checkpoint, parts.vae.name, parts.vae.paramSpec);
    // Untrained weights have no data to fit to: a basis of the first coordinates, so noise still shows.
    else vae = parts.vae.unfitted?.() ?? initParams(parts.vae.paramSpec, 0);
  }
  return { dit, text: config.trainText ? text : frozen.text, vae, ...(vocabulary ? { vocabulary } : {}), ...(source ? { source } : {}) };
}

/** The words a text encoder file records it was trained on (checkpoints before kiln recorded them have none). */
function trainedVocabulary(file: string): ReadonlySet<string> | undefined {
  const opened = openSafetensors(file);
  try {
    const words = opened.metadata[VOCABULARY_KEY];
    return words === undefined ? undefined : new Set(words.split(" ").filter((w) => w !== ""));
  } finally {
    opened.close();
  }
}

/**
 * The frozen encoders' weights from the reference's own files, read by the encoder that owns the
 * format (the FLUX.2 VAE keeps an int64 BatchNorm counter; Qwen3-0.6B ships an lm_head we ignore).
 */
export function loadFrozen(parts: ModelParts, sources: Pick<WeightSources, "textEncoderDir" | "vaeFile">): Pick<Weights, "text" | "vae"> {
  const { config, text: encoder, vae: autoencoder } = parts;
  let text: ParamValues = new Map();
  if (!config.trainText && encoder.paramSpec.length) {
    if (!sources.textEncoderDir)
      throw new Error(
        `the ${config.name} config needs the ${encoder.name} text encoder's weights: pass --text-encoder DIR (a local Qwen3-0.6B folder with model.safetensors)`,
      );
    text = loadFrozenText(config.text, sources.textEncoderDir);
    requireFinite(sources.textEncoderDir, text);
  }
  let vae: ParamValues = new Map();
  // A VAE fitted to the data comes from beside the checkpoint (loadWeights), not from a file of the reference's.
  if (autoencoder.paramSpec.length && !autoencoder.fit) {
    if (!sources.vaeFile)
      throw new Error(
        `the ${config.name} config needs the ${autoencoder.name} VAE's weights: pass --vae FILE (a local diffusion_pytorch_model.safetensors)`,
      );
    vae = loadFrozenVae(config.vae, sources.vaeFile);
    requireFinite(sources.vaeFile, vae);
  }
  return { text, vae };
}

// The file readers live here, not in models/encoders.ts, so that the encoders also run in a browser bundle.
/** A frozen text encoder's weights from a local folder as the reference ships them. */
function loadFrozenText(choice: TextEncoderChoice, dir: string): ParamValues {
  if (choice.kind !== "qwen3") throw new Error(`the ${choice.kind} text encoder is trained with the DiT and has no frozen weights to load`);
  return loadQwen3(dir, { ...QWEN3_0_6B, ...choice.config }).params;
}

/** A VAE's weights from the reference's file. */
function loadFrozenVae(choice: VaeChoice, file: string): ParamValues {
  if (choice.kind !== "flux2") throw new Error(`the ${choice.kind} VAE has no file of weights to load`);
  return loadFlux2Vae(file, { ...FLUX2_VAE, ...choice.config });
}
