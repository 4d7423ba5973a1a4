// `kiln eval --checkpoint F` (a step-N.safetensors, or a run folder: its newest checkpoint): recall@1, PSNR and
// background speckle of the training prompts' images, and the starter prompts' family hit rate (see models/eval.ts).

import {
  checkpointConfig,
  modelParts,
  resolveDataSource,
  withDefaultData,
  describeEval,
  evaluate,
  Sampler,
  loadWeights,
  WEIGHTS_KINDS,
  type WeightsKind,
} from "../../models/index.ts";
import type { Command } from "../command.ts";
import { parseFlags, SEED_FLAG, usageError, type FlagSpecs } from "../flags.ts";
import { requireWritablePng } from "../output.ts";

export const EVAL_FLAGS = {
  checkpoint: { kind: "text" },
  config: { kind: "text" },
  data: { kind: "text" },
  metadata: { kind: "text" },
  images: { kind: "text" },
  limit: { kind: "int", min: 1 },
  steps: { kind: "int", min: 1, max: 1000 },
  cfg: { kind: "number", min: 0 },
  weights: { kind: "choice", values: WEIGHTS_KINDS },
  "family-seeds": { kind: "int", min: 0, max: 1000 },
  seed: SEED_FLAG,
  grid: { kind: "text" },
  "family-grid": { kind: "text" },
  "text-encoder": { kind: "text" },
  vae: { kind: "text" },
  json: { kind: "switch" },
} as const satisfies FlagSpecs;

const command: Command = {
  summary: "generate every training prompt and the starter prompts; recall@1, PSNR, background speckle, starter family hit rate",
  usage:
    "kiln eval --checkpoint F|RUN_DIR [--weights ema|raw] [--config tiny|aaa-0.1b] [--data DIR | --metadata FILE [--images DIR]] [--limit N] [--steps N] [--cfg X] " +
    "[--family-seeds N] [--seed S] [--grid F.png] [--family-grid F.png] [--text-encoder DIR] [--vae FILE] [--json]",
  async run(argv) {
    const { flags } = parseFlags("eval", argv, EVAL_FLAGS);
    if (flags.checkpoint === undefined) throw usageError(`--checkpoint is required: ${command.usage}`);
    if (flags.grid !== undefined) requireWritablePng("--grid", flags.grid);
    if (flags["family-grid"] !== undefined) requireWritablePng("--family-grid", flags["family-grid"]);
    const config = checkpointConfig(flags.config, flags.checkpoint);
    const parts = modelParts(config);
    const location = withDefaultData({ data: flags.data, metadata: flags.metadata, images: flags.images }, `data/pokemon-${config.height}`);
    resolveDataSource(location); // a wrong data folder fails here, before the sampler compiles
    const weights = loadWeights(parts, {
      checkpoint: flags.checkpoint,
      ...(flags.weights !== undefined ? { weights: flags.weights as WeightsKind } : {}),
      ...(flags["text-encoder"] !== undefined ? { textEncoderDir: flags["text-encoder"] } : {}),
      ...(flags.vae !== undefined ? { vaeFile: flags.vae } : {}),
    });
    const sampler = new Sampler(parts, weights);
    const result = await evaluate(sampler, {
      ...location,
      ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
      steps: flags.steps ?? 30,
      cfg: flags.cfg ?? 1,
      ...(flags["family-seeds"] !== undefined ? { familySeeds: flags["family-seeds"] } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags.grid !== undefined ? { grid: flags.grid } : {}),
      ...(flags["family-grid"] !== undefined ? { familyGrid: flags["family-grid"] } : {}),
    });
    sampler.dispose();
    const source = weights.source ? { weights: weights.source.kind, checkpoint: weights.source.file } : {};
    if (flags.json) console.log(JSON.stringify({ ...result, ...source }));
    else {
      if (weights.source) console.log(`${weights.source.kind} weights (${weights.source.file}), guidance ${result.cfg}, ${result.steps} steps`);
      for (const line of describeEval(result)) console.log(line);
    }
  },
};

export default command;
