// `kiln bench cpu`: every row of bench/rows.ts run by kiln (compiled steps) and, in the same run, by
// TensorFlow.js (wasm) and jax-js (wasm, jit) in this process and PyTorch (eager; torch.compile where
// torch ≥ 2) in a Python beside it with kiln's thread count, with each rate as a percent of this
// machine's ceilings measured in the same run (an FMA loop on the widest vectors for GFLOP/s, a triad for GB/s); and
// the tiny DiT step with and without one busy process (bench/busy.ts).

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import koffi from "koffi";
import { nn, ops, type Tensor } from "../compiler/index.ts";
import { compile, loadLibrary, type CompiledStep } from "../runtime/compile.ts";
import { compileC } from "../runtime/cpu/toolchain.ts";
import { SIMD_H } from "../kernels/cpu/index.ts";
import { ditForward } from "../models/dit.ts";
import { adamwTree, type AdamWTree } from "../models/optim.ts";
import { backward } from "../compiler/index.ts";
import { cpuRows, cpuQuickRows, ditTrainStepRow, rowRate, type BenchRow } from "./rows.ts";
import { initDitWeights, makeDitBatch, ditParamSpecs, adamW, kilnDitConfig, type AaaDitConfig } from "./tiny-dit.ts";
import { seededNormal } from "./random-data.ts";
import { median, timeRuns } from "./timing.ts";
import { cpuPeers, isSkipped, type Measurement, type Peer } from "./peers/index.ts";
import { kilnThreads, torchPeers } from "./peers/torch.ts";
import { quietVersusBusy, type QuietVersusBusy } from "./busy.ts";

export interface BenchOptions {
  quick?: boolean;
  /** Leave the peers out (kiln's figures only). */
  noPeers?: boolean;
  warmup?: number;
  iters?: number;
  only?: string;
  log?: (line: string) => void;
}

export interface RowResult {
  name: string;
  kiln_ms: number | null;
  gflops: number | null;
  gbps: number | null;
  /** kiln's rate as a percent of the machine's measured ceiling for the row's metric. */
  percent_of_ceiling: number | null;
  peers: Record<`${PeerColumn}_ms`, number | null>;
  /** peer time / kiln time (above 1: kiln is faster). */
  speedup: Record<PeerColumn, number | null>;
  note?: string;
  /** The busy-machine row: kiln's (and PyTorch's) times with and without one busy process. */
  busy?: { kiln: QuietVersusBusy; fused: QuietVersusBusy; torch: QuietVersusBusy | { skipped: string } };
}

/** The peers' columns, in table order. */
export const PEER_COLUMNS = ["tfjs_wasm", "jaxjs", "torch", "torch_compile"] as const;
export type PeerColumn = (typeof PEER_COLUMNS)[number];

const noPeerTimes = (): RowResult["peers"] => ({ tfjs_wasm_ms: null, jaxjs_ms: null, torch_ms: null, torch_compile_ms: null });
const noSpeedups = (): RowResult["speedup"] => ({ tfjs_wasm: null, jaxjs: null, torch: null, torch_compile: null });

export interface BenchReport {
  /** Ceilings measured in the run: FMA peak, and memory bandwidth (triad with write-allocate, or a plain read, whichever is faster). */
  machine: { cpu: string; threads: number; peak_gflops: number; triad_gbps: number };
  /** Each peer's library, version, threads and (PyTorch) the BLAS it loaded, or why it did not run. */
  peers: string[];
  rows: RowResult[];
}

const CEILING_C = `${SIMD_H}
#include <omp.h>
/* Peak: 12 independent FMA chains per thread on simd.h's 16-lane vectors (2 flops · 16 lanes per
 * vector FMA; one zmm instruction with AVX-512, two ymm instructions with AVX2). */
double kiln_peak_fma(long iterations) {
  double total = 0;
  #pragma omp parallel reduction(+:total)
  {
    kv a[12];
    for (int i = 0; i < 12; i++) a[i] = kv_set1(1.0f + i * 1e-3f);
    const kv b = kv_set1(0.999999f), c = kv_set1(1e-7f);
    for (long it = 0; it < iterations; it++)
      for (int i = 0; i < 12; i++) a[i] = kv_fmadd(a[i], b, c);
    kv s = a[0];
    for (int i = 1; i < 12; i++) s = kv_add(s, a[i]);
    total += kv_first(s) * 0;
  }
  return total;
}
/* Bandwidth: STREAM's triad a = b + s·c over arrays much larger than the caches. */
void kiln_triad(float* a, const float* b, const float* c, long n) {
  #pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) a[i] = b[i] + 1.5f * c[i];
}
/* Read bandwidth: a sum over an array much larger than the caches (no writes, so no write-allocate). */
float kiln_read(const float* a, long n) {
  float s = 0;
  #pragma omp parallel for simd schedule(static) reduction(+:s)
  for (long i = 0; i < n; i++) s += a[i];
  return s;
}
int kiln_threads(void) { return omp_get_max_threads(); }
`;

function measureCeilings(): BenchReport["machine"] {
  const lib = loadLibrary(compileC(CEILING_C).library);
  const peak = lib.func("double kiln_peak_fma(long iterations)") as (n: number) => number;
  const triad = lib.func("void kiln_triad(float* a, const float* b, const float* c, long n)") as (
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    n: number,
  ) => void;
  const threads = Number(lib.func("int kiln_threads(void)")());
  const iterations = 20_000_000;
  peak(1000);
  const peakTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    peak(iterations);
    peakTimes.push(performance.now() - t0);
  }
  const peakGflops = (threads * iterations * 12 * 32) / (Math.min(...peakTimes) * 1e6);
  const n = 1 << 24;
  const [a, b, c] = [new Float32Array(n), new Float32Array(n).fill(1), new Float32Array(n).fill(2)];
  triad(a, b, c, n);
  const triadTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    triad(a, b, c, n);
    triadTimes.push(performance.now() - t0);
  }
  // A triad moves 4 arrays' worth of memory (the store allocates its line first); a plain read moves 1.
  const triadGbps = (4 * 4 * n) / (Math.min(...triadTimes) * 1e6);
  const read = lib.func("float kiln_read(const float* a, long n)") as (a: Float32Array, n: number) => number;
  read(b, n);
  const readTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    read(b, n);
    readTimes.push(performance.now() - t0);
  }
  const readGbps = (4 * n) / (Math.min(...readTimes) * 1e6);
  const cpu = /model name\s*:\s*(.*)/.exec(existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "")?.[1] ?? process.arch;
  return { cpu, threads, peak_gflops: Number(peakGflops.toFixed(1)), triad_gbps: Number(Math.max(triadGbps, readGbps).toFixed(1)) };
}

const fill = (n: number, seed: number): Float32Array => seededNormal(n, seed);

/** kiln's side of a row: a compiled step with its inputs set, and a function that runs it once (exported for experiments). */
export function kilnStep(row: BenchRow): { step: CompiledStep; run: () => void } {
  switch (row.kind) {
    case "gemm": {
      const { m, k, n, transposeB } = row;
      const step = compile(
        (t) => {
          const { a, b } = t as { a: Tensor; b: Tensor };
          return transposeB ? ops.dot(a, ops.transpose(b)) : ops.dot(a, b);
        },
        { a: { shape: [m, k] }, b: { shape: transposeB ? [n, k] : [k, n] } },
        { name: `bench_${row.kind}` },
      );
      step.set({ a: fill(m * k, 1), b: fill(k * n, 2) });
      return { step, run: () => step.execute() };
    }
    case "elementwise": {
      const shape = [row.size];
      const step = compile(
        (t) => {
          const { x, a, b, c } = t as Record<string, Tensor>;
          return ops.mul(nn.silu(ops.add(ops.mul(x!, a!), b!)), c!);
        },
        { x: { shape }, a: { shape }, b: { shape }, c: { shape } },
      );
      step.set({ x: fill(row.size, 1), a: fill(row.size, 2), b: fill(row.size, 3), c: fill(row.size, 4) });
      return { step, run: () => step.execute() };
    }
    case "layer_norm": {
      const step = compile(
        (t) => {
          const { x, w, b } = t as Record<string, Tensor>;
          return nn.layerNorm(x!, { weight: w!, bias: b!, eps: row.eps });
        },
        { x: { shape: [row.rows, row.cols] }, w: { shape: [row.cols] }, b: { shape: [row.cols] } },
      );
      step.set({ x: fill(row.rows * row.cols, 1), w: fill(row.cols, 2), b: fill(row.cols, 3) });
      return { step, run: () => step.execute() };
    }
    case "softmax": {
      const step = compile((t) => nn.softmax((t as { x: Tensor }).x, -1), { x: { shape: [row.rows, row.cols] } });
      step.set({ x: fill(row.rows * row.cols, 1) });
      return { step, run: () => step.execute() };
    }
    case "attention": {
      const shape = [row.batch, row.seq, row.heads * row.headDim];
      const step = compile(
        (t) => {
          const { q, k, v } = t as Record<string, Tensor>;
          return nn.attention(q!, k!, v!, { heads: row.heads, scale: row.scale });
        },
        { q: { shape }, k: { shape }, v: { shape } },
      );
      const size = shape.reduce((a, b) => a * b, 1);
      step.set({ q: fill(size, 1), k: fill(size, 2), v: fill(size, 3) });
      return { step, run: () => step.execute() };
    }
    case "dit_forward":
    case "dit_train_step":
      return ditStep(row.config, row.batch, row.kind === "dit_train_step");
    default:
      return row satisfies never;
  }
}

/** The shapes of a training batch of `batch` samples for the bench DiT (a compile example tree). */
function ditBatchExample(config: AaaDitConfig, batch: number): Record<"latents" | "promptEmbeds" | "timestep" | "target", { shape: number[] }> {
  const latentShape = [batch, config.latentChannels, config.latentHeight, config.latentWidth];
  return {
    latents: { shape: latentShape },
    promptEmbeds: { shape: [batch, config.textTokens, config.textFeatures] },
    timestep: { shape: [batch] },
    target: { shape: latentShape },
  };
}

/** The tiny DiT of bench/tiny-dit.ts in kiln: forward, or forward + MSE + backward + AdamW with the state donated. */
function ditStep(config: AaaDitConfig, batch: number, training: boolean): { step: CompiledStep; run: () => void } {
  const dit = kilnDitConfig(config);
  const specs = ditParamSpecs(config);
  const weights = initDitWeights(config, 1);
  const data = makeDitBatch(config, batch, 1);
  const inputs = ditBatchExample(config, batch);
  const paramShapes = Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }]));
  if (!training) {
    const step = compile(
      (t) => {
        const { params, latents, promptEmbeds, timestep } = t as { params: Record<string, Tensor> } & Record<string, Tensor>;
        return ditForward(params, latents!, promptEmbeds!, timestep!, dit);
      },
      { params: paramShapes, latents: inputs.latents, promptEmbeds: inputs.promptEmbeds, timestep: inputs.timestep },
      { name: "bench_dit_forward" },
    );
    step.set({ params: weights, latents: data.latents, promptEmbeds: data.promptEmbeds, timestep: data.timestep });
    return { step, run: () => step.execute() };
  }
  const names = specs.map((s) => s.name);
  const step = compile(
    (t) => {
      const { state, batch: b, step: stepIndex } = t as { state: BenchAdamState; batch: Record<string, Tensor>; step: Tensor };
      const { loss, grads } = ditLossAndGrads(state.params, b, dit, names);
      return { state: adamwAll(state, grads, stepIndex, names), loss };
    },
    { state: { params: paramShapes, m: paramShapes, v: paramShapes }, batch: inputs, step: { shape: [] } },
    { donate: ["state"], name: "bench_dit_train_step" },
  );
  const zeros = Object.fromEntries(specs.map((s) => [s.name, new Float32Array(weights[s.name]!.length)]));
  step.set({
    state: { params: weights, m: zeros, v: zeros },
    batch: { latents: data.latents, promptEmbeds: data.promptEmbeds, timestep: data.timestep, target: data.target },
  });
  let count = 0;
  return { step, run: () => step.execute({ step: ++count }) };
}

type BenchAdamState = AdamWTree;

/** The bench DiT's loss on a batch (MSE against its target) and its gradient for every parameter. */
function ditLossAndGrads(
  params: Record<string, Tensor>,
  b: Record<string, Tensor>,
  dit: ReturnType<typeof kilnDitConfig>,
  names: readonly string[],
): { loss: Tensor; grads: Tensor[] } {
  const loss = nn.mseLoss(ditForward(params, b.latents!, b.promptEmbeds!, b.timestep!, dit), b.target!);
  return {
    loss,
    grads: backward(
      loss,
      names.map((n) => params[n]!),
      ops.scalar(1),
    ),
  };
}

/** AdamW with the bench's constants on every parameter. */
function adamwAll(state: BenchAdamState, grads: readonly Tensor[], stepIndex: Tensor, names: readonly string[]): BenchAdamState {
  return adamwTree(state, names, grads, {
    step: stepIndex,
    lr: ops.scalar(adamW.lr),
    beta1: adamW.beta1,
    beta2: adamW.beta2,
    eps: adamW.eps,
    weightDecay: adamW.weightDecay,
  });
}

/** The median time of the sharded training step. */
async function timeSharded(config: AaaDitConfig, batch: number, shards: number, timing: { warmup: number; iters: number }): Promise<number> {
  const sharded = ditShardedTrainStep(config, batch, shards);
  try {
    return median(await timeRuns(sharded.run, timing));
  } finally {
    sharded.dispose();
  }
}

/** Threads a DiT training row's batch is split over: kiln's threads, when they divide the batch (else 1). */
function shardsFor(row: BenchRow): number {
  if (row.kind !== "dit_train_step") return 1;
  const threads = kilnThreads();
  return threads > 1 && row.batch % threads === 0 ? threads : 1;
}

/**
 * The same training step with the batch split into `shards` equal parts, one a thread: each thread
 * runs forward and backward of its part on its own copy of the gradient step, single-threaded and
 * without waiting for the others, reading the weights from the update step's memory; then one AdamW
 * step (on every thread) sums their gradients where they left them and applies the mean — the fused
 * step's update. Threads meet twice a step instead of at the end of
 * every kernel, so a thread another process takes the core from delays the step once, not every kernel.
 */
export function ditShardedTrainStep(config: AaaDitConfig, batch: number, shards: number): { run: () => Promise<void>; dispose: () => void } {
  if (batch % shards !== 0) throw new Error(`bench: batch ${batch} does not split into ${shards} equal shards`);
  const dit = kilnDitConfig(config);
  const specs = ditParamSpecs(config);
  const names = specs.map((s) => s.name);
  const part = batch / shards;
  const data = makeDitBatch(config, batch, 1);
  const paramShapes = Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }]));
  const inputs = ditBatchExample(config, part);
  const gradients = Array.from({ length: shards }, (_, i) => {
    const step = compile(
      (t) => {
        const { params, batch: b } = t as { params: Record<string, Tensor>; batch: Record<string, Tensor> };
        const { loss, grads } = ditLossAndGrads(params, b, dit, names);
        return { loss, grads: Object.fromEntries(names.map((n, j) => [n, grads[j]!])) };
      },
      { params: paramShapes, batch: inputs },
      { name: "bench_dit_train_grads" },
    );
    const slice = (values: Float32Array): Float32Array => values.subarray((values.length / shards) * i, (values.length / shards) * (i + 1));
    step.set({
      batch: { latents: slice(data.latents), promptEmbeds: slice(data.promptEmbeds), timestep: slice(data.timestep), target: slice(data.target) },
    });
    return step;
  });
  // The update step sums the shares' gradients itself, reading them where the shares leave them, and
  // the shares read the weights where the update step keeps them (as kiln train does): no copies.
  const apply = compile(
    (t) => {
      const { state, grads, step: stepIndex } = t as { state: BenchAdamState; grads: Record<string, Tensor>[]; step: Tensor };
      const mean = names.map((n) =>
        ops.mul(
          grads.slice(1).reduce((sum, g) => ops.add(sum, g[n]!), grads[0]![n]!),
          1 / shards,
        ),
      );
      return { state: adamwAll(state, mean, stepIndex, names) };
    },
    {
      state: { params: paramShapes, m: paramShapes, v: paramShapes },
      grads: Array.from({ length: shards }, () => paramShapes),
      step: { shape: [] },
    },
    { donate: ["state"], name: "bench_dit_train_apply" },
  );
  const weights = initDitWeights(config, 1);
  const zeros = Object.fromEntries(specs.map((s) => [s.name, new Float32Array(weights[s.name]!.length)]));
  apply.set({ state: { params: weights, m: zeros, v: zeros } });
  gradients.forEach((g, i) => {
    for (const n of names) {
      g.shareInput(`params/${n}`, apply, `state/params/${n}`);
      apply.shareInput(`grads/${i}/${n}`, g, `grads/${n}`);
    }
  });
  let count = 0;
  return {
    async run() {
      await Promise.all(gradients.map((g) => g.executeOnThread(1)));
      apply.execute({ step: ++count });
    },
    dispose() {
      for (const g of gradients) g.dispose();
      apply.dispose();
    },
  };
}

const ms = (m: Measurement): number | null => (isSkipped(m) ? null : m.ms);

export async function benchCpu(options: BenchOptions = {}): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const timing = { warmup: options.warmup ?? (options.quick ? 1 : 2), iters: options.iters ?? (options.quick ? 3 : 7) };
  const machine = measureCeilings();
  log(
    `machine: ${machine.cpu}, ${machine.threads} threads; ceilings measured now: ${machine.peak_gflops} GFLOP/s (FMA), ${machine.triad_gbps} GB/s (the faster of a triad counted with write-allocate and a plain read)`,
  );
  const torch = torchPeers();
  const peers: { column: PeerColumn; peer: Peer }[] = options.noPeers
    ? []
    : [
        { column: "tfjs_wasm", peer: cpuPeers[0]! },
        { column: "jaxjs", peer: cpuPeers[1]! },
        { column: "torch", peer: torch.eager },
        { column: "torch_compile", peer: torch.compiled },
      ];
  try {
    for (const { peer } of peers) {
      await peer.init();
      log(`peer: ${peer.describe()}`);
    }
    const rows = (options.quick ? cpuQuickRows() : cpuRows()).filter((r) => !options.only || r.name.includes(options.only));
    const results: RowResult[] = [];
    for (const row of rows) {
      log(`row: ${row.name}`);
      const rowTiming = options.iters !== undefined || options.warmup !== undefined ? timing : (row.timing ?? timing);
      const { step, run } = kilnStep(row);
      const kiln = median(await timeRuns(run, rowTiming));
      step.dispose();
      // The same step with its batch split over the threads, measured before any peer runs.
      const shards = shardsFor(row);
      const split = shards > 1 && row.kind === "dit_train_step" ? await timeSharded(row.config, row.batch, shards, rowTiming) : null;
      const result: RowResult = {
        name: row.name,
        kiln_ms: Number(kiln.toFixed(3)),
        gflops: Number((row.flops / (kiln * 1e6)).toFixed(2)),
        gbps: Number((row.bytes / (kiln * 1e6)).toFixed(2)),
        percent_of_ceiling: Number(((100 * rowRate(row, kiln)) / (row.metric === "GFLOP/s" ? machine.peak_gflops : machine.triad_gbps)).toFixed(1)),
        peers: noPeerTimes(),
        speedup: noSpeedups(),
      };
      for (const { column, peer } of peers) {
        if (row.peers && !row.peers.includes(peer.name)) continue;
        const measured = await peer.measure(row, rowTiming);
        if (isSkipped(measured)) log(`  ${peer.name}: skipped: ${measured.skipped}`);
        const peerMs = ms(measured);
        if (peerMs === null) continue;
        result.peers[`${column}_ms`] = Number(peerMs.toFixed(3));
        result.speedup[column] = Number((peerMs / kiln).toFixed(2));
      }
      if (row.peers) result.note = `peers: ${row.peers.join(", ")} only; ${rowTiming.warmup} warm-up, median of ${rowTiming.iters}`;
      results.push(result);
      if (split !== null && row.kind === "dit_train_step") {
        // Against the same peers' figures.
        const speedup = Object.fromEntries(
          Object.entries(result.speedup).map(([c, x]) => [c, x === null ? null : Number(((x * kiln) / split).toFixed(2))]),
        );
        results.push({
          ...result,
          name: `${row.name}, batch over ${shards} threads`,
          kiln_ms: Number(split.toFixed(3)),
          gflops: Number((row.flops / (split * 1e6)).toFixed(2)),
          gbps: Number((row.bytes / (split * 1e6)).toFixed(2)),
          percent_of_ceiling: Number(((100 * rowRate(row, split)) / machine.peak_gflops).toFixed(1)),
          speedup: speedup as RowResult["speedup"],
          note: `each thread computes b${row.batch / shards}'s gradients alone, then one AdamW step on ${shards} threads; peers as the row above`,
        });
      }
    }
    if (!options.only || "compile".includes(options.only)) results.push(...compileRows(options.quick ?? false));
    if (!options.only || "busy".includes(options.only)) {
      log("row: busy machine");
      results.push(await busyMachineRow({ quick: options.quick ?? false, torch: options.noPeers ? undefined : torch.eager, log }));
    }
    const blas = openBlasRow(timing);
    if (blas) results.push(blas);
    return { machine, peers: peers.map(({ peer }) => `${peer.name}: ${peer.describe()}`), rows: results };
  } finally {
    torch.eager.close();
  }
}

/**
 * The tiny DiT training step (batch 8) with and without one busy process, alternating, for kiln and
 * PyTorch eager in the same run: kiln with its batch split over its threads (when they divide it) and
 * as one step on all of them. kiln_ms is the split step's busy time; the note gives every slowdown.
 */
async function busyMachineRow(options: { quick: boolean; torch: Peer | undefined; log: (line: string) => void }): Promise<RowResult> {
  const row = ditTrainStepRow(8);
  const rounds = options.quick ? 2 : 4;
  const block = { warmup: 1, iters: options.quick ? 3 : 5 };
  const { step, run } = kilnStep(row);
  let fused: QuietVersusBusy;
  try {
    fused = await quietVersusBusy(() => timeRuns(run, block), rounds);
  } finally {
    step.dispose();
  }
  options.log(
    `  kiln, one step on ${kilnThreads()} threads: quiet ${fused.quietMs.toFixed(1)} ms, busy ${fused.busyMs.toFixed(1)} ms: ${fused.slowdown.toFixed(2)}×`,
  );
  const shards = shardsFor(row);
  let kiln = fused;
  if (shards > 1 && row.kind === "dit_train_step") {
    const sharded = ditShardedTrainStep(row.config, row.batch, shards);
    try {
      kiln = await quietVersusBusy(() => timeRuns(sharded.run, block), rounds);
    } finally {
      sharded.dispose();
    }
    options.log(
      `  kiln, batch over ${shards} threads: quiet ${kiln.quietMs.toFixed(1)} ms, busy ${kiln.busyMs.toFixed(1)} ms: ${kiln.slowdown.toFixed(2)}×`,
    );
  }
  let torch: QuietVersusBusy | { skipped: string } = { skipped: "peers not run (--no-peers)" };
  const peer = options.torch;
  if (peer) {
    try {
      torch = await quietVersusBusy(async () => {
        const measured = await peer.measure(row, block);
        if (isSkipped(measured)) throw new Error(measured.skipped);
        return [...measured.samplesMs];
      }, rounds);
      options.log(`  torch: quiet ${torch.quietMs.toFixed(1)} ms, busy ${torch.busyMs.toFixed(1)} ms: ${torch.slowdown.toFixed(2)}×`);
    } catch (error) {
      torch = { skipped: (error as Error).message };
    }
  }
  const torchNote =
    "skipped" in torch
      ? `torch: ${torch.skipped}`
      : `torch ${torch.quietMs.toFixed(1)} → ${torch.busyMs.toFixed(1)} ms: ${torch.slowdown.toFixed(2)}×`;
  const fusedNote =
    shards > 1
      ? ` (one step on ${kilnThreads()} threads: ${fused.quietMs.toFixed(1)} → ${fused.busyMs.toFixed(1)} ms: ${fused.slowdown.toFixed(2)}×)`
      : "";
  return {
    name: `${row.name}${shards > 1 ? `, batch over ${shards} threads` : ""}, one busy process`,
    kiln_ms: Number(kiln.busyMs.toFixed(3)),
    gflops: Number((row.flops / (kiln.busyMs * 1e6)).toFixed(2)),
    gbps: null,
    percent_of_ceiling: null,
    peers: { ...noPeerTimes(), torch_ms: "skipped" in torch ? null : Number(torch.busyMs.toFixed(3)) },
    speedup: { ...noSpeedups(), torch: "skipped" in torch ? null : Number((torch.busyMs / kiln.busyMs).toFixed(2)) },
    note: `quiet → busy: kiln ${kiln.quietMs.toFixed(1)} → ${kiln.busyMs.toFixed(1)} ms: ${kiln.slowdown.toFixed(2)}×${fusedNote}; ${torchNote} (${rounds} alternating rounds of ${block.iters} runs)`,
    busy: { kiln, fused, torch },
  };
}

/** Cold (empty cache) and warm (cached) compile time of the tiny DiT training step. */
function compileRows(quick: boolean): RowResult[] {
  const row = (quick ? cpuQuickRows() : cpuRows()).find((r) => r.kind === "dit_train_step")!;
  const saved = process.env.KILN_CACHE_DIR;
  const fresh = mkdtempSync(path.join(tmpdir(), "kiln-bench-cache-"));
  process.env.KILN_CACHE_DIR = fresh;
  const out: RowResult[] = [];
  try {
    for (const label of ["cold", "warm"]) {
      const t0 = performance.now();
      const { step } = kilnStep(row);
      const elapsed = performance.now() - t0;
      step.dispose();
      out.push({
        name: `compile ${row.name} (${label} cache)`,
        kiln_ms: Number(elapsed.toFixed(1)),
        gflops: null,
        gbps: null,
        percent_of_ceiling: null,
        peers: noPeerTimes(),
        speedup: noSpeedups(),
        note: `${step.kernelCount} kernels`,
      });
    }
  } finally {
    if (saved === undefined) delete process.env.KILN_CACHE_DIR;
    else process.env.KILN_CACHE_DIR = saved;
    rmSync(fresh, { recursive: true, force: true });
  }
  return out;
}

/** OpenBLAS's cblas_sgemm at 1024³ when Debian's libopenblas is installed: the machine's practical GEMM ceiling. */
function openBlasRow(timing: { warmup: number; iters: number }): RowResult | undefined {
  const candidates = [
    process.env.KILN_OPENBLAS,
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  ];
  const file = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (!file) return undefined;
  const lib = loadLibrary(file);
  const sgemm = lib.func("void cblas_sgemm(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int)") as (
    ...args: unknown[]
  ) => void;
  const n = 1024;
  const [a, b, c] = [fill(n * n, 1), fill(n * n, 2), new Float32Array(n * n)];
  const samples: number[] = [];
  for (let i = 0; i < timing.warmup + timing.iters; i++) {
    const t0 = performance.now();
    sgemm(101, 111, 111, n, n, n, 1, a, n, b, n, 0, c, n);
    if (i >= timing.warmup) samples.push(performance.now() - t0);
  }
  const t = median(samples);
  return {
    name: `OpenBLAS cblas_sgemm 1024x1024x1024 (${path.basename(file)})`,
    kiln_ms: null,
    gflops: Number(((2 * n ** 3) / (t * 1e6)).toFixed(2)),
    gbps: null,
    percent_of_ceiling: null,
    peers: noPeerTimes(),
    speedup: noSpeedups(),
    note: `${t.toFixed(3)} ms: the machine's practical GEMM ceiling`,
  };
}

export function formatTable(report: BenchReport): string {
  const headers: Record<PeerColumn, string> = { tfjs_wasm: "tfjs ms", jaxjs: "jax-js ms", torch: "torch ms", torch_compile: "t.compile" };
  const lines = [
    `${report.machine.cpu}, ${report.machine.threads} threads; ceilings: ${report.machine.peak_gflops} GFLOP/s, ${report.machine.triad_gbps} GB/s`,
    ...report.peers,
    `${"row".padEnd(44)} ${"kiln ms".padStart(10)} ${"rate".padStart(14)} ${"%ceil".padStart(6)}${PEER_COLUMNS.map((c) => ` ${headers[c].padStart(10)} ${"×".padStart(6)}`).join("")}`,
  ];
  for (const r of report.rows) {
    const rate =
      r.gflops !== null && r.name.startsWith("OpenBLAS")
        ? `${r.gflops} GFLOP/s`
        : r.gbps !== null && /elementwise|layer_norm|softmax/.test(r.name)
          ? `${r.gbps} GB/s`
          : r.gflops !== null
            ? `${r.gflops} GFLOP/s`
            : "";
    const num = (x: number | null, width: number) => (x === null ? "-" : String(x)).padStart(width);
    const peers = PEER_COLUMNS.map((c) => ` ${num(r.peers[`${c}_ms`], 10)} ${num(r.speedup[c], 6)}`).join("");
    lines.push(
      `${r.name.padEnd(44).slice(0, 44)} ${num(r.kiln_ms, 10)} ${rate.padStart(14)} ${num(r.percent_of_ceiling, 6)}${peers}${r.note ? "  " + r.note : ""}`,
    );
  }
  return lines.join("\n");
}
