// `kiln bench cpu`: kernel and end-to-end benchmarks with TensorFlow.js, jax-js and PyTorch measured
// in the same run (bench/cpu.ts). The GPU benchmarks run on a GPU machine with bench/gpu/run.sh.

import { benchCpu, formatTable } from "../../bench/cpu.ts";
import { benchRanks, formatRanks } from "../../bench/ranks.ts";
import { parseArgs, type Command } from "../command.ts";

const command: Command = {
  summary: "benchmark kiln against TensorFlow.js, jax-js and PyTorch on this CPU (bench cpu [--quick] [--json])",
  usage: "kiln bench cpu [--quick] [--json] [--no-peers] [--only TEXT] [--warmup N] [--iters N] | kiln bench ranks [--steps N] [--data DIR] [--json]",
  async run(argv) {
    const { flags, positional } = parseArgs(argv, ["quick", "json", "no-peers"]);
    const target = positional[0] ?? "cpu";
    if (target === "ranks") {
      // Data-parallel training (MPI): 1 rank × 1 thread, 2 ranks × 1 thread, 1 rank × 2 threads (bench/ranks.ts).
      const rows = await benchRanks({ ...(flags.has("steps") ? { steps: Number(flags.get("steps")) } : {}), ...(flags.has("data") ? { data: flags.get("data")! } : {}) });
      console.log(flags.has("json") ? JSON.stringify(rows) : formatRanks(rows));
      return;
    }
    if (target !== "cpu") throw new Error(`kiln bench ${target}: only 'cpu' and 'ranks' run here; the GPU benchmarks are bench/gpu/run.sh on a GPU machine`);
    const report = await benchCpu({
      quick: flags.has("quick"),
      noPeers: flags.has("no-peers"),
      ...(flags.has("only") ? { only: flags.get("only")! } : {}),
      ...(flags.has("iters") ? { iters: positiveInteger("--iters", flags.get("iters")!) } : {}),
      ...(flags.has("warmup") ? { warmup: nonNegativeInteger("--warmup", flags.get("warmup")!) } : {}),
    });
    if (flags.has("json")) console.log(JSON.stringify(report));
    else console.log(formatTable(report));
  },
};

function nonNegativeInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`kiln bench: ${flag} expects a whole number ≥ 0, got '${value}'`);
  return n;
}

function positiveInteger(flag: string, value: string): number {
  const n = nonNegativeInteger(flag, value);
  if (n === 0) throw new Error(`kiln bench: ${flag} expects a whole number ≥ 1, got '${value}'`);
  return n;
}

export default command;
