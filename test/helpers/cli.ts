// Runs the `kiln` command as a user does (bin/kiln in a child process) and returns what it printed.

import { spawnSync } from "node:child_process";
import path from "node:path";

const KILN = path.join(import.meta.dirname, "..", "..", "bin", "kiln");

export interface CliResult {
  status: number | null;
  /** The signal that ended the process, when one did (status is then null). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function kiln(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const run = spawnSync(process.execPath, [KILN, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 300_000,
  });
  if (run.error) throw run.error;
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

/** Fails with everything the command printed when it did not exit 0. */
export function kilnOk(args: readonly string[], options: Parameters<typeof kiln>[1] = {}): CliResult {
  const result = kiln(args, options);
  if (result.status !== 0)
    throw new Error(
      `kiln ${args.join(" ")} exited ${result.status}${result.signal ? ` (killed by ${result.signal})` : ""}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  return result;
}
