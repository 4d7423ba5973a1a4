// The attention and attention_bwd template statements on the GPU. The SIMT form handles every case
// the graph allows (any strides, grouped-query heads, causal, key mask, f32 or bf16): one thread per
// query row with an online softmax in base 2 for the forward; for the backward one thread per query
// row (log-sum-exp, the row term Δ = Σ dO·O, dQ) and then one thread per key row (dK, dV summed over
// the query heads that share the key head). When the operands suit the flash templates (bf16,
// "b s (h d)" dense rows, equal head counts, no causal mask) a plan for them goes along.

import { simplifyIndex, type Expr, type Kernel, type Stmt, type TemplateStmt, type AttentionArgs } from "../kernel-ir.ts";
import {
  add,
  and,
  div,
  eq,
  fconst,
  i,
  load,
  local,
  lt,
  mod,
  mul,
  select,
  type ArrayDecl,
  type GStmt,
  type GlobalParam,
  type GpuKernel,
  type ScratchDecl,
  type Var,
} from "./gpu-ir.ts";
import { gridStride, paramsOf, type GpuConfig, type ScratchAllocator } from "./gpu-common.ts";

type AttentionStmt = TemplateStmt & { template: "attention" | "attention_bwd" };

const LOG2E = 1.4426950408889634;

export type { AttentionArgs } from "../kernel-ir.ts";

/** The arguments of an attention template statement. */
export const attentionArgs = (t: AttentionStmt): AttentionArgs => t.args;

/** What the flash-attention templates are asked for. */
export interface FlashAttentionPlan {
  readonly direction: "forward" | "backward";
  readonly shape: {
    readonly batch: number;
    readonly heads: number;
    readonly seqQ: number;
    readonly seqK: number;
    readonly headDim: number;
    readonly mask: boolean;
    readonly scale: number;
  };
  /** Operand buffers with element offsets (q, k, v; o and do in the backward; mask when masked). */
  readonly operands: Readonly<Record<string, { readonly id: number; readonly offset: number }>>;
  readonly out: number;
  /** Element offsets of dK and dV in the packed backward output [dQ | dK | dV]. */
  readonly dkOffset: number;
  readonly dvOffset: number;
  /** Workspace: LSE f32 [B,H,Sq]; in the backward also Δ f32 [B,H,Sq], the f32 dQ accumulator and a recomputed O (bf16). */
  readonly scratch: { readonly lse: ScratchDecl; readonly delta?: ScratchDecl; readonly dqAcc?: ScratchDecl; readonly o?: ScratchDecl };
}

/** An attention kernel on the GPU: the SIMT launches always work; `flash` is used instead when the device has the template. */
export interface AttentionStep {
  readonly kind: "attention";
  readonly launches: readonly GpuKernel[];
  readonly flash: FlashAttentionPlan | null;
}

export function lowerAttention(kernel: Kernel, t: AttentionStmt, config: GpuConfig, scratch: ScratchAllocator): AttentionStep {
  const a = attentionArgs(t);
  if (t.template === "attention")
    return { kind: "attention", launches: [forwardKernel(kernel, t, a, config)], flash: flashPlan(kernel, t, a, scratch) };
  const lse = scratch.take("f32", a.batch * a.heads * a.seqQ);
  const delta = scratch.take("f32", a.batch * a.heads * a.seqQ);
  return { kind: "attention", launches: simtBackward(kernel, t, a, config, lse, delta), flash: flashPlan(kernel, t, a, scratch) };
}

function flashPlan(kernel: Kernel, t: AttentionStmt, a: AttentionArgs, scratch: ScratchAllocator): FlashAttentionPlan | null {
  const dtype = (id: number | undefined) => kernel.buffers.find((b) => b.id === id)?.dtype;
  const names = Object.keys(a.views);
  const row = a.heads * a.headDim;
  if (![...names, "out"].every((n) => dtype(t.buffers[n]) === "bf16")) return null;
  if (a.heads !== a.kvHeads || a.causal || a.headDim % 16 !== 0 || a.headDim < 16 || a.headDim > 128) return null;
  for (const n of names) {
    const view = a.views[n]!;
    const seq = n === "k" || n === "v" ? a.seqK : a.seqQ;
    if (view.ss !== row || (view.bs !== seq * row && a.batch > 1) || view.off % 8 !== 0) return null;
  }
  if (a.mask && a.mask.bs !== a.seqK && a.batch > 1) return null;
  const operands: Record<string, { id: number; offset: number }> = {};
  for (const n of names) operands[n] = { id: t.buffers[n]!, offset: a.views[n]!.off };
  if (a.mask) operands.mask = { id: t.buffers.mask!, offset: a.mask.off };
  const lseSize = a.batch * a.heads * a.seqQ;
  const shape = { batch: a.batch, heads: a.heads, seqQ: a.seqQ, seqK: a.seqK, headDim: a.headDim, mask: a.mask !== null, scale: a.scale };
  const dkOffset = a.batch * a.seqQ * row;
  const dvOffset = dkOffset + a.batch * a.seqK * a.kvHeads * a.headDim;
  if (t.template === "attention")
    return { direction: "forward", shape, operands, out: t.buffers.out!, dkOffset: 0, dvOffset: 0, scratch: { lse: scratch.take("f32", lseSize) } };
  return {
    direction: "backward",
    shape,
    operands,
    out: t.buffers.out!,
    dkOffset,
    dvOffset,
    scratch: {
      lse: scratch.take("f32", lseSize),
      delta: scratch.take("f32", lseSize),
      dqAcc: scratch.take("f32", a.batch * a.seqQ * row),
      o: scratch.take("bf16", a.batch * a.seqQ * row),
    },
  };
}

// --- SIMT ----------------------------------------------------------------------------------------

const v = (name: string, extent: number): Var => ({ op: "var", name, type: "i32", extent: Math.max(extent, 1) });
const S = simplifyIndex;
const f = (x: Expr): Expr => (x.type === "f32" ? x : { op: "cast", a: x, type: "f32" });
const fadd = (a: Expr, b: Expr): Expr => add(a, b, "f32");
const fmul = (a: Expr, b: Expr): Expr => mul(a, b, "f32");
const exp2 = (x: Expr): Expr => ({ op: "unary", fn: "exp2", a: x, type: "f32" });
const fmax = (a: Expr, b: Expr): Expr => select(lt(a, b), b, a);

interface Access {
  /** Element index of (batch, position, head, channel) in operand `name`. */
  at(name: string, b: Expr, pos: Expr, head: Expr, d: Expr): Expr;
  value(name: string, b: Expr, pos: Expr, head: Expr, d: Expr): Expr;
  /** Whether query `qi` of batch `b` may attend key `j` (key mask and causal), or null when always. */
  visible(b: Expr, qi: Expr, j: Expr): Expr | null;
}

function access(kernel: Kernel, t: AttentionStmt, a: AttentionArgs): Access {
  const typeOf = (id: number) => (kernel.buffers.find((b) => b.id === id)?.dtype === "i32" ? "i32" : "f32") as "f32" | "i32";
  const at = (name: string, b: Expr, pos: Expr, head: Expr, d: Expr): Expr => {
    const view = a.views[name]!;
    return S(add(add(add(add(i(view.off), mul(b, i(view.bs))), mul(pos, i(view.ss))), mul(head, i(a.headDim))), d));
  };
  return {
    at,
    value: (name, b, pos, head, d) => f(load(t.buffers[name]!, at(name, b, pos, head, d), typeOf(t.buffers[name]!))),
    visible(b, qi, j) {
      const conds: Expr[] = [];
      if (a.mask) {
        const m = load(t.buffers.mask!, S(add(add(i(a.mask.off), mul(b, i(a.mask.bs))), j)), "bool");
        conds.push({
          op: "select",
          cond: eq(m, { op: "const", value: 0, type: "bool" }),
          a: { op: "const", value: 0, type: "bool" },
          b: { op: "const", value: 1, type: "bool" },
          type: "bool",
        });
      }
      if (a.causal) conds.push(lt(j, add(qi, i(1))));
      return conds.length === 0 ? null : conds.reduce((x, y) => and(x, y));
    },
  };
}

/** Σ_d x(d)·y(d) into a new local `name`. */
function dot(name: string, d: Var, x: (d: Expr) => Expr, y: (d: Expr) => Expr, unroll: boolean): GStmt[] {
  return [
    { s: "declare", name, type: "f32", init: fconst(0) },
    { s: "for", var: d, start: i(0), step: 1, unroll, body: [{ s: "assign", name, value: fadd(local(name, "f32"), fmul(x(d), y(d))) }] },
  ];
}

const guard = (cond: Expr | null, body: GStmt[]): GStmt[] => (cond ? [{ s: "if", cond, then: body }] : body);

/** Decomposes a flat row index into named lets: outermost first, `extents` row-major. */
function rowLets(flat: Expr, names: readonly string[], extents: readonly number[]): GStmt[] {
  const out: GStmt[] = [];
  let stride = extents.reduce((p, e) => p * e, 1);
  names.forEach((name, k) => {
    stride /= extents[k]!;
    const q = stride === 1 ? flat : S(div(flat, i(stride)));
    out.push({ s: "let", name, value: k === 0 ? q : S(mod(q, i(extents[k]!))) });
  });
  return out;
}

/** The forward: a query row per thread, or several (config.attentionRows, the largest of them that divides the query length). */
function forwardKernel(kernel: Kernel, t: AttentionStmt, a: AttentionArgs, config: GpuConfig): GpuKernel {
  const rows = [config.attentionRows ?? 1, 4, 2, 1].find((r) => r <= (config.attentionRows ?? 1) && a.seqQ % r === 0)!;
  return rows > 1 ? simtForwardRows(kernel, t, a, config, rows) : simtForward(kernel, t, a, config);
}

/**
 * The forward with `qr` query rows of one (batch, head) per thread: each key's row of K and V is
 * loaded once for all of them, and the queries are loaded once, before the keys (on a CPU adapter a
 * load costs about what a multiply-add does; with one row a thread made one load per multiply-add).
 */
function simtForwardRows(kernel: Kernel, t: AttentionStmt, a: AttentionArgs, config: GpuConfig, qr: number): GpuKernel {
  const X = access(kernel, t, a);
  const D = a.headDim;
  const groups = a.batch * a.heads * (a.seqQ / qr);
  const threads = config.attentionThreads;
  const blocks = Math.max(1, Math.min(Math.ceil(groups / threads), config.maxBlocks));
  const arrays: ArrayDecl[] = [
    { id: -1, name: "o_acc", space: "local", type: "f32", size: qr * D },
    { id: -2, name: "q_rows", space: "local", type: "f32", size: qr * D },
    { id: -3, name: "row_max", space: "local", type: "f32", size: qr },
    { id: -4, name: "row_sum", space: "local", type: "f32", size: qr },
    { id: -5, name: "k_row", space: "local", type: "f32", size: D },
    { id: -6, name: "v_row", space: "local", type: "f32", size: D },
  ];
  const unroll = D <= 64;
  const [b, h, kvh] = [local("b"), local("h"), local("kvh")];
  const [d, j, qq] = [v("d", D), v("j", a.seqK), v("qq", qr)];
  const qi = S(add(mul(local("q_block"), i(qr)), qq));
  const qd = S(add(mul(qq, i(D)), d));
  const overD = (body: GStmt[]): GStmt => ({ s: "for", var: d, start: i(0), step: 1, unroll, body });
  const overRows = (body: GStmt[]): GStmt => ({ s: "for", var: qq, start: i(0), step: 1, unroll: true, body });
  const store = (array: number, index: Expr, value: Expr): GStmt => ({ s: "store", buffer: array, index, value });
  const neg = (x: Expr): Expr => ({ op: "unary", fn: "neg", a: x, type: "f32" });
  const scaleLog2 = fconst(a.scale * LOG2E);
  const row = a.heads * D;
  const perRow: GStmt[] = [
    { s: "declare", name: "score", type: "f32", init: fconst(0) },
    overD([{ s: "assign", name: "score", value: fadd(local("score", "f32"), fmul(load(-2, qd, "f32"), load(-5, d, "f32"))) }]),
    { s: "let", name: "logit", value: fmul(local("score", "f32"), scaleLog2) },
    { s: "let", name: "max_next", value: fmax(load(-3, qq, "f32"), local("logit", "f32")) },
    { s: "let", name: "rescale", value: exp2(fadd(load(-3, qq, "f32"), neg(local("max_next", "f32")))) },
    { s: "let", name: "p", value: exp2(fadd(local("logit", "f32"), neg(local("max_next", "f32")))) },
    store(-4, qq, fadd(fmul(load(-4, qq, "f32"), local("rescale", "f32")), local("p", "f32"))),
    overD([store(-1, qd, fadd(fmul(load(-1, qd, "f32"), local("rescale", "f32")), fmul(local("p", "f32"), load(-6, d, "f32"))))]),
    store(-3, qq, local("max_next", "f32")),
  ];
  const body = gridStride("r", groups, threads, blocks, (r) => [
    ...rowLets(r, ["b", "h", "q_block"], [a.batch, a.heads, a.seqQ / qr]),
    { s: "let", name: "kvh", value: S(div(h, i(a.heads / a.kvHeads))) },
    overRows([
      store(-3, qq, fconst(-Infinity)),
      store(-4, qq, fconst(0)),
      overD([store(-1, qd, fconst(0)), store(-2, qd, X.value("q", b, qi, h, d))]),
    ]),
    {
      s: "for",
      var: j,
      start: i(0),
      step: 1,
      body: [
        overD([store(-5, d, X.value("k", b, j, kvh, d)), store(-6, d, X.value("v", b, j, kvh, d))]),
        overRows(guard(X.visible(b, qi, j), perRow)),
      ],
    },
    // A row that saw no key is all zeros.
    overRows([
      {
        s: "let",
        name: "inv",
        value: select(lt(fconst(0), load(-4, qq, "f32")), { op: "unary", fn: "recip", a: load(-4, qq, "f32"), type: "f32" }, fconst(0)),
      },
      overD([
        {
          s: "store",
          buffer: t.buffers.out!,
          index: S(add(add(add(mul(b, i(a.seqQ * row)), mul(qi, i(row))), mul(h, i(D))), d)),
          value: fmul(load(-1, qd, "f32"), local("inv", "f32")),
        },
      ]),
    ]),
  ]);
  return { name: kernel.name, comment: kernel.comment, params: paramsOf(kernel.buffers), arrays, threads, blocks, body: [body] };
}

function simtForward(kernel: Kernel, t: AttentionStmt, a: AttentionArgs, config: GpuConfig): GpuKernel {
  const X = access(kernel, t, a);
  const D = a.headDim;
  const rows = a.batch * a.heads * a.seqQ;
  const threads = config.attentionThreads;
  const blocks = Math.max(1, Math.min(Math.ceil(rows / threads), config.maxBlocks));
  const arrays: ArrayDecl[] = [{ id: -1, name: "o_acc", space: "local", type: "f32", size: D }];
  const unroll = D <= 64;
  const [b, h, qi, kvh] = [local("b"), local("h"), local("qi"), local("kvh")];
  const d = v("d", D);
  const j = v("j", a.seqK);
  const scaleLog2 = fconst(a.scale * LOG2E);
  const row = a.heads * D;
  const perKey: GStmt[] = [
    ...dot(
      "score",
      d,
      (x) => X.value("q", b, qi, h, x),
      (x) => X.value("k", b, j, kvh, x),
      unroll,
    ),
    { s: "let", name: "logit", value: fmul(local("score", "f32"), scaleLog2) },
    { s: "let", name: "max_next", value: fmax(local("row_max", "f32"), local("logit", "f32")) },
    { s: "let", name: "rescale", value: exp2(fadd(local("row_max", "f32"), { op: "unary", fn: "neg", a: local("max_next", "f32"), type: "f32" })) },
    { s: "let", name: "p", value: exp2(fadd(local("logit", "f32"), { op: "unary", fn: "neg", a: local("max_next", "f32"), type: "f32" })) },
    { s: "assign", name: "row_sum", value: fadd(fmul(local("row_sum", "f32"), local("rescale", "f32")), local("p", "f32")) },
    {
      s: "for",
      var: d,
      start: i(0),
      step: 1,
      unroll,
      body: [
        {
          s: "store",
          buffer: -1,
          index: d,
          value: fadd(fmul(load(-1, d, "f32"), local("rescale", "f32")), fmul(local("p", "f32"), X.value("v", b, j, kvh, d))),
        },
      ],
    },
    { s: "assign", name: "row_max", value: local("max_next", "f32") },
  ];
  const body = gridStride("r", rows, threads, blocks, (r) => [
    ...rowLets(r, ["b", "h", "qi"], [a.batch, a.heads, a.seqQ]),
    { s: "let", name: "kvh", value: S(div(h, i(a.heads / a.kvHeads))) },
    { s: "declare", name: "row_max", type: "f32", init: fconst(-Infinity) },
    { s: "declare", name: "row_sum", type: "f32", init: fconst(0) },
    { s: "for", var: d, start: i(0), step: 1, unroll, body: [{ s: "store", buffer: -1, index: d, value: fconst(0) }] },
    { s: "for", var: j, start: i(0), step: 1, body: guard(X.visible(b, qi, j), perKey) },
    // A row that saw no key is all zeros.
    {
      s: "let",
      name: "inv",
      value: select(lt(fconst(0), local("row_sum", "f32")), { op: "unary", fn: "recip", a: local("row_sum", "f32"), type: "f32" }, fconst(0)),
    },
    {
      s: "for",
      var: d,
      start: i(0),
      step: 1,
      unroll,
      body: [
        {
          s: "store",
          buffer: t.buffers.out!,
          index: S(add(add(add(mul(b, i(a.seqQ * row)), mul(qi, i(row))), mul(h, i(D))), d)),
          value: fmul(load(-1, d, "f32"), local("inv", "f32")),
        },
      ],
    },
  ]);
  return { name: kernel.name, comment: kernel.comment, params: paramsOf(kernel.buffers), arrays, threads, blocks, body: [body] };
}

/** What both backward kernels share: operand access, the head dimension loop, the parameters, one logit. */
interface Backward {
  readonly kernel: Kernel;
  readonly a: AttentionArgs;
  readonly X: Access;
  readonly threads: number;
  readonly maxBlocks: number;
  readonly unroll: boolean;
  readonly d: Var;
  readonly params: GlobalParam[];
  readonly out: number;
  readonly lse: ScratchDecl;
  readonly delta: ScratchDecl;
  /** The base-2 scaled logit of query (qPos, qHead) against key (kPos, kHead), as local `name`. */
  logitOf(name: string, b: Expr, qPos: Expr, qHead: Expr, kPos: Expr, kHead: Expr): GStmt[];
}

const neg = (x: Expr): Expr => ({ op: "unary", fn: "neg", a: x, type: "f32" });
const L = (name: string): Expr => local(name, "f32");

/** Attention backward as two SIMT kernels: per query row (LSE, Δ, dQ), then per key row (dK, dV). */
function simtBackward(kernel: Kernel, t: AttentionStmt, a: AttentionArgs, config: GpuConfig, lse: ScratchDecl, delta: ScratchDecl): GpuKernel[] {
  const X = access(kernel, t, a);
  const unroll = a.headDim <= 64;
  const d = v("d", a.headDim);
  const scaleLog2 = fconst(a.scale * LOG2E);
  const scratchParams: GlobalParam[] = [lse, delta].map((s) => ({ id: s.id, dtype: s.dtype, size: s.size, role: "readwrite" as const }));
  const bw: Backward = {
    kernel,
    a,
    X,
    unroll,
    d,
    lse,
    delta,
    threads: config.attentionThreads,
    maxBlocks: config.maxBlocks,
    params: paramsOf(kernel.buffers, scratchParams),
    out: t.buffers.out!,
    logitOf: (name, b, qPos, qHead, kPos, kHead) => [
      ...dot(
        `${name}_dot`,
        d,
        (x) => X.value("q", b, qPos, qHead, x),
        (x) => X.value("k", b, kPos, kHead, x),
        unroll,
      ),
      { s: "let", name, value: fmul(L(`${name}_dot`), scaleLog2) },
    ],
  };
  return [backwardQueries(bw), backwardKeys(bw)];
}

/** A loop over the head dimension, unrolled when the head is small. */
const overHeadDim = (bw: Backward, body: GStmt[]): GStmt => ({ s: "for", var: bw.d, start: i(0), step: 1, unroll: bw.unroll, body });

/** A plain loop of `variable` from 0. */
const loopOver = (variable: Var, body: GStmt[]): GStmt => ({ s: "for", var: variable, start: i(0), step: 1, body });

/** Local accumulator array `id` at channel `d` += `term`. */
const accumulate = (id: number, d: Expr, term: Expr): GStmt => ({ s: "store", buffer: id, index: d, value: fadd(load(id, d, "f32"), term) });

/** Local accumulator array `id` at channel `d` = 0. */
const zero = (id: number, d: Expr): GStmt => ({ s: "store", buffer: id, index: d, value: fconst(0) });

/** Grid blocks for one thread per row, capped at the device's maximum. */
const blocksFor = (bw: Backward, rows: number): number => Math.max(1, Math.min(Math.ceil(rows / bw.threads), bw.maxBlocks));

/**
 * The softmax gradient of one visible (query, key) pair as locals: `p` = exp2(logit − lse2) and
 * `ds` = p·(dO·V − Δ); both kernels recompute it, from the row statistics `lse2` and `delta`.
 */
function scoreGradient(bw: Backward, b: Expr, qPos: Expr, qHead: Expr, kPos: Expr, kHead: Expr, lse2: Expr, delta: Expr): GStmt[] {
  const { X, d, unroll } = bw;
  return [
    ...bw.logitOf("logit", b, qPos, qHead, kPos, kHead),
    { s: "let", name: "p", value: exp2(fadd(L("logit"), neg(lse2))) },
    ...dot(
      "dp",
      d,
      (x) => X.value("do", b, qPos, qHead, x),
      (x) => X.value("v", b, kPos, kHead, x),
      unroll,
    ),
    { s: "let", name: "ds", value: fmul(L("p"), fadd(L("dp"), neg(delta))) },
  ];
}

/** Locals `lse2` (base-2 log-sum-exp over the visible keys, +inf when none) and `delta` (Δ = dO·O) of query row (b, qi, h). */
function queryRowStatistics(bw: Backward, j: Var): GStmt[] {
  const { X, d, unroll } = bw;
  const [b, h, qi, kvh] = [local("b"), local("h"), local("qi"), local("kvh")];
  return [
    { s: "declare", name: "row_max", type: "f32", init: fconst(-Infinity) },
    { s: "declare", name: "row_sum", type: "f32", init: fconst(0) },
    loopOver(
      j,
      guard(X.visible(b, qi, j), [
        ...bw.logitOf("logit", b, qi, h, j, kvh),
        { s: "let", name: "max_next", value: fmax(L("row_max"), L("logit")) },
        {
          s: "assign",
          name: "row_sum",
          value: fadd(fmul(L("row_sum"), exp2(fadd(L("row_max"), neg(L("max_next"))))), exp2(fadd(L("logit"), neg(L("max_next"))))),
        },
        { s: "assign", name: "row_max", value: L("max_next") },
      ]),
    ),
    {
      s: "let",
      name: "lse2",
      value: select(lt(fconst(0), L("row_sum")), fadd(L("row_max"), { op: "unary", fn: "log2", a: L("row_sum"), type: "f32" }), fconst(Infinity)),
    },
    ...dot(
      "delta",
      d,
      (x) => X.value("do", b, qi, h, x),
      (x) => X.value("o", b, qi, h, x),
      unroll,
    ),
  ];
}

/** dQ of query row (b, qi, h) into the local accumulator -1: Σ over visible keys of ds·K. */
function queryGradient(bw: Backward, j: Var): GStmt[] {
  const { X, d } = bw;
  const [b, h, qi, kvh] = [local("b"), local("h"), local("qi"), local("kvh")];
  return [
    overHeadDim(bw, [zero(-1, d)]),
    loopOver(
      j,
      guard(X.visible(b, qi, j), [
        ...scoreGradient(bw, b, qi, h, j, kvh, L("lse2"), L("delta")),
        overHeadDim(bw, [accumulate(-1, d, fmul(L("ds"), X.value("k", b, j, kvh, d)))]),
      ]),
    ),
  ];
}

/** 1. Per query row: LSE (base 2; +inf for a row with no visible key, so that its P is 0), Δ, dQ. */
function backwardQueries(bw: Backward): GpuKernel {
  const { kernel, a, threads, d, params, out, lse, delta } = bw;
  const D = a.headDim;
  const row = a.heads * D;
  const group = a.heads / a.kvHeads;
  const rows = a.batch * a.heads * a.seqQ;
  const blocksQ = blocksFor(bw, rows);
  const [b, h, qi] = [local("b"), local("h"), local("qi")];
  const j = v("j", a.seqK);
  const queryBody = (r: Expr): GStmt[] => [
    ...rowLets(r, ["b", "h", "qi"], [a.batch, a.heads, a.seqQ]),
    { s: "let", name: "kvh", value: S(div(h, i(group))) },
    ...queryRowStatistics(bw, j),
    { s: "store", buffer: lse.id, index: r, value: L("lse2") },
    { s: "store", buffer: delta.id, index: r, value: L("delta") },
    ...queryGradient(bw, j),
    overHeadDim(bw, [
      {
        s: "store",
        buffer: out,
        index: S(add(add(add(mul(b, i(a.seqQ * row)), mul(qi, i(row))), mul(h, i(D))), d)),
        value: fmul(load(-1, d, "f32"), fconst(a.scale)),
      },
    ]),
  ];
  return {
    name: `${kernel.name}_dq`,
    comment: `${kernel.comment} (log-sum-exp, Δ and dQ per query row)`,
    params,
    arrays: [{ id: -1, name: "dq_acc", space: "local", type: "f32", size: D }],
    threads,
    blocks: blocksQ,
    body: [gridStride("r", rows, threads, blocksQ, queryBody)],
  };
}

/** dK and dV of key row (b, kvh, kj) into the local accumulators -1 and -2: Σ over its query heads and visible queries. */
function keyGradients(bw: Backward): GStmt[] {
  const { a, X, d, lse, delta } = bw;
  const group = a.heads / a.kvHeads;
  const [b, kvh, kj, h] = [local("b"), local("kvh"), local("kj"), local("h")];
  const hh = v("hh", group);
  const q = v("q", a.seqQ);
  const statIndex = S(add(mul(add(mul(b, i(a.heads)), h), i(a.seqQ)), q));
  return [
    overHeadDim(bw, [zero(-1, d), zero(-2, d)]),
    loopOver(hh, [
      { s: "let", name: "h", value: S(add(mul(kvh, i(group)), hh)) },
      loopOver(
        q,
        guard(X.visible(b, q, kj), [
          ...scoreGradient(bw, b, q, h, kj, kvh, load(lse.id, statIndex, "f32"), load(delta.id, statIndex, "f32")),
          overHeadDim(bw, [accumulate(-1, d, fmul(L("ds"), X.value("q", b, q, h, d))), accumulate(-2, d, fmul(L("p"), X.value("do", b, q, h, d)))]),
        ]),
      ),
    ]),
  ];
}

/** 2. Per key row: dK and dV, summed over the query heads of this key head and every query. */
function backwardKeys(bw: Backward): GpuKernel {
  const { kernel, a, threads, d, params, out } = bw;
  const D = a.headDim;
  const kvRow = a.kvHeads * D;
  const dkOffset = a.batch * a.seqQ * a.heads * D;
  const dvOffset = dkOffset + a.batch * a.seqK * kvRow;
  const [b, kvh, kj] = [local("b"), local("kvh"), local("kj")];
  const keyRows = a.batch * a.kvHeads * a.seqK;
  const blocksK = blocksFor(bw, keyRows);
  const keyBody = (r: Expr): GStmt[] => [
    ...rowLets(r, ["b", "kvh", "kj"], [a.batch, a.kvHeads, a.seqK]),
    ...keyGradients(bw),
    overHeadDim(bw, [
      { s: "let", name: "kv_at", value: S(add(add(add(mul(b, i(a.seqK * kvRow)), mul(kj, i(kvRow))), mul(kvh, i(D))), d)) },
      { s: "store", buffer: out, index: S(add(local("kv_at"), i(dkOffset))), value: fmul(load(-1, d, "f32"), fconst(a.scale)) },
      { s: "store", buffer: out, index: S(add(local("kv_at"), i(dvOffset))), value: load(-2, d, "f32") },
    ]),
  ];
  return {
    name: `${kernel.name}_dkv`,
    comment: `${kernel.comment} (dK and dV per key row)`,
    params,
    arrays: [
      { id: -1, name: "dk_acc", space: "local", type: "f32", size: D },
      { id: -2, name: "dv_acc", space: "local", type: "f32", size: D },
    ],
    threads,
    blocks: blocksK,
    body: [gridStride("r", keyRows, threads, blocksK, keyBody)],
  };
}
