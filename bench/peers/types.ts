// What a benchmark peer (another library doing the same work as kiln, measured in the same run)
// provides to `kiln bench cpu` and to bench/peers-check.ts.

import type { BenchRow } from "../rows.ts";
import type { AaaDitConfig, DitBatch, DitWeights } from "../tiny-dit.ts";
import { median, type TimingOptions } from "../timing.ts";

/** A row's result: the median time, or why this peer cannot run it (never a made-up number). */
export type Measurement = { ms: number; samplesMs: readonly number[] } | { skipped: string };

export interface Peer {
  /** Short name for table headers, e.g. "tfjs-wasm". */
  name: string;
  /** Library, version, backend and thread count, for the report. */
  describe(): string;
  /** Loads and initialises the library and its backend; call once before `measure`. */
  init(): Promise<void>;
  /** Times `row` with `options.warmup` untimed runs and the median of `options.iters` timed runs. */
  measure(row: BenchRow, options: TimingOptions): Promise<Measurement>;
}

/**
 * The tiny DiT as each peer implements it, exposed so that tests can cross-check peers against each
 * other on the same weights and inputs.
 */
export interface DitPeer extends Peer {
  /** The DiT output [B, C, h, w] for `weights` (reference layout) and `batch`. */
  ditForward(config: AaaDitConfig, weights: DitWeights, batch: DitBatch): Promise<Float32Array>;
  /** The loss before each of `steps` AdamW steps on the same batch, starting from `weights`. */
  ditTrainLosses(config: AaaDitConfig, weights: DitWeights, batch: DitBatch, steps: number): Promise<number[]>;
}

export function isSkipped(measurement: Measurement): measurement is { skipped: string } {
  return "skipped" in measurement;
}

/** A row made ready to run on a peer: its inputs and compiled function, a timer, and what frees them. */
export interface PreparedRow {
  run: (options: TimingOptions) => Promise<number[]>;
  release: () => void;
}

/** Peer.measure over a peer's own preparation: the median of the timed runs, and the row always released. */
export async function measurePrepared(prepare: (row: BenchRow) => PreparedRow, row: BenchRow, options: TimingOptions): Promise<Measurement> {
  const prepared = prepare(row);
  try {
    const samplesMs = await prepared.run(options);
    return { ms: median(samplesMs), samplesMs };
  } finally {
    prepared.release();
  }
}
