// `kiln eval --checkpoint F` (a step-N.safetensors, or a run folder: its newest checkpoint): recall@1 of the training prompts' images (see models/eval.ts).

import { loadConfig, modelParts } from "../../models/config.ts";
import { resolveDataSource, withDefaultData } from "../../models/data/source.ts";
import { evaluate } from "../../models/eval.ts";
import { Sampler } from "../../models/pipeline.ts";
import { loadWeights } from "../../models/weights.ts";
import { parseArgs, type Command } from "../command.ts";

const limitOf = (raw: string): number => {
  const limit = Number(raw);
  if (!(Number.isInteger(limit) && limit > 0)) throw new Error(`--limit expects a positive whole number of prompts, got '${raw}'`);
  return limit;
};

const command: Command = {
  summary: "generate every training prompt and measure recall@1 against the training images",
  usage: "kiln eval --checkpoint F|RUN_DIR [--config tiny|aaa-0.1b] [--data DIR | --metadata FILE [--images DIR]] [--limit N] [--steps N] [--cfg X] [--grid F.png] [--text-encoder DIR] [--vae FILE] [--json]",
  async run(argv) {
    const { flags } = parseArgs(argv, ["json"]);
    if (!flags.has("checkpoint")) throw new Error(`--checkpoint is required: ${command.usage}`);
    const limit = flags.has("limit") ? limitOf(flags.get("limit")!) : undefined;
    const config = loadConfig(flags.get("config") ?? "tiny");
    const parts = modelParts(config);
    const location = withDefaultData({ data: flags.get("data"), metadata: flags.get("metadata"), images: flags.get("images") }, `data/pokemon-${config.height}`);
    resolveDataSource(location); // a wrong data folder fails here, before the sampler compiles
    const weights = loadWeights(parts, {
      checkpoint: flags.get("checkpoint")!,
      ...(flags.has("text-encoder") ? { textEncoderDir: flags.get("text-encoder")! } : {}),
      ...(flags.has("vae") ? { vaeFile: flags.get("vae")! } : {}),
    });
    const sampler = new Sampler(parts, weights);
    const result = await evaluate(sampler, {
      ...location,
      ...(limit !== undefined ? { limit } : {}),
      steps: Number(flags.get("steps") ?? 30),
      cfg: Number(flags.get("cfg") ?? 1),
      ...(flags.has("grid") ? { grid: flags.get("grid")! } : {}),
    });
    sampler.dispose();
    if (flags.has("json")) console.log(JSON.stringify(result));
    else console.log(`recall@1 ${result.recall_at_1.toFixed(3)} (${Math.round(result.recall_at_1 * result.n)}/${result.n}), mean distance to the own image ${result.mean_distance.toFixed(4)}`);
  },
};

export default command;
