// The second public API of runtime/: the part that needs neither Node's modules nor native libraries,
// so that it runs in a browser bundle (`kiln serve`'s page) as it runs in Node. Nothing here registers
// a device: a browser passes the WebGPU device as an object (compileStep(…, { device: webGpuDevice })).
// Node code keeps importing runtime/index.ts, which exports the same names and registers every device.
export { compileOn, compileStep, Step, type DeviceName, type KernelStat } from "./compiled-step.ts";
export type { Device, DeviceChoice, DeviceFacts, DeviceProgram, StepOptions, StepValues } from "./device.ts";
export type { TypedArray } from "./trace.ts";
export { webGpuDevice } from "./webgpu/device.ts";
export { openWebGpu, type OpenedGpu } from "./webgpu/open.ts";
export { encodeSafetensors, keyMismatch, parseSafetensorsBytes, type TensorToWrite } from "./safetensors-format.ts";
export { nearestName } from "./nearest.ts";
