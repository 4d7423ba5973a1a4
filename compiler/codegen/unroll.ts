// Unrolling of the GPU L2 loops marked `unroll`, for a language with no unroll pragma (WGSL; CUDA
// prints `#pragma unroll` instead). Each copy of the body has the loop variable as a constant, so the
// per-thread arrays a SIMT GEMM or attention indexes by it (acc_tile[ii * 4 + jj]) are indexed by
// constants, which a shader compiler keeps in registers; indexed by a variable they stay in memory
// (SwiftShader ran kiln's 512³ GEMM at 0.2 GFLOP/s so, measured).

import { iconst, substituteSimplify, type Expr } from "../kernel-ir.ts";
import { forEachStmt, type GStmt } from "./gpu-ir.ts";

/** Loops with more iterations than this, or bodies that would grow past MAX_STATEMENTS, stay loops. */
const MAX_TRIPS = 64;
const MAX_STATEMENTS = 4096;

function countStmts(stmts: readonly GStmt[]): number {
  let n = 0;
  forEachStmt(stmts, () => n++);
  return n;
}

/**
 * `e` with the body's locals renamed by `names` (read as locals, or as variables where a let names a
 * loop's variable, as a GEMM's epilogue reads the let `ei` as the variable ei).
 */
function renameLocals(e: Expr, names: ReadonlyMap<string, string>): Expr {
  switch (e.op) {
    case "const":
      return e;
    case "var":
    case "local": {
      const name = names.get(e.name);
      return name === undefined ? e : { ...e, name };
    }
    case "load":
      return { ...e, index: renameLocals(e.index, names) };
    case "unary":
    case "cast":
      return { ...e, a: renameLocals(e.a, names) } as Expr;
    case "binary":
      return { ...e, a: renameLocals(e.a, names), b: renameLocals(e.b, names) };
    case "select":
      return { ...e, cond: renameLocals(e.cond, names), a: renameLocals(e.a, names), b: renameLocals(e.b, names) };
    case "philox":
      return { ...e, seed: renameLocals(e.seed, names), index: renameLocals(e.index, names) };
    default:
      return e satisfies never;
  }
}

/** Every expression of the statements mapped by `f`, and the names of locals (declarations and assignments) by `names`. */
function mapStmts(stmts: readonly GStmt[], f: (e: Expr) => Expr, names: ReadonlyMap<string, string>): GStmt[] {
  const rename = (name: string): string => names.get(name) ?? name;
  return stmts.map((s): GStmt => {
    switch (s.s) {
      case "let":
        return { ...s, name: rename(s.name), value: f(s.value) };
      case "declare":
        return { ...s, name: rename(s.name), init: f(s.init) };
      case "assign":
        return { ...s, name: rename(s.name), value: f(s.value) };
      case "shuffle_xor":
        return { ...s, name: rename(s.name), value: f(s.value) };
      case "for":
        return { ...s, start: f(s.start), body: mapStmts(s.body, f, names) };
      case "if":
        return { ...s, cond: f(s.cond), then: mapStmts(s.then, f, names), ...(s.else ? { else: mapStmts(s.else, f, names) } : {}) };
      case "store":
        return { ...s, index: f(s.index), value: f(s.value) };
      case "barrier":
      case "comment":
        return s;
      default:
        return s satisfies never;
    }
  });
}

/** The body once per iteration, the loop variable a constant in each and the body's own locals suffixed with it. */
function copies(loop: GStmt & { s: "for" }, body: readonly GStmt[], start: number): GStmt[] {
  const declared = new Set<string>();
  forEachStmt(body, (s) => void ((s.s === "let" || s.s === "declare") && declared.add(s.name)));
  const out: GStmt[] = [];
  for (let v = start; v < loop.var.extent; v += loop.step) {
    const names = new Map([...declared].map((n) => [n, `${n}_${loop.var.name}${v}`]));
    const constant = substituteSimplify(new Map([[loop.var.name, iconst(v)]]));
    out.push(...mapStmts(body, (e) => constant(renameLocals(e, names)), names));
  }
  return out;
}

/** The statements with every `unroll` loop of constant start and small trip count written out, innermost first. */
export function unrollLoops(stmts: readonly GStmt[]): GStmt[] {
  return stmts.flatMap((s): GStmt[] => {
    if (s.s === "if") return [{ ...s, then: unrollLoops(s.then), ...(s.else ? { else: unrollLoops(s.else) } : {}) }];
    if (s.s !== "for") return [s];
    const body = unrollLoops(s.body);
    const start = s.start.op === "const" ? s.start.value : null;
    const trips = start === null || s.step < 1 ? Infinity : Math.max(0, Math.ceil((s.var.extent - start) / s.step));
    if (!s.unroll || trips > MAX_TRIPS || trips * countStmts(body) > MAX_STATEMENTS) return [{ ...s, body }];
    return copies(s, body, start!);
  });
}
