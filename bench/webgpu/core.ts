// `kiln bench webgpu`: what the bench page measures (its options) and what it reports, and the report
// as a table. Shared by the page (bench/webgpu/page.ts, in the browser) and the Node side
// (bench/webgpu/run.ts), so it imports nothing from Node.

import { type AaaDitConfig, ditForwardFlops } from "../tiny-dit.ts";

/** C[m, n] = A[m, k] · B[k, n], f32, every library's plain 2-D product. */
export interface GemmShape {
  m: number;
  k: number;
  n: number;
  /** What the shape stands for, e.g. "DiT ff.0". */
  note?: string;
}

export interface WebGpuBenchOptions {
  gemms: GemmShape[];
  /** One sampling step: the DiT forward at `batch` (2: the positive and negative branches of guidance). */
  dit: { config: AaaDitConfig; batch: number; note: string } | null;
  warmup: number;
  iters: number;
}

/** The three libraries measured, in table order; kiln is the reference for the differences. */
export const CONTENDERS = ["kiln", "tfjs-webgpu", "jaxjs-webgpu"] as const;
export type ContenderName = (typeof CONTENDERS)[number];

export interface ContenderInfo {
  name: ContenderName;
  /** Library, version and backend; or why it did not load. */
  describe: string;
  /** The adapter its GPUDevice came from, in words (vendor / architecture / description). */
  adapter: string | null;
  skipped?: string;
}

export type Figure =
  | {
      ms: number;
      samplesMs: number[];
      gflops: number;
      /** Largest |this − kiln| over the output; null for kiln itself. */
      maxAbsDiff: number | null;
    }
  | { skipped: string };

export interface WebGpuRow {
  name: string;
  kind: "gemm" | "dit_step";
  flops: number;
  /** Largest |value| of kiln's output, the scale the differences are read against. */
  outputScale: number | null;
  figures: Record<ContenderName, Figure>;
}

export interface WebGpuReport {
  browser: string;
  /** The adapter in words, and whether it is SwiftShader (Vulkan on the CPU: a CPU emulation). */
  adapter: string;
  emulated: boolean;
  contenders: ContenderInfo[];
  rows: WebGpuRow[];
  timing: { warmup: number; iters: number };
}

export const isSkippedFigure = (figure: Figure): figure is { skipped: string } => "skipped" in figure;

/** SwiftShader (Chromium's Vulkan on the CPU) names itself in the adapter's architecture or description. */
export const isSwiftShader = (adapter: string): boolean => /swiftshader/i.test(adapter);

export const gemmName = (g: GemmShape): string => `gemm ${g.m}×${g.k}×${g.n} f32${g.note ? ` (${g.note})` : ""}`;
export const gemmFlops = (g: GemmShape): number => 2 * g.m * g.k * g.n;
export const ditStepName = (dit: NonNullable<WebGpuBenchOptions["dit"]>): string => `DiT step, batch ${dit.batch} (${dit.note})`;
export const ditStepFlops = (dit: NonNullable<WebGpuBenchOptions["dit"]>): number => ditForwardFlops(dit.config, dit.batch);

/** The figures' adapter, short: SwiftShader is labelled as the CPU emulation it is. */
function adapterLabel(adapter: string | null): string {
  if (adapter === null) return "-";
  return isSwiftShader(adapter) ? "SwiftShader: CPU emulation" : adapter;
}

const pad = (text: string, width: number): string => text.padEnd(width);
const lpad = (text: string, width: number): string => text.padStart(width);

/** The report as lines: every figure with its adapter, kiln's time over each peer's, and the largest difference from kiln. */
export function formatWebGpuReport(report: WebGpuReport): string {
  const lines = [
    `kiln bench webgpu: ${report.browser}, warm-up ${report.timing.warmup}, median of ${report.timing.iters} runs (each run waits for the GPU to finish)`,
    `adapter: ${report.adapter}${report.emulated ? " — CPU emulation (SwiftShader): these are CPU figures, not a GPU's" : ""}`,
    ...report.contenders.map((c) => `  ${pad(c.name, 13)} ${c.skipped ? `skipped: ${c.skipped}` : c.describe}`),
    "",
    `${pad("row", 44)} ${pad("library", 13)} ${pad("adapter", 28)} ${lpad("ms", 9)} ${lpad("GFLOP/s", 8)} ${lpad("kiln/peer", 10)} ${lpad("max|Δ| vs kiln", 15)}`,
  ];
  for (const row of report.rows) {
    const kiln = row.figures.kiln;
    CONTENDERS.forEach((name, i) => {
      const figure = row.figures[name];
      const info = report.contenders.find((c) => c.name === name);
      const head = `${pad(i === 0 ? row.name : "", 44)} ${pad(name, 13)} ${pad(adapterLabel(info?.adapter ?? null), 28)}`;
      if (isSkippedFigure(figure)) {
        lines.push(`${head} skipped: ${figure.skipped}`);
        return;
      }
      const ratio = name === "kiln" || isSkippedFigure(kiln) ? "" : (kiln.ms / figure.ms).toFixed(2);
      const diff = figure.maxAbsDiff === null ? "" : figure.maxAbsDiff.toExponential(1);
      lines.push(`${head} ${lpad(figure.ms.toFixed(2), 9)} ${lpad(figure.gflops.toFixed(1), 8)} ${lpad(ratio, 10)} ${lpad(diff, 15)}`);
    });
    if (row.outputScale !== null) lines.push(`${pad("", 44)} (largest |value| of kiln's output: ${row.outputScale.toPrecision(3)})`);
  }
  lines.push(
    "",
    "kiln/peer: kiln's median time over the peer's (below 1: kiln is faster; the issue's target for the DiT step is at most 0.5 against tfjs-webgpu).",
  );
  return lines.join("\n");
}
