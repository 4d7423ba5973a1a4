// Data-parallel training through Open MPI (runtime/collective, models/distributed.ts), with real
// mpirun ranks on this CPU (one OpenMP thread each): 2 ranks × batch 8 train as 1 process × batch 16;
// a 2-rank checkpoint resumes on 1 rank; a killed rank ends the job with an error naming it and
// leaves a checkpoint that loads; ranks started with different settings are refused.
// Skipped where Open MPI is not installed (.ci/run installs it).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { modelParts } from "../models/config.ts";
import { loadConfig } from "../models/config-file.ts";
import { train, trainedSpecs } from "../models/train.ts";
import { findLatestCheckpoint, loadTrainingState } from "../models/checkpoint.ts";
import { findLibrary } from "../runtime/cuda/find.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

const hasMpi = (() => {
  try {
    execFileSync("mpirun", ["--version"], { stdio: "ignore" });
    return findLibrary("mpi").path !== null;
  } catch {
    return false;
  }
})();

const KILN = path.join(import.meta.dirname, "..", "bin", "kiln");
const fresh = (name: string): string => mkdtempSync(path.join(tmpdir(), `kiln-dist-${name}-`));
const env = { ...process.env, OMP_NUM_THREADS: "1" };

let data = "";
let configFile = "";

/** `kiln train ARGS` through its own --nproc launcher; resolves to the exit code and stderr. */
function kilnTrain(
  args: readonly string[],
  onStderr?: (text: string, pid: number) => void,
): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KILN, "train", "--config", configFile, "--data", data, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      onStderr?.(stderr, child.pid!);
    });
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stderr, stdout }));
  });
}

const losses = (dir: string): number[] =>
  readFileSync(path.join(dir, "train-log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { loss: number }).loss);

/** Largest |a − b| / max|a| over each trained tensor's parameters (the tensor's own scale), of the weights or their moving average. */
function weightDifferences(a: string, b: string, step: number, group: "params" | "ema" = "params"): Map<string, number> {
  const specs = trainedSpecs(modelParts(loadConfig(configFile)));
  const x = loadTrainingState(a, step, specs).state[group]!;
  const y = loadTrainingState(b, step, specs).state[group]!;
  const out = new Map<string, number>();
  for (const [name, xs] of x) {
    const ys = y.get(name)!;
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      scale = Math.max(scale, Math.abs(xs[i]!));
      worst = Math.max(worst, Math.abs(xs[i]! - ys[i]!));
    }
    out.set(name, worst / scale);
  }
  return out;
}

/**
 * Attention key biases have an exactly zero gradient (softmax ignores a shift shared by every key),
 * so what AdamW does with them is the rounding noise of the summation order, which differs between
 * one batch of 16 and two of 8: they are held to a looser bound.
 */
const noiseOnly = (name: string): boolean => /to_k\.bias$/.test(name);
const outOfBounds = (differences: ReadonlyMap<string, number>): string[] =>
  [...differences].filter(([name, d]) => !(d < (noiseOnly(name) ? 1e-3 : 1e-5))).map(([name, d]) => `${name}: ${d.toExponential(2)}`);

describe.skipIf(!hasMpi)("data-parallel training through MPI", () => {
  let one = "";
  let two = "";

  beforeAll(async () => {
    data = fresh("data");
    await writeShapesDataset(data, 32, 12);
    configFile = path.join(data, "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        name: "dist-tiny",
        base: "tiny",
        dit: { dim: 32, depth: 1, heads: 2, latentChannels: 48, textDim: 32, posGrid: 8, ffDim: 96 },
        text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
        vae: { kind: "pixel", config: { patchSize: 4 } },
        height: 32,
        width: 32,
        batch: 8,
        lr: 1e-3,
      }),
    );
    one = fresh("one");
    // One step over the whole batch (the batch split over this process's threads would be the ranks' computation exactly).
    await train({ config: loadConfig(configFile), data, out: one, steps: 10, batch: 16, saveSteps: 5, quiet: true, batchThreads: 1 });
    two = fresh("two");
    const run = await kilnTrain(["--nproc", "2", "--batch", "8", "--steps", "10", "--save-steps", "5", "--out", two]);
    expect(run.stderr).toMatch(/rank 1 of 2/);
    expect(run.code).toBe(0);
  }, 600_000);

  test("2 ranks × batch 8 train as 1 process × batch 16: losses and weights after 10 steps", () => {
    const a = losses(one);
    const b = losses(two);
    expect(b).toHaveLength(10);
    b.forEach((loss, i) => expect(Math.abs(loss - a[i]!) / Math.abs(a[i]!)).toBeLessThan(1e-5));
    const differences = weightDifferences(one, two, 10);
    expect(outOfBounds(differences)).toEqual([]);
    // The moving average of the weights (kept by the tiny base config) agrees as well.
    expect(outOfBounds(weightDifferences(one, two, 10, "ema"))).toEqual([]);
    // Not trivially equal: training moved the weights, and the runs were not the same process.
    expect([...differences.values()].some((d) => d > 0)).toBe(true);
  });

  test("a 2-rank checkpoint resumes on 1 rank with the same global batch", async () => {
    const resumed = fresh("resumed");
    cpSync(two, resumed, { recursive: true });
    // Back to step 5: the 1-rank run continues from the 2-rank run's checkpoint there.
    // A checkpoint set is complete only with its step-N.json: without step 10's, step 5 is the newest.
    rmSync(path.join(resumed, "step-10.json"));
    expect(findLatestCheckpoint(resumed)).toBe(5);
    const result = await train({ config: loadConfig(configFile), data, out: resumed, steps: 10, batch: 16, resume: true, saveSteps: 5, quiet: true });
    expect(result.losses).toHaveLength(5);
    const reference = losses(two).slice(5);
    result.losses.forEach((loss, i) => expect(Math.abs(loss - reference[i]!) / reference[i]!).toBeLessThan(1e-5));
    expect(outOfBounds(weightDifferences(two, resumed, 10))).toEqual([]);
    expect(outOfBounds(weightDifferences(two, resumed, 10, "ema"))).toEqual([]);
  }, 300_000);

  test("killing one rank ends the run with an error naming it, and the last checkpoint loads", async () => {
    const out = fresh("killed");
    let killed = false;
    const run = await kilnTrain(["--nproc", "2", "--batch", "8", "--steps", "100000", "--save-steps", "2", "--out", out], (stderr) => {
      const pid = /kiln train: rank 1 of 2 \(pid (\d+)/.exec(stderr)?.[1];
      if (!killed && pid && (findLatestCheckpoint(out) ?? 0) >= 2) {
        killed = true;
        process.kill(Number(pid), "SIGKILL");
      }
    });
    expect(killed).toBe(true);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/kiln train: the 2-rank job failed: rank 1 \(pid \d+ on \S+\) died of signal 9/);
    const latest = findLatestCheckpoint(out)!;
    expect(run.stderr).toMatch(/The last complete checkpoint is step \d+/);
    const specs = trainedSpecs(modelParts(loadConfig(configFile)));
    const { state } = loadTrainingState(out, latest, specs);
    expect([...state.params.values()].every((p) => p.every(Number.isFinite))).toBe(true);
  }, 300_000);

  test("a hung rank stops the job within the collective timeout, with an error saying what was waited for", async () => {
    const out = fresh("hung");
    let stopped = 0;
    const run = await kilnTrain(
      ["--nproc", "2", "--collective-timeout", "3", "--batch", "8", "--steps", "100000", "--save-steps", "2", "--out", out],
      (stderr) => {
        const pid = /kiln train: rank 1 of 2 \(pid (\d+)/.exec(stderr)?.[1];
        if (stopped === 0 && pid && (findLatestCheckpoint(out) ?? 0) >= 2) {
          stopped = Number(pid);
          process.kill(stopped, "SIGSTOP");
        }
      },
    );
    expect(stopped).toBeGreaterThan(0);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /the 2-rank job failed: rank 0 waited 3 s in the gradient allreduce of step \d+ without an answer: another rank hung or died/,
    );
    // The stopped rank does not outlive the job (mpirun's kill may land a moment after it exits).
    const gone = (): boolean => {
      try {
        process.kill(stopped, 0);
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${stopped}/stat`, "utf8"));
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 100 && !gone(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gone()).toBe(true);
  }, 300_000);

  test("Ctrl-C stops every rank after the same step, and rank 0 saves it", async () => {
    const out = fresh("interrupted");
    let sent = false;
    const run = await kilnTrain(["--nproc", "2", "--batch", "8", "--steps", "100000", "--save-steps", "100000", "--out", out], (stderr, pid) => {
      if (!sent && /training \[[^\n]* [1-9]\d*\/100000/.test(stderr)) {
        sent = true;
        process.kill(pid, "SIGINT");
      }
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { steps: number; stoppedBy: string };
    expect(result.stoppedBy).toBe("interrupt");
    expect(findLatestCheckpoint(out)).toBe(result.steps);
    expect(losses(out)).toHaveLength(result.steps);
  }, 300_000);

  test("ranks started with different settings are refused at start, naming the setting", () => {
    let stderr = "";
    try {
      execFileSync(
        "mpirun",
        [
          ...(process.getuid?.() === 0 ? ["--allow-run-as-root"] : []),
          "--oversubscribe",
          ...["-n", "1", process.execPath, KILN, "train", "--config", configFile, "--data", data, "--lr", "0.001", "--out", fresh("mismatch")],
          ":",
          ...["-n", "1", process.execPath, KILN, "train", "--config", configFile, "--data", data, "--lr", "0.002", "--out", fresh("mismatch")],
        ],
        { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
      );
    } catch (error) {
      stderr = String((error as { stderr?: string }).stderr);
    }
    expect(stderr).toMatch(/different settings, refusing to train/);
    expect(stderr).toMatch(/lr: rank 0 has 0\.001, rank 1 has 0\.002/);
  }, 120_000);
});
