// PyTorch (CPU, eager; torch.compile where torch ≥ 2) as a `kiln bench cpu` peer, and one-shot requests
// for the interop tests: both talk to bench/peers/torch_cpu.py in a Python that can `import torch`.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "../rows.ts";
import type { TimingOptions } from "../timing.ts";
import { median } from "../timing.ts";
import type { Measurement, Peer } from "./types.ts";
import { environmentAsGiven, openMpThreads } from "../../runtime/cpu/openmp.ts";

export const TORCH_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "torch_cpu.py");

export const TORCH_INSTALL_HINT =
  "install it with `apt-get install python3-torch libopenblas0-openmp` (Debian; OpenBLAS becomes the system BLAS, without it torch's GEMMs are ~15× slower), or set KILN_TORCH_PYTHON to a python with torch";

export type TorchPython = { python: string; version: string } | { missing: string };

let found: TorchPython | undefined;

/**
 * The first Python that can `import torch`: $KILN_TORCH_PYTHON, then Debian's /usr/bin/python3 (where
 * python3-torch installs; an earlier python3 on PATH, e.g. pyenv's, may not see it), then python3.
 */
export function findTorchPython(): TorchPython {
  if (found) return found;
  const candidates = [process.env.KILN_TORCH_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => !!p);
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const result = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 120_000 });
    if (result.status === 0) return (found = { python, version: result.stdout.trim() });
    tried.push(`${python}: ${result.error ? result.error.message : (result.stderr.trim().split("\n").pop() ?? `exit ${result.status}`)}`);
  }
  return (found = { missing: `PyTorch not found (${tried.join("; ")}); ${TORCH_INSTALL_HINT}` });
}

export type TorchAnswer = Record<string, unknown>;

/** One request to torch_cpu.py in its own process; an error answer becomes an exception naming the op. */
export function runTorch(request: { op: string } & Record<string, unknown>, options: { timeoutMs?: number; threads?: number } = {}): TorchAnswer {
  const torch = findTorchPython();
  if ("missing" in torch) throw new Error(torch.missing);
  const env = options.threads === undefined ? environmentAsGiven() : { ...environmentAsGiven(), OMP_NUM_THREADS: String(options.threads) };
  const result = spawnSync(torch.python, [TORCH_SCRIPT, "run", JSON.stringify(request)], {
    encoding: "utf8",
    timeout: options.timeoutMs ?? 300_000,
    env,
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0)
    throw new Error(
      `torch_cpu.py ${request.op}: ${result.error?.message ?? `exit ${result.status}`}\n${result.stderr.trim().split("\n").slice(-15).join("\n")}`,
    );
  const answer = JSON.parse(result.stdout.trim().split("\n").pop()!) as TorchAnswer;
  if (typeof answer.error === "string") throw new Error(`torch_cpu.py ${request.op}: ${answer.error}`);
  return answer;
}

/** A long-lived torch_cpu.py serving one request at a time over JSON lines. */
interface TorchServer {
  ask(request: Record<string, unknown>): Promise<TorchAnswer>;
  close(): void;
}

function startServer(python: string, threads: number): TorchServer {
  // PyTorch runs with the user's environment (not kiln's OpenMP default), as its users run it.
  const child: ChildProcessWithoutNullStreams = spawn(python, [TORCH_SCRIPT, "serve"], {
    env: { ...environmentAsGiven(), OMP_NUM_THREADS: String(threads) },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  let exited: string | undefined;
  child.on("exit", (code, signal) => {
    exited = `torch_cpu.py exited (${signal ?? `code ${code}`}): ${stderr.trim().split("\n").slice(-5).join(" | ")}`;
    for (const resolve of waiting.splice(0)) resolve(JSON.stringify({ error: exited }));
  });
  child.unref();
  return {
    ask: (request) =>
      new Promise((resolve) => {
        if (exited) return resolve({ error: exited });
        waiting.push((line) => resolve(JSON.parse(line) as TorchAnswer));
        child.stdin.write(JSON.stringify(request) + "\n");
      }),
    close: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

/** The threads kiln's OpenMP kernels use by default. */
export const kilnThreads = (): number => openMpThreads();

export interface TorchPeer extends Peer {
  /** Ends the Python process (the peers can be initialised again). */
  close(): void;
}

/**
 * PyTorch as two peers sharing one Python process: eager, and torch.compile (each row's function
 * wrapped; reported as skipped, with the reason, before torch 2). Same thread count as kiln.
 */
export function torchPeers(): { eager: TorchPeer; compiled: TorchPeer } {
  let server: TorchServer | undefined;
  let info: TorchAnswer | undefined;
  let unavailable: string | undefined;
  let python = "";
  const threads = kilnThreads();
  const start = async (): Promise<void> => {
    if (server || unavailable !== undefined) return;
    const torch = findTorchPython();
    if ("missing" in torch) {
      unavailable = torch.missing;
      return;
    }
    python = torch.python;
    server = startServer(torch.python, threads);
    const answer = await server.ask({ op: "describe" });
    if (typeof answer.error === "string") unavailable = `torch_cpu.py failed to start: ${answer.error}`;
    else info = answer;
  };
  const close = (): void => {
    server?.close();
    server = undefined;
    info = undefined;
    unavailable = undefined;
  };
  const peer = (variant: "eager" | "compile"): TorchPeer => {
    const label = variant === "eager" ? "PyTorch eager" : "PyTorch torch.compile";
    const whyNot = (): string | undefined =>
      unavailable ?? (variant === "compile" && info?.compile === false ? `torch.compile needs torch >= 2; this is torch ${info.torch}` : undefined);
    return {
      name: variant === "eager" ? "torch" : "torch.compile",
      describe: () => {
        const why = whyNot();
        if (why !== undefined) return `${label}: not run: ${why}`;
        if (!info) return `${label}: not initialised`;
        return `${label}: torch ${info.torch} (${python}, Python ${info.python}), ${info.threads} threads, BLAS: ${info.blas_summary}`;
      },
      init: start,
      async measure(row: BenchRow, options: TimingOptions): Promise<Measurement> {
        const why = whyNot();
        if (why !== undefined) return { skipped: why };
        if (!server) throw new Error(`${label}: call init() before measure()`);
        const answer = await server.ask({ op: "measure", row, warmup: options.warmup, iters: options.iters, variant, threads });
        if (typeof answer.skipped === "string") return { skipped: answer.skipped };
        if (typeof answer.error === "string") return { skipped: `error: ${answer.error}` };
        const samplesMs = answer.samples_ms as number[];
        return { ms: median(samplesMs), samplesMs };
      },
      close,
    };
  };
  return { eager: peer("eager"), compiled: peer("compile") };
}
