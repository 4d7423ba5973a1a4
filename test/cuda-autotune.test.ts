// The GEMM tile autotuner's search and cache (runtime/cuda/autotune.ts) with fake timers: the fastest
// tile wins, the table's choice is timed first, the search is bounded by count and by time, failing
// tiles are recorded and skipped, and the cache persists per device, survives a damaged file and is
// read instead of timing again. (The device path runs against a fake libcuda in cuda-step-driver.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MMA_TILES } from "../kernels/cuda/corpus.ts";
import type { GemmTile } from "../kernels/cuda/gemm-mma.ts";
import { TUNE_TILES, TuneCache, gemmTuneKey, tileName, tuneGemm, tunedTiles, type GemmShape } from "../runtime/cuda/autotune.ts";
import { cudaTemplates } from "../runtime/cuda/templates.ts";

const shape: GemmShape = { m: 12288, n: 3072, k: 1024, batch: 1, layout: "tn", strideA: 0, strideB: 0, strideC: 0, out: "bf16" };
const dir = mkdtempSync(join(tmpdir(), "kiln-tune-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A timer from a table of milliseconds by tile name, recording the order it was asked in. */
function fakeTimer(ms: Record<string, number | Error>) {
  const asked: string[] = [];
  const time = (tile: GemmTile) => {
    asked.push(tileName(tile));
    const t = ms[tileName(tile)];
    if (t instanceof Error) throw t;
    return t ?? 10;
  };
  return { asked, time };
}

describe("tuneGemm", () => {
  test("picks the fastest tile and times the table's choice first", () => {
    const { asked, time } = fakeTimer({ [tileName(MMA_TILES.deep)]: 1.5, [tileName(MMA_TILES.large)]: 2, [tileName(MMA_TILES.square)]: 3 });
    const result = tuneGemm(shape, time, { first: MMA_TILES.square });
    expect(result.tile).toEqual(MMA_TILES.deep);
    expect(asked[0]).toBe(tileName(MMA_TILES.square));
    expect(new Set(asked).size).toBe(asked.length);
    expect(Object.keys(result.times).sort()).toEqual(TUNE_TILES.map(tileName).sort());
  });

  test("is bounded by the number of candidates and by its time budget", () => {
    const counted = fakeTimer({});
    tuneGemm(shape, counted.time, { maxCandidates: 2 });
    expect(counted.asked).toHaveLength(2);
    let clock = 0;
    const slow = fakeTimer({});
    const timeAndAdvance = (tile: GemmTile) => {
      clock += 1000;
      return slow.time(tile);
    };
    tuneGemm(shape, timeAndAdvance, { budgetMs: 1500, now: () => clock });
    expect(slow.asked, "the second tile starts at 1000 ms, the third would start at 2000 ms").toHaveLength(2);
  });

  test("a tile that fails is recorded and skipped; when all fail the first is kept", () => {
    const { time } = fakeTimer({
      [tileName(MMA_TILES.large)]: new Error("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES\nmore"),
      [tileName(MMA_TILES.small)]: 4,
      [tileName(MMA_TILES.square)]: 5,
      [tileName(MMA_TILES.deep)]: NaN,
    });
    const result = tuneGemm(shape, time);
    expect(result.tile).toEqual(MMA_TILES.small);
    expect(result.times[tileName(MMA_TILES.large)]).toBe("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES");
    expect(result.times[tileName(MMA_TILES.deep)]).toMatch(/NaN/);
    const failing = tuneGemm(
      shape,
      () => {
        throw new Error("no");
      },
      { first: MMA_TILES.square },
    );
    expect(failing.tile).toEqual(MMA_TILES.square);
  });

  test("unusable tiles are never timed", () => {
    const broken: GemmTile = { bm: 128, bn: 128, bk: 24, warpsM: 2, warpsN: 4, stages: 3 };
    const { asked, time } = fakeTimer({});
    tuneGemm(shape, time, { first: broken });
    expect(asked).not.toContain(tileName(broken));
  });
});

describe("TuneCache and tunedTiles", () => {
  test("tuned tiles persist per device and are read instead of timing again", () => {
    const file = join(dir, "h100.json");
    const { asked, time } = fakeTimer({ [tileName(MMA_TILES.square)]: 1 });
    const choose = tunedTiles(new TuneCache("H100", file), (_p, tile) => time(tile));
    expect(choose(shape, MMA_TILES.large)).toEqual(MMA_TILES.square);
    const timings = asked.length;
    expect(choose(shape, MMA_TILES.large)).toEqual(MMA_TILES.square);
    expect(asked).toHaveLength(timings);
    const reopened = new TuneCache("H100", file);
    expect(reopened.get(shape)).toEqual(MMA_TILES.square);
    expect(reopened.get({ ...shape, k: 2048 })).toBeUndefined();
    expect(JSON.parse(readFileSync(file, "utf8")).entries[gemmTuneKey(shape)].times[tileName(MMA_TILES.square)]).toBe(1);
    expect(new TuneCache("H200", join(dir, "h200.json")).get(shape)).toBeUndefined();
  });

  test("a damaged cache file is ignored and replaced on the next save", () => {
    const file = join(dir, "damaged.json");
    writeFileSync(file, "{ not json");
    const cache = new TuneCache("X", file);
    expect(cache.size).toBe(0);
    cache.set(shape, { tile: MMA_TILES.small, times: {} });
    expect(new TuneCache("X", file).get(shape)).toEqual(MMA_TILES.small);
  });

  test("cudaTemplates renders the GEMM with the chooser's tile", () => {
    const problem = { ...shape, epilogue: { tag: "plain", body: "return acc;", params: [] } };
    const table = cudaTemplates().gemm!(problem)!;
    const tuned = cudaTemplates({ chooseTile: () => MMA_TILES.small }).gemm!(problem)!;
    expect(table.name).toContain(`_${MMA_TILES.large.bm}x${MMA_TILES.large.bn}x${MMA_TILES.large.bk}_`);
    expect(tuned.name).toContain(`_${MMA_TILES.small.bm}x${MMA_TILES.small.bn}x${MMA_TILES.small.bk}_`);
  });
});
