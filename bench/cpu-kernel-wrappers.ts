// Test and bench access to the CPU templates of kernels/cpu: one C file that pastes the headers and
// exports flat wrappers around the static entry points, compiled with the test toolchain (cc.ts).
import {
  ATTENTION_ARGS,
  ATTENTION_BACKWARD_ARGS,
  CPU_TEMPLATE_ENTRIES,
  type CStruct,
  GEMM_ARGS,
  cInitializer,
  cpuTemplatePrelude,
} from "../kernels/cpu/index.ts";
import { type CFunction, type CLibrary, compileC } from "./cc.ts";

export type EpilogueKind = "none" | "bias_silu" | "count";

/** kiln_gemm_args with the epilogue chosen from the wrapper's fixed set. */
export interface GemmCall {
  batch: number;
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  a_bs: number;
  a_rs: number;
  a_cs: number;
  b: Float32Array;
  b_bs: number;
  b_rs: number;
  b_cs: number;
  c: Float32Array;
  c_bs: number;
  ldc: number;
  accumulate: boolean;
  /** bias_silu: c = silu(c + bias[col]) with `epilogueData` the bias [n]; count: epilogueData[(b·m + i)·n + j] += 1. */
  epilogue: EpilogueKind;
  epilogueData: Float32Array | null;
}

/** kiln_attention_args, field for field. */
export interface AttentionCall {
  batch: number;
  heads: number;
  kv_heads: number;
  q_len: number;
  kv_len: number;
  head_dim: number;
  scale: number;
  q: Float32Array;
  q_bs: number;
  q_ss: number;
  q_hs: number;
  k: Float32Array;
  k_bs: number;
  k_ss: number;
  k_hs: number;
  v: Float32Array;
  v_bs: number;
  v_ss: number;
  v_hs: number;
  o: Float32Array;
  o_bs: number;
  o_ss: number;
  o_hs: number;
  key_mask: Uint8Array | null;
  mask_bs: number;
  causal: number;
  lse: Float32Array | null;
}

/** kiln_attention_backward_args with the nested forward arguments flattened. */
export interface AttentionBackwardCall extends AttentionCall {
  d_o: Float32Array;
  do_bs: number;
  do_ss: number;
  do_hs: number;
  d_q: Float32Array;
  dq_bs: number;
  dq_ss: number;
  dq_hs: number;
  d_k: Float32Array;
  dk_bs: number;
  dk_ss: number;
  dk_hs: number;
  d_v: Float32Array;
  dv_bs: number;
  dv_ss: number;
  dv_hs: number;
}

export interface CpuKernels {
  /** Runs kiln_sgemm; returns its status (0 = ok). */
  sgemm(call: GemmCall): number;
  attentionForward(call: AttentionCall): number;
  attentionBackward(call: AttentionBackwardCall): number;
  /** The compiled wrapper library. */
  readonly library: CLibrary;
}

const EPILOGUE_CODES: Record<EpilogueKind, number> = { none: 0, bias_silu: 1, count: 2 };

/** The struct's fields, nested structs expanded in place, as (name, C type) pairs. */
function flatFields(struct: CStruct): { name: string; type: string }[] {
  return struct.fields.flatMap((f) => (f.type === "kiln_attention_args" ? flatFields(ATTENTION_ARGS) : [{ name: f.name, type: f.type }]));
}

/** `{.field = field, ...}` for a struct whose fields are all parameters of the same name. */
function forwardInitializer(struct: CStruct): string {
  const values: Record<string, string> = {};
  for (const f of struct.fields) values[f.name] = f.type === "kiln_attention_args" ? forwardInitializer(ATTENTION_ARGS) : f.name;
  return cInitializer(struct, values);
}

function wrapperPrototype(name: string, struct: CStruct): string {
  return `int ${name}(${flatFields(struct)
    .map((f) => `${f.type} ${f.name}`)
    .join(", ")})`;
}

const GEMM_WRAPPER_PROTOTYPE =
  "int kiln_test_sgemm(long batch, long m, long n, long k, const float* a, long a_bs, long a_rs, long a_cs, " +
  "const float* b, long b_bs, long b_rs, long b_cs, float* c, long c_bs, long ldc, int accumulate, " +
  "int epilogue_kind, float* epilogue_data)";

/** The wrapper C file: headers, the test epilogues, and one exported function per entry point. */
export function cpuKernelsSource(): string {
  const gemmInit = cInitializer(GEMM_ARGS, {
    ...Object.fromEntries(GEMM_ARGS.fields.map((f) => [f.name, f.name])),
    epilogue: "epilogue_kind == 1 ? kiln_test_bias_silu : epilogue_kind == 2 ? kiln_test_count : NULL",
    epilogue_ctx: "epilogue_kind == 2 ? (void*)&counter : (void*)epilogue_data",
  });
  return `${cpuTemplatePrelude({ gemm: true, attention: true })}
#include <math.h>

/* c = silu(c + bias[column]) */
static void kiln_test_bias_silu(void* ctx, long b, long i0, long j0, long mb, long nb, float* c, long ldc) {
  const float* bias = (const float*)ctx;
  (void)b;
  (void)i0;
  for (long i = 0; i < mb; i++)
    for (long j = 0; j < nb; j++) {
      const float x = c[i * ldc + j] + bias[j0 + j];
      c[i * ldc + j] = x / (1.0f + expf(-x));
    }
}

/* Counts the visits of every element; blocks of one call are disjoint, so no atomics are needed. */
typedef struct { float* counts; long m, n; } kiln_test_counter;
static void kiln_test_count(void* ctx, long b, long i0, long j0, long mb, long nb, float* c, long ldc) {
  const kiln_test_counter* counter = (const kiln_test_counter*)ctx;
  (void)c;
  (void)ldc;
  for (long i = 0; i < mb; i++)
    for (long j = 0; j < nb; j++) counter->counts[(b * counter->m + i0 + i) * counter->n + j0 + j] += 1.0f;
}

${GEMM_WRAPPER_PROTOTYPE} {
  kiln_test_counter counter = {epilogue_data, m, n};
  const kiln_gemm_args args = ${gemmInit};
  return ${CPU_TEMPLATE_ENTRIES.gemm}(&args);
}

${wrapperPrototype("kiln_test_attention_forward", ATTENTION_ARGS)} {
  const kiln_attention_args args = ${forwardInitializer(ATTENTION_ARGS)};
  return ${CPU_TEMPLATE_ENTRIES.attentionForward}(&args);
}

${wrapperPrototype("kiln_test_attention_backward", ATTENTION_BACKWARD_ARGS)} {
  const kiln_attention_backward_args args = ${forwardInitializer(ATTENTION_BACKWARD_ARGS)};
  return ${CPU_TEMPLATE_ENTRIES.attentionBackward}(&args);
}
`;
}

/** Arguments in the wrapper's parameter order, failing loudly on a field the call object lacks. */
function argumentsOf(struct: CStruct, call: object): unknown[] {
  const record = call as Record<string, unknown>;
  return flatFields(struct).map((f) => {
    if (!(f.name in record)) throw new Error(`${struct.name}: the call object has no field '${f.name}'`);
    return record[f.name];
  });
}

/** Compiles the wrapper file (a couple of seconds) and binds its functions. */
export function loadCpuKernels(): CpuKernels {
  const library = compileC(cpuKernelsSource(), { name: "kiln_cpu_kernels", libs: ["-lm"] });
  const sgemm: CFunction = library.func(GEMM_WRAPPER_PROTOTYPE);
  const forward: CFunction = library.func(wrapperPrototype("kiln_test_attention_forward", ATTENTION_ARGS));
  const backward: CFunction = library.func(wrapperPrototype("kiln_test_attention_backward", ATTENTION_BACKWARD_ARGS));
  return {
    library,
    sgemm: (g) =>
      Number(
        sgemm(
          g.batch,
          g.m,
          g.n,
          g.k,
          g.a,
          g.a_bs,
          g.a_rs,
          g.a_cs,
          g.b,
          g.b_bs,
          g.b_rs,
          g.b_cs,
          g.c,
          g.c_bs,
          g.ldc,
          g.accumulate ? 1 : 0,
          EPILOGUE_CODES[g.epilogue],
          g.epilogueData,
        ),
      ),
    attentionForward: (call) => Number(forward(...argumentsOf(ATTENTION_ARGS, call))),
    attentionBackward: (call) => Number(backward(...argumentsOf(ATTENTION_BACKWARD_ARGS, call))),
  };
}
