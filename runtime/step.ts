// One entry point for every device: compileStep(fn, example, { device }) returns a Step with the same
// methods whether the work runs as generated C on this CPU or as generated CUDA on a GPU.

import type { Pytree, Tensor } from "../compiler/index.ts";
import { compile } from "./compile.ts";
import { compileCuda } from "./cuda/step.ts";
import { CudaDevice } from "./cuda/device.ts";
import { emulatedStepDevice } from "./cuda/emulated-device.ts";
import type { StepDevice } from "./cuda/step-device.ts";
import type { TraceOptions, TypedArray } from "./trace.ts";
import { cudaOrdinal } from "./collective/world.ts";

export type Device = "cpu" | "cuda";

export interface Step {
  readonly name: string;
  readonly kernelCount: number;
  set(values: Pytree<unknown> | ReadonlyMap<string, unknown>): void;
  input(path: string): TypedArray;
  output(path: string): TypedArray;
  execute(values?: Pytree<unknown> | ReadonlyMap<string, unknown>): void;
  run(values?: Pytree<unknown> | ReadonlyMap<string, unknown>): Pytree<TypedArray>;
  dispose(): void;
}

export interface StepOptions extends TraceOptions {
  device?: Device;
}

let gpu: CudaDevice | StepDevice | undefined;
/**
 * One device (context) for every CUDA step of the process. KILN_CUDA_EMULATE=1 runs the generated
 * CUDA kernels in the TypeScript GPU emulator instead (slow, but it needs no GPU: tests use it).
 * Ranks of a data-parallel job take the GPU of their local rank (runtime/collective/world.ts).
 */
const sharedGpu = (): CudaDevice | StepDevice => (gpu ??= process.env.KILN_CUDA_EMULATE === "1" ? emulatedStepDevice() : CudaDevice.open({ ordinal: cudaOrdinal() }));

export function compileStep<E extends Pytree<unknown>>(fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>, example: E, options: StepOptions = {}): Step {
  const { device = "cpu", ...rest } = options;
  switch (device) {
    case "cpu":
      return compile(fn, example, rest) satisfies Step;
    case "cuda":
      return compileCuda(fn, example, { ...rest, device: sharedGpu() }) satisfies Step;
    default:
      return device satisfies never;
  }
}
