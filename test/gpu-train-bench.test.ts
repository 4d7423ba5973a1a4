// The GPU training benchmark without a GPU (bench/gpu/train-program.ts, results.ts): the AAADiT 0.1B
// training step at the benchmark's shape (batch 32, 256 + 128 tokens, pure bf16, AdamW) and the norm
// rows trace, render, and every kernel compiles with nvcc -cubin -arch=sm_90a; the FLOP convention
// agrees with the compiler's own count; the results of a run merge into the CUDA issue's JSON shape.
import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { cudaProgramOf } from "../runtime/cuda/step.ts";
import { compileWithNvccAsync } from "../runtime/cuda/nvcc.ts";
import { planStep, traceStep } from "../runtime/trace.ts";
import type { Pytree, Tensor } from "../compiler/index.ts";
import { AAA_0_1B, ditParamSpec } from "../models/dit.ts";
import { paramCount } from "../models/params.ts";
import { cardSlug, mergeResults, resultsFileName, resultsTable, type IssueResults } from "../bench/gpu/results.ts";
import { AAA_TRAIN_SHAPE, ditForwardMatmulFlops, normBenches, trainBenchProgram, trainStepFlops, TRAIN_ROW } from "../bench/gpu/train-program.ts";

const nvccPresent = (() => {
  try {
    execFileSync("nvcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Trace, plan (with donation) and render a step as compileCuda does, stopping before the device. */
function render(fn: (tree: Pytree<Tensor>) => Pytree<Tensor>, example: Record<string, unknown>, donate: readonly string[], name: string) {
  const planned = planStep(traceStep(fn, example, { donate, name }), { donate, name });
  return { program: planned.program, copies: planned.copies.size, ...cudaProgramOf(planned.program) };
}

const train = trainBenchProgram();
const trainStep = render((tree) => train.fn(tree as never) as never, train.example, train.donate, "aaadit_train_step");
const norms = normBenches().map((b) => ({ name: b.name, ...render((tree) => b.fn(tree as Record<string, Tensor>) as never, b.example, [], b.name) }));

describe("the benchmark's training step (batch 32, pure bf16, AdamW) renders", () => {
  test("at the reference's size: 128,824,448 parameters, every one bf16 in the donated state", () => {
    expect(paramCount(train.specs)).toBe(128_824_448);
    expect(train.options.pureBf16).toBe(true);
    const state = (train.example as { state: Record<string, Record<string, { dtype: string; shape: number[] }>> }).state;
    for (const group of ["params", "m", "v"]) expect(Object.values(state[group]!).every((leaf) => leaf.dtype === "bf16")).toBe(true);
    expect(train.donate).toEqual(["state"]);
  });

  test("its GEMMs and attention use the tensor-core templates, AdamW is one multi-tensor kernel", () => {
    const templates = trainStep.cuda.launches.map((l) => l.template?.kind ?? "simt");
    // 10 blocks × (7 forward + 14 backward) block GEMMs at least, plus the embedders and proj_out.
    expect(templates.filter((t) => t === "gemm").length).toBeGreaterThanOrEqual(210);
    expect(templates.filter((t) => t === "attention").length).toBeGreaterThanOrEqual(10 * 4);
    expect(trainStep.cuda.launches.filter((l) => l.kernel.startsWith("multi_")).length).toBe(1);
    console.log(
      `aaadit_train_step: ${trainStep.cuda.kernels.length} kernels, ${trainStep.cuda.launches.length} launches, ${trainStep.copies} donation copies, workspace ${(trainStep.cuda.workspaceBytes / 2 ** 20).toFixed(1)} MiB`,
    );
  });

  test("the FLOP convention (3 × forward matmul FLOPs) is within 5% of the compiler's count of the step", () => {
    // By hand, per sample: 10 blocks × (4·2·384·1024² + 2·2·384·1024·3072 + 2·2·384²·1024 + 2·1024·2048) + embedders + timestep MLP + proj_out.
    const block = 4 * 2 * 384 * 1024 ** 2 + 2 * 2 * 384 * 1024 * 3072 + 2 * 2 * 384 ** 2 * 1024 + 2 * 1024 * 2048;
    const rest = 2 * (256 * 1024 + 1024 * 1024) + 2 * 256 * 128 * 1024 + 2 * 128 * 1024 * 1024 + 2 * 256 * 1024 * 128;
    expect(ditForwardMatmulFlops(AAA_0_1B, 1, 256, 128)).toBe(10 * block + rest);
    const model = trainStepFlops(AAA_TRAIN_SHAPE);
    const compiler = trainStep.program.kernels.reduce((sum, k) => sum + k.flops, 0);
    expect(Math.abs(compiler - model) / model).toBeLessThan(0.05);
  });

  test("the norm rows are one fused kernel each forward, and reduce in place of separate statistics passes", () => {
    const byName = Object.fromEntries(norms.map((n) => [n.name, n.cuda.launches.length]));
    expect(byName.rmsnorm_fwd).toBe(1);
    expect(byName.layernorm_fwd).toBe(1);
    expect(byName.rmsnorm_fwd_bwd).toBeLessThanOrEqual(2);
    expect(byName.layernorm_fwd_bwd).toBeLessThanOrEqual(4);
  });
});

describe.skipIf(!nvccPresent)(
  `nvcc -cubin -arch=sm_90a over the training benchmark${nvccPresent ? "" : " (skipped: nvcc is not on the PATH)"}`,
  () => {
    test("every kernel of the training step and of the norm rows compiles; attention kernels do not spill, GEMM spills stay small", async () => {
      // Kernel names are unique within a program only, so each translation unit holds one program's kernels
      // (up to 20; the preludes are include-guarded); two nvcc at a time.
      const programs = [
        { name: "aaadit_train_step", kernels: trainStep.cuda.kernels },
        ...norms.map((n) => ({ name: n.name, kernels: n.cuda.kernels })),
      ];
      const units: { program: string; source: string }[] = [];
      for (const p of programs)
        for (let i = 0; i < p.kernels.length; i += 20)
          units.push({
            program: p.name,
            source: p.kernels
              .slice(i, i + 20)
              .map((k) => k.source)
              .join("\n"),
          });
      const reported = new Map<string, { registers: number; spillStoreBytes: number }>();
      for (let i = 0; i < units.length; i += 2) {
        const batch = units.slice(i, i + 2);
        const outputs = await Promise.all(batch.map((u) => compileWithNvccAsync(u.source)));
        outputs.forEach((output, j) => output.resources.forEach((r) => reported.set(`${batch[j]!.program}/${r.name}`, r)));
      }
      const kernels = programs.flatMap((p) => p.kernels.map((k) => ({ key: `${p.name}/${k.name}`, name: k.name })));
      const spills = kernels
        .filter((k) => (reported.get(k.key)?.spillStoreBytes ?? 0) > 0)
        .map((k) => `${k.key}: ${reported.get(k.key)!.registers} registers, ${reported.get(k.key)!.spillStoreBytes} B spill stores`);
      if (spills.length > 0) console.log(`sm_90a spills in the training benchmark:\n  ${spills.join("\n  ")}`);
      for (const k of kernels) {
        const r = reported.get(k.key);
        expect(r, `ptxas reported nothing for ${k.name}`).toBeDefined();
        expect(r!.registers).toBeLessThanOrEqual(255);
        if (k.name.startsWith("attention")) expect(r!.spillStoreBytes, `${k.name} spills`).toBe(0);
        // Unlike the corpus (test/cuda-renderer.test.ts), the whole model fuses larger epilogues into some GEMMs:
        // the image/text-embedder LayerNorms and the gate into the first block's to_out (128×256 tile, 255
        // registers, 68 B), AdamW into weight-gradient GEMMs (4 B). Small spills are the compiler's to remove;
        // this bound catches a GEMM that starts spilling heavily.
        if (k.name.startsWith("gemm")) expect(r!.spillStoreBytes, `${k.name} spills`).toBeLessThanOrEqual(128);
      }
    }, 120_000);
  },
);

// --- results in the issue's format ---------------------------------------------------------------

const sampleTrain = {
  device: "NVIDIA H100 80GB HBM3",
  conventions: ["tflops: model FLOPs / time"],
  rows: [
    { name: TRAIN_ROW, what: "AAADiT training step", kiln_ms: 25, samples_ms: [25, 25.2], tflops: 334.1, images_per_s: 1280 },
    { name: "rmsnorm_fwd", what: "RMSNorm", kiln_ms: 0.02, samples_ms: [0.02], tflops: null, gbps: 2516 },
    { name: "layernorm_fwd_bwd", what: "LayerNorm fwd+bwd", kiln_ms: null, samples_ms: [], tflops: null, gbps: null },
  ],
  failures: [{ step: "layernorm_fwd_bwd [12288, 1024]", error: "boom" }],
};
const sampleTorch = {
  torch: "2.11.0+cu130",
  device: "NVIDIA H100 80GB HBM3",
  rows: {
    [TRAIN_ROW]: {
      eager: { ms: 50, samples_ms: [50] },
      compile: { ms: 40, samples_ms: [40] },
      compile_max_autotune: { skipped: "skipped: 30 s left of the 230 s budget, 120 s needed" },
    },
    rmsnorm_fwd: { eager: { ms: 0.04 }, compile: { ms: 0.025 } },
    layernorm_fwd_bwd: { eager: { ms: 0.1 }, compile: { skipped: "killed after 60 s (time budget): torch.compile did not finish" } },
    rmsnorm_fwd_bwd: { eager: { error: "RuntimeError: x" }, compile: { ms: 0.05 } },
  },
  notes: ["optimizer step eager"],
  skipped: ["compile_max_autotune train: skipped"],
};
const sampleSmoke = {
  device: { name: "NVIDIA H100 80GB HBM3" },
  timings: [
    { what: "gemm 4096³", kernel: "gemm_mma_a", ms: 0.4, tflops: 343 },
    { what: "gemm 4096³", kernel: "gemm_wgmma_b", ms: 0.3, tflops: 458 },
    { what: "adamw 128.8M params", kernel: "adamw", ms: 0.9, gbps: 2500 },
  ],
  peers: { torch: "2.11.0+cu130", "gemm 4096³": 0.25 },
  failures: [],
};

/** The issue's shape: card, date, rows of { name, kiln_ms, tflops, peers: { torch_ms, torch_compile_ms } }. */
function expectIssueShape(results: IssueResults): void {
  expect(typeof results.card).toBe("string");
  expect(results.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(Array.isArray(results.rows)).toBe(true);
  for (const row of results.rows) {
    expect(typeof row.name).toBe("string");
    expect(row.kiln_ms === null || typeof row.kiln_ms === "number").toBe(true);
    expect(row.tflops === null || typeof row.tflops === "number").toBe(true);
    expect(Object.keys(row.peers)).toEqual(expect.arrayContaining(["torch_ms", "torch_compile_ms"]));
    for (const key of ["torch_ms", "torch_compile_ms"] as const) expect(row.peers[key] === null || typeof row.peers[key] === "number").toBe(true);
  }
  // What travels is plain JSON: a round trip changes nothing.
  expect(JSON.parse(JSON.stringify(results))).toEqual(results);
}

describe("the run's results merge into the issue's format", () => {
  test("kiln rows joined with their eager and compiled peers, ratios, and why a time is missing", () => {
    const results = mergeResults({ train: sampleTrain, torch: sampleTorch, smoke: sampleSmoke }, "2025-07-01");
    expectIssueShape(results);
    expect(results.card).toBe("NVIDIA H100 80GB HBM3");
    expect(results.torch).toBe("2.11.0+cu130");
    const byName = Object.fromEntries(results.rows.map((r) => [r.name, r]));
    expect(byName[TRAIN_ROW]).toMatchObject({
      kiln_ms: 25,
      tflops: 334.1,
      images_per_s: 1280,
      peers: { torch_ms: 50, torch_compile_ms: 40, torch_compile_max_autotune_ms: null },
      ratios: { torch: 0.5, torch_compile: 0.625 },
    });
    expect(byName[TRAIN_ROW]!.missing!.torch_compile_max_autotune_ms).toMatch(/budget/);
    expect(byName.rmsnorm_fwd).toMatchObject({ kiln_ms: 0.02, tflops: null, gbps: 2516, peers: { torch_ms: 0.04, torch_compile_ms: 0.025 } });
    expect(byName.rmsnorm_fwd!.peers).not.toHaveProperty("torch_compile_max_autotune_ms");
    expect(byName.layernorm_fwd_bwd).toMatchObject({ kiln_ms: null, peers: { torch_ms: 0.1, torch_compile_ms: null } });
    expect(byName.layernorm_fwd_bwd!.missing!.torch_compile_ms).toMatch(/torch.compile did not finish/);
    // A row only the peer measured is kept, with why kiln has none.
    expect(byName.rmsnorm_fwd_bwd).toMatchObject({ kiln_ms: null, peers: { torch_ms: null, torch_compile_ms: 0.05 } });
    expect(byName.rmsnorm_fwd_bwd!.missing!.torch_ms).toBe("RuntimeError: x");
    // smoke.json: the fastest kernel per shape, against torch.matmul.
    expect(byName["gemm 4096³"]).toMatchObject({
      kiln_ms: 0.3,
      tflops: 458,
      kernel: "gemm_wgmma_b",
      peers: { torch_ms: 0.25, torch_compile_ms: null },
    });
    expect(byName["adamw 128.8M params"]).toMatchObject({ kiln_ms: 0.9, tflops: null, gbps: 2500, peers: { torch_ms: null } });
    expect(results.failures).toEqual(
      expect.arrayContaining(["train: layernorm_fwd_bwd [12288, 1024]", "torch peer skipped compile_max_autotune train: skipped"]),
    );
    expect(results.conventions).toEqual(["tflops: model FLOPs / time", "torch peer: optimizer step eager"]);
    expect(resultsFileName(results)).toBe("gpu-h100-80gb-hbm3-2025-07-01.json");
    const table = resultsTable(results);
    expect(table.split("\n")[0]).toBe("NVIDIA H100 80GB HBM3, 2025-07-01, torch 2.11.0+cu130");
    expect(table).toMatch(new RegExp(`${TRAIN_ROW}\\s+25\\.000\\s+334\\.1\\s+50\\.000\\s+40\\.000\\s+0\\.50\\s+0\\.63`));
    expect(table).toContain("1280 images/s");
  });

  test("a run where only kiln finished still has the shape, with every peer missing and said why", () => {
    const results = mergeResults({ train: sampleTrain, nvidiaSmi: "name, driver_version\nNVIDIA H200, 580.1\n" }, "2025-07-02");
    expectIssueShape(results);
    expect(results.rows.map((r) => r.name)).toEqual([TRAIN_ROW, "rmsnorm_fwd", "layernorm_fwd_bwd"]);
    expect(results.rows[0]!.peers).toEqual({ torch_ms: null, torch_compile_ms: null });
    expect(results.rows[0]!.missing!.torch_ms).toMatch(/train-torch.json missing/);
  });

  test("the card comes from nvidia-smi when no JSON names it; names become file-safe slugs", () => {
    const results = mergeResults({ torch: { rows: {} }, nvidiaSmi: "name, driver_version\nNVIDIA H200, 580.1\n" }, "2025-07-02");
    expectIssueShape(results);
    expect(results.card).toBe("NVIDIA H200");
    expect(resultsFileName(results)).toBe("gpu-h200-2025-07-02.json");
    expect(cardSlug("NVIDIA H100 80GB HBM3")).toBe("h100-80gb-hbm3");
    expect(cardSlug("")).toBe("unknown-card");
  });
});
