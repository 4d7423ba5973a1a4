// kiln's compiler: the public API. Models are pure functions over these symbolic Tensors.

export type { DType } from "./dtype.ts";
export {
  DTYPES,
  isFloat,
  itemSize,
  roundBf16,
  roundF16,
  bf16Bits,
  bf16FromBits,
  f16Bits,
  f16FromBits,
  roundTo,
  bf16BitsArray,
  roundBf16Array,
} from "./dtype.ts";
export type { Tensor, Shape, Op, OpAttrs, Pytree, CallBody, CustomVjp } from "./graph.ts";
export { OPS, sizeOf, shapeStr, describe, toposort, substitute, treeLeaves, treeMap, isTensor, fnv1a32 } from "./graph.ts";
export { GraphError } from "./errors.ts";
export * from "./ops.ts";
export * as ops from "./ops.ts";
export * as nn from "./nn.ts";
export { grad, valueAndGrad, vjp, backward, stopGradient } from "./autodiff.ts";
export { interpret, evaluateTensor, hostArray, isHostArray } from "./interpret.ts";
export type { HostArray, Feed, Precision, InterpretOptions } from "./interpret.ts";
export { gradcheck, seededRandom } from "./gradcheck.ts";
export type { GradcheckOptions, GradcheckResult } from "./gradcheck.ts";
export { GRAD_CASES, randomGraphFamily } from "./gradcheck-cases.ts";
export type { GradCase, GradCaseFamily } from "./gradcheck-cases.ts";
export { graphText } from "./text.ts";
export { philox4x32, philoxUniform } from "./philox.ts";
export { debugLevel, debugLog } from "./debug.ts";

// For devices (runtime/): the schedule and the lowered program a device compiles, donation and arena
// planning, and the renderers (C, CUDA, WGSL, the SIMT lowering and its emulator) with the CUDA template
// interface that kernels/cuda implements. Files inside compiler/ import each other directly, never this file.
export { schedule, kernelCount, describeGroup, type Schedule, type ScheduleOptions } from "./schedule.ts";
export {
  TEMPLATES,
  TEMPLATE_NAMES,
  ALL_TEMPLATES,
  templateSet,
  templatesOf,
  lowerTemplate,
  type TemplateName,
  type TemplateSet,
  type TemplateSpec,
  type TemplateLowerings,
} from "./templates.ts";
export { lowerSchedule, type Program } from "./lower.ts";
export { inPlaceIsSafe } from "./donation.ts";
export { planArena, type ArenaPlan } from "./memory-plan.ts";
export { reuseReducedOperands } from "./reuse-operand.ts";
export { renderC, C_TEMPLATES } from "./codegen/c.ts";
export { CUDA_HELPERS, renderCuda, type CudaLaunch, type CudaProgram } from "./codegen/cuda.ts";
export { philoxRounds } from "./codegen/c-family-helpers.ts";
export type {
  AttentionTemplateShape,
  CudaKernelParam,
  CudaKernelSource,
  CudaParamType,
  CudaTemplates,
  GemmTemplateProblem,
  GemmTemplateShape,
} from "./codegen/cuda-templates.ts";
export { emulateKernel, type StorageArray } from "./codegen/gpu-emulator.ts";
export { mmaReferenceKernel, type MmaGemmPlan } from "./codegen/gpu-gemm.ts";
export type { GlobalParam } from "./codegen/gpu-ir.ts";
export { gpuConfig, lowerProgramForGpu, SIMT_TEMPLATES, type GpuConfig, type GpuProgram } from "./codegen/gpu-lower.ts";
export { renderWgsl, webGpuConfig, type WgslProgram } from "./codegen/wgsl.ts";
