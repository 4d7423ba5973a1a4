// Runs a graph through the real pipeline (schedule, lower, GPU lowering) and the GPU emulator, for
// tests that compare the emulated CUDA lowering with the interpreter.
import { bf16Bits, f16Bits } from "../../compiler/dtype.ts";
import type { Tensor } from "../../compiler/graph.ts";
import type { HostArray } from "../../compiler/interpret.ts";
import { lowerSchedule } from "../../compiler/lower.ts";
import { schedule } from "../../compiler/schedule.ts";
import { emulateKernel, storageAccess, storageArray, type StorageArray } from "../../compiler/codegen/gpu-emulator.ts";
import { lowerProgramForGpu, type GpuConfig, type GpuProgram } from "../../compiler/codegen/gpu-lower.ts";
import { mmaReferenceKernel } from "../../compiler/codegen/gpu-gemm.ts";

/** Fills memory that nothing has written with a value that shows up when read: NaN, or a large integer. */
function poison(array: StorageArray, dtype: string): void {
  if (array instanceof Float32Array) array.fill(Number.NaN);
  else if (array instanceof Uint16Array) array.fill(dtype === "bf16" ? bf16Bits(Number.NaN) : f16Bits(Number.NaN));
  else if (array instanceof Int32Array) array.fill(0x7eadbeef);
  else array.fill(0xaa);
}

export interface EmulatedRun {
  outputs: Float64Array[];
  gpu: GpuProgram;
  launches: number;
}

/** Schedules, lowers and emulates `outputs` with `inputs` (external input nodes) fed from `feeds` by node name. */
/**
 * `tensorCores`: GEMMs with a tensor-core plan run as the device would with the template — the plan's
 * packing launches, then the template modelled by mmaReferenceKernel — instead of the SIMT GEMM.
 */
export function runEmulated(
  outputs: readonly Tensor[],
  inputs: readonly Tensor[],
  feeds: ReadonlyMap<Tensor, HostArray>,
  config: GpuConfig,
  tensorCores = false,
): EmulatedRun {
  const program = lowerSchedule(schedule(outputs, inputs));
  const gpu = lowerProgramForGpu(program, config);
  const memory = new Map<number, StorageArray>();
  for (const b of program.buffers) {
    const array = storageArray(b.dtype, Math.max(b.size, 1));
    poison(array, b.dtype);
    memory.set(b.id, array);
  }
  for (const [node, id] of program.inputs) {
    const feed = feeds.get(node);
    if (!feed) throw new Error(`runEmulated: no value for input ${node.op}${JSON.stringify(node.shape)}`);
    const access = storageAccess(program.buffers[id]!.dtype, memory.get(id)!);
    feed.data.forEach((v, k) => access.set(k, v));
  }
  for (const [id, decl] of gpu.scratch) {
    const array = storageArray(decl.dtype, Math.max(decl.size, 1));
    poison(array, decl.dtype);
    memory.set(id, array);
  }
  let launches = 0;
  const byId = (p: { id: number }) => memory.get(p.id)!;
  for (const lowered of gpu.kernels) {
    const step = lowered.step;
    if (tensorCores && step.kind === "gemm" && step.mma) {
      for (const launch of step.mma.prologue) emulateKernel(launch, byId);
      emulateKernel(mmaReferenceKernel(step.mma), byId);
      launches += step.mma.prologue.length + 1;
      continue;
    }
    for (const launch of step.launches) {
      emulateKernel(launch, byId);
      launches++;
    }
  }
  const results = program.outputs.map((id) => {
    const b = program.buffers[id]!;
    const access = storageAccess(b.dtype, memory.get(id)!);
    return Float64Array.from({ length: b.size }, (_, k) => access.get(k));
  });
  return { outputs: results, gpu, launches };
}
