// Wall-clock timing shared by kiln's benchmark side and the peers: warm-up runs, then the median of
// timed runs. Each run must itself force completion of its work before it returns.

export interface TimingOptions {
  /** Untimed runs first (compilation, caches, allocator warm-up). */
  warmup: number;
  /** Timed runs; the median is reported. */
  iters: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median: expected at least one value, found none");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds of each timed run of `run` (which must return only once its work is complete). */
export async function timeRuns(run: () => void | Promise<void>, options: TimingOptions): Promise<number[]> {
  if (!Number.isInteger(options.iters) || options.iters < 1) {
    throw new Error(`timeRuns: expected iters to be a positive integer, found ${options.iters}`);
  }
  for (let i = 0; i < options.warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < options.iters; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return samples;
}
