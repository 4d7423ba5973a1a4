// An L2 → L2 pass for the CPU: a row reduction whose elementwise epilogue recomputes the summed
// operand (softmax: Σ exp(x − max), then exp(x − max) / Σ) stores that operand into the epilogue's
// output while summing, and the epilogue reads it back instead of computing it again. The row is
// still in the L1 cache when the epilogue runs, so one transcendental per element is traded for one
// cached store and load.
//
// It only applies where it cannot change a result: the output is written by nothing else and read by
// nothing in the kernel, its storage holds the unrounded f32 value (the CPU keeps bf16 and f16 in f32
// storage), and the epilogue overwrites every stashed element. The GPU lowering does not use it: there
// a bf16 output buffer could not hold the f32 operand.

import { exprChildren, exprKey, substituteSimplify, type Expr, type Kernel, type Stmt } from "./kernel-ir.ts";

/** Unary functions worth a store and a load to avoid recomputing. */
const EXPENSIVE = new Set(["exp2", "log2", "sin", "sqrt"]);

type Loop = Stmt & { s: "loop" };

/** The loops of a perfect nest from its outer loop down, and the innermost body. */
function nest(s: Stmt): { loops: Loop[]; body: readonly Stmt[] } | null {
  if (s.s !== "loop") return null;
  const loops: Loop[] = [s];
  let body = s.body;
  while (body.length === 1 && body[0]!.s === "loop") {
    loops.push(body[0] as Loop);
    body = (body[0] as Loop).body;
  }
  return { loops, body };
}

function rebuild(loops: readonly Loop[], body: readonly Stmt[]): Stmt {
  let out: readonly Stmt[] = body;
  for (let k = loops.length - 1; k >= 0; k--) out = [{ ...loops[k]!, body: out }];
  return out[0]!;
}

function contains(e: Expr, pred: (x: Expr) => boolean, memo = new Map<Expr, boolean>()): boolean {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  const result = pred(e) || exprChildren(e).some((c) => contains(c, pred, memo));
  memo.set(e, result);
  return result;
}

/** e with every subexpression structurally equal to `target` replaced by `by`. */
function replaceExpr(e: Expr, target: string, by: Expr, memo = new Map<Expr, Expr>()): Expr {
  const done = memo.get(e);
  if (done) return done;
  let out: Expr;
  if (exprKey(e) === target) out = by;
  else {
    switch (e.op) {
      case "load":
        out = { ...e, index: replaceExpr(e.index, target, by, memo) };
        break;
      case "unary":
      case "cast":
        out = { ...e, a: replaceExpr(e.a, target, by, memo) } as Expr;
        break;
      case "binary":
        out = { ...e, a: replaceExpr(e.a, target, by, memo), b: replaceExpr(e.b, target, by, memo) };
        break;
      case "select":
        out = { ...e, cond: replaceExpr(e.cond, target, by, memo), a: replaceExpr(e.a, target, by, memo), b: replaceExpr(e.b, target, by, memo) };
        break;
      default:
        out = e;
    }
  }
  memo.set(e, out);
  return out;
}

/** The rewritten statement list, or the same list when nothing in it matches. */
function rewriteRow(stmts: readonly Stmt[], writeOnly: ReadonlySet<number>, stashed: Set<number>): readonly Stmt[] {
  const out = [...stmts];
  let changed = false;
  for (let j = 0; j < out.length; j++) {
    const sum = nest(out[j]!);
    const acc = sum?.body.length === 1 && sum.body[0]!.s === "acc" ? (sum.body[0] as Stmt & { s: "acc" }) : null;
    if (!sum || !acc || acc.fn !== "add" || acc.value.type !== "f32" || !contains(acc.value, (x) => x.op === "unary" && EXPENSIVE.has(x.fn)))
      continue;
    // The accumulator is finished when the epilogue nest runs: it is the next statement that uses it.
    for (let k = j + 1; k < out.length; k++) {
      const s = out[k]!;
      if (s.s === "acc_init" || s.s === "acc" || s.s === "template" || s.s === "zero") break;
      const epilogue = nest(s);
      if (!epilogue) continue;
      if (epilogue.body.length !== 1 || epilogue.body[0]!.s !== "store") break;
      const store = epilogue.body[0] as Stmt & { s: "store" };
      const same = epilogue.loops.length === sum.loops.length && epilogue.loops.every((l, i) => l.var.extent === sum.loops[i]!.var.extent);
      if (!same || store.accumulate || !writeOnly.has(store.buffer)) break;
      // The sum's operand in the epilogue's loop variables.
      const toEpilogue = new Map<string, Expr>(sum.loops.map((l, i) => [l.var.name, epilogue.loops[i]!.var]));
      const toSum = new Map<string, Expr>(epilogue.loops.map((l, i) => [l.var.name, sum.loops[i]!.var]));
      const key = exprKey(substituteSimplify(toEpilogue)(acc.value));
      if (!contains(store.value, (x) => exprKey(x) === key)) break;
      const reload: Expr = { op: "load", buffer: store.buffer, index: store.index, type: "f32" };
      out[j] = rebuild(sum.loops, [{ s: "store", buffer: store.buffer, index: substituteSimplify(toSum)(store.index), value: acc.value }, acc]);
      out[k] = rebuild(epilogue.loops, [{ ...store, value: replaceExpr(store.value, key, reload) }]);
      stashed.add(store.buffer);
      changed = true;
      break;
    }
  }
  let nestedChanged = false;
  const nested = out.map((s) => {
    if (s.s !== "loop") return s;
    const body = rewriteRow(s.body, writeOnly, stashed);
    if (body === s.body) return s;
    nestedChanged = true;
    return { ...s, body };
  });
  return changed || nestedChanged ? nested : stmts;
}

/** The kernel with its reductions' recomputed operands reused (the same kernel when none applies). */
export function reuseReducedOperands(kernel: Kernel): Kernel {
  if (kernel.template !== "reduce") return kernel;
  const writeOnly = new Set(kernel.buffers.filter((b) => b.role === "write" && b.dtype !== "i32" && b.dtype !== "bool").map((b) => b.id));
  if (writeOnly.size === 0) return kernel;
  const stashed = new Set<number>();
  const body = rewriteRow(kernel.body, writeOnly, stashed);
  if (body === kernel.body) return kernel;
  return { ...kernel, body, buffers: kernel.buffers.map((b) => (stashed.has(b.id) ? { ...b, role: "readwrite" } : b)) };
}
