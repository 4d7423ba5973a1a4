// The backend-equivalence suite on the `cuda` device (started by bench/gpu/run.sh): GRAD_CASES (every
// primitive and composite, forward and backward, random graphs) compiled as one CUDA step under the
// production launch configuration and under a small one (grid-stride loops wrap, every reduction
// strategy), compared with the interpreter; the corpus programs of programs.ts compared with the
// interpreter at bf16 tolerance where bf16 is used; the AAA block at dim 1024 run and timed (graph
// replay, and each launch alone). Every step is guarded and bounded; results go to <out>/equivalence.json
// as they come. `--device emulated` runs the same script without a GPU (the emulator runs each launch).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../../bin/command.ts";
import { interpret, type HostArray } from "../../compiler/interpret.ts";
import { substitute, type Tensor } from "../../compiler/graph.ts";
import { gpuConfig, smallGpuConfig, type GpuConfig } from "../../compiler/codegen/gpu-lower.ts";
import { compileCuda, cudaDevice, type CudaStep } from "../../runtime/cuda/step.ts";
import { gradCaseEquivalence } from "../../runtime/equivalence.ts";
import type { CudaDevice } from "../../runtime/cuda/device.ts";
import { cudaStepDevice, type StepDevice } from "../../runtime/cuda/step-device.ts";
import { emulatedStepDevice } from "../../runtime/cuda/emulated-device.ts";
import { cudaTemplates } from "../../runtime/cuda/templates.ts";
import type { TypedArray } from "../../runtime/trace.ts";
import { corpusTolerance, cudaProgramCorpus, outputError, programValues, type CorpusProgram } from "./programs.ts";
import { guardedSteps } from "./guarded.ts";

const { flags } = parseArgs(process.argv.slice(2), []);
const outDir = flags.get("out") ?? process.env.OUT ?? "out/gpu";
const deadline = Date.now() + Number(flags.get("budget") ?? 240) * 1000;
const runs = Number(flags.get("runs") ?? 4);
const emulated = flags.get("device") === "emulated";
mkdirSync(outDir, { recursive: true });

/** The emulated device models the tensor-core GEMM (as a plain GEMM and the plan's epilogue), not flash attention. */
const EMULATED_TEMPLATES = { gemm: cudaTemplates().gemm! };

const SMALL: GpuConfig = smallGpuConfig();

interface CaseResult {
  suite: string;
  label: string;
  ok: boolean;
  errors: number[];
}
const report = {
  started: new Date().toISOString(),
  device: "",
  cases: [] as CaseResult[],
  compiles: [] as { suite: string; kernels: number; launches: number; seconds: Record<string, number> }[],
  timings: [] as { what: string; ms: number; launches?: { kernel: string; ms: number }[] }[],
  failures: [] as { step: string; error: string }[],
  skipped: [] as string[],
};
const { step, save } = guardedSteps(report, join(outDir, "equivalence.json"), deadline);

const nameOf = (t: Tensor) => (t as Tensor<"input">).attrs.name;

/** A graph over named input nodes as a CUDA step whose inputs are keyed by those names. */
function compileGraph(name: string, outputs: readonly Tensor[], inputs: readonly Tensor[], device: StepDevice, config: GpuConfig): CudaStep {
  const example = Object.fromEntries(inputs.map((t) => [nameOf(t), { shape: t.shape, dtype: t.dtype }]));
  const params = inputs.filter((t) => (t as Tensor<"input">).attrs.role === "param").map(nameOf);
  const fn = (tree: unknown) => substitute(outputs, new Map(inputs.map((t) => [t, (tree as Record<string, Tensor>)[nameOf(t)]!])));
  const compiled = compileCuda(fn, example, { device, config, params, name, ...(emulated ? { templates: EMULATED_TEMPLATES } : {}) });
  report.compiles.push({
    suite: name,
    kernels: compiled.backend.cuda.kernels.length,
    launches: compiled.kernelCount,
    seconds: compiled.compileSeconds,
  });
  return compiled;
}

/** GRAD_CASES, forward and gradients of sum(out · cotangent), all in one step (runtime/equivalence.ts). */
function gradCases(stepDevice: StepDevice, config: GpuConfig, suite: string): void {
  const device = cudaDevice(
    { name: `cuda-${suite}`, summary: stepDevice.description, open: () => stepDevice, status: async () => ({ available: true, lines: [] }) },
    { config, ...(emulated ? { templates: EMULATED_TEMPLATES } : {}) },
  );
  const { cases: results, kernels, launches, compileSeconds } = gradCaseEquivalence(device, { runs, name: `grad_cases_${suite}` });
  report.compiles.push({ suite: `grad_cases_${suite}`, kernels, launches, seconds: { ...compileSeconds } });
  for (const r of results) report.cases.push({ suite, label: `${r.family}: ${r.label}`, ok: r.ok, errors: r.errors });
  const failed = results.filter((r) => !r.ok).length;
  if (failed) throw new Error(`${failed} of ${results.length} cases disagree with the interpreter (see cases[] with ok: false)`);
}

function corpusProgram(device: StepDevice, program: CorpusProgram): void {
  const values = programValues(program, 5);
  const compiled = compileGraph(program.name, program.outputs, program.inputs, device, gpuConfig());
  const results = compiled.run(new Map([...values].map(([t, v]) => [nameOf(t), v]))) as TypedArray[];
  compiled.dispose();
  const byName = Object.fromEntries([...values].map(([t, v]) => [nameOf(t), v]));
  const expected = interpret([...program.outputs], byName, { precision: "native" }) as HostArray[];
  const { tolerance, floor } = corpusTolerance(program);
  const errors = expected.map((ref, o) => outputError(results[o]!, ref.data, floor));
  const ok = errors.every((e) => e <= tolerance);
  report.cases.push({ suite: "corpus", label: program.name, ok, errors });
  if (!ok) throw new Error(`${program.name}: errors ${errors.map((e) => e.toExponential(1)).join(" ")} exceed ${tolerance}`);
}

/** The d1024 block: runs, finite outputs, graph replay time and each launch timed alone. */
function timeProgram(device: CudaDevice | null, stepDevice: StepDevice, program: CorpusProgram): void {
  const compiled = compileGraph(program.name, program.outputs, program.inputs, stepDevice, gpuConfig());
  const values = programValues(program, 5);
  compiled.set(new Map([...values].map(([t, v]) => [nameOf(t), v])));
  const results = compiled.run() as TypedArray[];
  const bad = results.findIndex((r) => r.some((x) => !Number.isFinite(x)));
  if (bad >= 0) throw new Error(`${program.name}: output ${bad} has non-finite values`);
  if (device) {
    const ms = device.time(() => compiled.execute(), 5);
    report.timings.push({ what: `${program.name} step (graph replay)`, ms, launches: compiled.backend.launchTimes((work) => device.time(work, 5)) });
  }
  compiled.dispose();
}

async function main(): Promise<number> {
  console.log(`kiln CUDA equivalence suite → ${join(outDir, "equivalence.json")}`);
  let device: CudaDevice | null = null;
  let stepDevice: StepDevice;
  if (emulated) stepDevice = emulatedStepDevice();
  else {
    const { CudaDevice } = await import("../../runtime/cuda/device.ts");
    const opened = await step("open the CUDA device", () => CudaDevice.open());
    if (!opened) return 1;
    device = opened;
    stepDevice = cudaStepDevice(opened);
  }
  report.device = stepDevice.description;
  await step("GRAD_CASES forward and backward (production launch configuration)", () => gradCases(stepDevice, gpuConfig(), "production"));
  await step("GRAD_CASES forward and backward (small launch configuration)", () => gradCases(stepDevice, SMALL, "small"));
  const corpus = cudaProgramCorpus();
  for (const program of corpus.filter((p) => !p.name.includes("d1024")))
    await step(`corpus ${program.name}`, () => corpusProgram(stepDevice, program));
  if (!emulated)
    for (const program of corpus.filter((p) => p.name.includes("d1024")))
      await step(`run and time ${program.name}`, () => timeProgram(device, stepDevice, program));
  device?.close();
  const failedCases = report.cases.filter((c) => !c.ok);
  console.log(`\n${report.cases.length - failedCases.length}/${report.cases.length} cases agree with the interpreter`);
  for (const c of failedCases.slice(0, 20)) console.log(`  FAIL ${c.suite} ${c.label}: ${c.errors.map((e) => e.toExponential(1)).join(" ")}`);
  for (const t of report.timings) console.log(`  ${t.what}: ${t.ms.toFixed(3)} ms`);
  if (report.skipped.length) console.log(`skipped for time: ${report.skipped.join(", ")}`);
  save();
  return report.failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
