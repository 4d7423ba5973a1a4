// `kiln bench cpu`: every row of bench/rows.ts run by kiln (compiled steps) and, in the same process,
// by TensorFlow.js (wasm) and jax-js (wasm, jit), with each rate as a percent of this machine's
// ceilings measured in the same run (an AVX-512 FMA loop for GFLOP/s, a triad for GB/s).

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import koffi from "koffi";
import { nn, ops, type Tensor } from "../compiler/index.ts";
import { compile, loadLibrary, type CompiledStep } from "../runtime/compile.ts";
import { compileC } from "../runtime/cpu/toolchain.ts";
import { ditForward, ditConfig } from "../models/dit.ts";
import { adamwUpdate } from "../models/optim.ts";
import { backward } from "../compiler/index.ts";
import { cpuRows, cpuQuickRows, rowRate, type BenchRow } from "./rows.ts";
import { initDitWeights, makeDitBatch, ditParamSpecs, adamW, type AaaDitConfig } from "./tiny-dit.ts";
import { seededNormal } from "./random-data.ts";
import { median, timeRuns } from "./timing.ts";
import { cpuPeers, isSkipped, type Measurement } from "./peers/index.ts";

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
  peers: { tfjs_wasm_ms: number | null; jaxjs_ms: number | null };
  /** peer time / kiln time (above 1: kiln is faster). */
  speedup: { tfjs_wasm: number | null; jaxjs: number | null };
  note?: string;
}

export interface BenchReport {
  /** Ceilings measured in the run: FMA peak, and memory bandwidth (triad with write-allocate, or a plain read, whichever is faster). */
  machine: { cpu: string; threads: number; peak_gflops: number; triad_gbps: number };
  rows: RowResult[];
}

const CEILING_C = `
#include <immintrin.h>
#include <omp.h>
/* Peak: 12 independent FMA chains per thread on 16-lane vectors (2 FMAs · 16 lanes per instruction). */
double kiln_peak_fma(long iterations) {
  double total = 0;
  #pragma omp parallel reduction(+:total)
  {
    __m512 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iterations; it++)
      for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    float sink[16];
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    _mm512_storeu_ps(sink, s);
    total += sink[0] * 0;
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
  const triad = lib.func("void kiln_triad(float* a, const float* b, const float* c, long n)") as (a: Float32Array, b: Float32Array, c: Float32Array, n: number) => void;
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

/** kiln's side of a row: a compiled step with its inputs set, and a function that runs it once. */
function kilnStep(row: BenchRow): { step: CompiledStep; run: () => void } {
  switch (row.kind) {
    case "gemm": {
      const { m, k, n, transposeB } = row;
      const step = compile((t) => {
        const { a, b } = t as { a: Tensor; b: Tensor };
        return transposeB ? ops.dot(a, ops.transpose(b)) : ops.dot(a, b);
      }, { a: { shape: [m, k] }, b: { shape: transposeB ? [n, k] : [k, n] } }, { name: `bench_${row.kind}` });
      step.set({ a: fill(m * k, 1), b: fill(k * n, 2) });
      return { step, run: () => step.execute() };
    }
    case "elementwise": {
      const shape = [row.size];
      const step = compile((t) => {
        const { x, a, b, c } = t as Record<string, Tensor>;
        return ops.mul(nn.silu(ops.add(ops.mul(x!, a!), b!)), c!);
      }, { x: { shape }, a: { shape }, b: { shape }, c: { shape } });
      step.set({ x: fill(row.size, 1), a: fill(row.size, 2), b: fill(row.size, 3), c: fill(row.size, 4) });
      return { step, run: () => step.execute() };
    }
    case "layer_norm": {
      const step = compile((t) => {
        const { x, w, b } = t as Record<string, Tensor>;
        return nn.layerNorm(x!, { weight: w!, bias: b!, eps: row.eps });
      }, { x: { shape: [row.rows, row.cols] }, w: { shape: [row.cols] }, b: { shape: [row.cols] } });
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
      const step = compile((t) => {
        const { q, k, v } = t as Record<string, Tensor>;
        return nn.attention(q!, k!, v!, { heads: row.heads, scale: row.scale });
      }, { q: { shape }, k: { shape }, v: { shape } });
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

/** The tiny DiT of bench/tiny-dit.ts in kiln: forward, or forward + MSE + backward + AdamW with the state donated. */
function ditStep(config: AaaDitConfig, batch: number, training: boolean): { step: CompiledStep; run: () => void } {
  const dit = ditConfig({ dim: config.dim, depth: config.depth, heads: config.heads, ffDim: config.ffDim, latentChannels: config.latentChannels, textDim: config.textFeatures, posGrid: config.latentHeight });
  const specs = ditParamSpecs(config);
  const weights = initDitWeights(config, 1);
  const data = makeDitBatch(config, batch, 1);
  const latentShape = [batch, config.latentChannels, config.latentHeight, config.latentWidth];
  const inputs = { latents: { shape: latentShape }, promptEmbeds: { shape: [batch, config.textTokens, config.textFeatures] }, timestep: { shape: [batch] }, target: { shape: latentShape } };
  const paramShapes = Object.fromEntries(specs.map((s) => [s.name, { shape: s.shape }]));
  if (!training) {
    const step = compile((t) => {
      const { params, latents, promptEmbeds, timestep } = t as { params: Record<string, Tensor> } & Record<string, Tensor>;
      return ditForward(params, latents!, promptEmbeds!, timestep!, dit);
    }, { params: paramShapes, latents: inputs.latents, promptEmbeds: inputs.promptEmbeds, timestep: inputs.timestep }, { name: "bench_dit_forward" });
    step.set({ params: weights, latents: data.latents, promptEmbeds: data.promptEmbeds, timestep: data.timestep });
    return { step, run: () => step.execute() };
  }
  const step = compile((t) => {
    const { state, batch: b, step: stepIndex } = t as { state: { params: Record<string, Tensor>; m: Record<string, Tensor>; v: Record<string, Tensor> }; batch: Record<string, Tensor>; step: Tensor };
    const loss = nn.mseLoss(ditForward(state.params, b.latents!, b.promptEmbeds!, b.timestep!, dit), b.target!);
    const names = specs.map((s) => s.name);
    const grads = backward(loss, names.map((n) => state.params[n]!), ops.scalar(1));
    const next = { params: {} as Record<string, Tensor>, m: {} as Record<string, Tensor>, v: {} as Record<string, Tensor> };
    names.forEach((name, i) => {
      const u = adamwUpdate(state.params[name]!, grads[i]!, state.m[name]!, state.v[name]!, { step: stepIndex, lr: ops.scalar(adamW.lr), beta1: adamW.beta1, beta2: adamW.beta2, eps: adamW.eps, weightDecay: adamW.weightDecay });
      next.params[name] = u.param;
      next.m[name] = u.m;
      next.v[name] = u.v;
    });
    return { state: next, loss };
  }, { state: { params: paramShapes, m: paramShapes, v: paramShapes }, batch: inputs, step: { shape: [] } }, { donate: ["state"], name: "bench_dit_train_step" });
  const zeros = Object.fromEntries(specs.map((s) => [s.name, new Float32Array(weights[s.name]!.length)]));
  step.set({ state: { params: weights, m: zeros, v: zeros }, batch: { latents: data.latents, promptEmbeds: data.promptEmbeds, timestep: data.timestep, target: data.target } });
  let count = 0;
  return { step, run: () => step.execute({ step: ++count }) };
}

const ms = (m: Measurement): number | null => (isSkipped(m) ? null : m.ms);

export async function benchCpu(options: BenchOptions = {}): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const timing = { warmup: options.warmup ?? (options.quick ? 1 : 2), iters: options.iters ?? (options.quick ? 3 : 7) };
  const machine = measureCeilings();
  log(`machine: ${machine.cpu}, ${machine.threads} threads; ceilings measured now: ${machine.peak_gflops} GFLOP/s (FMA), ${machine.triad_gbps} GB/s (the faster of a triad counted with write-allocate and a plain read)`);
  const peers = options.noPeers ? [] : cpuPeers;
  for (const peer of peers) {
    await peer.init();
    log(`peer: ${peer.describe()}`);
  }
  const rows = (options.quick ? cpuQuickRows() : cpuRows()).filter((r) => !options.only || r.name.includes(options.only));
  const results: RowResult[] = [];
  for (const row of rows) {
    log(`row: ${row.name}`);
    const { step, run } = kilnStep(row);
    const kiln = median(await timeRuns(run, timing));
    step.dispose();
    const peerTimes: (number | null)[] = [];
    for (const peer of peers) peerTimes.push(ms(await peer.measure(row, timing)));
    const rate = rowRate(row, kiln);
    const ceiling = row.metric === "GFLOP/s" ? machine.peak_gflops : machine.triad_gbps;
    const [tfjs = null, jaxjs = null] = peerTimes;
    results.push({
      name: row.name,
      kiln_ms: Number(kiln.toFixed(3)),
      gflops: Number((row.flops / (kiln * 1e6)).toFixed(2)),
      gbps: Number((row.bytes / (kiln * 1e6)).toFixed(2)),
      percent_of_ceiling: Number(((100 * rate) / ceiling).toFixed(1)),
      peers: { tfjs_wasm_ms: tfjs === null ? null : Number(tfjs.toFixed(3)), jaxjs_ms: jaxjs === null ? null : Number(jaxjs.toFixed(3)) },
      speedup: { tfjs_wasm: tfjs === null ? null : Number((tfjs / kiln).toFixed(2)), jaxjs: jaxjs === null ? null : Number((jaxjs / kiln).toFixed(2)) },
    });
  }
  if (!options.only || "compile".includes(options.only)) results.push(...compileRows(options.quick ?? false));
  const blas = openBlasRow(timing);
  if (blas) results.push(blas);
  return { machine, rows: results };
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
      out.push({ name: `compile ${row.name} (${label} cache)`, kiln_ms: Number(elapsed.toFixed(1)), gflops: null, gbps: null, percent_of_ceiling: null, peers: { tfjs_wasm_ms: null, jaxjs_ms: null }, speedup: { tfjs_wasm: null, jaxjs: null }, note: `${step.kernelCount} kernels` });
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
  const candidates = [process.env.KILN_OPENBLAS, "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"];
  const file = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (!file) return undefined;
  const lib = loadLibrary(file);
  const sgemm = lib.func("void cblas_sgemm(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int)") as (...args: unknown[]) => void;
  const n = 1024;
  const [a, b, c] = [fill(n * n, 1), fill(n * n, 2), new Float32Array(n * n)];
  const samples: number[] = [];
  for (let i = 0; i < timing.warmup + timing.iters; i++) {
    const t0 = performance.now();
    sgemm(101, 111, 111, n, n, n, 1, a, n, b, n, 0, c, n);
    if (i >= timing.warmup) samples.push(performance.now() - t0);
  }
  const t = median(samples);
  return { name: `OpenBLAS cblas_sgemm 1024x1024x1024 (${path.basename(file)})`, kiln_ms: null, gflops: Number(((2 * n ** 3) / (t * 1e6)).toFixed(2)), gbps: null, percent_of_ceiling: null, peers: { tfjs_wasm_ms: null, jaxjs_ms: null }, speedup: { tfjs_wasm: null, jaxjs: null }, note: `${t.toFixed(3)} ms: the machine's practical GEMM ceiling` };
}

export function formatTable(report: BenchReport): string {
  const lines = [
    `${report.machine.cpu}, ${report.machine.threads} threads; ceilings: ${report.machine.peak_gflops} GFLOP/s, ${report.machine.triad_gbps} GB/s`,
    `${"row".padEnd(44)} ${"kiln ms".padStart(10)} ${"rate".padStart(14)} ${"%ceil".padStart(6)} ${"tfjs ms".padStart(10)} ${"×".padStart(6)} ${"jax-js ms".padStart(10)} ${"×".padStart(6)}`,
  ];
  for (const r of report.rows) {
    const rate = r.gflops !== null && r.name.startsWith("OpenBLAS") ? `${r.gflops} GFLOP/s` : r.gbps !== null && /elementwise|layer_norm|softmax/.test(r.name) ? `${r.gbps} GB/s` : r.gflops !== null ? `${r.gflops} GFLOP/s` : r.note ?? "";
    const num = (x: number | null, width: number) => (x === null ? "-" : String(x)).padStart(width);
    lines.push(`${r.name.padEnd(44).slice(0, 44)} ${num(r.kiln_ms, 10)} ${rate.padStart(14)} ${num(r.percent_of_ceiling, 6)} ${num(r.peers.tfjs_wasm_ms, 10)} ${num(r.speedup.tfjs_wasm, 6)} ${num(r.peers.jaxjs_ms, 10)} ${num(r.speedup.jaxjs, 6)}${r.note && !rate.includes(r.note) ? "  " + r.note : ""}`);
  }
  return lines.join("\n");
}
