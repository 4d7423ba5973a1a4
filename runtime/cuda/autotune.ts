// A bounded autotuner for the GEMM template's tile shape, per (problem, device), cached on disk.
//
// Without it the tile is chosen by a table (templates.ts: the largest tile whose grid fills the SMs).
// With `autotune` on, each GEMM problem a compiled step needs is timed once on the device with every
// usable tile of a short list (the table's choice first, so a cut-short search still has an answer),
// at most `maxCandidates` tiles and `budgetMs` of timing per problem; the fastest tile is written to
// `<cache>/cuda-tune/<device>.json` (atomically) and later compiles read it instead of timing again.
// The epilogue is left out of the key and the timing: it runs once per output element and does not
// change which tile is fastest by more than the timing noise.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { debugLog, type GemmTemplateShape } from "../../compiler/index.ts";
import { MMA_TILES, IDENTITY_EPILOGUE, gemmMma, gemmTileProblem, type GemmTile } from "../../kernels/cuda/index.ts";
import { cacheDir, writeAtomic } from "../cache.ts";
import type { CudaDevice } from "./device.ts";
import type { Handle } from "./driver.ts";

/** What a GEMM's tile choice depends on: its shape, layout, batch strides and output type. */
export type GemmShape = GemmTemplateShape;

export const gemmTuneKey = (p: GemmShape): string =>
  `${p.layout} m${p.m} n${p.n} k${p.k} b${p.batch} sa${p.strideA} sb${p.strideB} sc${p.strideC} ${p.out}`;

export const tileName = (t: GemmTile): string => `${t.bm}x${t.bn}x${t.bk}_w${t.warpsM}x${t.warpsN}_s${t.stages}`;

/** Every tile the tuner may try, in the order it tries them after the table's choice. */
export const TUNE_TILES: readonly GemmTile[] = [MMA_TILES.large, MMA_TILES.square, MMA_TILES.deep, MMA_TILES.small];

export interface TuneOptions {
  /** The tile the table picks; timed first. */
  first?: GemmTile;
  candidates?: readonly GemmTile[];
  /** At most this many tiles are timed (default 4). */
  maxCandidates?: number;
  /** Timing stops starting new tiles once this many milliseconds of wall time have gone (default 20 000). */
  budgetMs?: number;
  /** The clock the budget is counted on (tests pass a fake one). */
  now?: () => number;
}

export interface TuneResult {
  tile: GemmTile;
  /** Milliseconds per call of each tile timed, by tileName; a tile that failed has its error instead. */
  times: Record<string, number | string>;
}

/**
 * Times the candidate tiles of one problem with `time(tile)` (milliseconds per call) and returns the
 * fastest. A tile whose timing throws is recorded and skipped; if every tile fails, the first is kept.
 */
export function tuneGemm(p: GemmShape, time: (tile: GemmTile) => number, options: TuneOptions = {}): TuneResult {
  const now = options.now ?? Date.now;
  const started = now();
  const budget = options.budgetMs ?? 20_000;
  const ordered = [...(options.first ? [options.first] : []), ...(options.candidates ?? TUNE_TILES)];
  const unique = ordered.filter((t, i) => ordered.findIndex((u) => tileName(u) === tileName(t)) === i);
  const usable = unique.filter((t) => gemmTileProblem(t, p.layout) === null).slice(0, options.maxCandidates ?? 4);
  if (usable.length === 0) throw new Error(`autotune: no usable tile for ${gemmTuneKey(p)}`);
  const times: Record<string, number | string> = {};
  let best: { tile: GemmTile; ms: number } | null = null;
  for (const tile of usable) {
    if (best && now() - started > budget) break;
    try {
      const ms = time(tile);
      if (!(ms > 0) || !Number.isFinite(ms)) throw new Error(`timing returned ${ms}`);
      times[tileName(tile)] = ms;
      if (!best || ms < best.ms) best = { tile, ms };
    } catch (error) {
      times[tileName(tile)] = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    }
  }
  return { tile: best?.tile ?? usable[0]!, times };
}

interface CacheFile {
  version: 1;
  device: string;
  entries: Record<string, { tile: GemmTile; times: Record<string, number | string>; tuned: string }>;
}

/** The tuned tiles of one device, on disk. */
export class TuneCache {
  private data: CacheFile;

  constructor(
    readonly device: string,
    readonly file = path.join(cacheDir("cuda-tune"), `${device.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`),
  ) {
    this.data = { version: 1, device, entries: {} };
    if (!existsSync(file)) return;
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as CacheFile;
      if (parsed.version !== 1 || typeof parsed.entries !== "object" || parsed.entries === null) throw new Error(`version ${String(parsed.version)}`);
      this.data = { version: 1, device, entries: parsed.entries };
    } catch (error) {
      // A damaged file costs a re-tune, not a failed compile; it is replaced on the next save.
      debugLog(1, `autotune: ignoring ${file} (${error instanceof Error ? error.message : String(error)}); tiles will be tuned again`);
    }
  }

  get(p: GemmShape): GemmTile | undefined {
    const hit = this.data.entries[gemmTuneKey(p)];
    return hit && gemmTileProblem(hit.tile, p.layout) === null ? hit.tile : undefined;
  }

  set(p: GemmShape, result: TuneResult): void {
    this.data.entries[gemmTuneKey(p)] = { tile: result.tile, times: result.times, tuned: new Date().toISOString() };
    writeAtomic(this.file, `${JSON.stringify(this.data, null, 1)}\n`);
  }

  get size(): number {
    return Object.keys(this.data.entries).length;
  }
}

/** A tile chooser that reads the cache and tunes (then stores) what it does not hold. */
export function tunedTiles(
  cache: TuneCache,
  time: (p: GemmShape, tile: GemmTile) => number,
  options: TuneOptions = {},
): (p: GemmShape, fallback: GemmTile) => GemmTile {
  return (p, fallback) => {
    const known = cache.get(p);
    if (known) return known;
    const result = tuneGemm(p, (tile) => time(p, tile), { ...options, first: fallback });
    debugLog(
      1,
      () =>
        `autotune ${gemmTuneKey(p)}: ${tileName(result.tile)} (${Object.entries(result.times)
          .map(([t, ms]) => `${t} ${typeof ms === "number" ? `${ms.toFixed(3)} ms` : ms}`)
          .join(", ")})`,
    );
    cache.set(p, result);
    return result.tile;
  };
}

/** Small bf16 values (|x| < 1) as raw bits, from a fixed LCG: timing on zeros would flatter the tensor cores. */
function bf16Noise(count: number): Uint16Array {
  const out = new Uint16Array(count);
  let state = 0x2545f491;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    // sign, a biased exponent of 0x7b..0x7e (2^-4 … 2^-1), 7 random mantissa bits
    out[i] = ((state >>> 31) << 15) | ((0x7b + ((state >>> 24) & 3)) << 7) | ((state >>> 8) & 0x7f);
  }
  return out;
}

/** Milliseconds per call of the GEMM template with `tile` on `device` (identity epilogue, median of 3 runs of 5 calls). */
export function deviceGemmTimer(device: CudaDevice): (p: GemmShape, tile: GemmTile) => number {
  return (p, tile) => {
    const kernel = gemmMma(
      {
        m: p.m,
        n: p.n,
        k: p.k,
        batch: p.batch,
        layout: p.layout,
        strideA: p.strideA,
        strideB: p.strideB,
        strideC: p.strideC,
        out: p.out,
        epilogue: IDENTITY_EPILOGUE,
      },
      tile,
    );
    const elements = (stride: number, dense: number) => (p.batch > 1 && stride > 0 ? stride * (p.batch - 1) + dense : dense);
    const owned: Handle[] = [];
    const upload = (count: number) => {
      const pointer = device.alloc(count * 2);
      owned.push(pointer);
      device.upload(pointer, bf16Noise(count));
      return pointer;
    };
    try {
      const A = upload(elements(p.strideA, p.m * p.k));
      const B = upload(elements(p.strideB, p.n * p.k));
      const cBytes = elements(p.strideC, p.m * p.n) * (p.out === "bf16" ? 2 : 4);
      const C = device.alloc(cBytes);
      owned.push(C);
      const loaded = device.load(kernel);
      const samples = [0, 1, 2].map(() => device.time(() => device.launch(loaded, { A, B, C }), 5)).sort((a, b) => a - b);
      return samples[1]!;
    } finally {
      device.synchronize();
      for (const pointer of owned) device.free(pointer);
    }
  };
}
