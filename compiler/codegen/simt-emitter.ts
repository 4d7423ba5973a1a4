// The text of GPU L2 (gpu-ir.ts) in a C-family language: the statement walk and the sharing of
// repeated subexpressions that every SIMT renderer needs, with the spelling of declarations, loops,
// loads, stores, casts and literals left to a dialect (cuda.ts for CUDA C++, wgsl.ts for WGSL).

import { exprKey, unreachable, type Expr, type ScalarType } from "../kernel-ir.ts";
import { exprChildren, forEachStmt, stmtExprs, type ArrayDecl, type GStmt, type StorageType } from "./gpu-ir.ts";

/** How buffers and arrays are named in one kernel's text. */
export interface SimtNames {
  buffer(id: number): { name: string; dtype: StorageType };
  array(id: number): ArrayDecl;
}

/** What a target spells its own way; `expr` renders a subexpression (shared names included). */
export interface SimtDialect {
  constDecl(type: ScalarType, name: string, value: string): string;
  varDecl(type: ScalarType, name: string, init: string): string;
  /** The loop's opening line(s), ending with `{`. */
  forHeader(name: string, start: string, extent: number, step: number, unroll: boolean): string[];
  /** A condition of `if` from an expression of the given type. */
  condition(text: string, type: ScalarType): string;
  barrier: string;
  shuffleXor(name: string, value: string, lanes: number): string;
  comment(text: string): string;
  store(s: GStmt & { s: "store" }, names: SimtNames, expr: (e: Expr) => string): string;
  expr(e: Expr, names: SimtNames, expr: (e: Expr) => string): string;
}

const containsLoad = (e: Expr, memo = new Map<Expr, boolean>()): boolean => {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  const r = e.op === "load" || exprChildren(e).some((c) => containsLoad(c, memo));
  memo.set(e, r);
  return r;
};

/** Symbols an expression reads that statements may change: locals and variables by name, buffers and arrays by id. */
function readsOf(e: Expr, out: Set<string>): void {
  if (e.op === "local" || e.op === "var") out.add(`n:${e.name}`);
  if (e.op === "load") out.add(`b:${e.buffer}`);
  for (const c of exprChildren(e)) readsOf(c, out);
}

function writesOf(s: GStmt): string[] {
  switch (s.s) {
    case "let":
    case "declare":
    case "assign":
    case "shuffle_xor":
      return [`n:${s.name}`];
    case "store":
      return [`b:${s.buffer}`];
    case "for":
      return [`n:${s.var.name}`, ...s.body.flatMap(writesOf)];
    case "if":
      return [...s.then.flatMap(writesOf), ...(s.else ?? []).flatMap(writesOf)];
    case "barrier":
    case "comment":
      return [];
    default:
      return s satisfies never;
  }
}

/** Names of locals and variables read anywhere in these statements (nested bodies included). */
export function namesRead(stmts: readonly GStmt[]): Set<string> {
  const names = new Set<string>();
  const walk = (e: Expr): void => {
    if (e.op === "local" || e.op === "var") names.add(e.name);
    exprChildren(e).forEach(walk);
  };
  forEachStmt(stmts, (s) => stmtExprs(s).forEach(walk));
  return names;
}

/** The statements without lets nothing reads (NVRTC warns about unused variables), to a fixed point. */
export function pruneLets(stmts: readonly GStmt[], keep: ReadonlySet<string> = new Set()): GStmt[] {
  const prune = (list: readonly GStmt[], read: ReadonlySet<string>): GStmt[] =>
    list.flatMap((s): GStmt[] => {
      if (s.s === "let") return read.has(s.name) || keep.has(s.name) ? [s] : [];
      if (s.s === "for") return [{ ...s, body: prune(s.body, read) }];
      if (s.s === "if") return [{ ...s, then: prune(s.then, read), ...(s.else ? { else: prune(s.else, read) } : {}) }];
      return [s];
    });
  let current = [...stmts];
  for (;;) {
    const next = prune(current, namesRead(current));
    if (countLets(next) === countLets(current)) return next;
    current = next;
  }
}

function countLets(stmts: readonly GStmt[]): number {
  let n = 0;
  forEachStmt(stmts, (s) => void (s.s === "let" && n++));
  return n;
}

export class SimtEmitter {
  private readonly lines: string[] = [];
  private temp = 0;
  private readonly loadMemo = new Map<Expr, boolean>();

  constructor(
    private readonly names: SimtNames,
    private readonly dialect: SimtDialect,
  ) {}

  text(): string {
    return this.lines.join("\n");
  }

  private line(depth: number, text: string): void {
    this.lines.push("  ".repeat(depth) + text);
  }

  /**
   * A straight-line block: subexpressions used more than once are bound to a constant just before
   * their first use and reused until a statement writes something they read. Nothing is bound out
   * of a select's branches if it loads (a load there may be out of bounds when the branch is not taken).
   */
  block(stmts: readonly GStmt[], depth: number): void {
    const uses = new Map<string, number>();
    const seen = new Set<string>();
    const count = (e: Expr): void => {
      if (e.op === "const" || e.op === "var" || e.op === "local") return;
      const key = exprKey(e);
      uses.set(key, (uses.get(key) ?? 0) + 1);
      if (seen.has(key)) return;
      seen.add(key);
      exprChildren(e).forEach(count);
    };
    for (const s of stmts) stmtExprs(s).forEach(count);
    // Values this block changes (mutable locals, arrays, buffers it stores to): expressions reading
    // them are left inline, so a name never stands for a stale value.
    const mutable = new Set(stmts.flatMap((s) => (s.s === "let" ? [] : writesOf(s))));
    const scope = new Map<string, { name: string; reads: Set<string> }>();
    for (const s of stmts) {
      const bind = (e: Expr, conditional: boolean): void => {
        if (e.op === "const" || e.op === "var" || e.op === "local") return;
        const key = exprKey(e);
        if (scope.has(key)) return;
        if (conditional && containsLoad(e, this.loadMemo)) {
          // Still share what is safe to evaluate early underneath.
          exprChildren(e).forEach((c) => bind(c, true));
          return;
        }
        if (e.op === "select") {
          bind(e.cond, conditional);
          bind(e.a, true);
          bind(e.b, true);
        } else exprChildren(e).forEach((c) => bind(c, conditional));
        if ((uses.get(key) ?? 0) > 1) {
          const reads = new Set<string>();
          readsOf(e, reads);
          if ([...reads].some((r) => mutable.has(r))) return;
          const name = `t${this.temp++}`;
          this.line(depth, this.dialect.constDecl(e.type, name, this.expr(e, scope)));
          scope.set(key, { name, reads });
        }
      };
      for (const e of stmtExprs(s)) bind(e, false);
      this.stmt(s, depth, scope);
      const written = new Set(writesOf(s));
      if (written.size) for (const [key, entry] of scope) if ([...entry.reads].some((r) => written.has(r))) scope.delete(key);
    }
  }

  private stmt(s: GStmt, depth: number, scope: ReadonlyMap<string, { name: string }>): void {
    const x = (e: Expr) => this.expr(e, scope);
    const d = this.dialect;
    switch (s.s) {
      case "let":
        this.line(depth, d.constDecl(s.value.type, s.name, x(s.value)));
        return;
      case "declare":
        this.line(depth, d.varDecl(s.type, s.name, x(s.init)));
        return;
      case "assign":
        this.line(depth, `${s.name} = ${x(s.value)};`);
        return;
      case "for":
        for (const text of d.forHeader(s.var.name, x(s.start), s.var.extent, s.step, s.unroll === true)) this.line(depth, text);
        this.block(s.body, depth + 1);
        this.line(depth, "}");
        return;
      case "if":
        this.line(depth, `if (${d.condition(x(s.cond), s.cond.type)}) {`);
        this.block(s.then, depth + 1);
        if (s.else && s.else.length) {
          this.line(depth, "} else {");
          this.block(s.else, depth + 1);
        }
        this.line(depth, "}");
        return;
      case "store":
        this.line(depth, d.store(s, this.names, x));
        return;
      case "barrier":
        this.line(depth, d.barrier);
        return;
      case "shuffle_xor":
        this.line(depth, d.shuffleXor(s.name, x(s.value), s.lanes));
        return;
      case "comment":
        this.line(depth, d.comment(s.text));
        return;
      default:
        unreachable(s);
    }
  }

  expr(e: Expr, scope: ReadonlyMap<string, { name: string }>): string {
    const bound = scope.get(exprKey(e));
    if (bound) return bound.name;
    return this.dialect.expr(e, this.names, (x) => this.expr(x, scope));
  }
}
