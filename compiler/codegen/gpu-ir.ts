// The GPU-lowered form of L2 ("GPU L2"): what a CUDA kernel does, made explicit — thread and block
// indices, grid-stride loops, per-thread and shared arrays, barriers and warp shuffles — over the
// scalar expressions of kernel-ir.ts. compiler/codegen/gpu-lower.ts produces it, cuda.ts prints it,
// gpu-emulator.ts runs it with thread, block, shared-memory and barrier semantics.

import { iconst, loopVar, type Expr, type KernelBuffer, type ScalarType } from "../kernel-ir.ts";

export type Var = Expr & { op: "var" };
export type StorageType = KernelBuffer["dtype"];

/** The thread's index in its block (threadIdx.x) and the block's index in the grid (blockIdx.x). */
export const THREAD = "tid";
export const BLOCK = "bid";
export const threadVar = (threads: number): Var => loopVar(THREAD, threads);
export const blockVar = (blocks: number): Var => loopVar(BLOCK, blocks);

/**
 * A buffer in global memory that a launch reads or writes: a buffer of the program (id < the
 * program's buffer count) or a scratch buffer of the workspace (a larger id).
 */
export interface GlobalParam {
  readonly id: number;
  readonly dtype: StorageType;
  /** Elements. */
  readonly size: number;
  readonly role: "read" | "write" | "readwrite";
}

/** An array in shared memory (one per block) or in registers/local memory (one per thread); ids are negative. */
export interface ArrayDecl {
  readonly id: number;
  readonly name: string;
  readonly space: "shared" | "local";
  readonly type: ScalarType;
  readonly size: number;
}

export type GStmt =
  /** const T name = value; */
  | { readonly s: "let"; readonly name: string; readonly value: Expr }
  /** T name = init; (a mutable local, changed by assign and shuffle) */
  | { readonly s: "declare"; readonly name: string; readonly type: ScalarType; readonly init: Expr }
  | { readonly s: "assign"; readonly name: string; readonly value: Expr }
  /** for (int v = start; v < v.extent; v += step): grid- and block-stride loops have a per-thread start. */
  | { readonly s: "for"; readonly var: Var; readonly start: Expr; readonly step: number; readonly body: readonly GStmt[]; readonly unroll?: boolean }
  | { readonly s: "if"; readonly cond: Expr; readonly then: readonly GStmt[]; readonly else?: readonly GStmt[] }
  /** buffer[index] = value (global when buffer ≥ 0, else an array); atomic: buffer[index] += value by an atomic add. */
  | { readonly s: "store"; readonly buffer: number; readonly index: Expr; readonly value: Expr; readonly atomic?: boolean }
  /** __syncthreads(): every thread of the block must reach it. */
  | { readonly s: "barrier" }
  /** name = __shfl_xor_sync(all lanes, value, lanes): every lane of the warp must take part. */
  | { readonly s: "shuffle_xor"; readonly name: string; readonly value: Expr; readonly lanes: number }
  | { readonly s: "comment"; readonly text: string };

/** One kernel launch of generated (SIMT) code: a 1-D grid of 1-D blocks. */
export interface GpuKernel {
  readonly name: string;
  /** One line naming the graph nodes it computes. */
  readonly comment: string;
  readonly params: readonly GlobalParam[];
  readonly arrays: readonly ArrayDecl[];
  readonly threads: number;
  readonly blocks: number;
  readonly body: readonly GStmt[];
}

/** Scratch memory a lowered kernel needs between its launches (LSE, row sums, f32 accumulators). */
export interface ScratchDecl {
  readonly id: number;
  readonly dtype: StorageType;
  readonly size: number;
}

// --- small constructors ----------------------------------------------------------------------------

export const i = iconst;
export const local = (name: string, type: ScalarType = "i32"): Expr => ({ op: "local", name, type });
export const bin = (fn: Extract<Expr, { op: "binary" }>["fn"], a: Expr, b: Expr, type: ScalarType = "i32"): Expr => ({
  op: "binary",
  fn,
  a,
  b,
  type,
});
export const add = (a: Expr, b: Expr, type: ScalarType = "i32"): Expr => bin("add", a, b, type);
export const mul = (a: Expr, b: Expr, type: ScalarType = "i32"): Expr => bin("mul", a, b, type);
export const lt = (a: Expr, b: Expr): Expr => bin("lt", a, b, "bool");
export const eq = (a: Expr, b: Expr): Expr => bin("eq", a, b, "bool");
export const and = (a: Expr, b: Expr): Expr => bin("and", a, b, "bool");
export const div = (a: Expr, b: Expr): Expr => bin("idiv", a, b);
export const mod = (a: Expr, b: Expr): Expr => bin("mod", a, b);
export const select = (cond: Expr, a: Expr, b: Expr): Expr => ({ op: "select", cond, a, b, type: a.type });
export const load = (buffer: number, index: Expr, type: ScalarType): Expr => ({ op: "load", buffer, index, type });
export const fconst = (value: number): Expr => ({ op: "const", value, type: "f32" });

/** The identity of a sum or max accumulator of this type. */
export const accIdentity = (fn: "add" | "max", type: ScalarType): Expr =>
  fn === "add" ? { op: "const", value: 0, type } : { op: "const", value: type === "f32" ? -Infinity : -2147483648, type };

/** acc ⊕ value, with the C renderer's semantics: for max, `acc > value ? acc : value`. */
export const accCombine = (fn: "add" | "max", acc: Expr, value: Expr): Expr =>
  fn === "add" ? bin("add", acc, value, acc.type) : select(bin("lt", value, acc, "bool"), acc, value);

/** Walks every statement (nested bodies included). */
export function forEachStmt(stmts: readonly GStmt[], visit: (s: GStmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.s === "for") forEachStmt(s.body, visit);
    else if (s.s === "if") {
      forEachStmt(s.then, visit);
      if (s.else) forEachStmt(s.else, visit);
    }
  }
}

/** The expressions a statement evaluates directly (not those of nested bodies). */
export function stmtExprs(s: GStmt): Expr[] {
  switch (s.s) {
    case "let":
    case "assign":
      return [s.value];
    case "declare":
      return [s.init];
    case "for":
      return [s.start];
    case "if":
      return [s.cond];
    case "store":
      return [s.index, s.value];
    case "shuffle_xor":
      return [s.value];
    case "barrier":
    case "comment":
      return [];
    default:
      return s satisfies never;
  }
}

export { exprChildren } from "../kernel-ir.ts";
