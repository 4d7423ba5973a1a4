// Runs every CPU benchmark row on the TensorFlow.js and jax-js peers and prints ms and GFLOP/s (or GB/s),
// without kiln: `npx tsx bench/peers-check.ts [--quick] [--only <name part>] [--warmup N] [--iters N]`.

import { cpus } from "node:os";
import { type BenchRow, cpuQuickRows, cpuRows, rowRate } from "./rows.ts";
import { cpuPeers, isSkipped, type Measurement, type Peer } from "./peers/index.ts";

function flagValue(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}

function cell(row: BenchRow, measurement: Measurement): string {
  if (isSkipped(measurement)) return `skipped: ${measurement.skipped}`.padEnd(24);
  return `${measurement.ms.toFixed(2).padStart(10)} ${rowRate(row, measurement.ms).toFixed(2).padStart(9)}  `;
}

async function measureSafely(peer: Peer, row: BenchRow, options: { warmup: number; iters: number }): Promise<Measurement> {
  try {
    return await peer.measure(row, options);
  } catch (error) {
    // A failure is reported in the table as a skip with its reason, never as a number.
    return { skipped: `error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` };
  }
}

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes("--quick");
  const only = flagValue(argv, "only");
  const warmup = Number(flagValue(argv, "warmup") ?? (quick ? 1 : 2));
  const iters = Number(flagValue(argv, "iters") ?? (quick ? 3 : 5));
  const rows = (quick ? cpuQuickRows() : cpuRows()).filter((row) => only === undefined || row.name.includes(only));
  const peers: readonly Peer[] = cpuPeers;

  for (const peer of peers) await peer.init();
  console.log(`machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`);
  for (const peer of peers) console.log(`${peer.name}: ${peer.describe()}`);
  console.log(`timing: ${warmup} warm-up runs, median of ${iters}\n`);

  const nameWidth = Math.max(...rows.map((row) => row.name.length), 4);
  console.log(`${"row".padEnd(nameWidth)}  metric   ${peers.map((peer) => `${peer.name.padStart(10)} ms      rate  `).join("")}`);
  for (const row of rows) {
    const cells: string[] = [];
    for (const peer of peers) cells.push(cell(row, await measureSafely(peer, row, { warmup, iters })));
    console.log(`${row.name.padEnd(nameWidth)}  ${row.metric.padEnd(7)}  ${cells.join("")}`);
  }
}

await main(process.argv.slice(2));
