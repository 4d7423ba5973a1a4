// `kiln train --nproc N`: start N local ranks through Open MPI's mpirun (the same launcher a cluster
// uses), pass their output through, and when the job fails, say which rank failed and how.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";

export interface LaunchPlan {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface PlanOptions {
  env?: NodeJS.ProcessEnv;
  /** Running as root (mpirun refuses unless told otherwise). */
  root?: boolean;
  cores?: number;
}

/** The first `mpirun` on PATH (or KILN_MPIRUN), or an error saying how to get one. */
export function findMpirun(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_MPIRUN) {
    if (!existsSync(env.KILN_MPIRUN)) throw new Error(`KILN_MPIRUN=${env.KILN_MPIRUN} does not exist`);
    return env.KILN_MPIRUN;
  }
  const dirs = (env.PATH ?? "").split(":").filter((d) => d !== "");
  for (const dir of dirs) if (existsSync(path.join(dir, "mpirun"))) return path.join(dir, "mpirun");
  throw new Error(
    `--nproc: mpirun not found on PATH (tried ${dirs.join(", ") || "an empty PATH"}); install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or set KILN_MPIRUN`,
  );
}

/**
 * The mpirun command line that runs `kiln <kilnArgs>` as `nproc` local ranks. Each rank gets an equal
 * share of the cores as OpenMP threads unless OMP_NUM_THREADS is set.
 */
export function mpirunPlan(nproc: number, kilnArgs: readonly string[], options: PlanOptions = {}): LaunchPlan {
  if (!Number.isInteger(nproc) || nproc < 1) throw new Error(`--nproc ${nproc}: expected a positive whole number of ranks`);
  const env = { ...(options.env ?? process.env) };
  const cores = options.cores ?? availableParallelism();
  env.OMP_NUM_THREADS ??= String(Math.max(1, Math.floor(cores / nproc)));
  const kiln = new URL("../../bin/kiln", import.meta.url).pathname;
  const args = [
    ...((options.root ?? process.getuid?.() === 0) ? ["--allow-run-as-root"] : []),
    // More ranks than cores is allowed (it only costs speed); each rank's threads are not pinned.
    "--oversubscribe",
    "--bind-to",
    "none",
    "-n",
    String(nproc),
    process.execPath,
    kiln,
    ...kilnArgs,
  ];
  return { command: findMpirun(env), args, env };
}

/** What Open MPI says about the rank that ended a job, as one sentence, or undefined. */
export function failedRank(output: string): string | undefined {
  // kiln's own watchdog (runtime/collective/watchdog.ts) speaks first: the rank it stopped was the one left waiting.
  const waited = /kiln: rank (\d+) of \d+ \(pid \d+\): waited ([\d.]+) s in (.*?) without the other ranks answering/.exec(output);
  if (waited) return `rank ${waited[1]} waited ${waited[2]} s in ${waited[3]} without an answer: another rank hung or died`;
  const signal = /process rank (\d+) with PID (\d+) on node (\S+) exited on signal (\d+) \(([^)]*)\)/.exec(output);
  if (signal) return `rank ${signal[1]} (pid ${signal[2]} on ${signal[3]}) died of signal ${signal[4]} (${signal[5]})`;
  const abort = /MPI_ABORT was invoked on rank (\d+) in communicator \S+ with errorcode (\d+)/.exec(output);
  if (abort) return `rank ${abort[1]} stopped the job (error code ${abort[2]}; its error is above)`;
  const exit = /Process name:\s*\[\[\d+,\d+\],(\d+)\]\s*Exit code:\s*(\d+)/.exec(output);
  if (exit) return `rank ${exit[1]} exited with code ${exit[2]} (its error is above)`;
  return undefined;
}

/** Runs the plan, passing output through; resolves to mpirun's exit code, after naming the failed rank. */
export function runRanks(plan: LaunchPlan, describeFailure: (rank: string) => string): Promise<number> {
  return new Promise((resolve, reject) => {
    // mpirun runs in its own process group, so Ctrl-C reaches this process alone: the first one is
    // passed on as SIGUSR1, which mpirun forwards to every rank (they stop after the current step and
    // rank 0 saves); a second one stops the job at once (SIGTERM to mpirun).
    const child = spawn(plan.command, plan.args, { env: plan.env, stdio: ["inherit", "inherit", "pipe"], detached: true });
    let tail = "";
    child.stderr.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString("utf8")).slice(-65536);
    });
    let interrupts = 0;
    const onInterrupt = (): void => {
      interrupts++;
      process.stderr.write(
        interrupts === 1
          ? "\nkiln train: stopping every rank after this step (Ctrl-C again to stop at once)\n"
          : "\nkiln train: stopping the job now\n",
      );
      child.kill(interrupts === 1 ? "SIGUSR1" : "SIGTERM");
    };
    process.on("SIGINT", onInterrupt);
    child.on("close", () => process.removeListener("SIGINT", onInterrupt));
    child.on("error", (error) => reject(new Error(`could not start ${plan.command}: ${error.message}`)));
    child.on("close", (code, signal) => {
      const status = code ?? (signal ? 128 : 1);
      if (status !== 0) {
        const rank = failedRank(tail);
        process.stderr.write(
          `\nkiln train: the ${plan.args[plan.args.indexOf("-n") + 1]}-rank job failed: ${rank ?? `mpirun exited with ${code ?? signal}`}. ${describeFailure(rank ?? "")}\n`,
        );
      }
      resolve(status);
    });
  });
}
