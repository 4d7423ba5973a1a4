// What the GPU lowerings share: the launch configuration of a target (a table of GPU facts), the
// scratch allocator, and helpers over L2 statements (loop nests, sequential code, kernel parameters,
// grid-stride loops). gpu-lower.ts and the template lowerings (gpu-gemm.ts, gpu-attention.ts) import
// it; it imports none of them.

import { simplifyIndex, substituteSimplify, unreachable, type Expr, type KernelBuffer, type Stmt } from "../kernel-ir.ts";
import {
  accCombine,
  accIdentity,
  add,
  blockVar,
  div,
  i,
  local,
  mod,
  mul,
  threadVar,
  type GStmt,
  type GlobalParam,
  type GpuKernel,
  type ScratchDecl,
  type Var,
} from "./gpu-ir.ts";

/** Facts about a GPU that the lowering sizes launches by (a table, not branches). */
export interface GpuTarget {
  readonly name: string;
  readonly multiprocessors: number;
  readonly maxThreadsPerMultiprocessor: number;
  readonly warp: number;
  readonly maxThreadsPerBlock: number;
}

export const GPU_TARGETS = {
  h100: { name: "H100 SXM (sm_90)", multiprocessors: 132, maxThreadsPerMultiprocessor: 2048, warp: 32, maxThreadsPerBlock: 1024 },
  h200: { name: "H200 (sm_90)", multiprocessors: 132, maxThreadsPerMultiprocessor: 2048, warp: 32, maxThreadsPerBlock: 1024 },
  a100: { name: "A100 (sm_80)", multiprocessors: 108, maxThreadsPerMultiprocessor: 2048, warp: 32, maxThreadsPerBlock: 1024 },
} as const satisfies Record<string, GpuTarget>;

export interface GpuConfig {
  /** Threads per block of elementwise and row kernels (a multiple of the warp). */
  readonly threads: number;
  /** Most blocks of a grid-stride launch; the loops wrap around beyond it. */
  readonly maxBlocks: number;
  /**
   * Threads that share one row of a reduction: 1 (a thread walks its row; neighbouring threads
   * take neighbouring rows, which is coalesced when the row's elements are strided), 32 (a warp
   * per row, shuffles only) or `threads` (a block per row).
   */
  readonly rowThreads: (rowLength: number, rows: number, strided: boolean) => number;
  /** SIMT GEMM tile: block tile bm×bn, k step bk, each thread tm×tn outputs. */
  readonly gemmTile: SimtGemmTile;
  /** Threads per block of the SIMT attention kernels (one thread per query or key row). */
  readonly attentionThreads: number;
  /** Query rows per thread of the SIMT attention forward (default 1; gpu-attention.ts takes the largest of 4, 2, 1 at most this that divides the query length). */
  readonly attentionRows?: number;
  /**
   * Whether a row's threads reduce with warp shuffles (CUDA); else with a shared-memory tree over the
   * block (WebGPU without subgroups), and rowThreads must answer 1 or `threads`.
   */
  readonly shuffles: boolean;
}

export interface SimtGemmTile {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
  /**
   * "shared" (the default): a block stages bk-deep slices of A and B in shared memory between
   * barriers; "none": each thread reads its operands where they are, tm×tn outputs a thread and no
   * barrier (bm, bn and bk unused), for an adapter that runs on the CPU (gpu-gemm.ts directGemm).
   */
  readonly staging?: "shared" | "none";
}

export function gpuConfig(target: GpuTarget = GPU_TARGETS.h100): GpuConfig {
  const threads = 256;
  return {
    threads,
    // Enough resident blocks to fill every multiprocessor twice over.
    maxBlocks: 2 * target.multiprocessors * (target.maxThreadsPerMultiprocessor / threads),
    rowThreads: (n, rows, strided) => (n <= 4 || (strided && rows >= 4096) ? 1 : n <= 1024 ? target.warp : threads),
    gemmTile: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
    attentionThreads: 128,
    shuffles: true,
  };
}

/**
 * A launch configuration for checking the lowering, not for speed: 64-thread blocks and at most 3
 * blocks make grid-stride loops wrap, rows take every reduction strategy (a thread, a warp, the
 * block), and a tiny SIMT GEMM tile leaves ragged edges.
 */
export function smallGpuConfig(): GpuConfig {
  return {
    ...gpuConfig(),
    threads: 64,
    maxBlocks: 3,
    rowThreads: (n) => (n <= 2 ? 1 : n <= 6 ? 32 : 64),
    gemmTile: { bm: 16, bn: 8, bk: 4, tm: 2, tn: 2 },
    attentionThreads: 32,
  };
}

/** The launches of a kernel lowered as SIMT code only. */
export interface SimtStep {
  readonly kind: "simt";
  readonly launches: readonly GpuKernel[];
}

/** Allocates scratch buffer ids above the program's buffers. */
export class ScratchAllocator {
  private next: number;
  readonly decls: ScratchDecl[] = [];
  constructor(firstId: number) {
    this.next = firstId;
  }
  take(dtype: ScratchDecl["dtype"], size: number): ScratchDecl {
    const decl = { id: this.next++, dtype, size };
    this.decls.push(decl);
    return decl;
  }
  get nextId(): number {
    return this.next;
  }
}

/** A perfect loop nest: the loops down to the first body that is not a single loop. */
export function perfectNest(stmts: readonly Stmt[]): { vars: Var[]; body: readonly Stmt[] } {
  const vars: Var[] = [];
  let body = stmts;
  while (body.length === 1 && body[0]!.s === "loop") {
    const loop = body[0] as Stmt & { s: "loop" };
    vars.push(loop.var);
    body = loop.body;
  }
  return { vars, body };
}

export const extentOf = (vars: readonly Var[]): number => vars.reduce((n, v) => n * v.extent, 1);

/** Values of nest variables (outermost first) for a flat row-major position `flat`. */
export function unflatten(vars: readonly Var[], flat: Expr): Map<string, Expr> {
  const out = new Map<string, Expr>();
  let stride = 1;
  for (let k = vars.length - 1; k >= 0; k--) {
    const v = vars[k]!;
    const q = stride === 1 ? flat : simplifyIndex(div(flat, i(stride)));
    out.set(v.name, k === 0 ? q : simplifyIndex(mod(q, i(v.extent))));
    stride *= v.extent;
  }
  return out;
}

/**
 * L2 statements as GPU statements run by one thread, in order, after substituting `replace`:
 * loops stay loops, accumulators become mutable locals, accumulating stores become atomic adds.
 */
export function sequential(
  stmts: readonly Stmt[],
  replace: ReadonlyMap<string, Expr> = new Map(),
  accumulate: "atomic" | "owned" = "atomic",
): GStmt[] {
  const f = substituteSimplify(replace);
  const go = (list: readonly Stmt[]): GStmt[] =>
    list.flatMap((s): GStmt[] => {
      switch (s.s) {
        case "loop":
          return [{ s: "for", var: s.var, start: i(0), step: 1, body: go(s.body) }];
        case "let":
          return [{ s: "let", name: s.name, value: f(s.value) }];
        case "store": {
          const [index, value] = [f(s.index), f(s.value)];
          if (!s.accumulate) return [{ s: "store", buffer: s.buffer, index, value }];
          // An element only this thread updates needs no atomic: read, add, write.
          if (accumulate === "owned")
            return [
              { s: "store", buffer: s.buffer, index, value: add({ op: "load", buffer: s.buffer, index, type: value.type }, value, value.type) },
            ];
          return [{ s: "store", buffer: s.buffer, index, value, atomic: true }];
        }
        case "acc_init":
          return [{ s: "declare", name: s.name, type: s.type, init: accIdentity(s.fn, s.type) }];
        case "acc": {
          const value = f(s.value);
          return [{ s: "assign", name: s.name, value: accCombine(s.fn, local(s.name, value.type), value) }];
        }
        case "zero": {
          const v: Var = { op: "var", name: `z${s.buffer}`, type: "i32", extent: Math.max(s.count, 1) };
          return [
            {
              s: "for",
              var: v,
              start: i(0),
              step: 1,
              body: [{ s: "store", buffer: s.buffer, index: v, value: { op: "const", value: 0, type: "f32" } }],
            },
          ];
        }
        case "template":
          throw new Error("gpu lowering: a template statement inside a loop body");
        default:
          return unreachable(s);
      }
    });
  return go(stmts);
}

/** Global parameters of a kernel: its L2 buffers (and any scratch), in id order. */
export const paramsOf = (buffers: readonly KernelBuffer[], extra: readonly GlobalParam[] = []): GlobalParam[] =>
  [...buffers.map((b) => ({ id: b.id, dtype: b.dtype, size: b.size, role: b.role })), ...extra].sort((a, b) => a.id - b.id);

/** Blocks of a launch over `work` items, `perBlock` a block, at most the configuration's maximum. */
export const blocksFor = (work: number, perBlock: number, config: GpuConfig): number =>
  Math.max(1, Math.min(Math.ceil(work / perBlock), config.maxBlocks));

/** for (g = bid·T + tid; g < n; g += blocks·T) { body(g) } */
export function gridStride(name: string, n: number, threads: number, blocks: number, body: (flat: Expr) => GStmt[]): GStmt {
  const g: Var = { op: "var", name, type: "i32", extent: Math.max(n, 1) };
  const start = simplifyIndex(add(mul(blockVar(blocks), i(threads)), threadVar(threads)));
  return { s: "for", var: g, start, step: threads * blocks, body: body(g) };
}
