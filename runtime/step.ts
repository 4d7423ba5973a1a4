// One entry point for every device: compileStep(fn, example, { device }) compiles a step for the
// device of that name in the registry (runtime/device.ts; runtime/devices.ts registers kiln's own)
// and returns a Step (runtime/compiled-step.ts) with the same methods on every device.

import type { Pytree, Tensor } from "../compiler/index.ts";
import { compileOn, type Step } from "./compiled-step.ts";
import { deviceNamed, type StepOptions } from "./device.ts";
import "./devices.ts";

export { Step, compileOn, type KernelStat } from "./compiled-step.ts";
export {
  deviceNamed,
  deviceNames,
  registeredDevices,
  registerDevice,
  type Device,
  type DeviceChoice,
  type DeviceFacts,
  type DeviceProgram,
  type DeviceStatus,
  type StepOptions,
  type StepValues,
} from "./device.ts";

/** A registered device's name, as `--device` takes it. */
export type DeviceName = string;

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs) on a device
 * (default "cpu"). The returned step takes values for the same tree (or any part of it; the rest stay resident).
 */
export function compileStep<E extends Pytree<unknown>>(fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>, example: E, options: StepOptions = {}): Step {
  const { device = "cpu", ...rest } = options;
  return compileOn(typeof device === "string" ? deviceNamed(device) : device, fn, example, rest);
}
