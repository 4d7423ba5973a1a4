// `kiln eval --checkpoint F` (a step-N.safetensors, or a run folder: its newest checkpoint): recall@1 of the training prompts' images (see models/eval.ts).

import { loadConfig, modelParts } from "../../models/config.ts";
import { resolveDataSource, withDefaultData } from "../../models/data/source.ts";
import { evaluate } from "../../models/eval.ts";
import { Sampler } from "../../models/pipeline.ts";
import { loadWeights } from "../../models/weights.ts";
import type { Command } from "../command.ts";
import { parseFlags, usageError, type FlagSpecs } from "../flags.ts";
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
  grid: { kind: "text" },
  "text-encoder": { kind: "text" },
  vae: { kind: "text" },
  json: { kind: "switch" },
} as const satisfies FlagSpecs;


const command: Command = {
  summary: "generate every training prompt and measure recall@1 against the training images",
  usage: "kiln eval --checkpoint F|RUN_DIR [--config tiny|aaa-0.1b] [--data DIR | --metadata FILE [--images DIR]] [--limit N] [--steps N] [--cfg X] [--grid F.png] [--text-encoder DIR] [--vae FILE] [--json]",
  async run(argv) {
    const { flags } = parseFlags("eval", argv, EVAL_FLAGS);
    if (flags.checkpoint === undefined) throw usageError(`--checkpoint is required: ${command.usage}`);
    if (flags.grid !== undefined) requireWritablePng("--grid", flags.grid);
    const config = loadConfig(flags.config ?? "tiny");
    const parts = modelParts(config);
    const location = withDefaultData({ data: flags.data, metadata: flags.metadata, images: flags.images }, `data/pokemon-${config.height}`);
    resolveDataSource(location); // a wrong data folder fails here, before the sampler compiles
    const weights = loadWeights(parts, {
      checkpoint: flags.checkpoint,
      ...(flags["text-encoder"] !== undefined ? { textEncoderDir: flags["text-encoder"] } : {}),
      ...(flags.vae !== undefined ? { vaeFile: flags.vae } : {}),
    });
    const sampler = new Sampler(parts, weights);
    const result = await evaluate(sampler, {
      ...location,
      ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
      steps: flags.steps ?? 30,
      cfg: flags.cfg ?? 1,
      ...(flags.grid !== undefined ? { grid: flags.grid } : {}),
    });
    sampler.dispose();
    if (flags.json) console.log(JSON.stringify(result));
    else console.log(`recall@1 ${result.recall_at_1.toFixed(3)} (${Math.round(result.recall_at_1 * result.n)}/${result.n}), mean distance to the own image ${result.mean_distance.toFixed(4)}`);
  },
};

export default command;
