// A loss curve as a PNG (sharp encodes a raster drawn here, text in models/bitmap-font.ts): the raw
// loss in light grey and its moving average in blue against the step, on a log scale, with axes, tick
// values, grid lines, axis labels and a legend.

import { writeFile } from "node:fs/promises";
import sharp from "sharp";
import { drawText, GLYPH_HEIGHT, textWidth } from "./bitmap-font.ts";

export interface LossPoint {
  step: number;
  loss: number;
}

type Rgb = readonly [number, number, number];
const TEXT_SCALE = 2;
const MARGIN = { left: 96, right: 24, top: 48, bottom: 64 } as const;
const GREY: Rgb = [190, 190, 190];
const BLUE: Rgb = [30, 90, 200];
const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [235, 235, 235];

/** Round tick values ({1, 2, 5}·10^k apart), about `target` of them, covering [lo, hi]. */
export function linearTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Tick values for a log axis over [lo, hi] (both > 0): 1, 2, 5 per decade, or round linear values inside a narrow range. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++)
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= lo && v <= hi) ticks.push(v);
    }
  return ticks.length >= 3 ? ticks : linearTicks(lo, hi, 4).filter((v) => v > 0);
}

/** A tick value as a short label: "0.05", "1.2", "20000", "1e-5". */
export function tickLabel(value: number): string {
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(0).replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}

export interface LossPlotLayout {
  width: number;
  height: number;
  steps: [number, number];
  losses: [number, number];
  xTicks: { value: number; label: string; x: number }[];
  yTicks: { value: number; label: string; y: number }[];
  toX(step: number): number;
  toY(loss: number): number;
}

/** Where everything goes, for the finite positive losses of `points`; undefined when fewer than two. */
export function lossPlotLayout(points: readonly LossPoint[], width = 800, height = 450): LossPlotLayout | undefined {
  const finite = points.filter((p) => Number.isFinite(p.loss) && p.loss > 0);
  if (finite.length < 2) return undefined;
  const firstStep = Math.min(...finite.map((p) => p.step));
  const lastStep = Math.max(firstStep + 1, ...finite.map((p) => p.step));
  const logs = finite.map((p) => Math.log10(p.loss));
  const pad = Math.max((Math.max(...logs) - Math.min(...logs)) * 0.05, 0.02);
  const lo = Math.min(...logs) - pad;
  const hi = Math.max(...logs) + pad;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const toX = (step: number): number => MARGIN.left + (plotW * (step - firstStep)) / (lastStep - firstStep);
  const toY = (loss: number): number => MARGIN.top + plotH - (plotH * (Math.log10(loss) - lo)) / (hi - lo);
  return {
    width,
    height,
    steps: [firstStep, lastStep],
    losses: [10 ** lo, 10 ** hi],
    xTicks: linearTicks(firstStep, lastStep).map((value) => ({ value, label: tickLabel(value), x: Math.round(toX(value)) })),
    yTicks: logTicks(10 ** lo, 10 ** hi).map((value) => ({ value, label: tickLabel(value), y: Math.round(toY(value)) })),
    toX,
    toY,
  };
}

/** The moving average of the losses over a window of about a fiftieth of the run. */
function movingAverage(points: readonly LossPoint[]): LossPoint[] {
  const window = Math.max(1, Math.floor(points.length / 50));
  const out: LossPoint[] = [];
  let sum = 0;
  points.forEach((p, k) => {
    sum += p.loss;
    if (k >= window) sum -= points[k - window]!.loss;
    if (k >= window - 1) out.push({ step: p.step, loss: sum / window });
  });
  return out;
}

/** The plot as raw RGB pixels. */
export function renderLossPlot(points: readonly LossPoint[], width = 800, height = 450): { pixels: Uint8Array; width: number; height: number } {
  const pixels = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, rgb: Rgb): void => {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= width || py >= height) return;
    pixels.set(rgb, (py * width + px) * 3);
  };
  const text = (s: string, x: number, y: number, rgb: Rgb = BLACK): void => drawText(s, x, y, (px, py) => put(px, py, rgb), TEXT_SCALE);
  const line = (a: { x: number; y: number }, b: { x: number; y: number }, rgb: Rgb): void => {
    const n = Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y), 1);
    for (let s = 0; s <= n; s++) put(a.x + ((b.x - a.x) * s) / n, a.y + ((b.y - a.y) * s) / n, rgb);
  };
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const glyph = GLYPH_HEIGHT * TEXT_SCALE;
  const layout = lossPlotLayout(points, width, height);
  if (layout) {
    for (const t of layout.xTicks) {
      line({ x: t.x, y: top }, { x: t.x, y: bottom }, GRID);
      line({ x: t.x, y: bottom }, { x: t.x, y: bottom + 5 }, BLACK);
      text(t.label, t.x - textWidth(t.label, TEXT_SCALE) / 2, bottom + 9);
    }
    for (const t of layout.yTicks) {
      line({ x: left, y: t.y }, { x: right, y: t.y }, GRID);
      line({ x: left - 5, y: t.y }, { x: left, y: t.y }, BLACK);
      text(t.label, left - 9 - textWidth(t.label, TEXT_SCALE), t.y - glyph / 2);
    }
    const finite = points.filter((p) => Number.isFinite(p.loss) && p.loss > 0).sort((a, b) => a.step - b.step);
    const trace = (series: readonly LossPoint[], rgb: Rgb): void => {
      for (let k = 1; k < series.length; k++)
        line(
          { x: layout.toX(series[k - 1]!.step), y: layout.toY(series[k - 1]!.loss) },
          { x: layout.toX(series[k]!.step), y: layout.toY(series[k]!.loss) },
          rgb,
        );
    };
    trace(finite, GREY);
    trace(movingAverage(finite), BLUE);
  } else text("fewer than two finite losses to plot", left + 12, top + 12);
  line({ x: left, y: bottom }, { x: right, y: bottom }, BLACK);
  line({ x: left, y: top }, { x: left, y: bottom }, BLACK);
  text("step", (left + right) / 2 - textWidth("step", TEXT_SCALE) / 2, bottom + 9 + glyph + 10);
  text("loss (log scale)", 8, 14);
  // Legend, top right.
  const legend: [string, Rgb][] = [
    ["loss", GREY],
    ["moving average", BLUE],
  ];
  let x = right;
  for (const [label, rgb] of [...legend].reverse()) {
    x -= textWidth(label, TEXT_SCALE);
    text(label, x, 14);
    for (let dy = -1; dy <= 1; dy++) line({ x: x - 30, y: 14 + glyph / 2 + dy }, { x: x - 8, y: 14 + glyph / 2 + dy }, rgb);
    x -= 48;
  }
  return { pixels, width, height };
}

export async function plotLoss(file: string, points: readonly LossPoint[], options: { width?: number; height?: number } = {}): Promise<void> {
  await writeFile(file, await lossPlotPng(points, options));
}

/** The loss plot as PNG bytes (`kiln serve` draws it afresh from the run's log for each request). */
export async function lossPlotPng(points: readonly LossPoint[], options: { width?: number; height?: number } = {}): Promise<Buffer> {
  const { pixels, width, height } = renderLossPlot(points, options.width, options.height);
  return sharp(Buffer.from(pixels), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
