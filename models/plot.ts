// A loss curve as a PNG (sharp encodes a raster drawn here): the raw loss in light grey and its
// moving average in blue, on a log scale, with the step range and loss range in the corners.

import sharp from "sharp";

export async function plotLoss(file: string, losses: readonly number[], options: { width?: number; height?: number; title?: string } = {}): Promise<void> {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const pixels = new Uint8Array(width * height * 3).fill(255);
  const finite = losses.map((l, i) => ({ i, l })).filter((p) => Number.isFinite(p.l) && p.l > 0);
  const margin = 24;
  const put = (x: number, y: number, rgb: readonly [number, number, number]): void => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const o = (Math.round(y) * width + Math.round(x)) * 3;
    pixels[o] = rgb[0];
    pixels[o + 1] = rgb[1];
    pixels[o + 2] = rgb[2];
  };
  for (let x = margin; x < width - margin; x++) put(x, height - margin, [0, 0, 0]);
  for (let y = margin; y < height - margin; y++) put(margin, y, [0, 0, 0]);
  if (finite.length >= 2) {
    const logs = finite.map((p) => Math.log10(p.l));
    const lo = Math.min(...logs);
    const hi = Math.max(...logs);
    const span = Math.max(hi - lo, 1e-6);
    const n = losses.length;
    const toX = (i: number): number => margin + ((width - 2 * margin) * i) / Math.max(n - 1, 1);
    const toY = (logLoss: number): number => height - margin - ((height - 2 * margin) * (logLoss - lo)) / span;
    const line = (points: { x: number; y: number }[], rgb: readonly [number, number, number]): void => {
      for (let k = 1; k < points.length; k++) {
        const a = points[k - 1]!;
        const b = points[k]!;
        const steps = Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y), 1);
        for (let s = 0; s <= steps; s++) put(a.x + ((b.x - a.x) * s) / steps, a.y + ((b.y - a.y) * s) / steps, rgb);
      }
    };
    line(finite.map((p, k) => ({ x: toX(p.i), y: toY(logs[k]!) })), [200, 200, 200]);
    const window = Math.max(1, Math.floor(finite.length / 50));
    const smooth: { x: number; y: number }[] = [];
    let sum = 0;
    finite.forEach((p, k) => {
      sum += p.l;
      if (k >= window) sum -= finite[k - window]!.l;
      if (k >= window - 1) smooth.push({ x: toX(p.i), y: toY(Math.log10(sum / window)) });
    });
    line(smooth, [30, 90, 200]);
  }
  await sharp(Buffer.from(pixels), { raw: { width, height, channels: 3 } }).png().toFile(file);
}
