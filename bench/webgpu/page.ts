/// <reference lib="dom" />
// The bench page's script (bundled by bench/webgpu/run.ts): `window.kilnBench.run(options)` loads
// the three libraries (one that fails is reported as skipped, with the reason), then for each row
// prepares it on each library, checks every peer's output against kiln's, and times the libraries in
// turn, run by run, so that a slower or busier moment of the machine falls on all of them alike.

import { initDitWeights, makeDitBatch } from "../tiny-dit.ts";
import { median } from "../timing.ts";
import { type Contender, gemmInputs, jaxjsContender, kilnContender, type Prepared, tfjsContender } from "./contenders.ts";
import {
  CONTENDERS,
  type ContenderInfo,
  type ContenderName,
  ditStepFlops,
  ditStepName,
  type Figure,
  gemmFlops,
  gemmName,
  isSwiftShader,
  type WebGpuBenchOptions,
  type WebGpuReport,
  type WebGpuRow,
} from "./core.ts";

const LOADERS: Record<ContenderName, () => Promise<Contender>> = {
  kiln: kilnContender,
  "tfjs-webgpu": tfjsContender,
  "jaxjs-webgpu": jaxjsContender,
};

const log = (line: string): void => console.log(`[bench] ${line}`);
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split("\n")[0]!;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`outputs differ in length: ${a.length} against kiln's ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const largest = (values: Float32Array): number => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** One row on every loaded library: prepare, warm up, compare with kiln, then timed runs in turn. */
async function measureRow(
  name: string,
  kind: WebGpuRow["kind"],
  flops: number,
  loaded: Map<ContenderName, Contender>,
  prepare: (c: Contender) => Promise<Prepared>,
  options: WebGpuBenchOptions,
): Promise<WebGpuRow> {
  log(`row: ${name}`);
  const figures = {} as Record<ContenderName, Figure>;
  const ready = new Map<ContenderName, Prepared>();
  const outputs = new Map<ContenderName, Float32Array>();
  for (const contenderName of CONTENDERS) {
    const contender = loaded.get(contenderName);
    if (!contender) {
      figures[contenderName] = { skipped: "did not load" };
      continue;
    }
    try {
      const prepared = await prepare(contender);
      for (let i = 0; i < options.warmup; i++) await prepared.run();
      outputs.set(contenderName, await prepared.output());
      ready.set(contenderName, prepared);
    } catch (error) {
      figures[contenderName] = { skipped: message(error) };
      log(`  ${contenderName}: skipped: ${message(error)}`);
    }
  }
  const samples = new Map<ContenderName, number[]>([...ready.keys()].map((n) => [n, []]));
  for (let i = 0; i < options.iters; i++) {
    for (const [contenderName, prepared] of ready) {
      const start = performance.now();
      await prepared.run();
      samples.get(contenderName)!.push(performance.now() - start);
    }
  }
  const reference = outputs.get("kiln");
  for (const [contenderName, prepared] of ready) {
    const ms = median(samples.get(contenderName)!);
    const output = outputs.get(contenderName)!;
    const diff = contenderName === "kiln" || !reference ? null : maxAbsDiff(output, reference);
    figures[contenderName] = { ms, samplesMs: samples.get(contenderName)!, gflops: flops / (ms * 1e6), maxAbsDiff: diff };
    log(`  ${contenderName}: ${ms.toFixed(2)} ms${diff === null ? "" : `, max|Δ| vs kiln ${diff.toExponential(1)}`}`);
    prepared.release();
  }
  return { name, kind, flops, outputScale: reference ? largest(reference) : null, figures };
}

async function run(options: WebGpuBenchOptions): Promise<WebGpuReport> {
  if (!("gpu" in navigator)) throw new Error("this browser has no WebGPU (navigator.gpu is missing); start Chromium with --enable-unsafe-webgpu");
  const loaded = new Map<ContenderName, Contender>();
  const contenders: ContenderInfo[] = [];
  for (const name of CONTENDERS) {
    try {
      const contender = await LOADERS[name]();
      loaded.set(name, contender);
      contenders.push({ name, describe: contender.describe, adapter: contender.adapter });
      log(`${name}: ${contender.describe} on ${contender.adapter}`);
    } catch (error) {
      contenders.push({ name, describe: "", adapter: null, skipped: message(error) });
      log(`${name}: skipped: ${message(error)}`);
    }
  }
  const kiln = loaded.get("kiln");
  const adapter = kiln?.adapter ?? contenders.find((c) => c.adapter)?.adapter ?? "no adapter";
  const rows: WebGpuRow[] = [];
  for (const shape of options.gemms) {
    const { a, b } = gemmInputs(shape);
    rows.push(await measureRow(gemmName(shape), "gemm", gemmFlops(shape), loaded, (c) => c.gemm(shape, a, b), options));
  }
  if (options.dit) {
    const { config, batch } = options.dit;
    const weights = initDitWeights(config, 1);
    const inputs = makeDitBatch(config, batch, 2);
    rows.push(
      await measureRow(ditStepName(options.dit), "dit_step", ditStepFlops(options.dit), loaded, (c) => c.dit(config, weights, inputs), options),
    );
  }
  return {
    browser: navigator.userAgent.match(/(Headless)?Chrom(e|ium)\/[\d.]+/)?.[0] ?? navigator.userAgent,
    adapter,
    emulated: isSwiftShader(adapter),
    contenders,
    rows,
    timing: { warmup: options.warmup, iters: options.iters },
  };
}

(window as unknown as { kilnBench: { run: typeof run } }).kilnBench = { run };
