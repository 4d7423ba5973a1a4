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
import { launcherRank, openWorld } from "../../runtime/collective/world.ts";
import { mpirunPlan, runRanks } from "../../runtime/collective/launch.ts";
import { findLatestCheckpoint } from "../../models/checkpoint.ts";

/** The arguments without `--name VALUE` / `--name=VALUE`. */
const without = (argv: readonly string[], name: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) i++;
    else if (!argv[i]!.startsWith(`--${name}=`)) out.push(argv[i]!);
  }
  return out;
};

const num = (flags: Map<string, string>, key: string): number | undefined => {
  const raw = flags.get(key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${key} expects a number, got '${raw}'`);
  return value;
};

const command: Command = {
  summary: "train the DiT from scratch on a data set (default: the Pokémon gen-1 set, built if missing)",
  usage: `kiln train [--config tiny|aaa-0.1b|FILE.json] [--data DIR | --metadata FILE [--images DIR]] [--steps N | --minutes M] [--batch B] [--lr X] [--seed S] [--out DIR] [--resume] [--save-steps N] [--grad-accum N] [--clip-norm X] [--pure-bf16] [--checkpoint-blocks] [--text-encoder DIR] [--vae FILE] ${deviceUsage()} [--nproc N] [--collective-timeout S]\n\ndevices:\n${deviceHelp()}`,
  async run(argv) {
    const { flags } = parseArgs(argv, ["resume", "pure-bf16", "checkpoint-blocks"]);
    // Data parallelism (runtime/collective): --nproc starts the ranks through mpirun, each running
    // this command without --nproc; a rank started by a launcher joins its MPI world. An error on a
    // rank ends its process before MPI_Finalize, and mpirun then stops the whole job.
    const nproc = num(flags, "nproc");
    const launched = launcherRank();
    if (nproc !== undefined && launched !== undefined && launched.size !== nproc)
      throw new Error(`--nproc ${nproc}: this process was started by a launcher as one of ${launched.size} ranks; drop --nproc under mpirun`);
    if (nproc !== undefined && launched === undefined) {
      const out = flags.get("out") ?? `runs/${loadConfig(flags.get("config") ?? "tiny").name}`;
      if (!flags.has("data") && !flags.has("metadata") && !flags.has("images")) {
        const config = loadConfig(flags.get("config") ?? "tiny");
        const data = `data/pokemon-${config.height}`;
        if (!existsSync(path.join(data, "metadata.csv"))) await ensurePokemonDataset(data, config.height);
      }
      return runRanks(mpirunPlan(nproc, ["train", ...without(argv, "nproc")]), () => {
        const latest = findLatestCheckpoint(out);
        return latest === undefined ? `No checkpoint was saved in ${out}.` : `The last complete checkpoint is step ${latest} in ${out} (resume with --resume).`;
      });
    }
    const timeout = num(flags, "collective-timeout");
    const world = openWorld(timeout !== undefined ? { timeoutSeconds: timeout } : {});
    if (world.size > 1) process.stderr.write(`kiln train: ${world.description}\n`);
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
      world,
    });
    world.finalize();
    if (world.rank === 0) console.log(JSON.stringify({ steps: result.steps, checkpoint: result.checkpoint, finalLoss: result.losses.at(-1) ?? null, seconds: Number(result.seconds.toFixed(1)), imagesPerSecond: Number(result.imagesPerSecond.toFixed(2)), stoppedBy: result.stoppedBy }));
    return result.stoppedBy === "nan" ? 1 : 0;
  },
};

export default command;
