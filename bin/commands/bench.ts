// `kiln bench cpu`: kernel and end-to-end benchmarks with TensorFlow.js and jax-js measured in the
// same run (bench/cpu.ts). The GPU benchmarks run on a GPU machine with bench/gpu/run.sh.

import { benchCpu, formatTable } from "../../bench/cpu.ts";
import { benchRanks, formatRanks } from "../../bench/ranks.ts";
import { parseArgs, type Command } from "../command.ts";

const command: Command = {
  summary: "benchmark kiln against TensorFlow.js and jax-js on this CPU (bench cpu [--quick] [--json])",
  usage: "kiln bench cpu [--quick] [--json] [--no-peers] [--only TEXT] [--iters N] | kiln bench ranks [--steps N] [--data DIR] [--json]",
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
      ...(flags.has("iters") ? { iters: Number(flags.get("iters")) } : {}),
    });
    if (flags.has("json")) console.log(JSON.stringify(report));
    else console.log(formatTable(report));
  },
};

export default command;
