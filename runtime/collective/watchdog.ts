// A bound on how long one collective call may block. MPI calls block the main thread (no JS timer can
// fire), so a worker thread watches a shared counter: if the same call is still in progress after the
// timeout, it writes what was being waited for to stderr and kills this process; the launcher (mpirun)
// then stops every other rank. Without it, a hung rank leaves the others waiting forever.
import { Worker } from "node:worker_threads";

export interface Watchdog {
  /** Runs `f` (a blocking collective call), killing the process if it takes longer than the timeout. */
  guard<T>(what: string, f: () => T): T;
  stop(): void;
}

// state[0]: the generation of the call in progress (0 when none); bytes after: its description.
const DESCRIPTION_BYTES = 1024;

const WORKER_SOURCE = String.raw`
import { workerData } from "node:worker_threads";
import { writeSync } from "node:fs";
const state = new Int32Array(workerData.shared, 0, 1);
const text = new Uint8Array(workerData.shared, 4);
for (;;) {
  const generation = Atomics.load(state, 0);
  if (generation === 0) { Atomics.wait(state, 0, 0); continue; }
  if (Atomics.wait(state, 0, generation, workerData.timeoutMs) === "timed-out" && Atomics.load(state, 0) === generation) {
    const end = text.indexOf(0);
    const what = Buffer.from(text.subarray(0, end < 0 ? text.length : end)).toString("utf8");
    writeSync(2, "\n" + workerData.prefix + ": waited " + workerData.timeoutMs / 1000 + " s in " + what + " without the other ranks answering: a rank died or hung; stopping this rank so the launcher stops the job\n");
    process.kill(process.pid, "SIGKILL");
  }
}
`;

/** A watchdog for this process; `prefix` starts its message (e.g. "kiln: rank 0 of 2"). */
export function startWatchdog(timeoutSeconds: number, prefix: string): Watchdog {
  if (!(timeoutSeconds > 0)) throw new Error(`collective timeout: expected a positive number of seconds, got ${timeoutSeconds}`);
  const shared = new SharedArrayBuffer(4 + DESCRIPTION_BYTES);
  const state = new Int32Array(shared, 0, 1);
  const text = new Uint8Array(shared, 4);
  // An ES module from a data: URL, whatever loader or module type the main program runs under.
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`), {
    workerData: { shared, timeoutMs: timeoutSeconds * 1000, prefix },
  });
  // The watchdog never keeps the process alive on its own.
  worker.unref();
  let generation = 0;
  const encoder = new TextEncoder();
  return {
    guard: (what, f) => {
      text.fill(0);
      encoder.encodeInto(what.slice(0, DESCRIPTION_BYTES / 4), text.subarray(0, DESCRIPTION_BYTES - 1));
      generation = generation >= 0x7ffffffe ? 1 : generation + 1;
      Atomics.store(state, 0, generation);
      Atomics.notify(state, 0);
      try {
        return f();
      } finally {
        Atomics.store(state, 0, 0);
        Atomics.notify(state, 0);
      }
    },
    stop: () => {
      void worker.terminate();
    },
  };
}
