// Properties of what a run leaves on disk and what kiln loads, checked without training: a run folder
// is owned by one live process and never silently replaced; a checkpoint counts only as a complete
// set; loaders refuse FIFOs, non-finite weights, invalid UTF-8 and bad configs by name; the kernel
// cache rebuilds an entry that no longer matches the hash recorded at build time; the loss plot has
// axes and labels; grids are enlarged to 256 px.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { checkRunFolder, claimRunFolder } from "../models/run-folder.ts";
import {
  checkpointPaths,
  findLatestCheckpoint,
  loadDitWeights,
  readCheckpointMeta,
  saveCheckpoint,
  zerosLike,
  type TrainingState,
} from "../models/checkpoint.ts";
import { checkpointConfig, resolveCheckpoint } from "../models/weights.ts";
import { planTraining, unhealthyStep } from "../models/train-plan.ts";
import { readTrainLog, truncateTrainLog } from "../models/train-log.ts";
import { linearTicks, logTicks, lossPlotLayout, renderLossPlot } from "../models/plot.ts";
import { GRID_MIN_CELL, saveGrid } from "../models/png.ts";
import { progressBar } from "../models/progress.ts";
import { CONFIGS, modelParts } from "../models/config.ts";
import { loadConfig } from "../models/config-file.ts";
import { readMetadata } from "../models/data/metadata.ts";
import { loadImageRgb } from "../models/data/load-image.ts";
import { openSafetensors, writeSafetensors } from "../runtime/safetensors.ts";
import { compileC, damagedLibraries, verifyLibrary } from "../runtime/cpu/toolchain.ts";
import type { ParamSpec } from "../models/params.ts";

const fresh = (name: string): string => mkdtempSync(path.join(tmpdir(), `kiln-runs-${name}-`));
const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

/** A process id that is certainly not running: a child that has exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);

describe("the run folder", () => {
  test("is owned by one process: a second claim is refused naming the owner, and a dead owner's lock is taken over", () => {
    const dir = fresh("lock");
    const lock = claimRunFolder(dir, {});
    expect(() => claimRunFolder(dir, { resume: true })).toThrow(new RegExp(`in use by another training \\(pid ${process.pid}`));
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
    // A killed process leaves its lock behind; its pid no longer runs, so the next run takes over.
    writeFileSync(lock.file, JSON.stringify({ pid: deadPid(), host: hostname(), started: "then" }));
    const again = claimRunFolder(dir, { resume: true });
    expect(JSON.parse(readFileSync(again.file, "utf8")).pid).toBe(process.pid);
    again.release();
  });

  test("holding a run is never overwritten without --resume or --overwrite, and --overwrite removes only the run's files", () => {
    const dir = fresh("overwrite");
    writeFileSync(path.join(dir, "train-log.jsonl"), '{"step":1,"loss":1}\n');
    writeFileSync(path.join(dir, "step-40.json"), "{}");
    writeFileSync(path.join(dir, "notes.txt"), "mine");
    expect(() => checkRunFolder(dir, {})).toThrow(/already holds a training run; pass --resume to continue it, --overwrite/);
    expect(readFileSync(path.join(dir, "train-log.jsonl"), "utf8")).toBe('{"step":1,"loss":1}\n');
    claimRunFolder(dir, { overwrite: true }).release();
    expect(readdirSync(dir).sort()).toEqual(["notes.txt"]);
  });

  test("the temporary files of an interrupted save are removed when the folder is claimed", () => {
    const dir = fresh("tmp");
    writeFileSync(path.join(dir, ".step-20.train.safetensors.1234.abcdef.tmp"), "partial");
    writeFileSync(path.join(dir, "latest.json.tmp-1234-x1y2"), "partial");
    claimRunFolder(dir, { resume: true }).release();
    expect(readdirSync(dir)).toEqual([]);
  });

  test("an unwritable --out is named with the cause", () => {
    const dir = fresh("unwritable");
    writeFileSync(path.join(dir, "file"), "");
    expect(() => claimRunFolder(path.join(dir, "file", "run"), {})).toThrow(
      /--out cannot write to .*file\/run: a part of the path is a file, not a folder \(ENOTDIR\)/,
    );
  });
});

// A tiny "model": two tensors, one the DiT's and one a jointly trained text encoder's.
const ditSpec: ParamSpec[] = [{ name: "w", shape: [2, 3], init: { kind: "zeros" } }] as never;
const textSpec: ParamSpec[] = [{ name: "emb", shape: [4], init: { kind: "zeros" } }] as never;
const specs: ParamSpec[] = [...ditSpec, { ...textSpec[0]!, name: "text_encoder.emb" }];
const stateAt = (step: number, value = step): TrainingState => {
  const params = new Map([
    ["w", new Float32Array(6).fill(value)],
    ["text_encoder.emb", new Float32Array(4).fill(value)],
  ]);
  return { step, params, m: zerosLike(params), v: zerosLike(params) };
};
const save = (dir: string, step: number) =>
  saveCheckpoint(dir, stateAt(step), { step, config: "toy", seed: 0 }, specs, { ditSpec, textEncoder: { spec: textSpec, prefix: "text_encoder." } });

describe("checkpoints", () => {
  test("a checkpoint's configuration: the one its run saved, else its named one; an unnamed one without a saved copy asks for --config", () => {
    const saveWith = (meta: Record<string, unknown>): string => {
      const dir = fresh("config");
      saveCheckpoint(dir, stateAt(1), { step: 1, seed: 0, config: "toy", ...meta }, specs, {
        ditSpec,
        textEncoder: { spec: textSpec, prefix: "text_encoder." },
      });
      return dir;
    };
    const own = { ...CONFIGS.tiny!, name: "mine", guidanceMinSigma: 0.3, dit: { ...CONFIGS.tiny!.dit, depth: 2 } };
    const saved = saveWith({ config: "mine", modelConfig: own });
    expect(checkpointConfig(undefined, saved)).toEqual(own);
    // --config wins; no checkpoint means tiny.
    expect(checkpointConfig("aaa-0.1b", saved)).toBe(CONFIGS["aaa-0.1b"]);
    expect(checkpointConfig(undefined, undefined)).toBe(CONFIGS.tiny);
    // A run from before kiln saved its configuration: its named one, or a clear refusal.
    expect(checkpointConfig(undefined, saveWith({ config: "aaa-0.1b" }))).toBe(CONFIGS["aaa-0.1b"]);
    const unnamed = saveWith({ config: "mine" });
    expect(() => checkpointConfig(undefined, unnamed)).toThrow(
      /step-1\.json names config 'mine', which is not a named configuration, .*pass the file it was trained with as --config FILE\.json/,
    );
    // A saved configuration is checked as a config file is, naming where it was read.
    const damaged = saveWith({ modelConfig: { ...own, guidanceMinSigma: 2 } });
    expect(() => checkpointConfig(undefined, damaged)).toThrow(
      /step-1\.json \(modelConfig\): guidanceMinSigma must be a number in \[0, 1\), found 2/,
    );
  });

  test("a checkpoint counts only as a complete set: a kill before its last file leaves the previous set the newest", () => {
    const dir = fresh("sets");
    save(dir, 20);
    save(dir, 40);
    expect(findLatestCheckpoint(dir)).toBe(40);
    // Killed after latest.json would have moved in the old order, before the text encoder was written.
    renameSync(checkpointPaths(dir, 40).textEncoder, path.join(dir, "gone"));
    expect(findLatestCheckpoint(dir)).toBe(20);
    expect(resolveCheckpoint(dir)).toBe(checkpointPaths(dir, 20).dit);
    // Killed before step-N.json: the tensor files alone are no checkpoint either.
    save(dir, 60);
    renameSync(checkpointPaths(dir, 60).meta, path.join(dir, "gone.json"));
    expect(findLatestCheckpoint(dir)).toBe(20);
    // A damaged step-N.json is skipped, and named when it is read directly.
    writeFileSync(checkpointPaths(dir, 20).meta, "{not json");
    expect(findLatestCheckpoint(dir)).toBe(undefined);
    expect(() => readCheckpointMeta(dir, 20)).toThrow(/checkpoint .*step-20\.json: not valid JSON/);
  });

  test("a save that fails leaves no partial set and says the previous one is unchanged", () => {
    const dir = fresh("full");
    save(dir, 20);
    mkdirSync(checkpointPaths(dir, 40).textEncoder);
    expect(() => save(dir, 40)).toThrow(/checkpoint step 40 could not be saved .*newest complete checkpoint there is unchanged \(20\)/);
    expect(existsSync(checkpointPaths(dir, 40).dit)).toBe(false);
    expect(existsSync(checkpointPaths(dir, 40).train)).toBe(false);
    expect(JSON.parse(readFileSync(checkpointPaths(dir, 20).latest, "utf8")).step).toBe(20);
  });

  test("weights holding NaN or Infinity are refused by name", () => {
    const dir = fresh("nan");
    const file = path.join(dir, "step-1.safetensors");
    writeSafetensors(file, { w: { dtype: "F32", shape: [2, 3], data: Float32Array.of(1, Number.NaN, 2, Infinity, 3, 4) } });
    expect(() => loadDitWeights(file, ditSpec)).toThrow(/tensor 'w' holds 2 non-finite values/);
  });

  test.skipIf(!hasMkfifo)("a FIFO given as a checkpoint, a safetensors file or an image is refused instead of blocking", async () => {
    const dir = fresh("fifo");
    const fifo = path.join(dir, "step-1.safetensors");
    execFileSync("mkfifo", [fifo]);
    expect(() => resolveCheckpoint(fifo)).toThrow(/--checkpoint .*expected a regular file, found a FIFO/);
    expect(() => openSafetensors(fifo)).toThrow(/found a FIFO/);
    await expect(loadImageRgb(fifo, 16, 16)).rejects.toThrow(/image .*found a FIFO/);
    const json = path.join(dir, "config.json");
    execFileSync("mkfifo", [json]);
    expect(() => loadConfig(json)).toThrow(/config .*config\.json: expected a regular file, found a FIFO/);
    const csv = path.join(dir, "metadata.csv");
    execFileSync("mkfifo", [csv]);
    await expect(readMetadata(csv)).rejects.toThrow(/metadata\.csv: expected a regular file, found a FIFO/);
  });
});

describe("resume and health", () => {
  test("--resume refuses settings that differ from the checkpoint's unless changes are allowed", () => {
    const dir = fresh("resume");
    const config = { ...CONFIGS.tiny!, name: "toy" };
    saveCheckpoint(
      dir,
      stateAt(10),
      { step: 10, config: "toy", seed: 3, batch: 16, lr: 0.001, gradAccum: 1, clipNorm: null, pureBf16: false },
      specs,
      { ditSpec },
    );
    expect(planTraining({ config, out: dir, resume: true }).settings).toMatchObject({ seed: 3, batch: 16, lr: 0.001 });
    expect(() => planTraining({ config, out: dir, resume: true, batch: 4, lr: 0.5 })).toThrow(
      /--batch 4 \(the run used 16\), --lr 0.5 \(the run used 0.001\).*--allow-changes/,
    );
    expect(planTraining({ config, out: dir, resume: true, batch: 4, allowChanges: true }).settings.batch).toBe(4);
    expect(() => planTraining({ config: { ...config, name: "other" }, out: dir, resume: true })).toThrow(/is for config 'toy', not 'other'/);
  });

  test("a non-finite gradient norm makes a step unhealthy, as a non-finite loss does", () => {
    expect(unhealthyStep(0.5, 2)).toBeUndefined();
    expect(unhealthyStep(1e24, Infinity)).toBe("the gradient norm is Infinity");
    expect(unhealthyStep(Number.NaN, 1)).toBe("the loss is NaN");
  });

  test("the log keeps each step once, up to the resumed checkpoint", () => {
    const file = path.join(fresh("log"), "train-log.jsonl");
    writeFileSync(file, [1, 2, 3, 4, 3, 4, 5].map((step) => JSON.stringify({ step, loss: step })).join("\n") + '\n{"step":6,');
    truncateTrainLog(file, 4);
    expect(readTrainLog(file).map((e) => e.step)).toEqual([1, 2, 3, 4]);
  });
});

describe("what a person sees", () => {
  test("a resumed run's progress rate counts only the steps trained since it started", async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const bar = progressBar("training", 10, "it", 8);
      await new Promise((resolve) => setTimeout(resolve, 200));
      bar.tick(10);
    } finally {
      process.stderr.write = write;
    }
    // 2 steps in at least 0.2 s: at most 10 it/s (counting all 10 steps would claim 50 within a second).
    const rate = Number(/ ([\d.]+) it\/s/.exec(lines.join(""))?.[1]);
    expect(rate).toBeGreaterThan(0);
    expect(rate).toBeLessThanOrEqual(10);
  });

  test("the loss plot has ticks with values on both axes, over the whole run's steps", () => {
    const points = Array.from({ length: 300 }, (_, i) => ({ step: i + 1, loss: 2 * Math.exp(-i / 60) + 0.05 }));
    const layout = lossPlotLayout(points)!;
    expect(layout.steps).toEqual([1, 300]);
    expect(layout.xTicks.map((t) => t.label)).toEqual(["50", "100", "150", "200", "250", "300"]);
    expect(layout.yTicks.map((t) => t.label)).toEqual(["0.1", "0.2", "0.5", "1", "2"]);
    const { pixels, width } = renderLossPlot(points);
    const dark = (x0: number, x1: number, y0: number, y1: number): number => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pixels[(y * width + x) * 3]! < 100) n++;
      return n;
    };
    // Every tick has its value written beside it: under the x axis, left of the y axis.
    const bottom = 450 - 64;
    for (const t of layout.xTicks) expect(dark(t.x - 20, t.x + 20, bottom + 9, bottom + 24), t.label).toBeGreaterThan(10);
    for (const t of layout.yTicks) expect(dark(10, 96 - 8, t.y - 7, t.y + 8), t.label).toBeGreaterThan(10);
    expect(linearTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(logTicks(0.9, 1.1).length).toBeGreaterThan(1);
  });

  test("grid images are enlarged by nearest neighbour to at least 256 px", async () => {
    const file = path.join(fresh("grid"), "grid.png");
    const image = (rgb: number[]) => Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => rgb[i % 3]!);
    await saveGrid(file, [image([255, 0, 0]), image([0, 0, 255])], 64, 64, 2);
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([2 * GRID_MIN_CELL, GRID_MIN_CELL]);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
    const right = (100 * info.width + GRID_MIN_CELL + 5) * info.channels;
    expect([...data.subarray(right, right + 3)]).toEqual([0, 0, 255]);
  });
});

describe("loaders", () => {
  test("invalid UTF-8 in metadata.csv is refused with its line, not read as U+FFFD", async () => {
    const file = path.join(fresh("utf8"), "metadata.csv");
    writeFileSync(file, Buffer.concat([Buffer.from("image,prompt\na.png,fine\nb.png,bad "), Buffer.from([0xff, 0xfe]), Buffer.from("\n")]));
    await expect(readMetadata(file)).rejects.toThrow(/not valid UTF-8 \(line 3/);
  });

  test("a JSON config with a bad field is refused naming the field", () => {
    const dir = fresh("config");
    const write = (body: unknown) => {
      const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(body));
      return file;
    };
    expect(() => loadConfig(write({ dit: { dim: -128 } }))).toThrow(/dit\.dim must be a positive integer, found -128/);
    expect(() => loadConfig(write({ dit: { dimm: 64 } }))).toThrow(/unknown field dit\.dimm \(did you mean dit\.dim\?\)/);
    expect(() => loadConfig(write({ lr: "fast" }))).toThrow(/lr must be a finite number > 0/);
    expect(() => loadConfig(write({ height: 30 }))).toThrow(/height must be a positive integer multiple of 16/);
    expect(() => loadConfig(write([1]))).toThrow(/expected a JSON object/);
    expect(() => loadConfig(write({ promptVariation: 1.5 }))).toThrow(/promptVariation must be a number in \[0, 1\], found 1\.5/);
    expect(loadConfig(write({ promptVariation: 0 })).promptVariation).toBe(0);
    expect(() => loadConfig(write({ lrCooldown: -0.1 }))).toThrow(/lrCooldown must be a number in \[0, 1\], found -0\.1/);
    expect(() => loadConfig(write({ guidanceMinSigma: 1 }))).toThrow(/guidanceMinSigma must be a number in \[0, 1\), found 1/);
    expect(loadConfig(write({ guidanceMinSigma: 0.3 })).guidanceMinSigma).toBe(0.3);
    expect(() => loadConfig(write({ promptDropout: "some" }))).toThrow(/promptDropout must be a number in \[0, 1\], found "some"/);
    expect(loadConfig(write({ lrCooldown: 0.3, promptDropout: 0.1 }))).toMatchObject({ lrCooldown: 0.3, promptDropout: 0.1 });
    expect(() => modelParts(loadConfig(write({ base: "tiny", trainText: false, promptVariation: 0, promptDropout: 0.1 })))).toThrow(
      /promptDropout 0\.1 needs a jointly trained text encoder/,
    );
    // Prompt variation encodes prompts step by step, which a frozen text encoder's cached embeddings cannot.
    expect(() => modelParts(loadConfig(write({ base: "tiny", trainText: false, promptVariation: 0.5 })))).toThrow(
      /promptVariation 0\.5 needs a jointly trained text encoder/,
    );
    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, "{");
    expect(() => loadConfig(broken)).toThrow(/broken\.json: not valid JSON/);
    expect(loadConfig(write({ name: "mine", dit: { dim: 64, heads: 4 } })).dit.dim).toBe(64);
  });

  describe("with a private cache folder", () => {
    let saved: string | undefined;
    beforeEach(() => {
      saved = process.env.KILN_CACHE_DIR;
      process.env.KILN_CACHE_DIR = fresh("cache");
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.KILN_CACHE_DIR;
      else process.env.KILN_CACHE_DIR = saved;
    });

    test("a kernel library that no longer matches its recorded hash is rebuilt, not loaded", () => {
      const a = compileC("int kiln_a(void) { return 1; }\n");
      const b = compileC("int kiln_b(void) { return 2; }\n");
      expect(verifyLibrary(a.library)).toBeUndefined();
      expect(compileC("int kiln_a(void) { return 1; }\n").compiled).toBe(false);
      // Two entries swapped, and bytes flipped in a third place: all found, all rebuilt.
      const aBytes = readFileSync(a.library);
      writeFileSync(a.library, readFileSync(b.library));
      writeFileSync(b.library, aBytes);
      expect(
        damagedLibraries()
          .map((d) => d.library)
          .sort(),
      ).toEqual([a.library, b.library].sort());
      expect(compileC("int kiln_a(void) { return 1; }\n").compiled).toBe(true);
      const flipped = readFileSync(b.library);
      flipped[flipped.length >> 1] ^= 0xff;
      writeFileSync(b.library, flipped);
      expect(verifyLibrary(b.library)).toMatch(/bytes differ/);
      expect(compileC("int kiln_b(void) { return 2; }\n").compiled).toBe(true);
      expect(damagedLibraries()).toEqual([]);
    });

    test("kiln doctor reports damaged cache entries and kiln cache clear removes the cache", async () => {
      const a = compileC("int kiln_c(void) { return 3; }\n");
      writeFileSync(a.library, "garbage");
      const printed: string[] = [];
      const log = console.log;
      console.log = (...args: unknown[]) => void printed.push(args.join(" "));
      try {
        await (await import("../bin/commands/doctor.ts")).default.run([]);
        expect(printed.join("\n")).toMatch(/cache .*1 damaged entries/);
        expect(printed.join("\n")).toContain(a.library);
        await (await import("../bin/commands/cache.ts")).default.run(["clear"]);
      } finally {
        console.log = log;
      }
      expect(existsSync(path.dirname(a.library))).toBe(false);
    });
  });
});
