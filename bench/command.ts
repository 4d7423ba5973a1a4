// `kiln bench cpu`: kernel and end-to-end benchmarks with TensorFlow.js, jax-js and PyTorch measured
// in the same run (bench/cpu.ts); `kiln bench webgpu`: kiln's WebGPU device against TensorFlow.js's
// and jax-js's WebGPU backends in one headless Chromium page (bench/webgpu/). The CUDA benchmarks run
// on a GPU machine with bench/gpu/run.sh.
// It lives in bench/ (which may import bin/, not the reverse); bin/main.ts loads it through bench/index.ts.

import { benchCpu, formatTable } from "./cpu.ts";
import { benchRanks, formatRanks } from "./ranks.ts";
import { formatWebGpuReport } from "./webgpu/core.ts";
import { benchWebGpu, defaultBenchOptions } from "./webgpu/run.ts";
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
  rounds: { kind: "int", min: 1 },
  data: { kind: "text" },
} as const satisfies FlagSpecs;

const command: Command = {
  summary: "benchmark kiln against TensorFlow.js, jax-js and PyTorch on this CPU (bench cpu), or on WebGPU in Chromium (bench webgpu)",
  usage:
    "kiln bench cpu [--quick] [--json] [--no-peers] [--only TEXT] [--warmup N] [--iters N] | kiln bench webgpu [--quick] [--json] [--warmup N] [--iters N] | kiln bench ranks [--steps N] [--rounds N] [--data DIR] [--json]",
  async run(argv) {
    const { flags, positional } = parseFlags("bench", argv, FLAGS, { max: 1, name: "target" });
    const target = positional[0] ?? "cpu";
    if (target === "ranks") {
      // Data-parallel training (MPI and threads): 1 rank × 1 thread, 2 ranks × 1 thread, 1 rank × 2 threads (bench/ranks.ts).
      const rows = await benchRanks({
        ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
        ...(flags.rounds !== undefined ? { rounds: flags.rounds } : {}),
        ...(flags.data !== undefined ? { data: flags.data } : {}),
      });
      console.log(flags.json ? JSON.stringify(rows) : formatRanks(rows));
      return;
    }
    if (target === "webgpu") {
      // GEMMs and one sampling step of the embedded default's DiT, in headless Chromium (bench/webgpu/run.ts).
      const options = defaultBenchOptions(flags.quick);
      const report = await benchWebGpu({
        options: {
          ...options,
          ...(flags.warmup !== undefined ? { warmup: flags.warmup } : {}),
          ...(flags.iters !== undefined ? { iters: flags.iters } : {}),
        },
      });
      console.log(flags.json ? JSON.stringify(report) : formatWebGpuReport(report));
      return;
    }
    if (target !== "cpu")
      throw new Error(`kiln bench ${target}: expected cpu, webgpu or ranks; the CUDA benchmarks are bench/gpu/run.sh on a GPU machine`);
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
