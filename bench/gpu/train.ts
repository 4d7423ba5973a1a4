// kiln's side of the GPU training benchmark (bench/gpu/run.sh, part "train"; its PyTorch peer is
// bench/peers/aaa_dit_torch.py, run after it on the same card): the AAADiT 0.1B training step of
// train-program.ts (pure bf16, batch 32, 256 image + 128 text tokens, AdamW) compiled with compileCuda
// (state donated, one CUDA graph replayed per step) and timed step by step with CUDA events; then the
// fused-norm rows. Rows go to <out>/train.json as they come; every step is guarded and bounded by
// --budget. `--device emulated` runs the same script without a GPU at a tiny size (the emulator runs
// each launch), which is how it is checked off the GPU machine. Last, where libnccl is found, the
// in-place NCCL sum of the model's gradients at world size 1 (kiln train's device exchange, issue 11).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../../bin/command.ts";
import type { Tensor } from "../../compiler/index.ts";
import { ditConfig } from "../../models/dit.ts";
import { gaussianF32 } from "../../models/noise.ts";
import { initParams, numel, paramCount } from "../../models/params.ts";
import type { TrainTree } from "../../models/train-step.ts";
import type { CudaDevice } from "../../runtime/cuda/device.ts";
import { emulatedStepDevice } from "../../runtime/cuda/emulated-device.ts";
import { compileCuda, type CudaStep } from "../../runtime/cuda/step.ts";
import { cudaStepDevice, type StepDevice } from "../../runtime/cuda/step-device.ts";
import { cudaTemplates } from "../../runtime/cuda/templates.ts";
import { uniforms } from "./references.ts";
import { bf16Storage, bf16Values, readBf16Output, uploadLeaf } from "./resident.ts";
import {
  AAA_TRAIN_SHAPE,
  TRAIN_BENCH,
  TRAIN_ROW,
  normBenches,
  trainBenchProgram,
  trainStepFlops,
  type NormBench,
  type TrainBenchShape,
} from "./train-program.ts";
import { guardedSteps } from "./guarded.ts";
import { loadNccl, ncclVersionText } from "../../runtime/collective/nccl.ts";
import { findLibrary } from "../../runtime/cuda/find.ts";

const { flags } = parseArgs(process.argv.slice(2), []);
const outDir = flags.get("out") ?? process.env.OUT ?? "out/gpu";
const deadline = Date.now() + Number(flags.get("budget") ?? 120) * 1000;
const emulated = flags.get("device") === "emulated";
const iterations = Number(flags.get("iterations") ?? (emulated ? 2 : 20));
const warmup = Number(flags.get("warmup") ?? (emulated ? 1 : 3));
/** Norm rows: back-to-back replays per sample and samples (the median is reported). */
const NORM_REPLAYS = emulated ? 2 : 50;
const NORM_SAMPLES = emulated ? 2 : 7;
mkdirSync(outDir, { recursive: true });

// The emulator is a CPU interpreter: a tiny DiT (same structure, 32-channel heads, 4×4 latents, 8 prompt tokens) and small norms.
const shape: TrainBenchShape = emulated
  ? { batch: 2, latent: [16, 4, 4], textLength: 8, dit: ditConfig({ dim: 64, depth: 1, heads: 2, textDim: 64, latentChannels: 16, posGrid: 4 }) }
  : AAA_TRAIN_SHAPE;
const normShape: [number, number] = emulated ? [256, 64] : [AAA_TRAIN_SHAPE.batch * 384, AAA_TRAIN_SHAPE.dit.dim];
/** The emulated device models the tensor-core GEMM, not flash attention (as bench/gpu/equivalence.ts). */
const templates = emulated ? { templates: { gemm: cudaTemplates().gemm! } } : {};

interface Row {
  name: string;
  what: string;
  kiln_ms: number | null;
  samples_ms: number[];
  tflops: number | null;
  images_per_s?: number | null;
  gbps?: number | null;
  [extra: string]: unknown;
}
const report = {
  started: new Date().toISOString(),
  device: null as string | null,
  config: { batch: shape.batch, latent: shape.latent, textLength: shape.textLength, dit: shape.dit, norms: normShape, emulated, iterations, warmup },
  conventions: [
    "kiln train step: parameters and AdamW moments bf16 (pure bf16, as the reference), loss in f32; state donated; one CUDA graph replayed per step; median of per-step CUDA-event times after warm-up (host sync after each step)",
    "tflops: model FLOPs / time, model FLOPs = 3 x the forward's matmul FLOPs (every Linear and attention's QK^T and PV, 2 per multiply-add; norms, elementwise work and AdamW not counted)",
    "norm rows: median over samples of the mean of back-to-back replays of the step's launches (no host sync between calls); gbps counts x read + y written (forward), + cotangent read + dx written (forward+backward)",
  ],
  rows: [] as Row[],
  compiles: [] as { name: string; kernels: number; launches: number; donationCopies: number; seconds: Record<string, number> }[],
  breakdown: null as null | { byKind: Record<string, number>; top: { kernel: string; ms: number }[]; sumMs: number },
  failures: [] as { step: string; error: string }[],
  skipped: [] as string[],
};
const { step, save } = guardedSteps(report, join(outDir, "train.json"), deadline);

/** Milliseconds of one call of `work` on the device: CUDA events around it on a GPU, the host clock on the emulator. */
type Clock = (work: () => void) => number;

function cudaClock(device: CudaDevice): Clock {
  const { driver, stream } = device;
  return (work) => {
    const start = driver.eventCreate(0);
    const end = driver.eventCreate(0);
    try {
      driver.eventRecord(start, stream);
      work();
      driver.eventRecord(end, stream);
      driver.eventSynchronize(end);
      return driver.eventElapsedMs(start, end);
    } finally {
      driver.eventDestroy(start);
      driver.eventDestroy(end);
    }
  };
}

const hostClock: Clock = (work) => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * A step device per compiled step: a step device keeps its loaded kernels by name, and names are unique
 * within one program only (two programs may each have a different reduce_12288x1024_0).
 */
type DeviceFactory = () => StepDevice;

function compileStep(
  name: string,
  fn: (tree: Record<string, Tensor>) => unknown,
  example: Record<string, unknown>,
  newDevice: DeviceFactory,
  donate: readonly string[] = [],
): CudaStep {
  const compiled = compileCuda((tree) => fn(tree as Record<string, Tensor>) as never, example, { device: newDevice(), donate, name, ...templates });
  report.compiles.push({
    name,
    kernels: compiled.backend.cuda.kernels.length,
    launches: compiled.kernelCount,
    donationCopies: compiled.donationCopies,
    seconds: compiled.compileSeconds,
  });
  return compiled;
}

/** The training step: compile, initialise (PyTorch-default parameters, zero moments, a random batch), time. */
function trainRow(newDevice: DeviceFactory, clock: Clock, gpu: CudaDevice | null): void {
  const program = trainBenchProgram(shape);
  const { batch } = shape;
  const { specs, options } = program;
  const compiled = compileStep("aaadit_train_step", (tree) => program.fn(tree as unknown as TrainTree), program.example, newDevice, program.donate);
  try {
    const started = performance.now();
    const params = initParams(specs, 1);
    for (const s of specs) {
      const zeros = new Float32Array(numel(s.shape));
      uploadLeaf(compiled, `state/params/${s.name}`, "bf16", params.get(s.name)!);
      uploadLeaf(compiled, `state/m/${s.name}`, "bf16", zeros);
      uploadLeaf(compiled, `state/v/${s.name}`, "bf16", zeros);
    }
    // The raw upload must land where set() would have put it: read one small leaf back through the public API.
    const probe = specs.find((s) => s.name === "proj_out.bias")!;
    const back = compiled.input(`state/params/${probe.name}`);
    const want = bf16Storage(params.get(probe.name)!);
    if (back.some((x, i) => bf16Storage(Float32Array.of(x))[0] !== want[i]))
      throw new Error("the raw state upload did not land in the step's input buffers (resident.ts is out of date with CudaStep)");
    const [c, h, w] = options.latent;
    const sigma = uniforms(batch, 3, 0.02, 0.98);
    compiled.set({
      batch: {
        latents: gaussianF32(batch * c * h * w, 11),
        promptEmbeds: gaussianF32(batch * options.textLength * options.dit.textDim, 12),
        sigma: Float32Array.from(sigma),
        timestep: Float32Array.from(sigma, (s) => s * 1000),
        weight: Float32Array.from(uniforms(batch, 4, 0.5, 1.5)),
      },
      control: { seed: [7], step: [1], lr: [TRAIN_BENCH.lr] },
    });
    const setupSeconds = (performance.now() - started) / 1000;
    compiled.execute(); // captures the graph
    const lossFirst = compiled.output("loss")[0]!;
    for (let i = 0; i < warmup; i++) compiled.execute();
    const samples = Array.from({ length: iterations }, () => clock(() => compiled.execute()));
    const lossLast = compiled.output("loss")[0]!;
    if (!Number.isFinite(lossFirst) || !Number.isFinite(lossLast))
      throw new Error(`the training step's loss is not finite (${lossFirst} then ${lossLast})`);
    const ms = median(samples);
    const flops = trainStepFlops(shape);
    report.rows.push({
      name: TRAIN_ROW,
      what: `AAADiT ${(paramCount(specs) / 1e6).toFixed(1)}M training step (bf16, batch ${batch}, ${h * w} image + ${options.textLength} text tokens, AdamW)`,
      kiln_ms: ms,
      samples_ms: samples.map((x) => Number(x.toFixed(4))),
      tflops: flops / (ms * 1e9),
      images_per_s: batch / (ms / 1000),
      model_tflop_per_step: flops / 1e12,
      compiler_tflop_per_step: compiled.kernels.reduce((sum, k) => sum + k.flops, 0) / 1e12,
      loss_first: lossFirst,
      loss_last: lossLast,
      steps: 1 + warmup + iterations,
      kernels: compiled.backend.cuda.kernels.length,
      launches: compiled.kernelCount,
      setup_s: Number(setupSeconds.toFixed(1)),
    });
    save();
    if (lossLast >= lossFirst)
      console.log(`  note  the loss did not fall over ${1 + warmup + iterations} steps on one batch (${lossFirst} → ${lossLast})`);
    // Where the time goes: each launch alone (state is overwritten repeatedly, so this comes last).
    if (gpu && Date.now() < deadline - 20_000) {
      const launches = compiled.backend.launchTimes((work) => gpu.time(work, 3));
      const byKind: Record<string, number> = {};
      for (const l of launches) {
        const kind = l.kernel.split("_")[0]!;
        byKind[kind] = (byKind[kind] ?? 0) + l.ms;
      }
      const top = [...launches]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 15)
        .map((l) => ({ kernel: l.kernel, ms: Number(l.ms.toFixed(4)) }));
      report.breakdown = { byKind, top, sumMs: launches.reduce((s, l) => s + l.ms, 0) };
    }
  } finally {
    compiled.dispose();
  }
}

/** Reference values of the first rows of a norm's output (f32 math on the bf16 inputs). */
function normReference(
  bench: NormBench,
  x: Float32Array,
  weight: Float32Array | undefined,
  bias: Float32Array | undefined,
  rows: number,
  dim: number,
): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * dim, (r + 1) * dim);
    if (bench.name.startsWith("rmsnorm")) {
      const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / dim + 2 ** -23);
      row.forEach((v, i) => (out[r * dim + i] = v * scale));
    } else {
      const mean = row.reduce((s, v) => s + v, 0) / dim;
      const scale = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / dim + 1e-5);
      row.forEach((v, i) => (out[r * dim + i] = (v - mean) * scale * weight![i]! + bias![i]!));
    }
  }
  return out;
}

function normRow(newDevice: DeviceFactory, clock: Clock, bench: NormBench): void {
  const compiled = compileStep(bench.name, (tree) => bench.fn(tree), bench.example, newDevice);
  const device = compiled.backend.device;
  try {
    const [rows, dim] = normShape;
    const values: Record<string, Float32Array> = {};
    Object.entries(bench.example).forEach(([name, spec], i) => {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      values[name] =
        name === "weight"
          ? Float32Array.from(uniforms(n, 30 + i, 0.5, 1.5))
          : name === "bias"
            ? Float32Array.from(uniforms(n, 30 + i, -0.5, 0.5))
            : gaussianF32(n, 30 + i);
      values[name] = bf16Values(bf16Storage(values[name]!)); // bf16-rounded, so the reference sees what the step sees
      uploadLeaf(compiled, name, "bf16", values[name]!);
    });
    compiled.execute();
    // The launches of one run, as closures (launchTimes hands each to the timer), replayed back to back in one graph.
    const launches: (() => void)[] = [];
    compiled.backend.launchTimes((work) => (launches.push(work), 0));
    const graph = device.capture(() => {
      for (let r = 0; r < NORM_REPLAYS; r++) for (const launch of launches) launch();
    });
    let samples: number[];
    try {
      graph.launch();
      device.synchronize();
      samples = Array.from({ length: NORM_SAMPLES }, () => clock(() => graph.launch()) / NORM_REPLAYS);
    } finally {
      graph.destroy();
    }
    // The first rows of y against a reference, and every output of those rows finite.
    const checkRows = Math.min(4, rows);
    const got = readBf16Output(compiled, "0", checkRows * dim);
    const want = normReference(bench, values.x!, values.weight, values.bias, checkRows, dim);
    const scale = Math.max(...Array.from(want, Math.abs));
    const relError = Math.max(...Array.from(want, (v, i) => Math.abs(got[i]! - v))) / scale;
    const gradsFinite = bench.name.endsWith("_bwd") ? readBf16Output(compiled, "1", checkRows * dim).every(Number.isFinite) : true;
    if (!(relError < 2e-2) || !gradsFinite)
      throw new Error(`${bench.name}: output differs from the reference (relative error ${relError.toExponential(2)}) or a gradient is not finite`);
    const ms = median(samples);
    report.rows.push({
      name: bench.name,
      what: `${bench.name.startsWith("rms") ? "RMSNorm (no affine)" : "LayerNorm (affine)"} ${bench.name.endsWith("_bwd") ? "forward + backward" : "forward"} [${rows}, ${dim}] bf16`,
      kiln_ms: ms,
      samples_ms: samples.map((x) => Number(x.toFixed(5))),
      tflops: null,
      gbps: bench.bytes / (ms * 1e6),
      rel_error: relError,
      kernels: compiled.backend.cuda.kernels.length,
      launches: compiled.kernelCount,
    });
  } finally {
    compiled.dispose();
  }
}

/**
 * NCCL's in-place f32 sum of every AAADiT gradient, one call per tensor on the device stream as kiln
 * train's device exchange makes them (models/distributed.ts), with a communicator of one rank: what the
 * exchange costs before any other rank joins. Skipped, and said so, without libnccl.
 */
function ncclRow(gpu: CudaDevice, clock: Clock): void {
  const found = findLibrary("nccl");
  if (!found.path) {
    report.skipped.push(`nccl_grad_sum_w1: libnccl.so.2 not found (tried ${found.tried.join(", ")}; set KILN_NCCL_PATH)`);
    return;
  }
  const nccl = loadNccl(found.path);
  const { specs } = trainBenchProgram(shape);
  const comm = nccl.initRank(1, nccl.uniqueId(), 0);
  const tensors = specs.map((s) => ({ count: numel(s.shape), pointer: gpu.alloc(4 * numel(s.shape)) }));
  try {
    const sumAll = () =>
      nccl.group(() => {
        for (const t of tensors) nccl.allReduce(comm, t.pointer, t.pointer, t.count, "f32", "sum", gpu.stream);
      });
    sumAll();
    gpu.synchronize();
    const samples = Array.from({ length: iterations }, () => clock(sumAll));
    const ms = median(samples);
    const values = tensors.reduce((n, t) => n + t.count, 0);
    report.rows.push({
      name: "nccl_grad_sum_w1",
      what: `NCCL ${ncclVersionText(nccl.version)} (${found.path}) in-place sum of the AAADiT's ${specs.length} gradients (f32, ${(values / 1e6).toFixed(1)}M values, one call per tensor in one group), world size 1`,
      kiln_ms: ms,
      samples_ms: samples.map((x) => Number(x.toFixed(4))),
      tflops: null,
      gbps: (4 * values) / (ms * 1e6),
    });
  } finally {
    for (const t of tensors) gpu.free(t.pointer);
    nccl.destroy(comm);
  }
}

async function main(): Promise<number> {
  console.log(`kiln GPU training benchmark → ${join(outDir, "train.json")}`);
  let gpu: CudaDevice | null = null;
  let newDevice: DeviceFactory;
  let clock: Clock;
  if (emulated) {
    newDevice = emulatedStepDevice;
    clock = hostClock;
  } else {
    const { CudaDevice } = await import("../../runtime/cuda/device.ts");
    const opened = await step("open the CUDA device", () => CudaDevice.open());
    if (!opened) return 1;
    gpu = opened;
    newDevice = () => cudaStepDevice(opened);
    clock = cudaClock(opened);
  }
  report.device = gpu ? gpu.info.name : newDevice().description;
  await step(`AAADiT training step (batch ${shape.batch})`, () => trainRow(newDevice, clock, gpu));
  for (const bench of normBenches(...normShape)) await step(`${bench.name} [${normShape.join(", ")}]`, () => normRow(newDevice, clock, bench));
  if (gpu) await step("NCCL sum of the gradients (world size 1)", () => ncclRow(gpu!, clock));
  else report.skipped.push("nccl_grad_sum_w1: needs a GPU (the emulator's memory is not device memory)");
  gpu?.close();
  console.log("\nkiln rows");
  for (const r of report.rows)
    console.log(
      `  ${r.name.padEnd(20)} ${r.kiln_ms === null ? "-" : r.kiln_ms.toFixed(3).padStart(9)} ms  ${r.tflops !== null ? `${r.tflops.toFixed(1)} TFLOP/s  ${(r.images_per_s ?? 0).toFixed(0)} images/s` : `${(r.gbps ?? 0).toFixed(0)} GB/s`}`,
    );
  if (report.skipped.length) console.log(`skipped: ${report.skipped.join("; ")}`);
  save();
  return report.failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
