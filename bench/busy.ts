// Speed on a busy machine: a step timed with and without one other CPU-bound process (`yes` into
// /dev/null, as a user's other work would be), in the same run. Quiet and busy blocks alternate so
// that changes in the rest of the machine's load fall on both alike; the ratio of the medians is the
// slowdown (on 2 cores, one busy process takes half the machine: the fair slowdown is about 1.5–2×).

import { spawn } from "node:child_process";
import { median } from "./timing.ts";

export interface QuietVersusBusy {
  quietMs: number;
  busyMs: number;
  /** busy / quiet. */
  slowdown: number;
  quietSamplesMs: number[];
  busySamplesMs: number[];
}

/** Longest a busy process may live: it outlives no benchmark, even one whose process is killed. */
const BUSY_LIMIT_S = 900;

/** Starts one CPU-bound process and returns what stops it (by its own pid) and waits until it has ended. */
export async function startBusyProcess(): Promise<() => Promise<void>> {
  // `timeout` ends `yes` after BUSY_LIMIT_S even if this process dies first, and forwards SIGTERM to it.
  const child = spawn("timeout", [String(BUSY_LIMIT_S), "yes"], { stdio: "ignore" });
  const onExit = () => child.kill("SIGTERM");
  process.once("exit", onExit);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", (error) => reject(new Error(`bench: could not start the busy process 'timeout ${BUSY_LIMIT_S} yes' (${error.message})`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the scheduler see it running
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return async () => {
    process.off("exit", onExit);
    child.kill("SIGTERM"); // timeout forwards it to `yes`, waits for it, then exits
    await exited;
  };
}

/** `rounds` × (a quiet block, then a busy block) of `measureBlock`'s timed runs; medians over all blocks. */
export async function quietVersusBusy(measureBlock: () => Promise<number[]>, rounds: number): Promise<QuietVersusBusy> {
  const quietSamplesMs: number[] = [];
  const busySamplesMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    quietSamplesMs.push(...(await measureBlock()));
    const stop = await startBusyProcess();
    try {
      busySamplesMs.push(...(await measureBlock()));
    } finally {
      await stop();
    }
  }
  const quietMs = median(quietSamplesMs);
  const busyMs = median(busySamplesMs);
  return { quietMs, busyMs, slowdown: busyMs / quietMs, quietSamplesMs, busySamplesMs };
}
