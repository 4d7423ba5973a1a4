// `kiln train`: train the text-to-image model from scratch (see models/train.ts).

import { loadConfig } from "../../models/config.ts";
import { train } from "../../models/train.ts";
import { loadFrozen } from "../../models/weights.ts";
import { modelParts } from "../../models/config.ts";
import { ensurePokemonDataset } from "../../models/data/pokemon.ts";
import { withDefaultData } from "../../models/data/source.ts";
import { parseArgs, type Command } from "../command.ts";
import { deviceFlag, deviceHelp, deviceUsage } from "../device-flag.ts";
import { existsSync } from "node:fs";
import path from "node:path";

const num = (flags: Map<string, string>, key: string): number | undefined => {
  const raw = flags.get(key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${key} expects a number, got '${raw}'`);
  return value;
};

const command: Command = {
  summary: "train the DiT from scratch on a data set (default: the Pokémon gen-1 set, built if missing)",
  usage: `kiln train [--config tiny|aaa-0.1b|FILE.json] [--data DIR | --metadata FILE [--images DIR]] [--steps N | --minutes M] [--batch B] [--lr X] [--seed S] [--out DIR] [--resume] [--save-steps N] [--grad-accum N] [--clip-norm X] [--pure-bf16] [--checkpoint-blocks] [--text-encoder DIR] [--vae FILE] ${deviceUsage()}\n\ndevices:\n${deviceHelp()}`,
  async run(argv) {
    const { flags } = parseArgs(argv, ["resume", "pure-bf16", "checkpoint-blocks"]);
    const device = deviceFlag(flags);
    const config = loadConfig(flags.get("config") ?? "tiny");
    // The reference's metadata_path and base_path; with none of the three, the Pokémon set (built if missing).
    const named = { data: flags.get("data"), metadata: flags.get("metadata"), images: flags.get("images") };
    const defaultData = `data/pokemon-${config.height}`;
    if (!named.data && !named.metadata && !named.images && !existsSync(path.join(defaultData, "metadata.csv"))) await ensurePokemonDataset(defaultData, config.height);
    const parts = modelParts(config);
    const frozen = config.trainText && !parts.vae.paramSpec.length
      ? undefined
      : loadFrozen(parts, { ...(flags.has("text-encoder") ? { textEncoderDir: flags.get("text-encoder")! } : {}), ...(flags.has("vae") ? { vaeFile: flags.get("vae")! } : {}) });
    const steps = num(flags, "steps");
    const minutes = num(flags, "minutes");
    const result = await train({
      config,
      ...withDefaultData(named, defaultData),
      out: flags.get("out") ?? `runs/${config.name}`,
      ...(steps !== undefined ? { steps } : {}),
      ...(minutes !== undefined ? { minutes } : {}),
      ...(num(flags, "batch") !== undefined ? { batch: num(flags, "batch")! } : {}),
      ...(num(flags, "lr") !== undefined ? { lr: num(flags, "lr")! } : {}),
      ...(num(flags, "seed") !== undefined ? { seed: num(flags, "seed")! } : {}),
      // A killed run loses at most the steps since the last save.
      saveSteps: num(flags, "save-steps") ?? 500,
      ...(num(flags, "grad-accum") !== undefined ? { gradAccum: num(flags, "grad-accum")! } : {}),
      ...(num(flags, "clip-norm") !== undefined ? { clipNorm: num(flags, "clip-norm")! } : {}),
      resume: flags.has("resume"),
      pureBf16: flags.has("pure-bf16"),
      checkpointBlocks: flags.has("checkpoint-blocks"),
      ...(frozen ? { frozen } : {}),
      device,
    });
    console.log(JSON.stringify({ steps: result.steps, checkpoint: result.checkpoint, finalLoss: result.losses.at(-1) ?? null, seconds: Number(result.seconds.toFixed(1)), imagesPerSecond: Number(result.imagesPerSecond.toFixed(2)), stoppedBy: result.stoppedBy }));
    return result.stoppedBy === "nan" ? 1 : 0;
  },
};

export default command;
