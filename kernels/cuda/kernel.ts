// What a CUDA kernel template produces, and the preamble every template's source starts with
// (bf16 conversions and the tensor-core PTX the templates use). The kernel record is the compiler's
// template interface (compiler/codegen/cuda-templates.ts), named here as the templates call it.
import type { CudaKernelParam, CudaKernelSource, CudaParamType } from "../../compiler/index.ts";

/** How a kernel parameter is passed: a device pointer (u64) or a 32-bit / 64-bit scalar. */
export type KernelParamType = CudaParamType;
/** A parameter: name, how it is passed, and its C type in the signature (e.g. `const bf16_t* __restrict__`). */
export type KernelParam = CudaKernelParam;

export type Dim3 = readonly [number, number, number];

/** A complete translation unit (preamble included) with its `extern "C"` name, launch shape, dynamic shared memory and parameters. */
export type CudaKernel = CudaKernelSource;

export const pointer = (name: string, cType: string): KernelParam => ({ name, type: "ptr", cType });
export const scalar = (name: string, type: Exclude<KernelParamType, "ptr">): KernelParam => ({
  name,
  type,
  cType: { i32: "int", u32: "unsigned", i64: "long long", f32: "float" }[type],
});

/** Element types a template reads or writes, with their C storage type. */
export type StorageType = "bf16" | "f32";
export const C_TYPE: Record<StorageType, string> = { bf16: "bf16_t", f32: "float" };

export const signature = (params: readonly KernelParam[]) => params.map((p) => `${p.cType} ${p.name}`).join(", ");

/** A number as a C float literal that round-trips through f32 (e.g. 1e-8 → 9.99999993922529e-9f). */
export const floatLiteral = (x: number): string => {
  const f = Math.fround(x);
  return Number.isInteger(f) ? `${f}.f` : `${f}f`;
};

/** Indents every non-empty line of a block by `depth` two-space steps. */
export const indent = (text: string, depth: number): string =>
  text
    .split("\n")
    .map((line) => (line.trim() === "" ? "" : "  ".repeat(depth) + line))
    .join("\n");

/**
 * Helpers shared by every template, guarded so several kernels can share one translation unit.
 * No #include: bf16 is handled as raw bits with PTX conversions, so NVRTC needs no header path.
 */
export const PREAMBLE = `#ifndef KILN_CUDA_PREAMBLE
#define KILN_CUDA_PREAMBLE
typedef unsigned short bf16_t;  // bf16 as raw bits; converted with cvt.rn (round to nearest even)
#define KILN_INF __int_as_float(0x7f800000)  // no <math.h> under NVRTC, so no INFINITY

__device__ __forceinline__ float bf16_to_f32(bf16_t x) { return __uint_as_float(((unsigned)x) << 16); }
__device__ __forceinline__ bf16_t f32_to_bf16(float x) {
  bf16_t r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}
// Two floats as one bf16x2 word: lo in bits 0-15, hi in bits 16-31.
__device__ __forceinline__ unsigned pack_bf16x2(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
__device__ __forceinline__ float bf16x2_lo(unsigned x) { return __uint_as_float(x << 16); }
__device__ __forceinline__ float bf16x2_hi(unsigned x) { return __uint_as_float(x & 0xffff0000u); }
__device__ __forceinline__ unsigned smem_u32(const void* p) {
  unsigned r;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(r) : "l"(p));
  return r;
}
// 16-byte global → shared copy; bytes past src_bytes are zero-filled (src_bytes = 0 loads zeros).
__device__ __forceinline__ void cp_async_16(unsigned dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(N)); }
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}
// d += a·b for one m16n8k16 tile: bf16 inputs, f32 accumulators (PTX fragment layouts).
__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif
`;
