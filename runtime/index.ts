// The public API of runtime/: compile a step for a registered device and run it (step.ts), the
// device interface and registry (device.ts), checkpoints in safetensors, atomic cache writes, and
// the backend-equivalence check. models/ and bin/ import runtime through this file.
export {
  compileStep, compileOn, Step, deviceNamed, deviceNames, registeredDevices, registerDevice,
  type Device, type DeviceChoice, type DeviceFacts, type DeviceName, type DeviceProgram, type DeviceStatus, type KernelStat, type StepOptions, type StepValues,
} from "./step.ts";
export type { ExampleLeaf, TensorSpec, TraceOptions, TypedArray } from "./trace.ts";
export {
  dtypeBytes, keyMismatch, loadStateDict, openSafetensors, saveStateDict, toFloat32, writeSafetensors,
  type FileSystem, type RawTensor, type RawTensorData, type SafetensorsDType, type SafetensorsReader, type StateDictEntry, type TensorExpectation, type TensorInfo, type TensorToWrite,
} from "./safetensors.ts";
export { cacheDir, cacheKey, writeAtomic } from "./cache.ts";
export { gradCaseEquivalence, relativeError, EQUIVALENCE_TOLERANCE, type CaseResult, type EquivalenceOptions, type EquivalenceReport } from "./equivalence.ts";
