// Donated inputs (parameters, optimizer state) are updated in place: an output that replaces a
// donated input is written into the input's buffer. That is safe only when nothing reads the old
// value after the writing kernel, and the writing kernel reads each element just where it writes it
// — before it writes it (lower.ts binds the old values a kernel reads again after the store: old-values.ts).

import { exprKey, type Expr, type Stmt } from "./kernel-ir.ts";
import type { Program } from "./lower.ts";

function loadsOf(stmts: readonly Stmt[], buffer: number, out: Expr[]): void {
  const walk = (e: Expr): void => {
    switch (e.op) {
      case "load":
        if (e.buffer === buffer) out.push(e.index);
        walk(e.index);
        return;
      case "unary":
      case "cast":
        return walk(e.a);
      case "binary":
        walk(e.a);
        return walk(e.b);
      case "select":
        walk(e.cond);
        walk(e.a);
        return walk(e.b);
      case "philox":
        walk(e.seed);
        return walk(e.index);
      default:
        return;
    }
  };
  for (const s of stmts) {
    if (s.s === "loop") loadsOf(s.body, buffer, out);
    else if (s.s === "store") {
      walk(s.index);
      walk(s.value);
    } else if (s.s === "let" || s.s === "acc") walk(s.value);
    else if (s.s === "template" && s.epilogue) loadsOf(s.epilogue.body, buffer, out);
  }
}

function storesTo(stmts: readonly Stmt[], buffer: number, out: Expr[]): void {
  for (const s of stmts) {
    if (s.s === "loop") storesTo(s.body, buffer, out);
    else if (s.s === "store" && s.buffer === buffer) out.push(s.index);
    else if (s.s === "template" && s.epilogue) storesTo(s.epilogue.body, buffer, out);
  }
}

/** Does a statement read `buffer` after a statement before it (in program order) stored into it? */
function readsAfterStore(stmts: readonly Stmt[], buffer: number, state = { stored: false }): boolean {
  for (const s of stmts) {
    if (s.s === "loop" || (s.s === "template" && s.epilogue)) {
      if (s.s === "template" && Object.values(s.buffers).includes(buffer)) state.stored = true;
      if (readsAfterStore(s.s === "loop" ? s.body : s.epilogue!.body, buffer, state)) return true;
      continue;
    }
    // Reads before the store are the update's own; only a statement after it is walked.
    if (state.stored) {
      const loads: Expr[] = [];
      loadsOf([s], buffer, loads);
      if (loads.length) return true;
    }
    if ((s.s === "store" && s.buffer === buffer) || (s.s === "template" && Object.values(s.buffers).includes(buffer))) state.stored = true;
  }
  return false;
}

/** Is writing `buffer` in place (by the last kernel that writes it) safe in this program? */
export function inPlaceIsSafe(program: Program, buffer: number): boolean {
  const writers = program.kernels.flatMap((k, i) => (k.buffers.some((b) => b.id === buffer && b.role !== "read") ? [i] : []));
  if (writers.length !== 1) return writers.length === 0;
  const w = writers[0]!;
  if (program.kernels.slice(w + 1).some((k) => k.buffers.some((b) => b.id === buffer))) return false;
  const kernel = program.kernels[w]!;
  if (kernel.body.some((s) => s.s === "template" && Object.values(s.buffers).includes(buffer) && s.buffers.c !== buffer)) return false;
  const loads: Expr[] = [];
  const stores: Expr[] = [];
  loadsOf(kernel.body, buffer, loads);
  storesTo(kernel.body, buffer, stores);
  if (kernel.body.some((s) => s.s === "template" && s.buffers.c === buffer) && loads.length) return false;
  const storeKeys = new Set(stores.map(exprKey));
  // A read after the store would see the new value (bindOldValues binds those of the store's own block).
  return storeKeys.size <= 1 && loads.every((l) => storeKeys.has(exprKey(l))) && !readsAfterStore(kernel.body, buffer);
}
