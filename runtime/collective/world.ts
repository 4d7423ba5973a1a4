// The set of processes training together: one process on its own, or the ranks a launcher (mpirun)
// started, talking through MPI. Every collective call is bounded by a watchdog, so a rank that dies
// or hangs stops the job instead of leaving the others waiting forever.
import { hostname } from "node:os";
import { requireLibrary } from "../cuda/find.ts";
import { loadMpi, type Mpi } from "./mpi.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";

export interface World {
  rank: number;
  size: number;
  /** "single": this process alone (no library loaded); "mpi": ranks of an MPI job. */
  engine: "single" | "mpi";
  /** One line for logs: the engine, library and this rank. */
  description: string;
  /** Sums `buffer` over every rank, in place. `what` names the call in timeout messages. */
  allreduceSum(buffer: Float32Array | Float64Array, what: string): void;
  broadcast(buffer: Float32Array | Float64Array | Uint8Array, root: number, what: string): void;
  /** Every rank's `mine` (the same length on every rank), concatenated in rank order. */
  allgather(mine: Uint8Array, what: string): Uint8Array;
  barrier(what: string): void;
  /** Stops every rank of the job (after this rank printed why). */
  abort(code: number): never;
  finalize(): void;
}

/** The rank and world size a launcher put in the environment (Open MPI, PMIx, MPICH/Hydra), if any. */
export function launcherRank(env: NodeJS.ProcessEnv = process.env): { rank: number; size: number; variables: string } | undefined {
  const pairs: [string, string][] = [
    ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"],
    ["PMIX_RANK", "OMPI_COMM_WORLD_SIZE"],
    ["PMI_RANK", "PMI_SIZE"],
  ];
  for (const [rankVar, sizeVar] of pairs) {
    const rankText = env[rankVar];
    const sizeText = env[sizeVar];
    if (rankText === undefined || sizeText === undefined) continue;
    const rank = Number(rankText);
    const size = Number(sizeText);
    if (!Number.isInteger(rank) || !Number.isInteger(size) || size < 1 || rank < 0 || rank >= size)
      throw new Error(`kiln: the launcher's ${rankVar}=${rankText} and ${sizeVar}=${sizeText} are not a rank within a world size`);
    return { rank, size, variables: `${rankVar}/${sizeVar}` };
  }
  return undefined;
}

/**
 * The GPU this process uses: KILN_CUDA_DEVICE when set, else the rank's index among the ranks on its
 * machine (the launcher's local rank: one GPU per rank), else 0.
 */
export function cudaOrdinal(env: NodeJS.ProcessEnv = process.env): number {
  for (const name of ["KILN_CUDA_DEVICE", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "LOCAL_RANK"]) {
    const text = env[name];
    if (text === undefined) continue;
    const ordinal = Number(text);
    if (!Number.isInteger(ordinal) || ordinal < 0) throw new Error(`kiln: ${name}=${text} is not a GPU index (expected 0, 1, …)`);
    return ordinal;
  }
  return 0;
}

/** This process alone: every collective is the identity. */
export function singleProcess(): World {
  return {
    rank: 0,
    size: 1,
    engine: "single",
    description: "a single process",
    allreduceSum: () => {},
    broadcast: () => {},
    allgather: (mine) => Uint8Array.from(mine),
    barrier: () => {},
    abort: (code) => process.exit(code),
    finalize: () => {},
  };
}

function mpiWorld(mpi: Mpi, watchdog: Watchdog): World {
  const guarded = <T>(what: string, f: () => T): T => watchdog.guard(what, f);
  return {
    rank: mpi.rank,
    size: mpi.size,
    engine: "mpi",
    description: `rank ${mpi.rank} of ${mpi.size} (pid ${process.pid} on ${hostname()}) through ${mpi.version} at ${mpi.path}`,
    allreduceSum: (buffer, what) => guarded(what, () => mpi.allreduce(buffer, "sum")),
    broadcast: (buffer, root, what) => guarded(what, () => mpi.broadcast(buffer, root)),
    allgather: (mine, what) => guarded(what, () => mpi.allgather(mine)),
    barrier: (what) => guarded(what, () => mpi.barrier()),
    abort: (code) => mpi.abort(code),
    finalize: () => {
      watchdog.stop();
      mpi.finalize();
    },
  };
}

export interface OpenWorldOptions {
  env?: NodeJS.ProcessEnv;
  /** The longest one collective call may wait for the other ranks (seconds). */
  timeoutSeconds?: number;
  /** libmpi to load instead of searching (KILN_MPI_PATH, system folders…). */
  mpiPath?: string;
}

/** Default bound on one collective call: long enough for the slowest rank's step on a loaded CPU. */
export const DEFAULT_COLLECTIVE_TIMEOUT_SECONDS = 600;

/**
 * The world this process belongs to: MPI_COMM_WORLD when a launcher started it with more than one
 * rank, else this process alone (no MPI library needed).
 */
export function openWorld(options: OpenWorldOptions = {}): World {
  const env = options.env ?? process.env;
  const launched = launcherRank(env);
  if (!launched || launched.size === 1) return singleProcess();
  const path = options.mpiPath ?? requireLibrary("mpi", { env });
  const mpi = loadMpi(path);
  if (mpi.rank !== launched.rank || mpi.size !== launched.size)
    throw new Error(
      `kiln: MPI says rank ${mpi.rank} of ${mpi.size} but the launcher's ${launched.variables} say rank ${launched.rank} of ${launched.size}: was kiln started by a different MPI than ${path}? (set KILN_MPI_PATH)`,
    );
  const watchdog = startWatchdog(
    options.timeoutSeconds ?? DEFAULT_COLLECTIVE_TIMEOUT_SECONDS,
    `kiln: rank ${mpi.rank} of ${mpi.size} (pid ${process.pid})`,
  );
  return mpiWorld(mpi, watchdog);
}
