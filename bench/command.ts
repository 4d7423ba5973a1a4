// `kiln bench cpu`: kernel and end-to-end benchmarks with TensorFlow.js, jax-js and PyTorch measured
// in the same run (bench/cpu.ts). The GPU benchmarks run on a GPU machine with bench/gpu/run.sh.
// It lives in bench/ (which may import bin/, not the reverse); bin/main.ts loads it through bench/index.ts.

import { benchCpu, formatTable } from "./cpu.ts";
import { benchRanks, formatRanks } from "./ranks.ts";
import type { Command } from "../bin/command.ts";
import { parseFlags, type FlagSpecs } from "../bin/flags.ts";

const FLAGS = {
  quick: { kind: "switch" },
  json: { kind: "switch" },
  "no-peers": { kind: "switch" },
  only: { kind: "text" },
  iters: { kind: "int", min: 1 },
  warmup: { kind: "int", min: 0 },
  steps: { kind: "int", min: 1 },
  data: { kind: "text" },
} as const satisfies FlagSpecs;

const command: Command = {
  summary: "benchmark kiln against TensorFlow.js, jax-js and PyTorch on this CPU (bench cpu [--quick] [--json])",
  usage: "kiln bench cpu [--quick] [--json] [--no-peers] [--only TEXT] [--warmup N] [--iters N] | kiln bench ranks [--steps N] [--data DIR] [--json]",
  async run(argv) {
    const { flags, positional } = parseFlags("bench", argv, FLAGS, { max: 1, name: "target" });
    const target = positional[0] ?? "cpu";
    if (target === "ranks") {
      // Data-parallel training (MPI): 1 rank × 1 thread, 2 ranks × 1 thread, 1 rank × 2 threads (bench/ranks.ts).
      const rows = await benchRanks({
        ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
        ...(flags.data !== undefined ? { data: flags.data } : {}),
      });
      console.log(flags.json ? JSON.stringify(rows) : formatRanks(rows));
      return;
    }
    if (target !== "cpu")
      throw new Error(`kiln bench ${target}: only 'cpu' and 'ranks' run here; the GPU benchmarks are bench/gpu/run.sh on a GPU machine`);
    const report = await benchCpu({
      quick: flags.quick,
      noPeers: flags["no-peers"],
      ...(flags.only !== undefined ? { only: flags.only } : {}),
      ...(flags.iters !== undefined ? { iters: flags.iters } : {}),
      ...(flags.warmup !== undefined ? { warmup: flags.warmup } : {}),
    });
    if (flags.json) console.log(JSON.stringify(report));
    else console.log(formatTable(report));
  },
};

export default command;
