// One entry point for every device: compileStep(fn, example, { device }) compiles a step for the
// device of that name in the registry (runtime/device.ts; runtime/devices.ts registers kiln's own)
// and returns a Step (runtime/compiled-step.ts) with the same methods on every device. Importing this
// file registers kiln's devices; compileStep itself (in compiled-step.ts) also runs in a browser, where
// runtime/portable.ts is the entry and the device is passed as an object.
import "./devices.ts";

export { Step, compileOn, compileStep, type DeviceName, type KernelStat } from "./compiled-step.ts";
export {
  deviceNamed,
  deviceNames,
  registeredDevices,
  registerDevice,
  type Device,
  type DeviceChoice,
  type DeviceFacts,
  type DeviceProgram,
  type DeviceMemory,
  type DeviceStatus,
  type StepOptions,
  type StepValues,
} from "./device.ts";
