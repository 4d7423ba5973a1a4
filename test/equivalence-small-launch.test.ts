// Property: the emulated CUDA device agrees with the interpreter on every family of GRAD_CASES under
// a small launch configuration (compiler/codegen/gpu-common.ts: 64-thread blocks, at most 3 blocks, a
// tiny SIMT GEMM tile), where grid-stride loops wrap, rows take every reduction strategy and tiles
// are ragged; SIMT code only (no templates).
import { smallGpuConfig } from "../compiler/codegen/gpu-lower.ts";
import { cudaEmulated } from "../runtime/cuda/devices.ts";
import { emulatedStepDevice } from "../runtime/cuda/emulated-device.ts";
import { cudaDevice } from "../runtime/cuda/step.ts";
import { describeEquivalence } from "./helpers/equivalence.ts";

describeEquivalence(
  cudaDevice(
    {
      name: "cuda-emulated-small",
      summary: "the emulated CUDA device under the small launch configuration",
      open: emulatedStepDevice,
      status: cudaEmulated.status,
    },
    { config: smallGpuConfig(), templates: null },
  ),
);
