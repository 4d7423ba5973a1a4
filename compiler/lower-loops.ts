// Loop nests of L2 statements: nested loops over index variables, merged where the merged index stays
// affine, and the expression walks that decide it.

import { exprChildren, iconst, loopVar, simplifyIndex, substituteSimplify, type Expr, type Stmt } from "./kernel-ir.ts";
import type { Shape } from "./graph.ts";

// Elementwise kernels with fewer elements than this run on one thread (waking the team costs more).
export const PARALLEL_MIN_ELEMENTS = 32768;

/** Apply f to every expression of a statement list (loop bodies included). */
export function mapExprs(stmts: readonly Stmt[], f: (e: Expr) => Expr): Stmt[] {
  return stmts.map((s): Stmt => {
    switch (s.s) {
      case "loop":
        return { ...s, body: mapExprs(s.body, f) };
      case "let":
        return { ...s, value: f(s.value) };
      case "store":
        return { ...s, index: f(s.index), value: f(s.value) };
      case "acc":
        return { ...s, value: f(s.value) };
      case "template":
        return s.epilogue ? { ...s, epilogue: { ...s.epilogue, body: mapExprs(s.epilogue.body, f) } } : s;
      case "acc_init":
      case "zero":
        return s;
      default:
        return s satisfies never;
    }
  });
}

function anyExpr(stmts: readonly Stmt[], pred: (e: Expr) => boolean): boolean {
  let hit = false;
  mapExprs(stmts, (e) => {
    if (!hit && pred(e)) hit = true;
    return e;
  });
  return hit;
}

/** Does any index in these statements divide or take the modulo of `name`? (Memoised over the DAG.) */
function divModOf(stmts: readonly Stmt[], name: string): boolean {
  const divMemo = new Map<Expr, boolean>();
  const varMemo = new Map<Expr, boolean>();
  const hasDivMod = (e: Expr): boolean => {
    const hit = divMemo.get(e);
    if (hit !== undefined) return hit;
    let r = false;
    if (e.op === "binary" && (e.fn === "idiv" || e.fn === "mod") && mentionsVar(e.a, name, varMemo)) r = true;
    else r = exprChildren(e).some(hasDivMod);
    divMemo.set(e, r);
    return r;
  };
  return anyExpr(stmts, hasDivMod);
}

function mentionsVar(e: Expr, name: string, memo: Map<Expr, boolean>): boolean {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  const r = e.op === "var" ? e.name === name : exprChildren(e).some((c) => mentionsVar(c, name, memo));
  memo.set(e, r);
  return r;
}

/**
 * Nested loops over `vars` (outermost first) around `body`, merging neighbours whose merged index
 * stays free of division and modulo, and marking the outermost loop parallel when asked.
 */
export function loopNest(vars: readonly (Expr & { op: "var" })[], body: readonly Stmt[], parallel: boolean, prefix: string): Stmt[] {
  let loops = [...vars];
  let inner = [...body];
  let counter = 0;
  for (let k = loops.length - 2; k >= 0; k--) {
    const outer = loops[k]!;
    const next = loops[k + 1]!;
    const merged = loopVar(`${prefix}m${counter++}`, outer.extent * next.extent);
    const replace = new Map<string, Expr>([
      [outer.name, simplifyIndex({ op: "binary", fn: "idiv", a: merged, b: iconst(next.extent), type: "i32" })],
      [next.name, simplifyIndex({ op: "binary", fn: "mod", a: merged, b: iconst(next.extent), type: "i32" })],
    ]);
    const candidate = mapExprs(inner, substituteSimplify(replace));
    if (!divModOf(candidate, merged.name)) {
      loops = [...loops.slice(0, k), merged, ...loops.slice(k + 2)];
      inner = candidate;
    }
  }
  let out: Stmt[] = inner;
  for (let k = loops.length - 1; k >= 0; k--) out = [{ s: "loop", var: loops[k]!, parallel: parallel && k === 0, body: out }];
  return out;
}

export const varsOf = (index: readonly Expr[]): (Expr & { op: "var" })[] => index.filter((e): e is Expr & { op: "var" } => e.op === "var");

/** The multi-index of `shape` at a flat position. */
export function unflat(flat: Expr, shape: Shape): Expr[] {
  let rest = flat;
  const out: Expr[] = new Array(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    out[k] = d === 1 ? iconst(0) : simplifyIndex({ op: "binary", fn: "mod", a: rest, b: iconst(d), type: "i32" });
    rest = simplifyIndex({ op: "binary", fn: "idiv", a: rest, b: iconst(d), type: "i32" });
  }
  return out;
}
