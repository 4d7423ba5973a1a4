// The registered CUDA-family devices: `cuda`, an NVIDIA GPU through the driver and NVRTC, and
// `cuda-emulated`, the same CUDA program run launch by launch in the TypeScript GPU emulator (slow,
// but it needs no GPU: tests use it). KILN_CUDA_EMULATE=1 makes `cuda` the emulator too.
import type { Device } from "../device.ts";
import { CudaDevice } from "./device.ts";
import { emulatedStepDevice } from "./emulated-device.ts";
import type { StepDevice } from "./step-device.ts";
import { cudaStatus } from "./status.ts";
import { cudaDevice, type CudaStepProgram } from "./step.ts";
import { cudaTemplates } from "./templates.ts";
import { cudaOrdinal } from "../collective/world.ts";

let gpu: CudaDevice | StepDevice | undefined;
/** One device (context) for every CUDA step of the process; ranks of a data-parallel job take the GPU of their local rank (runtime/collective/world.ts). */
const sharedGpu = (): CudaDevice | StepDevice =>
  (gpu ??= process.env.KILN_CUDA_EMULATE === "1" ? emulatedStepDevice() : CudaDevice.open({ ordinal: cudaOrdinal() }));

let emulator: StepDevice | undefined;
const sharedEmulator = (): StepDevice => (emulator ??= emulatedStepDevice());

export const cudaGpu: Device<CudaStepProgram> = cudaDevice({
  name: "cuda",
  summary: "an NVIDIA GPU through generated CUDA (libcuda and NVRTC; see kiln doctor)",
  open: sharedGpu,
  status: cudaStatus,
});

export const cudaEmulated: Device<CudaStepProgram> = cudaDevice({
  name: "cuda-emulated",
  summary: "the CUDA program run in kiln's GPU emulator, without a GPU (slow; for tests)",
  open: sharedEmulator,
  status: async () => ({
    available: true,
    lines: ["runs each generated CUDA launch in compiler/codegen/gpu-emulator.ts; the tensor-core GEMM as a plain GEMM"],
  }),
  // The emulator models the tensor-core GEMM (as a plain GEMM and the plan's epilogue), not flash attention.
  defaults: { templates: { gemm: cudaTemplates().gemm! } },
});
