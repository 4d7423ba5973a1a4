// Compiles CUDA C++ with the toolkit's nvcc (no GPU or driver needed) and reads ptxas's per-kernel
// resource report. This is how machines without a GPU check that every kernel compiles without spills.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface KernelResources {
  name: string;
  registers: number;
  spillStoreBytes: number;
  spillLoadBytes: number;
  stackFrameBytes: number;
  /** Static shared memory (dynamic shared memory is not known to ptxas). */
  sharedBytes: number;
}

export interface NvccOutput {
  cubin: Uint8Array;
  resources: KernelResources[];
  log: string;
}

/** nvcc's version ("13.0.88"), or null when nvcc is not on the PATH. */
export function nvccVersion(nvcc = "nvcc"): string | null {
  try {
    const out = execFileSync(nvcc, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return /V(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? /release (\d+\.\d+)/.exec(out)?.[1] ?? "unknown";
  } catch {
    return null;
  }
}

/** Parses ptxas `--resource-usage` lines into one record per entry function. */
export function parseResourceUsage(log: string): KernelResources[] {
  const kernels: KernelResources[] = [];
  let current: KernelResources | null = null;
  for (const line of log.split("\n")) {
    const entry = /Compiling entry function '([^']+)'/.exec(line);
    if (entry) {
      current = { name: entry[1]!, registers: 0, spillStoreBytes: 0, spillLoadBytes: 0, stackFrameBytes: 0, sharedBytes: 0 };
      kernels.push(current);
      continue;
    }
    if (!current) continue;
    const frame = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (frame) {
      current.stackFrameBytes = Number(frame[1]);
      current.spillStoreBytes = Number(frame[2]);
      current.spillLoadBytes = Number(frame[3]);
    }
    const used = /Used (\d+) registers/.exec(line);
    if (used) current.registers = Number(used[1]);
    const smem = /(\d+) bytes smem/.exec(line);
    if (smem) current.sharedBytes = Number(smem[1]);
  }
  return kernels;
}

export interface NvccOptions {
  arch?: string;
  flags?: readonly string[];
  nvcc?: string;
}

/** Compiles `source` to a cubin for `arch` (default sm_90a) and returns it with the resource report. */
export function compileWithNvcc(source: string, options: NvccOptions = {}): NvccOutput {
  const job = prepare(source, options);
  try {
    const run = spawnSync(job.nvcc, job.args, { encoding: "utf8" });
    return job.finish(run.error, run.status, `${run.stdout ?? ""}${run.stderr ?? ""}`);
  } finally {
    job.cleanup();
  }
}

/** The same, without blocking: several translation units can compile at once. */
export async function compileWithNvccAsync(source: string, options: NvccOptions = {}): Promise<NvccOutput> {
  const job = prepare(source, options);
  try {
    const { error, status, log } = await new Promise<{ error: Error | undefined; status: number | null; log: string }>((resolve) => {
      const child = spawn(job.nvcc, job.args, { stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
      child.on("error", (error) => resolve({ error, status: null, log }));
      child.on("close", (status) => resolve({ error: undefined, status, log }));
    });
    return job.finish(error, status, log);
  } finally {
    job.cleanup();
  }
}

function prepare(source: string, options: NvccOptions) {
  const arch = options.arch ?? "sm_90a";
  const dir = mkdtempSync(join(tmpdir(), "kiln-nvcc-"));
  const input = join(dir, "kernels.cu");
  const output = join(dir, "kernels.cubin");
  writeFileSync(input, source);
  const args = ["-cubin", `-arch=${arch}`, "--std=c++17", "--resource-usage", ...(options.flags ?? []), "-o", output, input];
  return {
    nvcc: options.nvcc ?? "nvcc",
    args,
    finish(error: Error | undefined, status: number | null, log: string): NvccOutput {
      if (error) throw new Error(`nvcc could not be run (${error.message}); expected the CUDA toolkit's nvcc on the PATH`);
      if (status !== 0) throw new Error(`nvcc ${args.join(" ")} exited with ${status}:\n${numbered(source, log)}${log}`);
      return { cubin: new Uint8Array(readFileSync(output)), resources: parseResourceUsage(log), log };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The source lines an nvcc error points at, so a failure in generated code can be read in place. */
function numbered(source: string, log: string): string {
  const lines = source.split("\n");
  const cited = [...log.matchAll(/kernels\.cu\((\d+)\)/g)].map((m) => Number(m[1])).slice(0, 5);
  return cited.map((n) => `  ${n}: ${lines[n - 1]?.trim() ?? ""}\n`).join("");
}
