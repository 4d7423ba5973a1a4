// The CPU backend's hand-tuned C templates (packed SGEMM, fused flash-style attention) as
// header texts the C renderer pastes into a generated file, plus what the generator needs to call them.
import { readFileSync } from "node:fs";

/** The 16-lane float vector both templates are written in (AVX-512 intrinsics, or GCC vector extensions). */
export const SIMD_H: string = readFileSync(new URL("./simd.h", import.meta.url), "utf8");
/** kiln_sgemm and its packing/micro-kernel helpers. Must be pasted after SIMD_H. */
export const GEMM_H: string = readFileSync(new URL("./gemm.h", import.meta.url), "utf8");
/** kiln_attention_forward / kiln_attention_backward. Must be pasted after GEMM_H. */
export const ATTENTION_H: string = readFileSync(new URL("./attention.h", import.meta.url), "utf8");

/** What a generated file that pastes these headers needs from the toolchain and the machine. */
export const CPU_TEMPLATE_REQUIREMENTS = {
  /** AVX-512F intrinsics where the compiler targets it (-march=native on such a machine), else GCC
   * vector extensions, which gcc lowers to any target (AVX2 here); no ISA is required. */
  isa: [],
  /** Both templates parallelise with OpenMP (-fopenmp); without it they do not compile. */
  openmp: true,
  /** Neither header calls libm, so generated files need not link -lm on their account. */
  libm: false,
} as const;

/** The header texts to paste, in order, for a file that uses the given templates. */
export function cpuTemplatePrelude(uses: { readonly gemm?: boolean; readonly attention?: boolean }): string {
  const parts: string[] = [];
  if (uses.gemm || uses.attention) parts.push(SIMD_H, GEMM_H);
  if (uses.attention) parts.push(ATTENTION_H);
  return parts.join("\n");
}

/** A C type as it appears in the argument structs. */
export type CType =
  "long" | "int" | "float" | "const float*" | "float*" | "const unsigned char*" | "void*" | "kiln_gemm_epilogue_fn" | "kiln_attention_args";

export interface CField {
  readonly name: string;
  readonly type: CType;
  readonly doc: string;
}

/** One of the templates' argument structs, fields in declaration order. */
export interface CStruct {
  readonly name: string;
  readonly fields: readonly CField[];
}

const field = (name: string, type: CType, doc: string): CField => ({ name, type, doc });

/** The three strides of an operand, named `${prefix}_${suffix}`. */
const strides = (prefix: string, suffixes: readonly string[], what: readonly string[]): CField[] =>
  suffixes.map((s, i) => field(`${prefix}_${s}`, "long", `${prefix} ${what[i]} stride (elements)`));

/**
 * `int kiln_sgemm(const kiln_gemm_args*)`: for b < batch, C_b (= or +=) A_b·B_b with
 * A_b[m,k] = a[b·a_bs + m·a_rs + k·a_cs], B_b[k,n] = b[b·b_bs + k·b_rs + n·b_cs],
 * C_b[m,n] = c[b·c_bs + m·ldc + n]. Transposes are strides (x·Wᵀ with W[N,K]: b_rs = 1, b_cs = K),
 * a batch stride of 0 broadcasts. Returns 0, or -1 when packing buffers could not be allocated.
 */
export const GEMM_ARGS: CStruct = {
  name: "kiln_gemm_args",
  fields: [
    field("batch", "long", "number of independent products"),
    field("m", "long", "rows of A and C"),
    field("n", "long", "columns of B and C"),
    field("k", "long", "contraction length (0 gives C = 0 or leaves C unchanged)"),
    field("a", "const float*", "A base pointer"),
    ...strides("a", ["bs", "rs", "cs"], ["batch", "row (m)", "column (k)"]),
    field("b", "const float*", "B base pointer"),
    ...strides("b", ["bs", "rs", "cs"], ["batch", "row (k)", "column (n)"]),
    field("c", "float*", "C base pointer (row-major blocks)"),
    field("c_bs", "long", "C batch stride (elements)"),
    field("ldc", "long", "C row stride (elements)"),
    field("accumulate", "int", "0: C = A·B (C is never read), 1: C += A·B"),
    field("epilogue", "kiln_gemm_epilogue_fn", "NULL, or called once per finished block of C"),
    field("epilogue_ctx", "void*", "passed to the epilogue as its first argument"),
  ],
};

/**
 * The GEMM epilogue: `void f(void* ctx, long b, long i0, long j0, long mb, long nb, float* c, long ldc)`,
 * called once per finished block (rows i0..i0+mb-1, columns j0..j0+nb-1 of batch item b) after its
 * last K slice, with `c` pointing at element (i0, j0). Blocks of one call partition C exactly and
 * may run concurrently on different threads.
 */
export const GEMM_EPILOGUE_SIGNATURE = "void (void* ctx, long b, long i0, long j0, long mb, long nb, float* c, long ldc)";

/** "b s (n d)" operand: element (b, s, h, d) at base + b·bs + s·ss + h·hs + d. */
const headOperand = (name: string, stridePrefix: string, type: CType, doc: string): CField[] => [
  field(name, type, doc),
  ...strides(stridePrefix, ["bs", "ss", "hs"], ["batch", "sequence", "head"]),
];

/**
 * `int kiln_attention_forward(const kiln_attention_args*)`: O = softmax(Q·Kᵀ·scale + mask)·V per
 * (batch, head), blocked over keys with an online softmax. Returns 0; -1 if scratch could not be
 * allocated; -2 if kv_heads does not divide heads.
 */
export const ATTENTION_ARGS: CStruct = {
  name: "kiln_attention_args",
  fields: [
    field("batch", "long", "batch size"),
    field("heads", "long", "query heads"),
    field("kv_heads", "long", "key/value heads; divides heads, query head h reads K/V head h/(heads/kv_heads)"),
    field("q_len", "long", "query sequence length"),
    field("kv_len", "long", "key/value sequence length"),
    field("head_dim", "long", "head dimension (any ≥ 1; tuned for 32 and 128)"),
    field("scale", "float", "multiplies Q·Kᵀ (1/√head_dim for SDPA's default)"),
    ...headOperand("q", "q", "const float*", "Q"),
    ...headOperand("k", "k", "const float*", "K"),
    ...headOperand("v", "v", "const float*", "V"),
    ...headOperand("o", "o", "float*", "O: written by the forward, read by the backward"),
    field("key_mask", "const unsigned char*", "NULL, or [batch, kv_len] bytes: 0 = key masked out"),
    field("mask_bs", "long", "key_mask batch stride (0 broadcasts one mask)"),
    field("causal", "int", "1: query i sees keys j ≤ i only (top-left aligned)"),
    field("lse", "float*", "NULL, or [batch, heads, q_len] natural-log LSE (forward writes, backward reads)"),
  ],
};

/**
 * `int kiln_attention_backward(const kiln_attention_backward_args*)`: dQ, dK, dV (overwritten, in
 * the layouts of Q, K, V) from fwd.q/k/v/o, dO and fwd.lse (recomputed when NULL). A fully masked
 * query row has zero gradients. Parallel over batch × kv_heads. Same return codes as the forward.
 */
export const ATTENTION_BACKWARD_ARGS: CStruct = {
  name: "kiln_attention_backward_args",
  fields: [
    field("fwd", "kiln_attention_args", "the forward call's arguments (o and lse are inputs here)"),
    ...headOperand("d_o", "do", "const float*", "dO, the output's cotangent"),
    ...headOperand("d_q", "dq", "float*", "dQ"),
    ...headOperand("d_k", "dk", "float*", "dK"),
    ...headOperand("d_v", "dv", "float*", "dV"),
  ],
};

/** Entry points (all `static`: every generated file that pastes the headers gets its own copy). */
export const CPU_TEMPLATE_ENTRIES = {
  gemm: "kiln_sgemm",
  attentionForward: "kiln_attention_forward",
  attentionBackward: "kiln_attention_backward",
} as const;

/**
 * Compile-time tunables: macros a generated file may #define before pasting the headers. The
 * defaults were picked by measurement on a 2-core AMD Zen 5 (AVX-512) with gcc 12.
 */
export const GEMM_TUNABLES = {
  /** Micro-tile rows (≤ 16) with AVX-512 (GEMM_PORTABLE_TILE elsewhere). */
  KILN_GEMM_MR: 12,
  /** Micro-tile columns (a multiple of 16) with AVX-512. */
  KILN_GEMM_NR: 32,
  /** Rows of the packed A block (a multiple of MR), sized for L2. */
  KILN_GEMM_MC: 144,
  /** Depth of a packed slice. */
  KILN_GEMM_KC: 256,
  /** Columns of the packed B panel (a multiple of NR). */
  KILN_GEMM_NC: 1024,
  /** Width of the column chunks the epilogue is called on (a multiple of NR). */
  KILN_GEMM_EPILOGUE_NC: 128,
  /**
   * Rectangles per thread a parallel call is cut into, claimed one at a time. 1: measured on a 2-core
   * Xeon (AVX-512), the tiny DiT step with one busy process beside it took 1.77× its quiet time at 1
   * and 1.74× at 4, but its quiet time rose 7 % at 4 (more packing).
   */
  KILN_GEMM_SPLIT: 1,
} as const;

/** The micro-tile where the compiler does not target AVX-512 (16 vector registers, as AVX2 has). */
export const GEMM_PORTABLE_TILE = { KILN_GEMM_MR: 6, KILN_GEMM_NR: 16 } as const;

export const ATTENTION_TUNABLES = {
  /** Query rows per block (a multiple of KILN_GEMM_MR). */
  KILN_ATTENTION_BQ: 48,
  /** Keys per block (a multiple of KILN_GEMM_MR and KILN_GEMM_NR). */
  KILN_ATTENTION_BK: 192,
} as const;

/** Floating-point operations of one kiln_sgemm call. */
export const gemmFlops = (batch: number, m: number, n: number, k: number): number => 2 * batch * m * n * k;

export interface AttentionSize {
  readonly batch: number;
  readonly heads: number;
  readonly qLen: number;
  readonly kvLen: number;
  readonly headDim: number;
}

/** Forward flops by the usual count (Q·Kᵀ and P·V): 4·B·H·Sq·Sk·D, masking ignored. */
export const attentionForwardFlops = (s: AttentionSize): number => 4 * s.batch * s.heads * s.qLen * s.kvLen * s.headDim;

/** Backward flops by the usual count (five products: S, dP, dV, dK, dQ): 2.5 × the forward's. */
export const attentionBackwardFlops = (s: AttentionSize): number => 2.5 * attentionForwardFlops(s);

/**
 * A C designated initialiser for one of the structs, e.g. `{.batch = 1, .m = 384, ...}`, from C
 * expressions per field. Every field must be given (nested structs as their own initialiser text),
 * so a struct change cannot silently leave a field zero.
 */
export function cInitializer(struct: CStruct, values: Readonly<Record<string, string | number>>): string {
  const known = new Set(struct.fields.map((f) => f.name));
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  const missing = struct.fields.filter((f) => !(f.name in values)).map((f) => f.name);
  if (unknown.length || missing.length)
    throw new Error(
      `cInitializer(${struct.name}): expected exactly the fields ${struct.fields.map((f) => f.name).join(", ")}; ` +
        `${missing.length ? `missing ${missing.join(", ")}` : ""}${missing.length && unknown.length ? "; " : ""}${unknown.length ? `unknown ${unknown.join(", ")}` : ""}`,
    );
  return `{${struct.fields.map((f) => `.${f.name} = ${values[f.name]}`).join(", ")}}`;
}
