// `kiln bench ranks`: images/s of `npm start`'s model (the tiny config, batch 16 per rank, the Pokémon
// set at 64 px) trained as 1 rank × 1 thread, 2 ranks × 1 thread (MPI, kiln train --nproc 2) and
// 1 rank × 2 threads (one step on both, and the batch split over them: --batch-threads), one after
// the other in one run, in interleaved rounds (a 2-core virtual machine's
// speed drifts by several percent between runs): each figure is the median of the rounds, with the
// range. One run's figure is kiln train's own images/s over its training loop (compilation excluded;
// the kernels come from the cache after the first layout).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensurePokemonDataset } from "../models/data/pokemon.ts";
import { median } from "./timing.ts";

export interface RanksRow {
  layout: string;
  ranks: number;
  threads: number;
  /** Median over the rounds. */
  imagesPerSecond: number;
  /** Every round's figure, in the order they ran. */
  rounds: number[];
  steps: number;
}

const LAYOUTS = [
  { layout: "1 rank × 1 thread", ranks: 1, threads: 1, batchThreads: 1 },
  { layout: "2 ranks × 1 thread", ranks: 2, threads: 1, batchThreads: 1 },
  { layout: "1 rank × 2 threads, one step", ranks: 1, threads: 2, batchThreads: 1 },
  { layout: "1 rank × 2 threads, batch over threads", ranks: 1, threads: 2, batchThreads: 2 },
] as const;

function kilnTrain(args: readonly string[], threads: number): Promise<{ steps: number; seconds: number; imagesPerSecond: number }> {
  const kiln = new URL("../bin/kiln", import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kiln, "train", ...args], {
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !line.startsWith("{"))
        return reject(new Error(`bench ranks: kiln train ${args.join(" ")} failed (exit ${code}):\n${stderr.slice(-2000)}`));
      resolve(JSON.parse(line) as { steps: number; seconds: number; imagesPerSecond: number });
    });
  });
}

export async function benchRanks(options: { steps?: number; data?: string; rounds?: number } = {}): Promise<RanksRow[]> {
  const steps = options.steps ?? 100;
  const rounds = options.rounds ?? 3;
  const data = options.data ?? "data/pokemon-64";
  if (!existsSync(path.join(data, "metadata.csv"))) await ensurePokemonDataset(data, 64);
  const figures: number[][] = LAYOUTS.map(() => []);
  for (let round = 1; round <= rounds; round++)
    for (const [i, { layout, ranks, threads, batchThreads }] of LAYOUTS.entries()) {
      process.stderr.write(`bench ranks: round ${round}/${rounds}, ${layout}, ${steps} steps\n`);
      const out = mkdtempSync(path.join(tmpdir(), "kiln-bench-ranks-"));
      try {
        const args = [
          "--config",
          "tiny",
          "--data",
          data,
          "--batch",
          "16",
          "--steps",
          String(steps),
          "--save-steps",
          String(steps * 10),
          "--out",
          out,
          "--batch-threads",
          String(batchThreads),
          ...(ranks > 1 ? ["--nproc", String(ranks)] : []),
        ];
        figures[i]!.push((await kilnTrain(args, threads)).imagesPerSecond);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  return LAYOUTS.map(({ layout, ranks, threads }, i) => ({
    layout,
    ranks,
    threads,
    imagesPerSecond: median(figures[i]!),
    rounds: figures[i]!,
    steps,
  }));
}

export function formatRanks(rows: readonly RanksRow[]): string {
  const base = rows[0]!.imagesPerSecond;
  const range = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
  return [
    `| layout | images/s (median of ${rows[0]!.rounds.length}) | range | × 1 rank × 1 thread |`,
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.layout} | ${r.imagesPerSecond.toFixed(1)} | ${range(r.rounds)} | ${(r.imagesPerSecond / base).toFixed(2)} |`),
  ].join("\n");
}
