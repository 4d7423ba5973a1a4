// `kiln train`: train the text-to-image model from scratch (see models/train.ts).

import {
  loadConfig,
  checkpointConfig,
  train,
  MAX_BATCH,
  planTraining,
  loadFrozen,
  modelParts,
  ensurePokemonDataset,
  withDefaultData,
  findLatestCheckpoint,
} from "../../models/index.ts";
import type { Command } from "../command.ts";
import { deviceFlag, deviceHelp, deviceUsage } from "../device-flag.ts";
import { parseFlags, SEED_FLAG, usageError, type FlagSpecs } from "../flags.ts";
import { deviceNamed, launcherRank, loadNccl, openWorld, mpirunPlan, runRanks, type Nccl, type World } from "../../runtime/index.ts";
import { findLibrary, requireLibrary } from "../../runtime/cuda/index.ts";

/**
 * NCCL for the gradients, by --collectives: "nccl" requires it (any device whose memory the host does
 * not view; on one rank too, to measure it); "auto" (the default) takes it for several CUDA ranks
 * when libnccl is found; "mpi" never.
 */
function ncclFor(choice: string | undefined, device: string, world: World): Nccl | undefined {
  if (choice === "nccl") return loadNccl(requireLibrary("nccl"));
  if (choice === "mpi" || device !== "cuda" || world.size === 1) return undefined;
  const found = findLibrary("nccl").path;
  return found ? loadNccl(found) : undefined;
}

/** The arguments without `--name VALUE` / `--name=VALUE`. */
const without = (argv: readonly string[], name: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) i++;
    else if (!argv[i]!.startsWith(`--${name}=`)) out.push(argv[i]!);
  }
  return out;
};

export const TRAIN_FLAGS = {
  config: { kind: "text" },
  data: { kind: "text" },
  metadata: { kind: "text" },
  images: { kind: "text" },
  steps: { kind: "int", min: 1 },
  minutes: { kind: "number", above: 0 },
  batch: { kind: "int", min: 1, max: MAX_BATCH },
  lr: { kind: "number", above: 0 },
  seed: SEED_FLAG,
  out: { kind: "text" },
  resume: { kind: "switch" },
  overwrite: { kind: "switch" },
  "allow-changes": { kind: "switch" },
  "save-steps": { kind: "int", min: 1 },
  "grad-accum": { kind: "int", min: 1, max: 1024 },
  "clip-norm": { kind: "number", above: 0 },
  "pure-bf16": { kind: "switch" },
  "checkpoint-blocks": { kind: "switch" },
  "text-encoder": { kind: "text" },
  vae: { kind: "text" },
  device: { kind: "text" },
  nproc: { kind: "int", min: 1, max: 1024 },
  "collective-timeout": { kind: "number", above: 0 },
  collectives: { kind: "choice", values: ["auto", "mpi", "nccl"] },
  "batch-threads": { kind: "text" },
} as const satisfies FlagSpecs;

/** --batch-threads: "auto", or a positive whole number of threads. */
function batchThreadsFlag(value: string | undefined): number | "auto" | undefined {
  if (value === undefined || value === "auto") return value;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1) throw usageError(`--batch-threads takes auto or a positive whole number of threads, got '${value}'`);
  return n;
}

const command: Command = {
  summary: "train the DiT from scratch on a data set (default: the Pokémon gen-1 set, built if missing)",
  usage: `kiln train [--config tiny|aaa-0.1b|FILE.json] [--data DIR | --metadata FILE [--images DIR]] [--steps N | --minutes M] [--batch B] [--lr X] [--seed S] [--out DIR] [--resume [--allow-changes] | --overwrite] [--save-steps N] [--grad-accum N] [--clip-norm X] [--pure-bf16] [--checkpoint-blocks] [--text-encoder DIR] [--vae FILE] ${deviceUsage()} [--nproc N] [--collective-timeout S] [--collectives auto|mpi|nccl] [--batch-threads auto|N]\n\ndevices:\n${deviceHelp()}`,
  async run(argv) {
    const { flags } = parseFlags("train", argv, TRAIN_FLAGS);
    const device = deviceFlag(flags.device);
    if (deviceNamed(device).facts.asyncReadback)
      throw usageError(
        `--device ${device}: training reads each step's loss back synchronously, and this device reads results back only asynchronously; train on another device (kiln sample --device ${device} and kiln serve sample on it)`,
      );
    if (flags["allow-changes"] && !flags.resume) throw usageError(`--allow-changes applies to --resume only`);
    // A resumed run without --config continues with the configuration it saved.
    const resumed = flags.resume && flags.config === undefined && flags.out !== undefined && findLatestCheckpoint(flags.out) !== undefined;
    const config = resumed ? checkpointConfig(undefined, flags.out) : loadConfig(flags.config ?? "tiny");
    // The reference's metadata_path and base_path; with none of the three, the Pokémon set (built if
    // missing; an older kiln's prompts are rewritten).
    const named = { data: flags.data, metadata: flags.metadata, images: flags.images };
    const defaultData = `data/pokemon-${config.height}`;
    const options = {
      config,
      ...withDefaultData(named, defaultData),
      out: flags.out ?? `runs/${config.name}`,
      ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
      ...(flags.minutes !== undefined ? { minutes: flags.minutes } : {}),
      ...(flags.batch !== undefined ? { batch: flags.batch } : {}),
      ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      // A killed run loses at most the steps since the last save.
      saveSteps: flags["save-steps"] ?? 500,
      ...(flags["grad-accum"] !== undefined ? { gradAccum: flags["grad-accum"] } : {}),
      ...(flags["clip-norm"] !== undefined ? { clipNorm: flags["clip-norm"] } : {}),
      resume: flags.resume,
      overwrite: flags.overwrite,
      allowChanges: flags["allow-changes"],
      // Only a given switch is a setting: a resumed pure-bf16 run stays pure-bf16 without it.
      ...(flags["pure-bf16"] ? { pureBf16: true } : {}),
      checkpointBlocks: flags["checkpoint-blocks"],
      device,
      ...(flags["batch-threads"] !== undefined ? { batchThreads: batchThreadsFlag(flags["batch-threads"]) } : {}),
    } as const;
    // Data parallelism (runtime/collective): --nproc starts the ranks through mpirun, each running
    // this command without --nproc; a rank started by a launcher joins its MPI world. An error on a
    // rank ends its process before MPI_Finalize, and mpirun then stops the whole job.
    const nproc = flags.nproc;
    const launched = launcherRank();
    if (nproc !== undefined && launched !== undefined && launched.size !== nproc)
      throw usageError(`--nproc ${nproc}: this process was started by a launcher as one of ${launched.size} ranks; drop --nproc under mpirun`);
    if (nproc !== undefined && launched === undefined) {
      // The run folder and a resume's settings are checked before the ranks start (rank 0 then holds the folder).
      planTraining({ ...options, ranks: nproc });
      if (!named.data && !named.metadata && !named.images) await ensurePokemonDataset(defaultData, config.height);
      return runRanks(mpirunPlan(nproc, ["train", ...without(argv, "nproc")]), () => {
        const latest = findLatestCheckpoint(options.out);
        return latest === undefined
          ? `No checkpoint was saved in ${options.out}.`
          : `The last complete checkpoint is step ${latest} in ${options.out} (resume with --resume).`;
      });
    }
    const timeout = flags["collective-timeout"];
    const world = openWorld(timeout !== undefined ? { timeoutSeconds: timeout } : {});
    if (world.size > 1) process.stderr.write(`kiln train: ${world.description}\n`);
    // The run folder (rank 0's) and a resume's settings are checked before the data set is built or encoded.
    planTraining({ ...options, ranks: world.size }, { checkFolder: world.rank === 0 });
    if (!named.data && !named.metadata && !named.images) await ensurePokemonDataset(defaultData, config.height);
    const parts = modelParts(config);
    const frozen =
      config.trainText && (!parts.vae.paramSpec.length || parts.vae.fit)
        ? undefined
        : loadFrozen(parts, {
            ...(flags["text-encoder"] !== undefined ? { textEncoderDir: flags["text-encoder"] } : {}),
            ...(flags.vae !== undefined ? { vaeFile: flags.vae } : {}),
          });
    const nccl = ncclFor(flags.collectives, device, world);
    const result = await train({ ...options, ...(frozen ? { frozen } : {}), world, ...(nccl ? { nccl } : {}) });
    world.finalize();
    if (world.rank === 0)
      console.log(
        JSON.stringify({
          steps: result.steps,
          checkpoint: result.checkpoint,
          finalLoss: result.losses.at(-1) ?? null,
          seconds: Number(result.seconds.toFixed(1)),
          imagesPerSecond: Number(result.imagesPerSecond.toFixed(2)),
          stoppedBy: result.stoppedBy,
        }),
      );
    return result.stoppedBy === "nan" ? 1 : 0;
  },
};

export default command;
