// The gemm template statement on the GPU: a SIMT GEMM in GPU L2 that handles any strides and
// dtypes (f32 accumulation; shared-memory tiles, a register micro-tile per thread, the fused
// epilogue per output element), and, when the operands suit the tensor-core template (bf16, A
// row-major, B [N,K] or [K,N] row-major, 16-byte aligned), a plan for it with the epilogue split
// into its side stores and the value that goes into C.

import { exprKey, simplifyIndex, type Expr, type Kernel, type Stmt, type TemplateStmt, type GemmArgs } from "../kernel-ir.ts";
import {
  add,
  and,
  div,
  forEachStmt,
  i,
  load,
  local,
  lt,
  mod,
  mul,
  select,
  threadVar,
  blockVar,
  type ArrayDecl,
  type GStmt,
  type GlobalParam,
  type GpuKernel,
  type ScratchDecl,
  type Var,
} from "./gpu-ir.ts";
import { gridStride, paramsOf, sequential, type GpuConfig, type ScratchAllocator } from "./gpu-common.ts";
import type { GemmTemplateShape } from "./cuda-templates.ts";

type GemmStmt = TemplateStmt & { template: "gemm" };

export type { GemmArgs } from "../kernel-ir.ts";

/** The arguments of a gemm template statement. */
export const gemmArgs = (t: GemmStmt): GemmArgs => t.args;

/** What the tensor-core GEMM template is asked for (the layout words are gemm-mma.ts's). */
export interface MmaGemmPlan {
  readonly problem: GemmTemplateShape;
  readonly a: { readonly id: number; readonly offset: number };
  readonly b: { readonly id: number; readonly offset: number };
  readonly c: { readonly id: number };
  /** Run for each output (acc, eb, ei, ej): side stores, then `result` is stored into C. */
  readonly epilogue: { readonly vars: { readonly b: Var; readonly i: Var; readonly j: Var }; readonly body: readonly GStmt[]; readonly result: Expr };
  /** Buffers the epilogue touches, other than C. */
  readonly epilogueParams: readonly GlobalParam[];
  /** Launches that first pack an operand the template cannot read in place (into workspace scratch). */
  readonly prologue: readonly GpuKernel[];
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
    : {
        b: { op: "var", name: "eb", type: "i32", extent: Math.max(a.batch, 1) } as Var,
        i: { op: "var", name: "ei", type: "i32", extent: a.m } as Var,
        j: { op: "var", name: "ej", type: "i32", extent: a.n } as Var,
      };
  const body = t.epilogue ? sequential(t.epilogue.body) : [];
  const storesC = body.some((s) => s.s === "store" && s.buffer === t.buffers.c);
  return { vars, body, storesC };
}

/** C's flat index of output (eb, ei, ej). */
const cIndex = (a: GemmArgs, vars: { b: Var; i: Var; j: Var }): Expr =>
  simplifyIndex(add(add(a.batch > 1 ? mul(vars.b, i(a.c_bs)) : i(0), mul(vars.i, i(a.ldc))), vars.j));

/** A GEMM kernel on the GPU: the SIMT launches always work; `mma` is used instead when the device has the template. */
export interface GemmStep {
  readonly kind: "gemm";
  readonly launches: readonly GpuKernel[];
  readonly mma: MmaGemmPlan | null;
}

export function lowerGemm(kernel: Kernel, t: GemmStmt, config: GpuConfig, scratch: ScratchAllocator): GemmStep {
  const simt = config.gemmTile.staging === "none" ? directGemm(kernel, t, config) : simtGemm(kernel, t, config);
  return { kind: "gemm", launches: [simt], mma: mmaPlan(kernel, t, scratch) };
}

/** An operand as the template reads it: a buffer, an element offset and the batch stride. */
interface Operand {
  id: number;
  offset: number;
  stride: number;
}

/**
 * The tensor-core plan, or null when the operands are not bf16. An operand the template cannot read
 * where it is (A not [M,K] row-major, B neither [N,K] nor [K,N] row-major, or a start that is not
 * 16-byte aligned, as a weight gradient's transposed activations) is first packed into scratch
 * as [M,K] (A) or [N,K] (B) row-major by a tiled transpose.
 */
export function mmaPlan(kernel: Kernel, t: GemmStmt, scratch: ScratchAllocator): MmaGemmPlan | null {
  const a = gemmArgs(t);
  const dtype = (id: number) => kernel.buffers.find((b) => b.id === id)?.dtype;
  const cType = dtype(t.buffers.c!);
  if (dtype(t.buffers.a!) !== "bf16" || dtype(t.buffers.b!) !== "bf16" || (cType !== "bf16" && cType !== "f32")) return null;
  if (a.k < 1 || a.ldc !== a.n || a.c_bs !== a.m * a.n) return null;
  const batch = Math.max(a.batch, 1);
  const prologue: GpuKernel[] = [];
  /** A packed copy of an operand: rows × k per batch (one batch when the operand is broadcast). */
  const pack = (name: string, id: number, off: number, bs: number, rs: number, ks: number, rows: number): Operand => {
    const batches = bs === 0 ? 1 : batch;
    const decl = scratch.take("bf16", batches * rows * a.k);
    prologue.push(
      packKernel(
        `${kernel.name}_pack_${name}`,
        `${kernel.comment} (operand ${name} packed for the tensor cores)`,
        { id, size: kernel.buffers.find((b) => b.id === id)!.size },
        decl,
        { off, bs, rs, ks, rows, k: a.k, batches },
      ),
    );
    return { id: decl.id, offset: 0, stride: bs === 0 ? 0 : rows * a.k };
  };
  // 16-byte copies need 16-byte aligned operand starts.
  const A: Operand =
    a.a_cs === 1 && a.a_rs === a.k && a.a_off % 8 === 0
      ? { id: t.buffers.a!, offset: a.a_off, stride: a.a_bs }
      : pack("a", t.buffers.a!, a.a_off, a.a_bs, a.a_rs, a.a_cs, a.m);
  let layout: "tn" | "nn";
  let B: Operand;
  if (a.b_rs === 1 && a.b_cs === a.k && a.b_off % 8 === 0) [layout, B] = ["tn", { id: t.buffers.b!, offset: a.b_off, stride: a.b_bs }];
  else if (a.b_cs === 1 && a.b_rs === a.n && a.b_off % 8 === 0) [layout, B] = ["nn", { id: t.buffers.b!, offset: a.b_off, stride: a.b_bs }];
  else [layout, B] = ["tn", pack("b", t.buffers.b!, a.b_off, a.b_bs, a.b_cs, a.b_rs, a.n)];
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
    problem: { m: a.m, n: a.n, k: a.k, batch, layout, strideA: A.stride, strideB: B.stride, strideC: a.c_bs, out: cType },
    a: { id: A.id, offset: A.offset },
    b: { id: B.id, offset: B.offset },
    c: { id: t.buffers.c! },
    epilogue: { vars: ep.vars, body, result },
    epilogueParams,
    prologue,
  };
}

const TILE = 32;
const PACK_THREADS = 256;
/** Rows of the tile each thread group covers per unrolled step. */
const PACK_STEP = PACK_THREADS / TILE;

/** The operand a pack copies: element offset, batch/row/k strides, and rows × k per batch over `batches`. */
interface PackSource {
  readonly off: number;
  readonly bs: number;
  readonly rs: number;
  readonly ks: number;
  readonly rows: number;
  readonly k: number;
  readonly batches: number;
}

/** Where a pack thread reads and writes at unrolled step `j` of its tile: (row, k) in the operand and its place in the shared tile. */
interface PackLanes {
  readonly readR: Expr;
  readonly readK: Expr;
  readonly readStaged: Expr;
  readonly writeR: Expr;
  readonly writeK: Expr;
  readonly writeStaged: Expr;
}

/** The shared tile [rLocal][kLocal], rows padded to 33 so that reads along either axis avoid bank conflicts. */
const stagedAt = (rLocal: Expr, kLocal: Expr): Expr => simplifyIndex(add(mul(rLocal, i(TILE + 1)), kLocal));

/**
 * A pack thread's lanes. It reads with the unit-stride axis across the lanes (rows when rs is 1, a
 * transposed operand, else k) and stores into the tile along that axis; it always writes along k.
 */
function packLanes(o: PackSource, j: Var): PackLanes {
  const S = simplifyIndex;
  const tid = threadVar(PACK_THREADS);
  const lane = S(mod(tid, i(TILE)));
  const group = S(div(tid, i(TILE)));
  const rowsAcross = o.rs === 1 && o.ks !== 1;
  const [tileR, tileK] = [mul(local("tile_r"), i(TILE)), mul(local("tile_k"), i(TILE))];
  // The tile row (or k) this thread group covers at step j.
  const groupAt = S(add(group, mul(j, i(PACK_STEP))));
  const [readR, readK] = rowsAcross
    ? [add(tileR, lane), add(add(tileK, group), mul(j, i(PACK_STEP)))]
    : [add(add(tileR, group), mul(j, i(PACK_STEP))), add(tileK, lane)];
  return {
    readR,
    readK,
    readStaged: rowsAcross ? stagedAt(lane, groupAt) : stagedAt(groupAt, lane),
    writeR: S(add(add(tileR, group), mul(j, i(PACK_STEP)))),
    writeK: S(add(tileK, lane)),
    writeStaged: stagedAt(groupAt, lane),
  };
}

/** One tile of the pack: stage the strided read in shared memory (zeros past the edges), then write it densely. */
function packTileBody(src: { id: number }, dst: ScratchDecl, o: PackSource, tile: Var, j: Var): GStmt[] {
  const S = simplifyIndex;
  const [tilesR, tilesK] = [Math.ceil(o.rows / TILE), Math.ceil(o.k / TILE)];
  const { readR, readK, readStaged, writeR, writeK, writeStaged } = packLanes(o, j);
  const at = (r: Expr, kk: Expr) => S(add(add(add(i(o.off), mul(local("batch_index"), i(o.bs))), mul(r, i(o.rs))), mul(kk, i(o.ks))));
  const inside = (r: Expr, kk: Expr) => and(lt(r, i(o.rows)), lt(kk, i(o.k)));
  const unrolled = (body: GStmt[]): GStmt => ({ s: "for", var: j, start: i(0), step: 1, unroll: true, body });
  return [
    { s: "let", name: "batch_index", value: S(div(tile, i(tilesR * tilesK))) },
    { s: "let", name: "tile_r", value: S(mod(div(tile, i(tilesK)), i(tilesR))) },
    { s: "let", name: "tile_k", value: S(mod(tile, i(tilesK))) },
    unrolled([
      {
        s: "store",
        buffer: -1,
        index: readStaged,
        value: select(inside(readR, readK), load(src.id, at(readR, readK), "f32"), { op: "const", value: 0, type: "f32" }),
      },
    ]),
    { s: "barrier" },
    unrolled([
      {
        s: "if",
        cond: inside(writeR, writeK),
        then: [
          {
            s: "store",
            buffer: dst.id,
            index: S(add(add(mul(local("batch_index"), i(o.rows * o.k)), mul(writeR, i(o.k))), writeK)),
            value: load(-1, writeStaged, "f32"),
          },
        ],
      },
    ]),
    { s: "barrier" },
  ];
}

/**
 * dst[b][r][kk] = src[off + b·bs + r·rs + kk·ks] for a rows × k matrix per batch, through a 32×33
 * shared-memory tile so that both the strided read and the dense write are coalesced.
 */
export function packKernel(name: string, comment: string, src: { id: number; size: number }, dst: ScratchDecl, o: PackSource): GpuKernel {
  const tiles = o.batches * Math.ceil(o.rows / TILE) * Math.ceil(o.k / TILE);
  const blocks = Math.min(tiles, 4096);
  const tile: Var = { op: "var", name: "tile_index", type: "i32", extent: tiles };
  const j: Var = { op: "var", name: "j", type: "i32", extent: TILE / PACK_STEP };
  return {
    name,
    comment,
    params: [
      { id: src.id, dtype: "bf16", size: src.size, role: "read" },
      { id: dst.id, dtype: "bf16", size: dst.size, role: "write" },
    ].sort((x, y) => x.id - y.id) as GlobalParam[],
    arrays: [{ id: -1, name: "staged", space: "shared", type: "f32", size: TILE * (TILE + 1) }],
    threads: PACK_THREADS,
    blocks,
    body: [{ s: "for", var: tile, start: blockVar(blocks), step: blocks, body: packTileBody(src, dst, o, tile, j) }],
  };
}

/** The SIMT GEMM being lowered: its arguments, tile sizes, threads, and the k-tile loop variable. */
interface SimtTile {
  readonly kernel: Kernel;
  readonly a: GemmArgs;
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
  readonly threads: number;
  readonly kt: Var;
}

const simtVar = (name: string, extent: number): Var => ({ op: "var", name, type: "i32", extent });

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
  const S = simplifyIndex;
  const g: SimtTile = { kernel, a, bm, bn, bk, tm, tn, threads, kt: simtVar("kt", Math.max(kTiles, 1)) };

  const body: GStmt[] = [
    { s: "let", name: "batch_index", value: batch > 1 ? S(div(bid, i(tilesM * tilesN))) : i(0) },
    { s: "let", name: "tile_m", value: S(mod(div(bid, i(tilesN)), i(tilesM))) },
    { s: "let", name: "tile_n", value: S(mod(bid, i(tilesN))) },
    { s: "let", name: "thread_m", value: S(div(tid, i(cols))) },
    { s: "let", name: "thread_n", value: S(mod(tid, i(cols))) },
  ];
  const zero = simtVar("z", tm * tn);
  const clear: GStmt = { s: "store", buffer: -3, index: zero, value: { op: "const", value: 0, type: "f32" } };
  body.push({ s: "for", var: zero, start: i(0), step: 1, unroll: true, body: [clear] });
  if (kTiles > 0)
    body.push({
      s: "for",
      var: g.kt,
      start: i(0),
      step: 1,
      body: [stageOperand(g, "a", t.buffers.a!), stageOperand(g, "b", t.buffers.b!), { s: "barrier" }, accumulateSlice(g), { s: "barrier" }],
    });
  body.push(storeOutputs(g, t));
  return { name: kernel.name, comment: kernel.comment, params: paramsOf(kernel.buffers), arrays, threads, blocks, body };
}

/** Copies a bk-deep slice of one operand into shared memory; the unit-stride axis runs fastest across threads. */
function stageOperand(g: SimtTile, operand: "a" | "b", id: number): GStmt {
  const { a, bk, threads, kt } = g;
  const S = simplifyIndex;
  const tid = threadVar(threads);
  // Element (r, kk) of the slice: r along M (or N) with stride rs, kk along K with stride ks.
  const [rows, off, bs, rs, ks, extent, tileIndex] =
    operand === "a" ? [g.bm, a.a_off, a.a_bs, a.a_rs, a.a_cs, a.m, local("tile_m")] : [g.bn, a.b_off, a.b_bs, a.b_cs, a.b_rs, a.n, local("tile_n")];
  const count = (rows * bk) / threads;
  const l = simtVar(`${operand}_copy`, count);
  const e = S(add(tid, mul(l, i(threads))));
  const kFastest = ks === 1 || rs !== 1;
  const r = kFastest ? S(div(e, i(bk))) : S(mod(e, i(rows)));
  const kk = kFastest ? S(mod(e, i(bk))) : S(div(e, i(rows)));
  const row = add(mul(tileIndex, i(rows)), r);
  const kcol = add(mul(kt, i(bk)), kk);
  const index = S(add(add(add(i(off), mul(local("batch_index"), i(bs))), mul(row, i(rs))), mul(kcol, i(ks))));
  const value = select(and(lt(row, i(extent)), lt(kcol, i(a.k))), operandAsFloat(g.kernel, id, index), { op: "const", value: 0, type: "f32" });
  const store: GStmt = { s: "store", buffer: operand === "a" ? -1 : -2, index: S(add(mul(kk, i(rows)), r)), value };
  return { s: "for", var: l, start: i(0), step: 1, unroll: true, body: [store] };
}

/** Operand buffer `id` at `index`, as f32 (an i32 operand is converted). */
function operandAsFloat(kernel: Kernel, id: number, index: Expr): Expr {
  const loaded = load(id, index, kernel.buffers.find((b) => b.id === id)?.dtype === "i32" ? "i32" : "f32");
  return loaded.type === "f32" ? loaded : { op: "cast", a: loaded, type: "f32" };
}

const fragI = (g: Pick<SimtTile, "tm">): Var => simtVar("ii", g.tm);
const fragJ = (g: Pick<SimtTile, "tn">): Var => simtVar("jj", g.tn);
const accIndexOf = (g: Pick<SimtTile, "tm" | "tn">): Expr => simplifyIndex(add(mul(fragI(g), i(g.tn)), fragJ(g)));

/** Over the staged slice: each thread loads its tm values of A and tn of B, and adds their outer product. */
function accumulateSlice(g: SimtTile): GStmt {
  const { bm, bn, bk, tm, tn } = g;
  const S = simplifyIndex;
  const [kk, ii, jj] = [simtVar("kk", bk), fragI(g), fragJ(g)];
  const fragA: GStmt = {
    s: "for",
    var: ii,
    start: i(0),
    step: 1,
    unroll: true,
    body: [{ s: "store", buffer: -4, index: ii, value: load(-1, S(add(mul(kk, i(bm)), add(mul(local("thread_m"), i(tm)), ii))), "f32") }],
  };
  const fragB: GStmt = {
    s: "for",
    var: jj,
    start: i(0),
    step: 1,
    unroll: true,
    body: [{ s: "store", buffer: -5, index: jj, value: load(-2, S(add(mul(kk, i(bn)), add(mul(local("thread_n"), i(tn)), jj))), "f32") }],
  };
  const accIndex = accIndexOf(g);
  const product = add(load(-3, accIndex, "f32"), mul(load(-4, ii, "f32"), load(-5, jj, "f32"), "f32"), "f32");
  const fma: GStmt = {
    s: "for",
    var: ii,
    start: i(0),
    step: 1,
    unroll: true,
    body: [{ s: "for", var: jj, start: i(0), step: 1, unroll: true, body: [{ s: "store", buffer: -3, index: accIndex, value: product }] }],
  };
  return { s: "for", var: kk, start: i(0), step: 1, unroll: true, body: [fragA, fragB, fma] };
}

/** Each thread's tm×tn results, inside the matrix: C (unless the epilogue stores it) and the epilogue. */
function storeOutputs(g: SimtTile, t: GemmStmt): GStmt {
  const { bm, bn, tm, tn } = g;
  const firstRow = add(mul(local("tile_m"), i(bm)), mul(local("thread_m"), i(tm)));
  const firstColumn = add(mul(local("tile_n"), i(bn)), mul(local("thread_n"), i(tn)));
  return storeTile(g, t, firstRow, firstColumn);
}

/** A thread's tm×tn results from (firstRow, firstColumn), inside the matrix: C (unless the epilogue stores it) and the epilogue. */
function storeTile(g: Pick<SimtTile, "a" | "tm" | "tn">, t: GemmStmt, firstRow: Expr, firstColumn: Expr): GStmt {
  const { a, tm, tn } = g;
  const S = simplifyIndex;
  const [ii, jj] = [fragI(g), fragJ(g)];
  const ep = epilogueOf(t);
  const outputs: GStmt[] = [
    { s: "let", name: ep.vars.b.name, value: local("batch_index") },
    { s: "let", name: ep.vars.i.name, value: S(add(firstRow, ii)) },
    { s: "let", name: ep.vars.j.name, value: S(add(firstColumn, jj)) },
  ];
  const guarded: GStmt[] = [{ s: "let", name: "acc", value: load(-3, accIndexOf(g), "f32") }];
  if (!ep.storesC) guarded.push({ s: "store", buffer: t.buffers.c!, index: cIndex(a, ep.vars), value: local("acc", "f32") });
  guarded.push(...ep.body);
  outputs.push({ s: "if", cond: and(lt(local(ep.vars.i.name), i(a.m)), lt(local(ep.vars.j.name), i(a.n))), then: guarded });
  return { s: "for", var: ii, start: i(0), step: 1, unroll: true, body: [{ s: "for", var: jj, start: i(0), step: 1, unroll: true, body: outputs }] };
}

/**
 * The GEMM without shared memory, for an adapter that emulates a GPU on the CPU (staging "none"):
 * each thread accumulates its tm×tn outputs from operands read where they are, k a few at a time,
 * and no thread waits for another. On a CPU a workgroup's barriers cost more than the shared tile
 * saves, since every load already comes from the CPU's caches (SwiftShader ran the DiT's 192×192
 * products about 4× faster so, measured).
 */
export function directGemm(kernel: Kernel, t: GemmStmt, config: GpuConfig): GpuKernel {
  const a = gemmArgs(t);
  const { tm, tn } = config.gemmTile;
  const S = simplifyIndex;
  const batch = Math.max(a.batch, 1);
  const [tilesM, tilesN] = [Math.ceil(a.m / tm), Math.ceil(a.n / tn)];
  const tiles = batch * tilesM * tilesN;
  const threads = config.threads;
  const blocks = Math.max(1, Math.min(Math.ceil(tiles / threads), config.maxBlocks));
  // k is walked `step` at a time with the step's loads and products written out; step divides k.
  const step = [4, 2, 1].find((u) => a.k % u === 0)!;
  const kt = simtVar("kt", Math.max(a.k / step, 1));
  const kk = simtVar("kk", step);
  const [ii, jj] = [fragI({ tm }), fragJ({ tn })];
  const kAt = add(mul(kt, i(step)), kk);
  const operand = (id: number, at: Expr): Expr => operandAsFloat(kernel, id, S(at));
  // Rows and columns past the matrix read its last one (their results are not stored): no branch in the k loop.
  const rowAt = (e: Expr) => ({ op: "binary", fn: "min", a: e, b: i(a.m - 1), type: "i32" }) as Expr;
  const colAt = (e: Expr) => ({ op: "binary", fn: "min", a: e, b: i(a.n - 1), type: "i32" }) as Expr;
  const aAt = add(
    add(add(i(a.a_off), mul(local("batch_index"), i(a.a_bs))), mul(rowAt(add(mul(local("tile_m"), i(tm)), ii)), i(a.a_rs))),
    mul(kAt, i(a.a_cs)),
  );
  const bAt = add(
    add(add(i(a.b_off), mul(local("batch_index"), i(a.b_bs))), mul(kAt, i(a.b_rs))),
    mul(colAt(add(mul(local("tile_n"), i(tn)), jj)), i(a.b_cs)),
  );
  const unrolled = (v: Var, body: GStmt[]): GStmt => ({ s: "for", var: v, start: i(0), step: 1, unroll: true, body });
  const accIndex = accIndexOf({ tm, tn });
  const product = add(load(-3, accIndex, "f32"), mul(load(-4, ii, "f32"), load(-5, jj, "f32"), "f32"), "f32");
  const kStep = unrolled(kk, [
    unrolled(ii, [{ s: "store", buffer: -4, index: ii, value: operand(t.buffers.a!, aAt) }]),
    unrolled(jj, [{ s: "store", buffer: -5, index: jj, value: operand(t.buffers.b!, bAt) }]),
    unrolled(ii, [unrolled(jj, [{ s: "store", buffer: -3, index: accIndex, value: product }])]),
  ]);
  const zero = simtVar("z", tm * tn);
  const perTile = (tile: Expr): GStmt[] => [
    { s: "let", name: "batch_index", value: batch > 1 ? S(div(tile, i(tilesM * tilesN))) : i(0) },
    { s: "let", name: "tile_m", value: S(mod(div(tile, i(tilesN)), i(tilesM))) },
    { s: "let", name: "tile_n", value: S(mod(tile, i(tilesN))) },
    unrolled(zero, [{ s: "store", buffer: -3, index: zero, value: { op: "const", value: 0, type: "f32" } }]),
    ...(a.k > 0 ? [{ s: "for", var: kt, start: i(0), step: 1, body: [kStep] } as GStmt] : []),
    storeTile({ a, tm, tn }, t, mul(local("tile_m"), i(tm)), mul(local("tile_n"), i(tn))),
  ];
  const arrays: ArrayDecl[] = [
    { id: -3, name: "acc_tile", space: "local", type: "f32", size: tm * tn },
    { id: -4, name: "a_frag", space: "local", type: "f32", size: tm },
    { id: -5, name: "b_frag", space: "local", type: "f32", size: tn },
  ];
  return {
    name: kernel.name,
    comment: kernel.comment,
    params: paramsOf(kernel.buffers),
    arrays,
    threads,
    blocks,
    body: [gridStride("tile", tiles, threads, blocks, perTile)],
  };
}

/**
 * What the tensor-core template computes, as GPU L2 the emulator can run: one thread per output,
 * Σ_k A·B in order over the (packed) bf16 operands, then the plan's epilogue and the store into C.
 */
export function mmaReferenceKernel(plan: MmaGemmPlan): GpuKernel {
  const { m, n, k, batch, layout, strideA, strideB, strideC, out } = plan.problem;
  const S = simplifyIndex;
  const vars = plan.epilogue.vars;
  const total = batch * m * n;
  const threads = 32;
  const blocks = Math.max(1, Math.min(Math.ceil(total / threads), 64));
  const kk: Var = { op: "var", name: "kk", type: "i32", extent: Math.max(k, 1) };
  const [eb, ei, ej] = [local(vars.b.name), local(vars.i.name), local(vars.j.name)];
  const aAt = S(add(add(add(i(plan.a.offset), mul(eb, i(strideA))), mul(ei, i(k))), kk));
  const bAt = S(add(add(i(plan.b.offset), mul(eb, i(strideB))), layout === "tn" ? add(mul(ej, i(k)), kk) : add(mul(kk, i(n)), ej)));
  const product: Expr = mul(load(plan.a.id, aAt, "f32"), load(plan.b.id, bAt, "f32"), "f32");
  const extent = (offset: number, stride: number, size: number) => offset + (batch - 1) * stride + size;
  const params = new Map<number, GlobalParam>();
  const param = (p: GlobalParam) => {
    const known = params.get(p.id);
    params.set(p.id, known ? { ...p, size: Math.max(p.size, known.size), role: known.role === p.role ? p.role : "readwrite" } : p);
  };
  param({ id: plan.a.id, dtype: "bf16", size: extent(plan.a.offset, strideA, m * k), role: "read" });
  param({ id: plan.b.id, dtype: "bf16", size: extent(plan.b.offset, strideB, n * k), role: "read" });
  param({ id: plan.c.id, dtype: out, size: extent(0, strideC, m * n), role: "write" });
  plan.epilogueParams.forEach(param);
  const g: Var = { op: "var", name: "g", type: "i32", extent: total };
  const body: GStmt[] = [
    { s: "let", name: vars.b.name, value: S(div(g, i(m * n))) },
    { s: "let", name: vars.i.name, value: S(mod(div(g, i(n)), i(m))) },
    { s: "let", name: vars.j.name, value: S(mod(g, i(n))) },
    { s: "declare", name: "acc", type: "f32", init: { op: "const", value: 0, type: "f32" } },
    { s: "for", var: kk, start: i(0), step: 1, body: [{ s: "assign", name: "acc", value: add(local("acc", "f32"), product, "f32") }] },
    ...plan.epilogue.body,
    { s: "store", buffer: plan.c.id, index: S(add(add(mul(eb, i(strideC)), mul(ei, i(n))), ej)), value: plan.epilogue.result },
  ];
  return {
    name: "gemm_reference",
    comment: "the tensor-core GEMM modelled in f32",
    params: [...params.values()],
    arrays: [],
    threads,
    blocks,
    body: [{ s: "for", var: g, start: S(add(mul(blockVar(blocks), i(threads)), threadVar(threads))), step: threads * blocks, body }],
  };
}
