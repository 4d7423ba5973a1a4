import { availableParallelism } from "node:os";

// OpenMP's waiting policy for kiln's kernels. libgomp reads its environment once, when the first
// library that uses it is loaded; kiln sets its default there unless the user chose one.
//
// libgomp's own default spins about 300 000 times (milliseconds) at every barrier and between
// parallel regions. On a machine where other processes compete for the cores, a spinning thread
// burns the time slice the thread it waits for needs: on the shared 2-core development machine the
// tiny DiT training step took 3.0–4.0 s with the default and 0.7–0.9 s with OMP_WAIT_POLICY=passive
// (bench/busy.ts measures it; see the notes in README's Speed section). Not spinning at all costs a
// futex wake per parallel region on a quiet machine; kiln spins briefly instead (KILN_SPIN_COUNT).

/**
 * kiln's default when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: a short spin (about a few
 * microseconds) before sleeping, so that back-to-back kernels find the team awake. Measured on a quiet
 * 2-core Xeon against the passive policy (spin 0): the tiny DiT forward (b2) 14.6 → 11.0 ms, npm start's
 * DiT step 112.9 → 103.0 ms, the AAADiT 0.1B step 1534 → 1474 ms; with one busy process beside it the
 * tiny DiT step took the same time as passive (322.6 ms against 317–324 ms), where libgomp's default
 * spin (300 000) made it 4–5× slower.
 */
export const KILN_SPIN_COUNT = "3000";

/** Environment variables kiln set itself (so that child processes, e.g. benchmark peers, can get the user's environment). */
const setByKiln = new Set<string>();

/** Sets kiln's OpenMP default in this process's environment before libgomp is loaded (idempotent). */
export function applyOpenMpDefaults(env: NodeJS.ProcessEnv = process.env): void {
  if (env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined) {
    env.GOMP_SPINCOUNT = KILN_SPIN_COUNT;
    if (env === process.env) setByKiln.add("GOMP_SPINCOUNT");
  }
}

/** This process's environment as the user gave it: without what applyOpenMpDefaults added. */
export function environmentAsGiven(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !setByKiln.has(key)));
}

/** The threads kiln's OpenMP kernels use by default (libgomp: OMP_NUM_THREADS's first value, else the CPUs this process may run on). */
export function openMpThreads(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number.parseInt(env.OMP_NUM_THREADS ?? "", 10);
  return given > 0 ? given : availableParallelism();
}
