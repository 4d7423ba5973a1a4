// The C renderer: L2 kernels → one C99 + OpenMP translation unit with a `kiln_step` entry that runs
// every kernel in order. Each kernel is a named static function with a comment naming the graph
// nodes it fuses; templates (GEMM, attention) are called through their argument structs, their
// source supplied by the device that compiles the file.

import { exprChildren, unreachable, type Expr, type Kernel, type KernelBuffer, type Stmt, type AttentionView } from "../kernel-ir.ts";
import type { Program } from "../lower.ts";
import { CFamilyEmitter, cStyleLanguage, literal, type LoadExpr, type Scope } from "./c-family.ts";
import { cStyleHelpers, maxfHelper, oneLineHelper, philoxHelper, roundingHelpers } from "./c-family-helpers.ts";
import { spelling } from "./op-spelling.ts";
import { lowerTemplate, type TemplateLowerings } from "../templates.ts";

/** How C writes the C-family helpers: bit casts through a union, multiply-high through a 64-bit product. */
const C_HELPERS = cStyleHelpers({
  qualifiers: "static inline",
  types: { f32: "float", u32: "uint32_t" },
  unroll: [],
  mulhi: (a, b) => `kiln_mulhi(${a}, ${b})`,
  bitsOf: (text) => `kiln_bits(${text})`,
  fromBits: (text) => `kiln_from_bits(${text})`,
});

const C_BIT_HELPERS = [
  "static inline uint32_t kiln_bits(float x) { union { float f; uint32_t u; } v = { x }; return v.u; }",
  "static inline float kiln_from_bits(uint32_t u) { union { uint32_t u; float f; } v = { u }; return v.f; }",
  oneLineHelper(
    C_HELPERS,
    "u32",
    "kiln_mulhi",
    [
      ["a", "u32"],
      ["b", "u32"],
    ],
    "(uint32_t)(((uint64_t)a * b) >> 32)",
  ),
].join("\n");

/** Helpers every generated file gets: vectorisable exp2, bf16/f16 rounding, kiln's Philox, NaN-propagating max. */
const PRELUDE = `#include <stdint.h>
#include <string.h>
#include <math.h>
#include <omp.h>

/* 2^x: round to nearest, a degree-5 polynomial on [-0.5, 0.5] (relative error < 2e-7), and the
   exponent placed by integer arithmetic in two halves (so subnormal results and overflow to inf come
   out right); only arithmetic and selects, so loops over it vectorise. NaN stays NaN. */
static inline float kiln_vexp2(float x) {
  const float c = x < -151.0f ? -151.0f : (x > 129.0f ? 129.0f : x);
  const float n = __builtin_rintf(c);
  const float f = c - n;
  float p = 1.326472731307149e-3f;
  p = p * f + 9.671512991189957e-3f;
  p = p * f + 5.550733581185341e-2f;
  p = p * f + 2.4022242426872253e-1f;
  p = p * f + 6.931470036506653e-1f;
  p = p * f + 1.0f;
  const int32_t e = (int32_t)n, h = e >> 1;
  union { uint32_t u; float f; } s1 = { (uint32_t)(h + 127) << 23 }, s2 = { (uint32_t)(e - h + 127) << 23 };
  const float r = p * s1.f * s2.f;
  return x != x ? x : r;
}
${C_BIT_HELPERS}
${roundingHelpers(C_HELPERS, { f16: "(float)(_Float16)x" })}
${maxfHelper(C_HELPERS)}
static inline int32_t kiln_maxi(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t kiln_mini(int32_t a, int32_t b) { return a < b ? a : b; }
${philoxHelper(C_HELPERS)}
`;

/**
 * The step's entry: kiln_kernels with subnormal floats flushed to zero (x86's MXCSR FTZ and DAZ) on every
 * OpenMP thread, the caller's thread restored afterwards (Node's own arithmetic keeps IEEE subnormals).
 * A subnormal operand costs an x86 core a hundred cycles or more: as the tiny model trained, its steps
 * slowed from 9.3 to 6.6 a second over 5 000 steps; a run resumed from there ran at 6.9 a second, and
 * at 9.5 with the flush. The OpenMP workers keep the flag (only kiln's kernels run on them), so they are
 * set once per team size, not every step: a parallel region every step woke the sleeping workers (a
 * 16-element step took 69 µs so, 0.21 µs without).
 * Threads libgomp starts later are started inside a step and inherit the caller's flushed MXCSR.
 */
const FLUSH_SUBNORMALS = [
  "/* threads: the kernels' team size for this call (0: OpenMP's default), made the calling thread's own",
  "   default for the call, so that steps called side by side from several threads (batch shards) each",
  "   get theirs. A one-thread call runs on the caller alone and leaves kiln_flushed_team alone. */",
  "#define THREADS_BEGIN const int given = omp_get_max_threads(); if (threads > 0 && threads != given) omp_set_num_threads(threads)",
  "#define THREADS_END if (threads > 0 && threads != given) omp_set_num_threads(given)",
  "#if defined(__x86_64__) || defined(__i386__)",
  "#include <xmmintrin.h>",
  "static int kiln_flushed_team = 0;",
  "int kiln_step(void* const* B, double* times, int threads) {",
  "  const unsigned int caller = _mm_getcsr();",
  "  _mm_setcsr(caller | 0x8040u); /* FTZ | DAZ */",
  "  THREADS_BEGIN;",
  "  if (omp_get_max_threads() > 1 && kiln_flushed_team != omp_get_max_threads()) {",
  "    #pragma omp parallel",
  "    _mm_setcsr(_mm_getcsr() | 0x8040u);",
  "    kiln_flushed_team = omp_get_max_threads();",
  "  }",
  "  const int rc = kiln_kernels(B, times);",
  "  THREADS_END;",
  "  _mm_setcsr(caller);",
  "  return rc;",
  "}",
  "#else",
  "int kiln_step(void* const* B, double* times, int threads) {",
  "  THREADS_BEGIN;",
  "  const int rc = kiln_kernels(B, times);",
  "  THREADS_END;",
  "  return rc;",
  "}",
  "#endif",
];

/** C spells exp2 with kiln's vectorisable polynomial, and integer min/max with its helpers. */
const C_SPELLING = spelling({
  unary: { exp2: (a) => `kiln_vexp2(${a})` },
  binary: { max: (a, b, type) => (type === "f32" ? `kiln_maxf(${a}, ${b})` : `kiln_maxi(${a}, ${b})`), min: (a, b) => `kiln_mini(${a}, ${b})` },
});

const cType = (t: Expr["type"]): string => (t === "f32" ? "float" : t === "i32" ? "int32_t" : "int");
const storageType = (dtype: KernelBuffer["dtype"]): string => (dtype === "i32" ? "int32_t" : dtype === "bool" ? "uint8_t" : "float");

const C_LANGUAGE = cStyleLanguage({ valueType: cType, u32: "uint32_t", special: { nan: "NAN", inf: "INFINITY" }, ops: C_SPELLING });

const cLiteral = (value: number, type: Expr["type"]): string => literal(C_LANGUAGE, value, type);

/** C's statements over the C-family walk: OpenMP loops, accumulators, buffer stores through `b<id>` pointers. */
class Emitter extends CFamilyEmitter<Stmt> {
  /** Inside one `omp parallel` region (multi-tensor kernels): loops share the team with `omp for`. */
  constructor(
    indentUnit = "  ",
    private readonly inRegion = false,
  ) {
    super(C_LANGUAGE, { indentUnit, cautious: false });
  }

  protected exprsOf(s: Stmt): Expr[] {
    return stmtExprs(s);
  }

  protected writesOf(s: Stmt): string[] {
    return stmtWrites(s);
  }

  protected isLet(s: Stmt): boolean {
    return s.s === "let";
  }

  // Integer temporaries are indices: as long (like the loop variables) they stay affine, so gcc
  // vectorises with contiguous loads instead of gathers.
  protected tempDecl(type: Expr["type"], name: string, value: string): string {
    return `const ${type === "i32" ? "long" : cType(type)} ${name} = ${value};`;
  }

  protected load(e: LoadExpr, r: (e: Expr) => string): string {
    return `b${e.buffer}[${r(e.index)}]`;
  }

  protected stmt(s: Stmt, depth: number, scope: Scope): void {
    switch (s.s) {
      case "loop": {
        const innermost = !s.body.some((b) => b.s === "loop" || b.s === "template");
        // Accumulators initialised inside the body are per-iteration locals (a reduction over an axis
        // of length 1 leaves its init and its one add in the outer loop), not reductions of this loop.
        const local = new Set(s.body.flatMap((b) => (b.s === "acc_init" ? [b.name] : [])));
        const accs = s.body.filter((b): b is Stmt & { s: "acc" } => b.s === "acc" && !local.has(b.name));
        const scatter = s.body.some((b) => b.s === "store" && b.accumulate);
        // `for simd`: the region's outlined function loses the pointers' restrict, and without the
        // simd promise gcc neither vectorises the update nor hoists its step-invariant scalars
        // (the AdamW + EMA update of the tiny model: 29 ms at 2 GB/s on one thread).
        if (this.inRegion && depth === 2)
          this.line(depth, `#pragma omp for${innermost && !scatter && accs.length === 0 ? " simd" : ""} schedule(static) nowait`);
        else if (s.parallel && !this.inRegion) this.line(depth, "#pragma omp parallel for schedule(static)");
        else if (innermost && !scatter) {
          const reductions = accs.map((a) => ` reduction(${a.fn === "add" ? "+" : "max"}:${a.name})`).join("");
          this.line(depth, `#pragma omp simd${reductions}`);
        }
        this.line(depth, `for (long ${s.var.name} = 0; ${s.var.name} < ${s.var.extent}; ${s.var.name}++) {`);
        this.block(s.body, depth + 1, scope);
        this.line(depth, "}");
        return;
      }
      case "let":
        this.line(depth, `const ${cType(s.value.type)} ${s.name} = ${this.expr(s.value, scope)};`);
        return;
      case "store":
        // A loop-free store in a parallel region is done by one thread.
        if (this.inRegion && depth === 2) this.line(depth, "#pragma omp single nowait");
        this.line(depth, `b${s.buffer}[${this.expr(s.index, scope)}] ${s.accumulate ? "+=" : "="} ${this.expr(s.value, scope)};`);
        return;
      case "acc_init":
        this.line(depth, `${cType(s.type)} ${s.name} = ${s.fn === "add" ? "0" : s.type === "f32" ? "-INFINITY" : "INT32_MIN"};`);
        return;
      case "acc": {
        const v = this.expr(s.value, scope);
        this.line(depth, s.fn === "add" ? `${s.name} += ${v};` : `${s.name} = ${s.name} > ${v} ? ${s.name} : ${v};`);
        return;
      }
      case "zero":
        this.line(depth, `memset(b${s.buffer}, 0, sizeof(*b${s.buffer}) * ${s.count});`);
        return;
      case "template":
        throw new Error("C renderer: templates are rendered by the kernel, not inside blocks");
      default:
        unreachable(s);
    }
  }
}

function stmtExprs(s: Stmt): Expr[] {
  switch (s.s) {
    case "let":
      return [s.value];
    case "store":
      return [s.index, s.value];
    case "acc":
      return [s.value];
    default:
      return [];
  }
}

/** What a statement changes, as the C-family walk names it (`n:` locals, `b:` buffers). */
function stmtWrites(s: Stmt): string[] {
  switch (s.s) {
    case "let":
    case "acc_init":
    case "acc":
      return [`n:${s.name}`];
    case "store":
    case "zero":
      return [`b:${s.buffer}`];
    case "loop":
      return [`n:${s.var.name}`, ...s.body.flatMap(stmtWrites)];
    case "template":
      return [];
    default:
      return unreachable(s);
  }
}

function bufferDecls(buffers: readonly KernelBuffer[], only?: ReadonlySet<number>): string[] {
  return buffers
    .filter((b) => !only || only.has(b.id))
    .map(
      (b) =>
        `${b.role === "read" ? "const " : ""}${storageType(b.dtype)}* restrict b${b.id} = (${b.role === "read" ? "const " : ""}${storageType(b.dtype)}*)B[${b.id}];`,
    );
}

/** Buffers an expression list reads or writes, for the epilogue's declarations. */
function buffersIn(stmts: readonly Stmt[]): Set<number> {
  const ids = new Set<number>();
  const walk = (e: Expr): void => {
    if (e.op === "load") ids.add(e.buffer);
    exprChildren(e).forEach(walk);
  };
  for (const s of stmts) {
    if (s.s === "store") ids.add(s.buffer);
    if (s.s === "loop") buffersIn(s.body).forEach((id) => ids.add(id));
    stmtExprs(s).forEach(walk);
  }
  return ids;
}

type TemplateStmt = Stmt & { s: "template" };

/** One kernel as a C function `fn` over the buffer table B: a loop nest, or a call of a template. */
function renderKernel(k: Kernel, fn: string): string {
  const header = `/* ${k.name}: ${k.comment} */`;
  const template = k.body.find((s): s is TemplateStmt => s.s === "template");
  if (!template) return [header, ...renderLoops(k, fn)].join("\n");
  const buffers: Readonly<Record<string, number>> = template.buffers;
  const buf = (name: string, type = "float"): string => `(${type}*)B[${buffers[name]}]`;
  return [header, ...lowerTemplate("C renderer", C_TEMPLATES, template, { k, fn, buf })].join("\n");
}

type BufferRef = (name: string, type?: string) => string;

/** What a template call is rendered from: the kernel, its function's name, its buffers by operand. */
interface CallContext {
  readonly k: Kernel;
  readonly fn: string;
  readonly buf: BufferRef;
}

/** The C lowering of each template: a call of kernels/cpu's GEMM or attention over the kernel's buffers. */
export const C_TEMPLATES: TemplateLowerings<CallContext, string[]> = {
  gemm: (stmt, { k, fn, buf }) => renderGemmCall(k, fn, stmt, buf),
  attention: (stmt, { k, fn, buf }) => renderAttentionCall(k, fn, stmt, buf),
  attention_bwd: (stmt, { k, fn, buf }) => renderAttentionCall(k, fn, stmt, buf),
};

/** A kernel of loops; a multi-tensor kernel's loops share one parallel region. */
function renderLoops(k: Kernel, fn: string): string[] {
  const multi = k.template === "multi";
  const e = new Emitter("  ", multi);
  e.block(k.body, multi ? 2 : 1, new Map());
  const body = multi ? ["  #pragma omp parallel", "  {", e.text(), "  }"] : [e.text()];
  return [`static int ${fn}(void* const* B) {`, ...bufferDecls(k.buffers).map((d) => "  " + d), ...body, "  return 0;", "}"];
}

/** A GEMM template call, with its epilogue (the fused elementwise tail) as a function over C's finished blocks. */
function renderGemmCall(k: Kernel, fn: string, template: TemplateStmt & { template: "gemm" }, buf: BufferRef): string[] {
  const a = template.args;
  const out: string[] = [];
  let epilogueName = "NULL";
  if (template.epilogue) {
    epilogueName = `${fn}_epilogue`;
    const { vars, body } = template.epilogue;
    const used = buffersIn(body);
    const e = new Emitter();
    e.block(body, 3, new Map());
    out.push(
      `static void ${epilogueName}(void* ctx, long ${vars.b!.name}, long i0, long j0, long mb, long nb, float* c, long ldc) {`,
      "  void* const* B = (void* const*)ctx;",
      // No restrict here: the output written in place aliases the tile pointer c.
      ...bufferDecls(
        k.buffers.map((b) => (b.id === template.buffers.c ? { ...b, role: "readwrite" as const } : b)),
        used,
      ).map((d) => "  " + d.replace(" restrict", "")),
      "  for (long ii = 0; ii < mb; ii++) {",
      `    const long ${vars.i!.name} = i0 + ii;`,
      "    #pragma omp simd",
      "    for (long jj = 0; jj < nb; jj++) {",
      `      const long ${vars.j!.name} = j0 + jj;`,
      "      const float acc = c[ii * ldc + jj];",
      e.text(),
      "    }",
      "  }",
      "}",
    );
  }
  out.push(
    `static int ${fn}(void* const* B) {`,
    `  const kiln_gemm_args g = { .batch = ${a.batch}, .m = ${a.m}, .n = ${a.n}, .k = ${a.k},`,
    `    .a = ${buf("a", "const float")} + ${a.a_off}, .a_bs = ${a.a_bs}, .a_rs = ${a.a_rs}, .a_cs = ${a.a_cs},`,
    `    .b = ${buf("b", "const float")} + ${a.b_off}, .b_bs = ${a.b_bs}, .b_rs = ${a.b_rs}, .b_cs = ${a.b_cs},`,
    `    .c = ${buf("c")}, .c_bs = ${a.c_bs}, .ldc = ${a.ldc}, .accumulate = 0,`,
    `    .epilogue = ${epilogueName}, .epilogue_ctx = (void*)B };`,
    "  return kiln_sgemm(&g);",
    "}",
  );
  return out;
}

/** An attention template call, forward or backward: q, k, v (and o, do) in the "b s (n d)" layout. */
function renderAttentionCall(k: Kernel, fn: string, template: TemplateStmt & { template: "attention" | "attention_bwd" }, buf: BufferRef): string[] {
  const a = template.args;
  const d = a.headDim;
  const width = a.heads * d;
  const kvWidth = a.kvHeads * d;
  const view = (name: string): AttentionView => {
    const v = a.views[name];
    if (!v) throw new Error(`renderC: ${k.name} has no view of attention operand ${name}`);
    return v;
  };
  const operand = (name: string, hs: number): string => {
    const v = view(name);
    return `.${name} = ${buf(name, "const float")} + ${v.off}, .${name}_bs = ${v.bs}, .${name}_ss = ${v.ss}, .${name}_hs = ${hs}`;
  };
  const mask = a.mask ? `(const unsigned char*)B[${template.buffers.mask}] + ${a.mask.off}` : "NULL";
  const causal = a.causal ? 1 : 0;
  const common = [
    `.batch = ${a.batch}, .heads = ${a.heads}, .kv_heads = ${a.kvHeads}, .q_len = ${a.seqQ}, .kv_len = ${a.seqK}, ` +
      `.head_dim = ${d}, .scale = ${cLiteral(a.scale, "f32")},`,
    `${operand("q", d)},`,
    `${operand("k", d)},`,
    `${operand("v", d)},`,
  ];
  const [B, Sq, Sk] = [a.batch, a.seqQ, a.seqK];
  if (template.template === "attention")
    return [
      `static int ${fn}(void* const* B) {`,
      "  const kiln_attention_args g = {",
      ...common.map((l) => "    " + l),
      `    .o = ${buf("out")}, .o_bs = ${Sq * width}, .o_ss = ${width}, .o_hs = ${d},`,
      `    .key_mask = ${mask}, .mask_bs = ${a.mask?.bs ?? 0}, .causal = ${causal}, .lse = NULL };`,
      "  return kiln_attention_forward(&g);",
      "}",
    ];
  return [
    `static int ${fn}(void* const* B) {`,
    `  float* grads = ${buf("out")};`,
    "  const kiln_attention_backward_args g = { .fwd = {",
    ...common.map((l) => "    " + l),
    `    .o = (float*)B[${template.buffers.o}] + ${view("o").off}, .o_bs = ${view("o").bs}, .o_ss = ${view("o").ss}, .o_hs = ${d},`,
    `    .key_mask = ${mask}, .mask_bs = ${a.mask?.bs ?? 0}, .causal = ${causal}, .lse = NULL },`,
    `    .d_o = ${buf("do", "const float")} + ${view("do").off}, .do_bs = ${view("do").bs}, .do_ss = ${view("do").ss}, .do_hs = ${d},`,
    `    .d_q = grads, .dq_bs = ${Sq * width}, .dq_ss = ${width}, .dq_hs = ${d},`,
    `    .d_k = grads + ${B * Sq * width}, .dk_bs = ${Sk * kvWidth}, .dk_ss = ${kvWidth}, .dk_hs = ${d},`,
    `    .d_v = grads + ${B * Sq * width + B * Sk * kvWidth}, .dv_bs = ${Sk * kvWidth}, .dv_ss = ${kvWidth}, .dv_hs = ${d} };`,
    "  return kiln_attention_backward(&g);",
    "}",
  ];
}

export interface RenderOptions {
  /** Source of each template a kernel uses (the device supplies them; the compiler does not import backends). */
  templateSource: (uses: { gemm: boolean; attention: boolean }) => string;
}

/** The whole program as one C file. Kernel i is `kernel_i`; `kiln_step(B, times, threads)` runs them all. */
export function renderC(program: Program, options: RenderOptions): string {
  const templates = new Set(
    program.kernels.flatMap((k) => k.body.filter((s) => s.s === "template").map((s) => (s as Stmt & { s: "template" }).template)),
  );
  const uses = {
    gemm: templates.has("gemm") || templates.has("attention") || templates.has("attention_bwd"),
    attention: templates.has("attention") || templates.has("attention_bwd"),
  };
  const parts = [
    `/* generated by kiln: ${program.kernels.length} kernels, ${program.buffers.length} buffers */`,
    PRELUDE,
    options.templateSource(uses),
  ];
  program.kernels.forEach((k, i) => parts.push(renderKernel(k, `kernel_${i}`)));
  const calls = program.kernels.map((k, i) =>
    [
      `  if (times) t = omp_get_wtime();`,
      `  if ((rc = kernel_${i}(B)) != 0) return (${i} << 8) | (rc & 0xff);`,
      `  if (times) times[${i}] += omp_get_wtime() - t;`,
    ].join("\n"),
  );
  parts.push(
    "/* Runs every kernel in order; returns 0, or (kernel index << 8 | template error code). When times is",
    "   not NULL, adds each kernel's wall time in seconds to times[i]. */",
    "static int kiln_kernels(void* const* B, double* times) {",
    "  int rc = 0;",
    "  double t = 0;",
    ...calls,
    "  (void)t;",
    "  return 0;",
    "}",
    ...FLUSH_SUBNORMALS,
    `int kiln_kernel_count(void) { return ${program.kernels.length}; }`,
  );
  return parts.join("\n\n") + "\n";
}
