// L2 → GPU L2: each kernel of a Program becomes one or more launches with explicit threads.
//   pointwise, multi, copy   grid-stride loops over the flattened loop nest (a multi kernel runs its
//                            independent nests one after another in the same launch);
//   reduce                   a group of threads per row (one thread, a warp, or the block, by row
//                            length and layout): strided partial accumulation, a group reduction
//                            (warp shuffles, then shared memory across warps), per-row stores by the
//                            group's first thread, then the elementwise phase strided over the group;
//   scatter                  a zeroing launch, then the updates with atomic adds;
//   gemm, attention          SIMT code that is always correct (gpu-gemm.ts, gpu-attention.ts), plus a
//                            plan for a tensor-core template when the operands fit one (cuda.ts asks
//                            the device's templates for it).
// Kernels of any other shape fall back to one thread running the L2 statements in order.

import { itemSize } from "../dtype.ts";
import { affine, simplifyIndex, substituteSimplify, unreachable, type Expr, type Kernel, type KernelBuffer, type Stmt } from "../kernel-ir.ts";
import type { Program } from "../lower.ts";
import { lowerTemplate, type TemplateLowerings } from "../templates.ts";
import {
  accCombine,
  accIdentity,
  add,
  blockVar,
  div,
  eq,
  exprChildren,
  i,
  local,
  lt,
  mod,
  mul,
  threadVar,
  type ArrayDecl,
  type GStmt,
  type GlobalParam,
  type GpuKernel,
  type ScratchDecl,
  type Var,
} from "./gpu-ir.ts";
import { lowerGemm, type GemmStep } from "./gpu-gemm.ts";
import { lowerAttention, type AttentionStep } from "./gpu-attention.ts";
import {
  ScratchAllocator,
  blocksFor,
  extentOf,
  gpuConfig,
  gridStride,
  paramsOf,
  perfectNest,
  sequential,
  unflatten,
  type GpuConfig,
  type SimtStep,
} from "./gpu-common.ts";

export {
  GPU_TARGETS,
  ScratchAllocator,
  gpuConfig,
  smallGpuConfig,
  gridStride,
  paramsOf,
  perfectNest,
  sequential,
  unflatten,
  type GpuConfig,
  type GpuTarget,
  type SimtGemmTile,
} from "./gpu-common.ts";

/** What one L2 kernel runs as. */
export type GpuStep = SimtStep | GemmStep | AttentionStep;

export interface LoweredKernel {
  readonly index: number;
  readonly kernel: Kernel;
  readonly step: GpuStep;
  /** Scratch this kernel's launches share; it lives in the workspace only while the kernel runs. */
  readonly scratch: readonly ScratchDecl[];
}

export interface GpuProgram {
  readonly program: Program;
  readonly kernels: readonly LoweredKernel[];
  /** Byte offset of each scratch buffer in the workspace (kernels run in order, so they reuse it). */
  readonly scratchOffsets: ReadonlyMap<number, number>;
  readonly scratch: ReadonlyMap<number, ScratchDecl>;
  readonly workspaceBytes: number;
}

const SCRATCH_ALIGN = 256;

export function lowerProgramForGpu(program: Program, config: GpuConfig = gpuConfig()): GpuProgram {
  let nextScratch = program.buffers.length;
  const scratch = new Map<number, ScratchDecl>();
  const scratchOffsets = new Map<number, number>();
  let workspaceBytes = 0;
  const kernels = program.kernels.map((kernel, index): LoweredKernel => {
    const alloc = new ScratchAllocator(nextScratch);
    const step = lowerKernel(kernel, config, alloc);
    nextScratch = alloc.nextId;
    let offset = 0;
    for (const d of alloc.decls) {
      scratch.set(d.id, d);
      scratchOffsets.set(d.id, offset);
      offset += Math.ceil((d.size * itemSize(d.dtype)) / SCRATCH_ALIGN) * SCRATCH_ALIGN;
    }
    workspaceBytes = Math.max(workspaceBytes, offset);
    return { index, kernel, step, scratch: alloc.decls };
  });
  return { program, kernels, scratch, scratchOffsets, workspaceBytes };
}

export function lowerKernel(kernel: Kernel, config: GpuConfig, scratch: ScratchAllocator): GpuStep {
  const template = kernel.body.find((s): s is Stmt & { s: "template" } => s.s === "template");
  if (template) return lowerTemplate("gpu lowering", SIMT_TEMPLATES, template, { kernel, config, scratch });
  switch (kernel.template) {
    case "pointwise":
    case "multi":
      return { kind: "simt", launches: [elementwiseKernel(kernel, kernel.body, config)] };
    case "scatter":
      return { kind: "simt", launches: lowerScatter(kernel, config) };
    case "reduce":
      return { kind: "simt", launches: [lowerReduce(kernel, config)] };
    case "gemm":
    case "attention":
    case "attention_bwd":
      throw new Error(`gpu lowering: ${kernel.name} is a ${kernel.template} kernel without a template statement`);
    default:
      return unreachable(kernel.template);
  }
}

/** What a template statement is lowered with: its kernel, the device's configuration, the step's scratch. */
interface TemplateContext {
  readonly kernel: Kernel;
  readonly config: GpuConfig;
  readonly scratch: ScratchAllocator;
}

/**
 * The GPU lowering of each template as SIMT code, which every GPU renderer can print (WGSL as it
 * is; CUDA where the device has no tensor-core kernel for the problem). Each step also carries the
 * plan of a tensor-core kernel where the operands fit one (cuda.ts's CUDA_TEMPLATES read it).
 */
export const SIMT_TEMPLATES: TemplateLowerings<TemplateContext, GpuStep> = {
  gemm: (stmt, { kernel, config, scratch }) => lowerGemm(kernel, stmt, config, scratch),
  attention: (stmt, { kernel, config, scratch }) => lowerAttention(kernel, stmt, config, scratch),
  attention_bwd: (stmt, { kernel, config, scratch }) => lowerAttention(kernel, stmt, config, scratch),
};

// --- helpers over L2 statements ------------------------------------------------------------------

// --- elementwise ---------------------------------------------------------------------------------

/** Each top-level nest of the body becomes a grid-stride loop over its flattened iterations. */
function elementwiseKernel(kernel: Kernel, body: readonly Stmt[], config: GpuConfig, name = kernel.name, comment = kernel.comment): GpuKernel {
  const nests = kernel.template === "multi" ? body.map((s) => [s]) : [body];
  const sizes = nests.map((n) => extentOf(perfectNest(n).vars));
  const threads = config.threads;
  const blocks = blocksFor(Math.max(...sizes), threads, config);
  const out: GStmt[] = [];
  nests.forEach((stmts, k) => {
    const nest = perfectNest(stmts);
    const loop = gridStride(`g${nests.length > 1 ? k : ""}`, extentOf(nest.vars), threads, blocks, (g) =>
      sequential(nest.body, unflatten(nest.vars, g)),
    );
    out.push(loop);
  });
  return { name, comment, params: paramsOf(kernel.buffers), arrays: [], threads, blocks, body: out };
}

// --- scatter -------------------------------------------------------------------------------------

function lowerScatter(kernel: Kernel, config: GpuConfig): GpuKernel[] {
  const zeros = kernel.body.filter((s): s is Stmt & { s: "zero" } => s.s === "zero");
  const rest = kernel.body.filter((s) => s.s !== "zero");
  const launches: GpuKernel[] = zeros.map((z, k) => {
    const buffer = kernel.buffers.find((b) => b.id === z.buffer)!;
    const blocks = blocksFor(z.count, config.threads, config);
    const zero: Expr = { op: "const", value: 0, type: buffer.dtype === "i32" ? "i32" : buffer.dtype === "bool" ? "bool" : "f32" };
    return {
      name: `${kernel.name}_zero${zeros.length > 1 ? k : ""}`,
      comment: `zero the output of ${kernel.comment}`,
      params: paramsOf([{ ...buffer, role: "write" }]),
      arrays: [],
      threads: config.threads,
      blocks,
      body: [gridStride("g", z.count, config.threads, blocks, (g) => [{ s: "store", buffer: z.buffer, index: g, value: zero }])],
    };
  });
  // Each top-level statement after the zeroing is an independent nest of atomic updates.
  const updates = elementwiseKernel({ ...kernel, template: "multi" }, rest, config);
  return [...launches, updates];
}

// --- reduce --------------------------------------------------------------------------------------

type RowSegment =
  | { kind: "init"; stmt: Stmt & { s: "acc_init" } }
  | { kind: "reduce"; vars: Var[]; accs: (Stmt & { s: "acc" })[] }
  | { kind: "elementwise"; vars: Var[]; body: readonly Stmt[] }
  | { kind: "row"; stmt: Stmt };

/** The row body as segments, or null when it has a shape this lowering does not know. */
function rowSegments(row: readonly Stmt[]): RowSegment[] | null {
  const out: RowSegment[] = [];
  for (const s of row) {
    if (s.s === "acc_init") out.push({ kind: "init", stmt: s });
    else if (s.s === "store" || s.s === "let") out.push({ kind: "row", stmt: s });
    else if (s.s === "loop") {
      const nest = perfectNest([s]);
      if (nest.body.every((b) => b.s === "acc")) out.push({ kind: "reduce", vars: nest.vars, accs: nest.body as (Stmt & { s: "acc" })[] });
      else if (nest.body.every((b) => b.s === "store" || b.s === "let")) out.push({ kind: "elementwise", vars: nest.vars, body: nest.body });
      else return null;
    } else return null;
  }
  return out;
}

/** Whether the reduction reads its elements with a stride (a column reduction) while rows are contiguous. */
function stridedRows(segments: readonly RowSegment[], outer: readonly Var[]): boolean {
  const reduce = segments.find((s): s is RowSegment & { kind: "reduce" } => s.kind === "reduce");
  const inner = reduce?.vars[reduce.vars.length - 1];
  const rowVar = outer[outer.length - 1];
  if (!reduce || !inner || !rowVar) return false;
  const loads: Expr[] = [];
  const walk = (e: Expr): void => {
    if (e.op === "load") loads.push(e.index);
    exprChildren(e).forEach(walk);
  };
  reduce.accs.forEach((a) => walk(a.value));
  return loads.some((index) => {
    const form = affine(index);
    return form !== null && form.coeffs.get(inner.name) !== 1 && form.coeffs.get(rowVar.name) === 1;
  });
}

/**
 * A row whose every statement is a loop nest ending in the same loop (lower.ts's column reduction:
 * zero the output row, accumulate into it over the reduced axes, then per-row work, each with the
 * kept innermost axis as its innermost loop): that loop's variable, else null.
 */
function sharedInnermost(row: readonly Stmt[]): Var | null {
  let found: Var | null = null;
  for (const s of row) {
    if (s.s !== "loop") return null;
    const nest = perfectNest([s]);
    const inner = nest.vars[nest.vars.length - 1]!;
    if (found && (found.name !== inner.name || found.extent !== inner.extent)) return null;
    found = inner;
  }
  return found;
}

/** The statement with its innermost loop over `name` removed (the loop's body spliced in). */
function withoutLoop(s: Stmt, name: string): Stmt[] {
  if (s.s !== "loop") return [s];
  if (s.var.name === name) return [...s.body];
  return [{ ...s, body: s.body.flatMap((b) => withoutLoop(b, name)) }];
}

/** Column reduction: a thread per output element (outer rows × the kept axis), walking the reduced axes itself. */
function lowerColumns(kernel: Kernel, outer: readonly Var[], row: readonly Stmt[], kept: Var, config: GpuConfig): GpuKernel {
  const vars = [...outer, kept];
  const n = extentOf(vars);
  const blocks = blocksFor(n, config.threads, config);
  const body = row.flatMap((s) => withoutLoop(s, kept.name));
  return {
    name: kernel.name,
    comment: kernel.comment,
    params: paramsOf(kernel.buffers),
    arrays: [],
    threads: config.threads,
    blocks,
    body: [gridStride("g", n, config.threads, blocks, (g) => sequential(body, unflatten(vars, g), "owned"))],
  };
}

function lowerReduce(kernel: Kernel, config: GpuConfig): GpuKernel {
  const { vars: outer, body: row } = perfectNest(kernel.body);
  const kept = sharedInnermost(row);
  if (kept) return lowerColumns(kernel, outer, row, kept, config);
  const segments = rowSegments(row);
  const rows = extentOf(outer);
  if (!segments) {
    // Unknown row shape: each thread runs whole rows in order.
    const blocks = blocksFor(rows, config.threads, config);
    return {
      name: kernel.name,
      comment: kernel.comment,
      params: paramsOf(kernel.buffers),
      arrays: [],
      threads: config.threads,
      blocks,
      body: [gridStride("row", rows, config.threads, blocks, (r) => sequential(row, unflatten(outer, r)))],
    };
  }
  const rowLength = Math.max(1, ...segments.map((s) => (s.kind === "reduce" || s.kind === "elementwise" ? extentOf(s.vars) : 1)));
  const threads = config.threads;
  const group = config.rowThreads(rowLength, rows, stridedRows(segments, outer));
  // A warp's lanes must all reach its shuffles, so a row is never shared by part of a warp; without
  // shuffles a row is one thread's or the whole block's (a shared-memory tree).
  if (config.shuffles ? group !== 1 && group !== 32 && group !== threads : group !== 1 && group !== threads) {
    throw new Error(`gpu lowering: ${group} threads per row (must be 1, ${config.shuffles ? "32 or " : ""}${threads})`);
  }
  const rowsPerBlock = threads / group;
  const blocks = blocksFor(rows, rowsPerBlock, config);
  const rr: RowReduction = { threads, group, shuffles: config.shuffles, arrays: [], accTypes: new Map() };
  const rowVar: Var = { op: "var", name: "row", type: "i32", extent: Math.max(rows, 1) };
  const body = rowBody(rr, segments, unflatten(outer, rowVar));
  const groupIndex: Expr = group === threads ? i(0) : group === 1 ? threadVar(threads) : simplifyIndex(div(threadVar(threads), i(group)));
  const start = simplifyIndex(add(mul(blockVar(blocks), i(rowsPerBlock)), groupIndex));
  return {
    name: kernel.name,
    comment: kernel.comment,
    params: paramsOf(kernel.buffers),
    arrays: rr.arrays,
    threads,
    blocks,
    body: [{ s: "for", var: rowVar, start, step: rowsPerBlock * blocks, body }],
  };
}

/** A row reduction being lowered: `group` threads share each row; shared arrays are declared as needed. */
interface RowReduction {
  readonly threads: number;
  readonly group: number;
  readonly shuffles: boolean;
  readonly arrays: ArrayDecl[];
  /** Combining function and type of each accumulator, from its init. */
  readonly accTypes: Map<string, { fn: "add" | "max"; type: "f32" | "i32" | "bool" }>;
}

/** One row's statements: the row's lanes split each reduce and elementwise loop; per-row stores on lane 0. */
function rowBody(rr: RowReduction, segments: readonly RowSegment[], rowReplace: ReadonlyMap<string, Expr>): GStmt[] {
  const { threads, group } = rr;
  const lane: Expr = group === 1 ? i(0) : group === threads ? threadVar(threads) : simplifyIndex(mod(threadVar(threads), i(group)));
  const body: GStmt[] = [];
  for (const seg of segments) {
    switch (seg.kind) {
      case "init":
        rr.accTypes.set(seg.stmt.name, { fn: seg.stmt.fn, type: seg.stmt.type });
        body.push({ s: "declare", name: seg.stmt.name, type: seg.stmt.type, init: accIdentity(seg.stmt.fn, seg.stmt.type) });
        break;
      case "reduce": {
        const n = extentOf(seg.vars);
        const e: Var = { op: "var", name: `e${body.length}`, type: "i32", extent: Math.max(n, 1) };
        const replace = new Map([...rowReplace, ...unflatten(seg.vars, e)]);
        body.push({ s: "for", var: e, start: lane, step: group, body: sequential(seg.accs, replace) });
        for (const a of seg.accs) body.push(...groupReduce(rr, a.name));
        break;
      }
      case "elementwise": {
        const n = extentOf(seg.vars);
        const e: Var = { op: "var", name: `e${body.length}`, type: "i32", extent: Math.max(n, 1) };
        body.push({ s: "for", var: e, start: lane, step: group, body: sequential(seg.body, new Map([...rowReplace, ...unflatten(seg.vars, e)])) });
        break;
      }
      case "row": {
        const stmts = sequential([seg.stmt], rowReplace);
        body.push(...(group === 1 || seg.stmt.s === "let" ? stmts : [{ s: "if" as const, cond: eq(lane, i(0)), then: stmts }]));
        break;
      }
      default:
        unreachable(seg);
    }
  }
  return body;
}

/** The shared array of per-warp partials of one type (declared once per kernel). */
function partialsArray(rr: RowReduction, type: "f32" | "i32" | "bool"): number {
  const name = `partials_${type}`;
  const found = rr.arrays.find((a) => a.name === name);
  if (found) return found.id;
  const decl: ArrayDecl = { id: -(rr.arrays.length + 1), name, space: "shared", type, size: 32 };
  rr.arrays.push(decl);
  return decl.id;
}

/** Combine accumulator `name` over the row's threads, leaving the total in every one of them. */
function groupReduce(rr: RowReduction, name: string): GStmt[] {
  const { threads, group } = rr;
  if (group !== 1 && !rr.shuffles) return treeReduce(rr, name);
  const { fn, type } = rr.accTypes.get(name)!;
  const acc = local(name, type);
  const out: GStmt[] = [];
  const shuffleTree = (width: number) => {
    for (let lanes = width / 2; lanes >= 1; lanes /= 2) {
      out.push({ s: "shuffle_xor", name: `${name}_other`, value: acc, lanes });
      out.push({ s: "assign", name, value: accCombine(fn, acc, local(`${name}_other`, type)) });
    }
  };
  if (group === 1) return [];
  out.push({ s: "declare", name: `${name}_other`, type, init: accIdentity(fn, type) });
  shuffleTree(Math.min(group, 32));
  if (group > 32) {
    // Across warps: each warp's first lane publishes its partial, then every warp reduces them all.
    const partials = partialsArray(rr, type);
    const warps = group / 32;
    const laneInWarp = simplifyIndex(mod(threadVar(threads), i(32)));
    const publish: GStmt = { s: "store", buffer: partials, index: simplifyIndex(div(threadVar(threads), i(32))), value: acc };
    out.push({ s: "if", cond: eq(laneInWarp, i(0)), then: [publish] });
    out.push({ s: "barrier" });
    const partial: Expr = { op: "load", buffer: partials, index: laneInWarp, type };
    out.push({ s: "assign", name, value: { op: "select", cond: lt(laneInWarp, i(warps)), a: partial, b: accIdentity(fn, type), type } });
    // Over all 32 lanes, so that every lane (not only the first `warps`) ends with the total.
    shuffleTree(32);
    // The partials are read before anyone writes the next row's.
    out.push({ s: "barrier" });
  }
  return out;
}

/** Without shuffles: every thread publishes its partial; halves fold into the lower half until slot 0 holds the total. */
function treeReduce(rr: RowReduction, name: string): GStmt[] {
  const { threads } = rr;
  const { fn, type } = rr.accTypes.get(name)!;
  const decl: ArrayDecl = { id: -(rr.arrays.length + 1), name: `tree_${name}`, space: "shared", type, size: threads };
  rr.arrays.push(decl);
  const tid = threadVar(threads);
  const slot = (index: Expr): Expr => ({ op: "load", buffer: decl.id, index, type });
  const out: GStmt[] = [{ s: "store", buffer: decl.id, index: tid, value: local(name, type) }, { s: "barrier" }];
  for (let half = threads / 2; half >= 1; half /= 2) {
    const folded = accCombine(fn, slot(tid), slot(simplifyIndex(add(tid, i(half)))));
    out.push({ s: "if", cond: lt(tid, i(half)), then: [{ s: "store", buffer: decl.id, index: tid, value: folded }] }, { s: "barrier" });
  }
  // Slot 0 is read by every thread before anyone publishes the next row's partial.
  out.push({ s: "assign", name, value: slot(i(0)) }, { s: "barrier" });
  return out;
}
