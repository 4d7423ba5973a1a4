// A kernel that writes a donated input in place may compute a value again, after the store, from
// the element it overwrote: the optimizer's new weights are stored, then their moving average
// recomputes the new weights from the old ones in the same loop body. Loads of an input mean its
// old value, so such a load is bound to a local before the store and read from it after.

import { exprChildren, exprKey, type Expr, type Kernel, type Stmt } from "./kernel-ir.ts";

type Load = Expr & { op: "load" };
const loadKey = (buffer: number, index: Expr): string => `${buffer}@${exprKey(index)}`;

/** The first load of `key` in the statements, or null (expressions are DAGs: each node is visited once). */
function findLoad(stmts: readonly Stmt[], key: string): Load | null {
  const seen = new Set<Expr>();
  const inExpr = (e: Expr): Load | null => {
    if (seen.has(e)) return null;
    seen.add(e);
    if (e.op === "load" && loadKey(e.buffer, e.index) === key) return e;
    for (const c of exprChildren(e)) {
      const hit = inExpr(c);
      if (hit) return hit;
    }
    return null;
  };
  for (const s of stmts) {
    const hit =
      s.s === "loop"
        ? findLoad(s.body, key)
        : s.s === "store"
          ? (inExpr(s.index) ?? inExpr(s.value))
          : s.s === "let" || s.s === "acc"
            ? inExpr(s.value)
            : null;
    if (hit) return hit;
  }
  return null;
}

/** `e` with the loads named in `bound` read from their locals (memoised over the DAG). */
function readBound(bound: ReadonlyMap<string, Expr>): (e: Expr) => Expr {
  const memo = new Map<Expr, Expr>();
  const go = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: Expr = e;
    if (e.op === "load") out = bound.get(loadKey(e.buffer, e.index)) ?? e;
    else if (e.op === "unary" || e.op === "cast") out = go(e.a) === e.a ? e : ({ ...e, a: go(e.a) } as Expr);
    else if (e.op === "binary") out = go(e.a) === e.a && go(e.b) === e.b ? e : { ...e, a: go(e.a), b: go(e.b) };
    else if (e.op === "select") out = [e.cond, e.a, e.b].every((c) => go(c) === c) ? e : { ...e, cond: go(e.cond), a: go(e.a), b: go(e.b) };
    memo.set(e, out);
    return out;
  };
  return go;
}

/** One block with the old values of stored `inputs` elements bound before the store when a later statement reads them. */
function bindBlock(body: readonly Stmt[], inputs: ReadonlySet<number>, names: { next: number }): Stmt[] {
  const bound = new Map<string, Expr>();
  let read = readBound(bound);
  const out: Stmt[] = [];
  body.forEach((original, i) => {
    const s: Stmt =
      original.s === "loop"
        ? { ...original, body: bindBlock(original.body, inputs, names) }
        : original.s === "template" && original.epilogue
          ? { ...original, epilogue: { ...original.epilogue, body: bindBlock(original.epilogue.body, inputs, names) } }
          : original;
    const stmt: Stmt =
      s.s === "store"
        ? { ...s, index: read(s.index), value: read(s.value) }
        : s.s === "let" || s.s === "acc"
          ? { ...s, value: read(s.value) }
          : s.s === "loop" && bound.size
            ? { ...s, body: bindRead(s.body, read) }
            : s;
    if (stmt.s === "store" && !stmt.accumulate && inputs.has(stmt.buffer)) {
      const key = loadKey(stmt.buffer, stmt.index);
      const later = bound.has(key) ? null : findLoad(body.slice(i + 1), key);
      if (later) {
        const name = `old${names.next++}`;
        out.push({ s: "let", name, value: later });
        bound.set(key, { op: "local", name, type: later.type });
        read = readBound(bound);
      }
    }
    out.push(stmt);
  });
  return out;
}

/** Statements with every bound load read from its local. */
function bindRead(stmts: readonly Stmt[], read: (e: Expr) => Expr): Stmt[] {
  return stmts.map((s): Stmt => {
    if (s.s === "loop") return { ...s, body: bindRead(s.body, read) };
    if (s.s === "store") return { ...s, index: read(s.index), value: read(s.value) };
    if (s.s === "let" || s.s === "acc") return { ...s, value: read(s.value) };
    return s;
  });
}

/**
 * The kernel with each old value of an input it overwrites read once, before the store, where a
 * later statement of the same block reads that element again. Kernels that write no input are
 * returned as they are.
 */
export function bindOldValues(kernel: Kernel, inputs: ReadonlySet<number>): Kernel {
  if (!kernel.buffers.some((b) => b.role !== "read" && inputs.has(b.id))) return kernel;
  return { ...kernel, body: bindBlock(kernel.body, inputs, { next: 0 }) };
}
