// The gemm template statement on the GPU: a SIMT GEMM in GPU L2 that handles any strides and
// dtypes (f32 accumulation; shared-memory tiles, a register micro-tile per thread, the fused
// epilogue per output element), and, when the operands suit the tensor-core template (bf16, A
// row-major, B [N,K] or [K,N] row-major, 16-byte aligned), a plan for it with the epilogue split
// into its side stores and the value that goes into C.

import { exprKey, simplifyIndex, type Expr, type Kernel, type Stmt } from "../kernel-ir.ts";
import {
  add, and, div, forEachStmt, i, load, local, lt, mod, mul, select, threadVar, blockVar,
  type ArrayDecl, type GStmt, type GlobalParam, type GpuKernel, type Var,
} from "./gpu-ir.ts";
import { paramsOf, sequential, type GpuConfig, type GpuStep } from "./gpu-lower.ts";

type GemmStmt = Stmt & { s: "template" };

/** The arguments of a gemm template statement, as numbers. */
export interface GemmArgs {
  batch: number;
  m: number;
  n: number;
  k: number;
  a_off: number;
  a_bs: number;
  a_rs: number;
  a_cs: number;
  b_off: number;
  b_bs: number;
  b_rs: number;
  b_cs: number;
  c_bs: number;
  ldc: number;
}

export const gemmArgs = (t: GemmStmt): GemmArgs => {
  const a = t.args;
  const num = (name: string): number => {
    const v = Number(a[name]);
    if (!Number.isFinite(v)) throw new Error(`gemm: argument ${name} is ${String(a[name])}`);
    return v;
  };
  return {
    batch: num("batch"), m: num("m"), n: num("n"), k: num("k"),
    a_off: num("a_off"), a_bs: num("a_bs"), a_rs: num("a_rs"), a_cs: num("a_cs"),
    b_off: num("b_off"), b_bs: num("b_bs"), b_rs: num("b_rs"), b_cs: num("b_cs"),
    c_bs: num("c_bs"), ldc: num("ldc"),
  };
};

/** What the tensor-core GEMM template is asked for (the layout words are gemm-mma.ts's). */
export interface MmaGemmPlan {
  readonly problem: {
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
  };
  readonly a: { readonly id: number; readonly offset: number };
  readonly b: { readonly id: number; readonly offset: number };
  readonly c: { readonly id: number };
  /** Run for each output (acc, eb, ei, ej): side stores, then `result` is stored into C. */
  readonly epilogue: { readonly vars: { readonly b: Var; readonly i: Var; readonly j: Var }; readonly body: readonly GStmt[]; readonly result: Expr };
  /** Buffers the epilogue touches, other than C. */
  readonly epilogueParams: readonly GlobalParam[];
}

const loadsBuffer = (stmts: readonly GStmt[], id: number): boolean => {
  let hit = false;
  const walk = (e: Expr): void => {
    if (e.op === "load" && e.buffer === id) hit = true;
    if (e.op === "load") walk(e.index);
    else if (e.op === "unary" || e.op === "cast") walk(e.a);
    else if (e.op === "binary") (walk(e.a), walk(e.b));
    else if (e.op === "select") (walk(e.cond), walk(e.a), walk(e.b));
    else if (e.op === "philox") (walk(e.seed), walk(e.index));
  };
  forEachStmt(stmts, (s) => {
    if (s.s === "store") (walk(s.index), walk(s.value));
    else if (s.s === "let" || s.s === "assign") walk(s.value);
    else if (s.s === "if") walk(s.cond);
  });
  return hit;
};

function buffersTouched(stmts: readonly GStmt[]): Set<number> {
  const ids = new Set<number>();
  const walk = (e: Expr): void => {
    if (e.op === "load") (ids.add(e.buffer), walk(e.index));
    else if (e.op === "unary" || e.op === "cast") walk(e.a);
    else if (e.op === "binary") (walk(e.a), walk(e.b));
    else if (e.op === "select") (walk(e.cond), walk(e.a), walk(e.b));
    else if (e.op === "philox") (walk(e.seed), walk(e.index));
  };
  forEachStmt(stmts, (s) => {
    if (s.s === "store") (ids.add(s.buffer), walk(s.index), walk(s.value));
    else if (s.s === "let" || s.s === "assign") walk(s.value);
    else if (s.s === "if") walk(s.cond);
  });
  return ids;
}

/** The epilogue as GPU statements over locals acc and vars eb, ei, ej; and whether it stores C itself. */
function epilogueOf(t: GemmStmt): { vars: { b: Var; i: Var; j: Var }; body: GStmt[]; storesC: boolean } {
  const a = gemmArgs(t);
  const vars = t.epilogue
    ? { b: t.epilogue.vars.b!, i: t.epilogue.vars.i!, j: t.epilogue.vars.j! }
    : { b: { op: "var", name: "eb", type: "i32", extent: Math.max(a.batch, 1) } as Var, i: { op: "var", name: "ei", type: "i32", extent: a.m } as Var, j: { op: "var", name: "ej", type: "i32", extent: a.n } as Var };
  const body = t.epilogue ? sequential(t.epilogue.body) : [];
  const storesC = body.some((s) => s.s === "store" && s.buffer === t.buffers.c);
  return { vars, body, storesC };
}

/** C's flat index of output (eb, ei, ej). */
const cIndex = (a: GemmArgs, vars: { b: Var; i: Var; j: Var }): Expr =>
  simplifyIndex(add(add(a.batch > 1 ? mul(vars.b, i(a.c_bs)) : i(0), mul(vars.i, i(a.ldc))), vars.j));

export function lowerGemm(kernel: Kernel, t: GemmStmt, config: GpuConfig): GpuStep {
  return { kind: "gemm", launches: [simtGemm(kernel, t, config)], mma: mmaPlan(kernel, t) };
}

/** The tensor-core plan, or null when the operands do not suit the template. */
export function mmaPlan(kernel: Kernel, t: GemmStmt): MmaGemmPlan | null {
  const a = gemmArgs(t);
  const dtype = (id: number) => kernel.buffers.find((b) => b.id === id)?.dtype;
  const cType = dtype(t.buffers.c!);
  if (dtype(t.buffers.a!) !== "bf16" || dtype(t.buffers.b!) !== "bf16" || (cType !== "bf16" && cType !== "f32")) return null;
  if (a.a_cs !== 1 || a.a_rs !== a.k) return null;
  const layout = a.b_rs === 1 && a.b_cs === a.k ? "tn" : a.b_cs === 1 && a.b_rs === a.n ? "nn" : null;
  if (!layout || a.k < 1) return null;
  // 16-byte copies need 16-byte aligned operand starts.
  if (a.a_off % 8 !== 0 || a.b_off % 8 !== 0) return null;
  if (a.ldc !== a.n || a.c_bs !== a.m * a.n) return null;
  const ep = epilogueOf(t);
  if (loadsBuffer(ep.body, t.buffers.c!)) return null;
  let result: Expr = local("acc", "f32");
  let body = ep.body;
  if (ep.storesC) {
    const stores = body.filter((s): s is GStmt & { s: "store" } => s.s === "store" && s.buffer === t.buffers.c);
    if (stores.length !== 1 || exprKey(simplifyIndex(stores[0]!.index)) !== exprKey(cIndex(a, ep.vars))) return null;
    result = stores[0]!.value;
    body = body.filter((s) => s !== stores[0]);
  }
  const touched = buffersTouched([...body, { s: "let", name: "result", value: result }]);
  touched.delete(t.buffers.c!);
  const epilogueParams = paramsOf(kernel.buffers.filter((b) => touched.has(b.id)));
  return {
    problem: { m: a.m, n: a.n, k: a.k, batch: Math.max(a.batch, 1), layout, strideA: a.a_bs, strideB: a.b_bs, strideC: a.c_bs, out: cType },
    a: { id: t.buffers.a!, offset: a.a_off },
    b: { id: t.buffers.b!, offset: a.b_off },
    c: { id: t.buffers.c! },
    epilogue: { vars: ep.vars, body, result },
    epilogueParams,
  };
}

/**
 * Block tile bm×bn over a batch-major 1-D grid; each k step stages a bk-deep slice of A and B in
 * shared memory (zero-filled past the edges), then every thread accumulates its tm×tn outputs.
 */
export function simtGemm(kernel: Kernel, t: GemmStmt, config: GpuConfig): GpuKernel {
  const a = gemmArgs(t);
  const { bm, bn, bk, tm, tn } = config.gemmTile;
  const [cols, rowsOfThreads] = [bn / tn, bm / tm];
  const threads = cols * rowsOfThreads;
  if (!Number.isInteger(cols) || !Number.isInteger(rowsOfThreads) || (bm * bk) % threads !== 0 || (bn * bk) % threads !== 0)
    throw new Error(`simt gemm: tile ${bm}x${bn}x${bk} with ${tm}x${tn} per thread does not divide over its threads`);
  const batch = Math.max(a.batch, 1);
  const tilesM = Math.ceil(a.m / bm);
  const tilesN = Math.ceil(a.n / bn);
  const kTiles = Math.max(Math.ceil(a.k / bk), 0);
  const blocks = batch * tilesM * tilesN;
  const tid = threadVar(threads);
  const bid = blockVar(blocks);
  const arrays: ArrayDecl[] = [
    { id: -1, name: "a_tile", space: "shared", type: "f32", size: bk * bm },
    { id: -2, name: "b_tile", space: "shared", type: "f32", size: bk * bn },
    { id: -3, name: "acc_tile", space: "local", type: "f32", size: tm * tn },
    { id: -4, name: "a_frag", space: "local", type: "f32", size: tm },
    { id: -5, name: "b_frag", space: "local", type: "f32", size: tn },
  ];
  const [A, B, C] = [t.buffers.a!, t.buffers.b!, t.buffers.c!];
  const typeOf = (id: number) => (kernel.buffers.find((b) => b.id === id)?.dtype === "i32" ? "i32" : "f32") as "f32" | "i32";
  const v = (name: string, extent: number): Var => ({ op: "var", name, type: "i32", extent });
  const L = (name: string) => local(name);
  const S = simplifyIndex;

  const body: GStmt[] = [
    { s: "let", name: "batch_index", value: batch > 1 ? S(div(bid, i(tilesM * tilesN))) : i(0) },
    { s: "let", name: "tile_m", value: S(mod(div(bid, i(tilesN)), i(tilesM))) },
    { s: "let", name: "tile_n", value: S(mod(bid, i(tilesN))) },
    { s: "let", name: "thread_m", value: S(div(tid, i(cols))) },
    { s: "let", name: "thread_n", value: S(mod(tid, i(cols))) },
  ];
  const zero = v("z", tm * tn);
  body.push({ s: "for", var: zero, start: i(0), step: 1, unroll: true, body: [{ s: "store", buffer: -3, index: zero, value: { op: "const", value: 0, type: "f32" } }] });

  const kt = v("kt", Math.max(kTiles, 1));
  /** Copies a bk-deep slice of one operand into shared memory; the unit-stride axis runs fastest across threads. */
  const stage = (operand: "a" | "b"): GStmt => {
    // Element (r, kk) of the slice: r along M (or N) with stride rs, kk along K with stride ks.
    const [id, rows, off, bs, rs, ks, extent, tileIndex] =
      operand === "a"
        ? [A, bm, a.a_off, a.a_bs, a.a_rs, a.a_cs, a.m, L("tile_m")]
        : [B, bn, a.b_off, a.b_bs, a.b_cs, a.b_rs, a.n, L("tile_n")];
    const count = (rows * bk) / threads;
    const l = v(`${operand}_copy`, count);
    const e = S(add(tid, mul(l, i(threads))));
    const kFastest = ks === 1 || rs !== 1;
    const r = kFastest ? S(div(e, i(bk))) : S(mod(e, i(rows)));
    const kk = kFastest ? S(mod(e, i(bk))) : S(div(e, i(rows)));
    const row = add(mul(tileIndex, i(rows)), r);
    const kcol = add(mul(kt, i(bk)), kk);
    const index = S(add(add(add(i(off), mul(L("batch_index"), i(bs))), mul(row, i(rs))), mul(kcol, i(ks))));
    const loaded = load(id, index, typeOf(id));
    const value = select(and(lt(row, i(extent)), lt(kcol, i(a.k))), loaded.type === "f32" ? loaded : { op: "cast", a: loaded, type: "f32" }, { op: "const", value: 0, type: "f32" });
    return { s: "for", var: l, start: i(0), step: 1, unroll: true, body: [{ s: "store", buffer: operand === "a" ? -1 : -2, index: S(add(mul(kk, i(rows)), r)), value }] };
  };
  const kk = v("kk", bk);
  const ii = v("ii", tm);
  const jj = v("jj", tn);
  const fragA: GStmt = { s: "for", var: ii, start: i(0), step: 1, unroll: true, body: [{ s: "store", buffer: -4, index: ii, value: load(-1, S(add(mul(kk, i(bm)), add(mul(L("thread_m"), i(tm)), ii))), "f32") }] };
  const fragB: GStmt = { s: "for", var: jj, start: i(0), step: 1, unroll: true, body: [{ s: "store", buffer: -5, index: jj, value: load(-2, S(add(mul(kk, i(bn)), add(mul(L("thread_n"), i(tn)), jj))), "f32") }] };
  const accIndex = S(add(mul(ii, i(tn)), jj));
  const fma: GStmt = {
    s: "for", var: ii, start: i(0), step: 1, unroll: true,
    body: [{ s: "for", var: jj, start: i(0), step: 1, unroll: true, body: [{ s: "store", buffer: -3, index: accIndex, value: add(load(-3, accIndex, "f32"), mul(load(-4, ii, "f32"), load(-5, jj, "f32"), "f32"), "f32") }] }],
  };
  if (kTiles > 0)
    body.push({
      s: "for", var: kt, start: i(0), step: 1,
      body: [
        stage("a"),
        stage("b"),
        { s: "barrier" },
        { s: "for", var: kk, start: i(0), step: 1, unroll: true, body: [fragA, fragB, fma] },
        { s: "barrier" },
      ],
    });

  const ep = epilogueOf(t);
  const outputs: GStmt[] = [
    { s: "let", name: ep.vars.b.name, value: L("batch_index") },
    { s: "let", name: ep.vars.i.name, value: S(add(add(mul(L("tile_m"), i(bm)), mul(L("thread_m"), i(tm))), ii)) },
    { s: "let", name: ep.vars.j.name, value: S(add(add(mul(L("tile_n"), i(bn)), mul(L("thread_n"), i(tn))), jj)) },
  ];
  const guarded: GStmt[] = [{ s: "let", name: "acc", value: load(-3, accIndex, "f32") }];
  if (!ep.storesC) guarded.push({ s: "store", buffer: C, index: cIndex(a, ep.vars), value: local("acc", "f32") });
  guarded.push(...ep.body);
  outputs.push({ s: "if", cond: and(lt(L(ep.vars.i.name), i(a.m)), lt(L(ep.vars.j.name), i(a.n))), then: guarded });
  body.push({ s: "for", var: ii, start: i(0), step: 1, unroll: true, body: [{ s: "for", var: jj, start: i(0), step: 1, unroll: true, body: outputs }] });
  return { name: kernel.name, comment: kernel.comment, params: paramsOf(kernel.buffers), arrays, threads, blocks, body };
}
