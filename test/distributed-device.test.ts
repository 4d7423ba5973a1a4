// Gradients that stay in device memory (models/distributed.ts, deviceGradientExchange) on the
// emulated CUDA device, whose memory the host does not view: 2 ranks × batch 4 (summed through the
// host by MPI) train as 1 process × batch 8; with NCCL (a recording fake libnccl built here with gcc,
// on one rank, where a sum over the ranks leaves the values as they are) every trained tensor's
// gradient is summed in place once a step on the launches' stream, and the run trains as without it.
// The MPI half is skipped where Open MPI is not installed (.ci/run installs it).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import koffi from "koffi";
import { beforeAll, describe, expect, test } from "vitest";
import { modelParts } from "../models/config.ts";
import { loadConfig } from "../models/config-file.ts";
import { train, trainedSpecs } from "../models/train.ts";
import { loadTrainingState } from "../models/checkpoint.ts";
import { loadNccl } from "../runtime/collective/nccl.ts";
import { findLibrary } from "../runtime/cuda/find.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

const has = (program: string, args: string[]): boolean => {
  try {
    execFileSync(program, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const hasGcc = has("gcc", ["--version"]);
const hasMpi = has("mpirun", ["--version"]) && findLibrary("mpi").path !== null;

const KILN = path.join(import.meta.dirname, "..", "bin", "kiln");
const fresh = (name: string): string => mkdtempSync(path.join(tmpdir(), `kiln-devdist-${name}-`));
const DEVICE = "cuda-emulated";

// Records each allreduce; the pointers are the emulator's, not host memory, so it never reads them.
// On one rank an in-place sum leaves the values as they are, which is what it does.
const RECORDING_NCCL = String.raw`
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef struct { char internal[128]; } ncclUniqueId;
typedef struct { int nranks, rank; } comm_t;
static long calls, elements, out_of_place, wrong, depth, groups, ungrouped; static uint64_t last_stream = 99;
int ncclGroupStart(void) { depth++; return 0; }
int ncclGroupEnd(void) { if (depth-- == 1) groups++; return 0; }
int ncclGetVersion(int* v) { *v = 22703; return 0; }
const char* ncclGetErrorString(int code) { return "fake error"; }
int ncclGetUniqueId(ncclUniqueId* id) { memset(id, 1, sizeof *id); return 0; }
int ncclCommInitRank(comm_t** comm, int nranks, ncclUniqueId id, int rank) {
  *comm = calloc(1, sizeof(comm_t)); (*comm)->nranks = nranks; (*comm)->rank = rank; return 0;
}
int ncclAllReduce(const void* send, void* recv, size_t count, int type, int op, comm_t* comm, void* stream) {
  calls++; elements += (long)count; if (send != recv) out_of_place++; if (depth == 0) ungrouped++;
  if (type != 7 || op != 0 || comm->nranks != 1) wrong++;
  last_stream = (uint64_t)(uintptr_t)stream; return 0;
}
int ncclBroadcast(const void* s, void* r, size_t n, int t, int root, comm_t* c, void* st) { return 0; }
int ncclCommGetAsyncError(comm_t* comm, int* error) { *error = 0; return 0; }
int ncclCommAbort(comm_t* comm) { free(comm); return 0; }
int ncclCommDestroy(comm_t* comm) { free(comm); return 0; }
void fake_counts(long* out) { out[0] = calls; out[1] = elements; out[2] = out_of_place; out[3] = wrong; out[4] = (long)last_stream; out[5] = groups; out[6] = ungrouped; }
`;

let data = "";
let configFile = "";

const losses = (dir: string): number[] =>
  readFileSync(path.join(dir, "train-log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { loss: number }).loss);

/** The largest |a − b| / max|a| over the trained tensors' weights after `step`. */
function worstWeightDifference(a: string, b: string, step: number): number {
  const specs = trainedSpecs(modelParts(loadConfig(configFile)));
  const x = loadTrainingState(a, step, specs).state.params;
  const y = loadTrainingState(b, step, specs).state.params;
  let worst = 0;
  for (const [name, xs] of x) {
    // Attention key biases have an exactly zero gradient: their updates are rounding noise (see distributed.test.ts).
    if (/to_k\.bias$/.test(name)) continue;
    const ys = y.get(name)!;
    const scale = Math.max(...Array.from(xs, Math.abs));
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(xs[i]! - ys[i]!) / scale);
  }
  return worst;
}

beforeAll(async () => {
  data = fresh("data");
  await writeShapesDataset(data, 32, 8);
  configFile = path.join(data, "config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      name: "devdist-tiny",
      base: "tiny",
      dit: { dim: 16, depth: 1, heads: 2, latentChannels: 48, textDim: 16, posGrid: 8, ffDim: 32 },
      text: { kind: "tiny", config: { tableSize: 64, dim: 16, layers: 1, heads: 2, ffDim: 32, maxLength: 8 } },
      vae: { kind: "pixel", config: { patchSize: 4 } },
      height: 32,
      width: 32,
      batch: 4,
      lr: 1e-3,
    }),
  );
}, 120_000);

describe.skipIf(!hasGcc)("NCCL in the training loop (recording fake libnccl, emulated GPU)", () => {
  test("one in-place f32 sum per trained tensor per step, in one group, on the step's stream; the run trains as without NCCL", async () => {
    const dir = fresh("fake-nccl");
    const source = path.join(dir, "fake_nccl.c");
    const library = path.join(dir, "libnccl.so.2");
    writeFileSync(source, RECORDING_NCCL);
    execFileSync("gcc", ["-shared", "-fPIC", "-O1", source, "-o", library]);
    const config = loadConfig(configFile);
    const steps = 3;
    const plain = await train({ config, data, out: fresh("plain"), steps, device: DEVICE, quiet: true });
    const viaNccl = await train({ config, data, out: fresh("nccl"), steps, device: DEVICE, quiet: true, nccl: loadNccl(library) });
    const counts = new BigInt64Array(7);
    koffi.load(library).func("void fake_counts(_Out_ long* out)")(counts);
    const specs = trainedSpecs(modelParts(config));
    expect(Number(counts[0])).toBe(specs.length * steps);
    expect(Number(counts[1])).toBe(specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0) * steps);
    expect(Number(counts[2])).toBe(0); // in place
    expect(Number(counts[3])).toBe(0); // f32, sum, a communicator of one rank
    expect(Number(counts[4])).toBe(0); // the emulator's stream
    expect(Number(counts[5])).toBe(steps); // one group a step
    expect(Number(counts[6])).toBe(0); // every call inside it
    viaNccl.losses.forEach((loss, i) => expect(Math.abs(loss - plain.losses[i]!) / Math.abs(plain.losses[i]!)).toBeLessThan(1e-5));
  }, 300_000);

  test("--collectives nccl on a device whose memory is the host's is refused by name", async () => {
    const nccl = { path: "/nowhere/libnccl.so.2", version: 22703 } as never;
    await expect(train({ config: loadConfig(configFile), data, out: fresh("cpu-nccl"), steps: 1, quiet: true, nccl })).rejects.toThrow(
      /NCCL sums gradients in GPU memory; the cpu device has none/,
    );
  });
});

describe.skipIf(!hasMpi)("gradients in device memory across MPI ranks (emulated GPU)", () => {
  test("2 ranks × batch 4 train as 1 process × batch 8: losses and weights after 3 steps", async () => {
    const one = fresh("one");
    await train({ config: loadConfig(configFile), data, out: one, steps: 3, batch: 8, saveSteps: 3, device: DEVICE, quiet: true });
    const two = fresh("two");
    const run = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          KILN,
          "train",
          "--config",
          configFile,
          "--data",
          data,
          "--device",
          DEVICE,
          "--nproc",
          "2",
          "--batch",
          "4",
          "--steps",
          "3",
          "--save-steps",
          "3",
          "--out",
          two,
        ],
        { env: { ...process.env, OMP_NUM_THREADS: "1" }, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/gradients stay in cuda-emulated memory; summed through the host by MPI/);
    const a = losses(one);
    const b = losses(two);
    expect(b).toHaveLength(3);
    b.forEach((loss, i) => expect(Math.abs(loss - a[i]!) / Math.abs(a[i]!)).toBeLessThan(1e-5));
    const worst = worstWeightDifference(one, two, 3);
    expect(worst).toBeLessThan(1e-5);
  }, 600_000);
});
