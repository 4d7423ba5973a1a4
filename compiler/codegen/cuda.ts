// The CUDA renderer: GPU L2 (gpu-lower.ts) → CUDA C++ for NVRTC, one translation unit per kernel
// (a guarded prelude, so units concatenate into one for batched compiles), and the launch list of
// the program with each argument as a buffer (plus a byte offset) or a scalar. gemm and attention
// statements become the device's tensor-core templates when it has one for the problem (the
// epilogue printed as the GEMM template's device function), else the SIMT code of the lowering.

import { cStyleLanguage, literal } from "./c-family.ts";
import { cStyleHelpers, maxfHelper, philoxHelper, roundingHelpers } from "./c-family-helpers.ts";
import { C_FAMILY } from "./op-spelling.ts";
import { unreachable, type Expr, type TemplateStmt } from "../kernel-ir.ts";
import { lowerTemplate, type TemplateLowerings } from "../templates.ts";
import { textHash } from "../graph.ts";
import type { CudaKernelParam, CudaKernelSource, CudaTemplates } from "./cuda-templates.ts";
import type { GStmt, GlobalParam, GpuKernel, StorageType } from "./gpu-ir.ts";
import { SimtEmitter, namesRead, positionalNames, pruneLets, type SimtDialect } from "./simt-emitter.ts";

export { pruneLets } from "./simt-emitter.ts";
import type { GpuProgram, LoweredKernel } from "./gpu-lower.ts";
import type { MmaGemmPlan } from "./gpu-gemm.ts";
import type { FlashAttentionPlan } from "./gpu-attention.ts";

/** How CUDA C++ writes the C-family helpers (kernels/cuda/philox.ts prints its Philox rounds with it too). */
export const CUDA_HELPERS = cStyleHelpers({
  qualifiers: "__device__ __forceinline__",
  types: { f32: "float", u32: "unsigned" },
  unroll: ["#pragma unroll"],
  mulhi: (a, b) => `__umulhi(${a}, ${b})`,
  bitsOf: (text) => `__float_as_uint(${text})`,
  fromBits: (text) => `__uint_as_float(${text})`,
});

/**
 * Helpers every generated unit starts with; include-guarded, and named apart from the templates'
 * preamble. bf16 and f16 round through the hardware's conversions, which stores use too.
 */
export const CUDA_PRELUDE = `#ifndef KILN_GENERATED_PRELUDE
#define KILN_GENERATED_PRELUDE
typedef unsigned short bf16_t;  // bf16 and f16 as raw 16-bit words
typedef unsigned short f16_t;
#define KILN_F32_INF __int_as_float(0x7f800000)
#define KILN_F32_NAN __int_as_float(0x7fc00000)
__device__ __forceinline__ float kiln_bf16_to_f32(bf16_t x) { return __uint_as_float(((unsigned)x) << 16); }
__device__ __forceinline__ bf16_t kiln_f32_to_bf16(float x) {  // round to nearest even
  bf16_t r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}
__device__ __forceinline__ float kiln_f16_to_f32(f16_t x) {
  float r;
  asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(x));
  return r;
}
__device__ __forceinline__ f16_t kiln_f32_to_f16(float x) {
  f16_t r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}
${roundingHelpers(CUDA_HELPERS, { bf16: "kiln_bf16_to_f32(kiln_f32_to_bf16(x))", f16: "kiln_f16_to_f32(kiln_f32_to_f16(x))" })}
// NaN-propagating max (the first operand's NaN wins), as the C backend's.
${maxfHelper(CUDA_HELPERS)}
// Atomic add to a 16-bit float: compare-and-swap on the aligned 32-bit word that holds it.
template <bool BF16>
__device__ __forceinline__ void kiln_atomic_add_16(unsigned short* address, float value) {
  unsigned* word = reinterpret_cast<unsigned*>(reinterpret_cast<size_t>(address) & ~static_cast<size_t>(3));
  const unsigned shift = (reinterpret_cast<size_t>(address) & 2) ? 16u : 0u;
  unsigned old = *word, assumed;
  do {
    assumed = old;
    const unsigned short bits = static_cast<unsigned short>(assumed >> shift);
    const float sum = (BF16 ? kiln_bf16_to_f32(bits) : kiln_f16_to_f32(bits)) + value;
    const unsigned short next = BF16 ? kiln_f32_to_bf16(sum) : kiln_f32_to_f16(sum);
    old = atomicCAS(word, assumed, (assumed & ~(0xffffu << shift)) | (static_cast<unsigned>(next) << shift));
  } while (assumed != old);
}
${philoxHelper(CUDA_HELPERS)}
#endif
`;

export type LaunchArg =
  { readonly kind: "buffer"; readonly id: number; readonly byteOffset: number } | { readonly kind: "scalar"; readonly value: number };

export interface CudaLaunch {
  /** Name of the kernel in `CudaProgram.kernels`. */
  readonly kernel: string;
  readonly args: Readonly<Record<string, LaunchArg>>;
  /** Index of the L2 kernel this launch belongs to. */
  readonly step: number;
  /** The GPU L2 of a generated kernel (an emulated device runs it); absent for templates. */
  readonly simt?: GpuKernel;
  /** The template plan of a template launch (an emulated device may model it). */
  readonly template?:
    | { readonly kind: "gemm"; readonly plan: MmaGemmPlan }
    | { readonly kind: "attention"; readonly plan: FlashAttentionPlan; readonly part: "forward" | "delta" | "main" | "convert" };
}

export interface CudaProgram {
  /** Every kernel once (launches that print the same code share it), in order of first use. */
  readonly kernels: readonly CudaKernelSource[];
  readonly launches: readonly CudaLaunch[];
  readonly workspaceBytes: number;
}

export interface CudaRenderOptions {
  /** The device's templates; without them every gemm and attention is SIMT code. */
  readonly templates?: CudaTemplates;
}

// --- types and literals --------------------------------------------------------------------------

const valueType = (t: Expr["type"]): string => (t === "f32" ? "float" : "int");
const storageCType: Record<StorageType, string> = { f32: "float", i32: "int", bf16: "bf16_t", f16: "f16_t", bool: "unsigned char" };
/** The scalar type a load of this storage yields before any cast. */
const naturalType = (dtype: StorageType): Expr["type"] => (dtype === "i32" ? "i32" : dtype === "bool" ? "bool" : "f32");

const CUDA_LANGUAGE = cStyleLanguage({ valueType, u32: "unsigned", special: { nan: "KILN_F32_NAN", inf: "KILN_F32_INF" }, ops: C_FAMILY });

export const cudaLiteral = (value: number, type: Expr["type"]): string => literal(CUDA_LANGUAGE, value, type);

// --- statements and expressions ------------------------------------------------------------------

const converted = (text: string, from: Expr["type"], to: Expr["type"]): string =>
  from === to || (from !== "f32" && to !== "f32") ? text : `((${valueType(to)})${text})`;

/** CUDA C++'s spelling of GPU L2. */
const CUDA_DIALECT: SimtDialect = {
  ...CUDA_LANGUAGE,
  constDecl: (type, name, value) => `const ${valueType(type)} ${name} = ${value};`,
  varDecl: (type, name, init) => `${valueType(type)} ${name} = ${init};`,
  forHeader: (v, start, extent, step, unroll) => [
    ...(unroll ? ["#pragma unroll"] : []),
    `for (int ${v} = ${start}; ${v} < ${extent}; ${step === 1 ? `++${v}` : `${v} += ${step}`}) {`,
  ],
  condition: (text) => text,
  barrier: "__syncthreads();",
  shuffleXor: (name, value, lanes) => `${name} = __shfl_xor_sync(0xffffffffu, ${value}, ${lanes});`,
  comment: (text) => `// ${text}`,
  store(s, names, x) {
    const index = x(s.index);
    if (s.buffer < 0) {
      const a = names.array(s.buffer);
      const value = converted(x(s.value), s.value.type, a.type);
      return s.atomic ? `${a.name}[${index}] += ${value};` : `${a.name}[${index}] = ${value};`;
    }
    const { name, dtype } = names.buffer(s.buffer);
    const value = converted(x(s.value), s.value.type, naturalType(dtype));
    const at = `${name}[${index}]`;
    if (s.atomic) {
      switch (dtype) {
        case "f32":
        case "i32":
          return `atomicAdd(&${at}, ${value});`;
        case "bf16":
          return `kiln_atomic_add_16<true>(&${at}, ${value});`;
        case "f16":
          return `kiln_atomic_add_16<false>(&${at}, ${value});`;
        case "bool":
          throw new Error(`cuda: atomic add into a bool buffer (${name})`);
        default:
          return unreachable(dtype);
      }
    }
    switch (dtype) {
      case "f32":
      case "i32":
        return `${at} = ${value};`;
      case "bf16":
        return `${at} = kiln_f32_to_bf16(${value});`;
      case "f16":
        return `${at} = kiln_f32_to_f16(${value});`;
      case "bool":
        return `${at} = (unsigned char)(${value});`;
      default:
        return unreachable(dtype);
    }
  },
  load(e, names, r) {
    if (e.buffer < 0) {
      const a = names.array(e.buffer);
      const text = `${a.name}[${r(e.index)}]`;
      return a.type === e.type ? text : `((${valueType(e.type)})${text})`;
    }
    const { name, dtype } = names.buffer(e.buffer);
    const raw = `${name}[${r(e.index)}]`;
    const text = dtype === "bf16" ? `kiln_bf16_to_f32(${raw})` : dtype === "f16" ? `kiln_f16_to_f32(${raw})` : raw;
    return converted(text, naturalType(dtype), e.type);
  },
};

// --- kernels -------------------------------------------------------------------------------------

const pointerType = (p: GlobalParam): string => `${p.role === "read" ? "const " : ""}${storageCType[p.dtype]}* __restrict__`;

/** Parameters are named by position (p0, p1, …) so that kernels differing only in buffers print alike. */
function renderSimt(k: GpuKernel, name: string): { source: string; params: CudaKernelParam[] } {
  const params = k.params.map((p, index): CudaKernelParam => ({ name: `p${index}`, type: "ptr", cType: pointerType(p) }));
  const emitter = new SimtEmitter(positionalNames(`cuda: ${k.name}`, k.params, k.arrays), CUDA_DIALECT);
  const body = pruneLets(k.body);
  const read = namesRead(body);
  emitter.block(body, 1);
  const lines = [
    `// ${name}: ${k.comment}`,
    `// parameters: ${k.params.map((p, index) => `p${index} = buffer ${p.id} (${p.dtype}[${p.size}])`).join(", ")}`,
    `extern "C" __global__ void __launch_bounds__(${k.threads}) ${name}(${params.map((p) => `${p.cType} ${p.name}`).join(", ")}) {`,
    ...(read.has("tid") ? [`  const int tid = threadIdx.x;`] : []),
    ...(read.has("bid") ? [`  const int bid = blockIdx.x;`] : []),
    ...k.arrays.map((a) => `  ${a.space === "shared" ? "__shared__ " : ""}${valueType(a.type)} ${a.name}[${a.size}];`),
    emitter.text(),
    "}",
  ];
  return { source: `${CUDA_PRELUDE}\n${lines.join("\n")}\n`, params };
}

/** The epilogue of a tensor-core GEMM as the body of the template's device function. */
export function renderGemmEpilogue(plan: MmaGemmPlan): { body: string; params: CudaKernelParam[] } {
  const params = plan.epilogueParams.map((p, index): CudaKernelParam => ({ name: `e${index}`, type: "ptr", cType: pointerType(p) }));
  const emitter = new SimtEmitter(positionalNames("cuda: a GEMM epilogue", plan.epilogueParams, [], "e"), CUDA_DIALECT);
  const { vars } = plan.epilogue;
  const statements: GStmt[] = [
    { s: "let", name: vars.b.name, value: { op: "local", name: "b", type: "i32" } },
    { s: "let", name: vars.i.name, value: { op: "local", name: "row", type: "i32" } },
    { s: "let", name: vars.j.name, value: { op: "local", name: "col", type: "i32" } },
    ...plan.epilogue.body,
    { s: "let", name: "result", value: plan.epilogue.result },
  ];
  emitter.block(pruneLets(statements, new Set(["result"])), 0);
  const body = `${emitter.text()}\nreturn result;`;
  return { body, params };
}

/** The whole program: kernels (deduplicated) and launches in order. */
export function renderCuda(gp: GpuProgram, options: CudaRenderOptions = {}): CudaProgram {
  const out = new CudaProgramBuilder(gp.workspaceBytes);
  for (const lowered of gp.kernels) {
    const stmt = lowered.kernel.body.find((s): s is TemplateStmt => s.s === "template");
    const simt = (): true => {
      for (const k of lowered.step.launches) out.addSimt(k, lowered.index);
      return true;
    };
    if (stmt) lowerTemplate("CUDA renderer", CUDA_TEMPLATES, stmt, { out, lowered, templates: options.templates }, simt);
    else simt();
  }
  return out.program();
}

/** What a template statement is rendered with: the program so far, its lowered kernel, the device's templates. */
interface TemplateContext {
  readonly out: CudaProgramBuilder;
  readonly lowered: LoweredKernel;
  readonly templates: CudaTemplates | undefined;
}

/**
 * The CUDA lowering of each template: the device's tensor-core kernel when the lowering planned one
 * (operands that fit its tiles) and the device supplies it; null falls back to the SIMT launches.
 */
const CUDA_TEMPLATES: TemplateLowerings<TemplateContext, true> = {
  gemm: (_, { out, lowered, templates }) =>
    lowered.step.kind === "gemm" && lowered.step.mma && templates?.gemm ? out.gemm(lowered, lowered.step.mma, templates) : null,
  attention: (_, { out, lowered, templates }) =>
    lowered.step.kind === "attention" && lowered.step.flash ? out.attention(lowered, lowered.step.flash, templates) : null,
  attention_bwd: (_, { out, lowered, templates }) =>
    lowered.step.kind === "attention" && lowered.step.flash ? out.attention(lowered, lowered.step.flash, templates) : null,
};

const bufferArg = (id: number, byteOffset = 0): LaunchArg => ({ kind: "buffer", id, byteOffset });

/** A CUDA program as it is built: each kernel once, and the launches in order. */
class CudaProgramBuilder {
  private readonly kernels = new Map<string, CudaKernelSource>();
  private readonly byBody = new Map<string, string>();
  private readonly launches: CudaLaunch[] = [];

  constructor(private readonly workspaceBytes: number) {}

  program(): CudaProgram {
    return { kernels: [...this.kernels.values()], launches: this.launches, workspaceBytes: this.workspaceBytes };
  }

  addSimt(k: GpuKernel, step: number): void {
    // Kernels that print the same apart from their name share one compiled kernel.
    const probe = renderSimt(k, "KERNEL_NAME");
    const key = `${k.blocks}\n${probe.source.replace(/^\/\/ (KERNEL_NAME|parameters): .*$/gm, "")}`;
    let name = this.byBody.get(key);
    if (!name) {
      name = k.name;
      if (this.kernels.has(name)) throw new Error(`cuda: two different kernels are named ${name}`);
      this.byBody.set(key, name);
      const { source, params } = renderSimt(k, name);
      this.kernels.set(name, { name, source, grid: [k.blocks, 1, 1], block: [k.threads, 1, 1], smemBytes: 0, params });
    }
    this.launches.push({ kernel: name, args: Object.fromEntries(k.params.map((p, index) => [`p${index}`, bufferArg(p.id)])), step, simt: k });
  }

  private addTemplate(kernel: CudaKernelSource, args: Record<string, LaunchArg>, step: number, template: CudaLaunch["template"]): void {
    if (!this.kernels.has(kernel.name)) this.kernels.set(kernel.name, { ...kernel, source: `${CUDA_PRELUDE}\n${kernel.source}` });
    this.launches.push({ kernel: kernel.name, args, step, ...(template ? { template } : {}) });
  }

  /** The tensor-core GEMM with its epilogue, after the plan's prologue launches; null when the device declines the problem. */
  gemm(lowered: LoweredKernel, plan: MmaGemmPlan, templates: CudaTemplates): true | null {
    const epilogue = renderGemmEpilogue(plan);
    const body = `// ${lowered.kernel.name}: ${lowered.kernel.comment}\n${epilogue.body}`;
    const kernel = templates.gemm!({
      ...plan.problem,
      epilogue: { tag: `e${textHash(epilogue.body + JSON.stringify(epilogue.params))}`, body, params: epilogue.params },
    });
    if (!kernel) return null;
    for (const k of plan.prologue) this.addSimt(k, lowered.index);
    const args: Record<string, LaunchArg> = {
      A: bufferArg(plan.a.id, plan.a.offset * 2),
      B: bufferArg(plan.b.id, plan.b.offset * 2),
      C: bufferArg(plan.c.id),
    };
    plan.epilogueParams.forEach((p, index) => (args[`e${index}`] = bufferArg(p.id)));
    this.addTemplate(kernel, args, lowered.index, { kind: "gemm", plan });
    return true;
  }

  /** Flash attention, forward or backward (the backward recomputes the forward's log-sum-exp first); null without the device's kernels. */
  attention(lowered: LoweredKernel, plan: FlashAttentionPlan, templates: CudaTemplates | undefined): true | null {
    const operand = (name: string): LaunchArg => {
      const o = plan.operands[name]!;
      return bufferArg(o.id, o.offset * (name === "mask" ? 1 : 2));
    };
    const mask: Record<string, LaunchArg> = plan.shape.mask ? { key_mask: operand("mask") } : {};
    const qkv = { Q: operand("q"), K: operand("k"), V: operand("v") };
    const forward = templates?.attentionForward?.(plan.shape) ?? null;
    const part = (name: "forward" | "delta" | "main" | "convert") => ({ kind: "attention" as const, plan, part: name });
    if (plan.direction === "forward") {
      if (!forward) return null;
      this.addTemplate(forward, { ...qkv, O: bufferArg(plan.out), LSE: bufferArg(plan.scratch.lse.id), ...mask }, lowered.index, part("forward"));
      return true;
    }
    const backward = templates?.attentionBackward?.(plan.shape) ?? null;
    if (!forward || !backward) return null;
    const { lse, delta, dqAcc, o } = plan.scratch;
    // The backward template reads the forward's log-sum-exp, which the graph does not keep: recompute it.
    this.addTemplate(forward, { ...qkv, O: bufferArg(o!.id), LSE: bufferArg(lse.id), ...mask }, lowered.index, part("forward"));
    const dqAccArg = bufferArg(dqAcc!.id);
    this.addTemplate(
      backward.delta,
      { O: operand("o"), dO: operand("do"), Delta: bufferArg(delta!.id), dQ_acc: dqAccArg },
      lowered.index,
      part("delta"),
    );
    const main = {
      ...qkv,
      dO: operand("do"),
      LSE: bufferArg(lse.id),
      Delta: bufferArg(delta!.id),
      dQ_acc: dqAccArg,
      dK: bufferArg(plan.out, plan.dkOffset * 2),
      dV: bufferArg(plan.out, plan.dvOffset * 2),
      ...mask,
    };
    this.addTemplate(backward.main, main, lowered.index, part("main"));
    this.addTemplate(backward.convertDq, { dQ_acc: dqAccArg, dQ: bufferArg(plan.out) }, lowered.index, part("convert"));
    return true;
  }
}

/** All kernels of a program as one translation unit (each kernel's prelude is include-guarded). */
export const programSource = (p: CudaProgram): string => p.kernels.map((k) => k.source).join("\n");
