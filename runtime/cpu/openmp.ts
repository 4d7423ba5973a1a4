// OpenMP's waiting policy for kiln's kernels. libgomp reads its environment once, when the first
// library that uses it is loaded; kiln sets its default there unless the user chose one.
//
// libgomp's own default spins about 300 000 times (milliseconds) at every barrier and between
// parallel regions. On a machine where other processes compete for the cores, a spinning thread
// burns the time slice the thread it waits for needs: on the shared 2-core development machine the
// tiny DiT training step took 3.0–4.0 s with the default and 0.7–0.9 s with OMP_WAIT_POLICY=passive
// (bench/busy.ts measures it; see the notes in README's Speed section).

/** kiln's default when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set. */
export const KILN_WAIT_POLICY = "passive";

/** Environment variables kiln set itself (so that child processes, e.g. benchmark peers, can get the user's environment). */
const setByKiln = new Set<string>();

/** Sets kiln's OpenMP default in this process's environment before libgomp is loaded (idempotent). */
export function applyOpenMpDefaults(env: NodeJS.ProcessEnv = process.env): void {
  if (env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined) {
    env.OMP_WAIT_POLICY = KILN_WAIT_POLICY;
    if (env === process.env) setByKiln.add("OMP_WAIT_POLICY");
  }
}

/** This process's environment as the user gave it: without what applyOpenMpDefaults added. */
export function environmentAsGiven(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !setByKiln.has(key)));
}
