// The public API of models/ for the command line (bin/): model configurations, weights, the sampling
// pipeline, training and its plan, evaluation, and the Pokémon data set. Files inside models/ import each
// other directly, never this file.
export { CONFIGS, modelParts, type ModelConfig, type ModelParts } from "./config.ts";
export { loadConfig } from "./config-file.ts";
export { paramCount } from "./params.ts";
export { loadFrozen, loadWeights, checkpointConfig, WEIGHTS_KINDS, type LoadedWeights, type WeightsKind } from "./weights.ts";
export { fromRgbBytes, Sampler } from "./pipeline.ts";
export { saveGrid, savePng } from "./png.ts";
export { train } from "./train.ts";
export { MAX_BATCH, planTraining } from "./train-plan.ts";
export { findLatestCheckpoint, findNewestRun, readCheckpointMeta } from "./checkpoint.ts";
export { readTrainLog } from "./train-log.ts";
export { lossPlotPng } from "./plot.ts";
export { weightsToSafetensors } from "./weights-bundle.ts";
export { describeEval, evaluate } from "./eval.ts";
export { SEED_PROMPTS } from "./tutorial-prompts.ts";
export { describeReading } from "./text/vocabulary.ts";
export { loadImageRgb } from "./data/load-image.ts";
export { buildPokemonDataset, ensurePokemonDataset, stderrProgress } from "./data/pokemon.ts";
export { resolveDataSource, withDefaultData } from "./data/source.ts";
