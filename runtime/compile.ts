// compile(fn, example, { donate }): compileStep on the CPU device (runtime/cpu/device.ts), typed so that
// callers see the CPU's own half of the step (its library, its arena).

import type { Pytree, Tensor } from "../compiler/index.ts";
import { cpuDevice, type CpuProgram } from "./cpu/device.ts";
import { compileOn, Step } from "./compiled-step.ts";
import type { TraceOptions } from "./trace.ts";

export type { ExampleLeaf, TensorSpec, TypedArray } from "./trace.ts";
export type { KernelStat } from "./compiled-step.ts";
export { loadLibrary } from "./cpu/device.ts";

/** A step compiled for the CPU. */
export type CompiledStep = Step<CpuProgram>;

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs) into generated
 * C on this CPU. The returned step takes values for the same tree (or any part of it; the rest stay resident).
 */
export function compile<E extends Pytree<unknown>>(
  fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>,
  example: E,
  options: TraceOptions = {},
): CompiledStep {
  return compileOn(cpuDevice, fn, example, options);
}
