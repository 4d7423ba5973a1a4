// The text of GPU L2 (gpu-ir.ts) in a C-family language: GPU L2's statements over the C-family
// walk (c-family.ts), with the spelling of declarations, loops, loads and stores left to a dialect
// (cuda.ts for CUDA C++, wgsl.ts for WGSL).

import { unreachable, type Expr, type ScalarType } from "../kernel-ir.ts";
import { CFamilyEmitter, type CFamilyLanguage, type LoadExpr, type Scope } from "./c-family.ts";
import { exprChildren, forEachStmt, stmtExprs, type ArrayDecl, type GStmt, type StorageType } from "./gpu-ir.ts";

/** How buffers and arrays are named in one kernel's text. */
export interface SimtNames {
  buffer(id: number): { name: string; dtype: StorageType };
  array(id: number): ArrayDecl;
}

/**
 * The names of one kernel's text: its buffers by position (`p0`, `p1`, … with prefix "p"), so kernels
 * differing only in buffers print alike, and its arrays by their declarations. `where` names the
 * target and the kernel in the error for an id it does not have.
 */
export function positionalNames(
  where: string,
  params: readonly { readonly id: number; readonly dtype: StorageType }[],
  arrays: readonly ArrayDecl[],
  prefix = "p",
): SimtNames {
  const byId = new Map(params.map((p, index) => [p.id, { name: `${prefix}${index}`, dtype: p.dtype }]));
  const byArray = new Map(arrays.map((a) => [a.id, a]));
  return {
    buffer: (id) => {
      const b = byId.get(id);
      if (!b) throw new Error(`${where} touches buffer ${id}, which is not one of its parameters`);
      return b;
    },
    array: (id) => {
      const a = byArray.get(id);
      if (!a) throw new Error(`${where} touches array ${id}, which it does not declare`);
      return a;
    },
  };
}

/** What a target spells its own way beyond its expressions; `expr` renders a subexpression (shared names included). */
export interface SimtDialect extends CFamilyLanguage {
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
  load(e: LoadExpr, names: SimtNames, expr: (e: Expr) => string): string;
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

/** GPU L2 through the cautious C-family walk: every nested block starts with no shared names. */
export class SimtEmitter extends CFamilyEmitter<GStmt> {
  constructor(
    private readonly names: SimtNames,
    private readonly dialect: SimtDialect,
  ) {
    super(dialect, { indentUnit: "  ", cautious: true });
  }

  protected exprsOf(s: GStmt): Expr[] {
    return stmtExprs(s);
  }

  protected writesOf(s: GStmt): string[] {
    return writesOf(s);
  }

  protected isLet(s: GStmt): boolean {
    return s.s === "let";
  }

  protected tempDecl(type: ScalarType, name: string, value: string): string {
    return this.dialect.constDecl(type, name, value);
  }

  protected load(e: LoadExpr, r: (e: Expr) => string): string {
    return this.dialect.load(e, this.names, r);
  }

  protected stmt(s: GStmt, depth: number, scope: Scope): void {
    const x = (e: Expr) => this.expr(e, scope);
    const d = this.dialect;
    switch (s.s) {
      case "let":
        this.line(depth, d.constDecl(d.textType?.(s.value) ?? s.value.type, s.name, x(s.value)));
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
}
