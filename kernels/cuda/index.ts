// The public API of the CUDA kernel templates: each renders a complete CUDA C++ translation unit with
// its launch shape and parameter list (CudaKernel), for NVRTC on a GPU or nvcc on any machine.
export { type CudaKernel, type KernelParam, type KernelParamType, type StorageType, pointer, scalar } from "./kernel.ts";
export { gemmMma, gemmTileProblem, IDENTITY_EPILOGUE, type GemmEpilogue, type GemmLayout, type GemmProblem, type GemmTile } from "./gemm-mma.ts";
export { gemmWgmma, type WgmmaTile } from "./gemm-wgmma.ts";
export { attentionForward, attentionScale, attentionShapeProblem, type AttentionShape } from "./attention.ts";
export { attentionBackward, attentionBackwardConvertDq, attentionBackwardPreprocess } from "./attention-backward.ts";
export { adamwHyper, adamwMultiTensor, adamwTable, type AdamwOptions, type AdamwTensor } from "./adamw.ts";
export { PHILOX_SOURCE, philoxFill, type Distribution } from "./philox.ts";
export { emulateGemm } from "./gemm-emulator.ts";
export { cudaCorpus, corpusKernels, MMA_TILES, type CorpusEntry } from "./corpus.ts";
