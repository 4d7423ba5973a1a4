// The interface between the CUDA renderer and the device's kernel templates (tensor-core GEMM, flash
// attention). compiler/ does not import kernels/: the runtime hands an implementation of this
// interface to renderCuda, as the C renderer receives `templateSource`. The shapes of these records
// match kernels/cuda/kernel.ts's CudaKernel, so a template's output passes through unchanged.

/** How a kernel parameter is passed: a device pointer, or a scalar. */
export type CudaParamType = "ptr" | "i32" | "u32" | "i64" | "f32";

export interface CudaKernelParam {
  readonly name: string;
  readonly type: CudaParamType;
  /** The C type in the kernel's signature. */
  readonly cType: string;
}

/** A kernel as compiled and launched: a complete translation unit with its launch shape. */
export interface CudaKernelSource {
  /** The `extern "C"` name; encodes template and shape. */
  readonly name: string;
  readonly source: string;
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  /** Dynamic shared memory in bytes. */
  readonly smemBytes: number;
  readonly params: readonly CudaKernelParam[];
}

/** The shape of a tensor-core GEMM: sizes, layout, batch strides and output type (see compiler/codegen/gpu-gemm.ts). */
export interface GemmTemplateShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batch: number;
  /** "tn": B is [N,K] row-major; "nn": B is [K,N] row-major. A is [M,K] row-major. */
  readonly layout: "tn" | "nn";
  readonly strideA: number;
  readonly strideB: number;
  readonly strideC: number;
  readonly out: "bf16" | "f32";
}

/** The problem the tensor-core GEMM template is asked for: a shape and its fused epilogue. */
export interface GemmTemplateProblem extends GemmTemplateShape {
  /**
   * Device code run on each output: the body of `float f(float acc, int b, int row, int col, …params)`
   * whose return value is stored into C; `tag` names it in the kernel name.
   */
  readonly epilogue: { readonly tag: string; readonly body: string; readonly params: readonly CudaKernelParam[] };
}

export interface AttentionTemplateShape {
  readonly batch: number;
  readonly heads: number;
  readonly seqQ: number;
  readonly seqK: number;
  readonly headDim: number;
  readonly mask: boolean;
  readonly scale: number;
}

/**
 * A device's templates. Parameter names are part of the contract:
 *   gemm:               A, B, C, then the epilogue's params
 *   attention forward:  Q, K, V, O, LSE[, key_mask]
 *   backward delta:     O, dO, Delta, dQ_acc
 *   backward main:      Q, K, V, dO, LSE, Delta, dQ_acc, dK, dV[, key_mask]
 *   backward convertDq: dQ_acc, dQ
 * Each returns null when it has nothing for the problem; the renderer then prints SIMT code.
 */
export interface CudaTemplates {
  readonly gemm?: (problem: GemmTemplateProblem) => CudaKernelSource | null;
  readonly attentionForward?: (shape: AttentionTemplateShape) => CudaKernelSource | null;
  readonly attentionBackward?: (
    shape: AttentionTemplateShape,
  ) => { readonly delta: CudaKernelSource; readonly main: CudaKernelSource; readonly convertDq: CudaKernelSource } | null;
}
