// The public API of runtime/: compile a step for a registered device and run it (step.ts), the
// device interface and registry (device.ts), checkpoints in safetensors, atomic cache writes, and
// the backend-equivalence check; for models/ and bin/ also file reading with clear errors, "did you
// mean" names, the data-parallel world and its launcher, and the native toolchains' cache state.
// models/ and bin/ import runtime through this file (bin/ also through runtime/cuda/index.ts); models/
// files that run in a browser import runtime/portable.ts, the part of this API that needs no Node.
export {
  compileStep,
  compileOn,
  Step,
  deviceNamed,
  deviceNames,
  registeredDevices,
  registerDevice,
  type Device,
  type DeviceChoice,
  type DeviceFacts,
  type DeviceName,
  type DeviceProgram,
  type DeviceMemory,
  type DeviceStatus,
  type KernelStat,
  type StepOptions,
  type StepValues,
} from "./step.ts";
export type { ExampleLeaf, TensorSpec, TraceOptions, TypedArray } from "./trace.ts";
export {
  dtypeBytes,
  encodeSafetensors,
  keyMismatch,
  parseSafetensorsBytes,
  loadStateDict,
  openSafetensors,
  saveStateDict,
  toFloat32,
  writeSafetensors,
  type FileSystem,
  type RawTensor,
  type RawTensorData,
  type SafetensorsDType,
  type SafetensorsReader,
  type StateDictEntry,
  type TensorExpectation,
  type TensorInfo,
  type TensorToWrite,
} from "./safetensors.ts";
export { webGpuDevice } from "./webgpu/device.ts";
export { openWebGpu } from "./webgpu/open.ts";
export { CACHE_KINDS, cacheDir, cacheKey, cacheRoot, writeAtomic } from "./cache.ts";
export { describeWriteError, readJsonFile, readUtf8File, requireRegularFile } from "./files.ts";
export { nearestName } from "./nearest.ts";
export { launcherRank, openWorld, singleProcess, type World } from "./collective/world.ts";
export { mpirunPlan, runRanks } from "./collective/launch.ts";
export { collectiveStatus } from "./collective/status.ts";
export { loadNccl, ncclCommunicator, ncclVersionText, type Nccl } from "./collective/nccl.ts";
export { damagedLibraries } from "./cpu/toolchain.ts";
export { openMpThreads } from "./cpu/openmp.ts";
export {
  gradCaseEquivalence,
  relativeError,
  EQUIVALENCE_TOLERANCE,
  type CaseResult,
  type EquivalenceOptions,
  type EquivalenceReport,
} from "./equivalence.ts";
