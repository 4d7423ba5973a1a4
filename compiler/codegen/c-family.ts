// The base of the C-family renderers (c.ts for C + OpenMP, cuda.ts for CUDA C++, wgsl.ts for WGSL):
// the statement walk that names repeated subexpressions once, and the expression walk with its
// literals and operator spelling. A language supplies small facts (type names, casts, loads); a
// renderer subclasses the emitter for its own statements (OpenMP pragmas, thread indexing, WGSL syntax).

import { exprChildren, exprKey, unreachable, type Expr, type ScalarType } from "../kernel-ir.ts";
import { cFamilyLiteral, type OpSpelling } from "./op-spelling.ts";

/** What a C-family language spells its own way in expressions. */
export interface CFamilyLanguage {
  /** The type of a scalar value (a temporary, a local, the target of a cast). */
  readonly valueType: (type: ScalarType) => string;
  /** NaN and infinity as expressions of the language (`NAN`, or bits converted at run time). */
  readonly special: { readonly nan: string; readonly inf: string };
  /** Integer and boolean literals, where the language spells them otherwise than as truncated decimals. */
  readonly intLiteral?: (value: number, type: ScalarType) => string;
  readonly ops: OpSpelling;
  /** A cast written in the source (C-family languages cast even to the same type). */
  readonly cast: (text: string, from: ScalarType, to: ScalarType) => string;
  /** An operand at the type its operation computes at: C converts implicitly, WGSL needs it spelled. */
  readonly operand: (text: string, from: ScalarType, to: ScalarType) => string;
  readonly select: (cond: string, a: string, b: string) => string;
  /** kiln's Philox uniform of element `index` (an i32 or bool operand) of random node (seed, offset). */
  readonly philox: (seed: Operand, offset: number, index: Operand) => string;
  /**
   * The type of an expression's text where it differs from its L2 type, for declaring a name bound to
   * it: in WGSL a comparison is a bool even where L2 types it as an index's 0/1 (i32). Absent: the L2 type.
   */
  readonly textType?: (e: Expr) => ScalarType;
}

/** A rendered subexpression and its type. */
export interface Operand {
  readonly text: string;
  readonly type: ScalarType;
}

export type LoadExpr = Expr & { op: "load" };

/** A scalar literal: floats through cFamilyLiteral with the language's NaN and infinity. */
export const literal = (lang: CFamilyLanguage, value: number, type: ScalarType): string =>
  type !== "f32" && lang.intLiteral ? lang.intLiteral(value, type) : cFamilyLiteral(value, type, lang.special);

/** The type comparisons compare at (the wider operand type); every other operation computes at its own type. */
function operationType(e: Expr & { op: "binary" }): ScalarType {
  if (e.fn !== "lt" && e.fn !== "eq") return e.type;
  const types = [e.a.type, e.b.type];
  return types.includes("f32") ? "f32" : types.includes("i32") ? "i32" : "bool";
}

/** An expression in a C-family language; `r` renders a subexpression (shared names included), `load` a load. */
export function renderExpr(lang: CFamilyLanguage, e: Expr, r: (e: Expr) => string, load: (e: LoadExpr) => string): string {
  const at = (x: Expr, type: ScalarType): string => lang.operand(r(x), x.type, type);
  switch (e.op) {
    case "const":
      return literal(lang, e.value, e.type);
    case "var":
    case "local":
      return e.name;
    case "load":
      return load(e);
    case "unary":
      return lang.ops.unary[e.fn](at(e.a, e.type));
    case "binary": {
      const type = operationType(e);
      return lang.ops.binary[e.fn](at(e.a, type), at(e.b, type), type);
    }
    case "select":
      return lang.select(at(e.cond, "bool"), at(e.a, e.type), at(e.b, e.type));
    case "cast":
      return lang.cast(r(e.a), e.a.type, e.type);
    case "philox":
      return lang.philox({ text: r(e.seed), type: e.seed.type }, e.offset >>> 0, { text: r(e.index), type: e.index.type });
    default:
      return unreachable(e);
  }
}

/** A name bound to a shared subexpression, with the symbols (`n:` locals, `b:` buffers and arrays) it reads. */
export interface Bound {
  readonly name: string;
  readonly reads: ReadonlySet<string>;
}
export type Scope = ReadonlyMap<string, Bound>;

const isLeaf = (e: Expr): boolean => e.op === "const" || e.op === "var" || e.op === "local";

/** Symbols an expression reads that statements may change: locals and variables by name, buffers and arrays by id. */
export function readsOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.op === "local" || e.op === "var") out.add(`n:${e.name}`);
  if (e.op === "load") out.add(`b:${e.buffer}`);
  for (const c of exprChildren(e)) readsOf(c, out);
  return out;
}

function containsLoad(e: Expr, memo: Map<Expr, boolean>): boolean {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  const r = e.op === "load" || exprChildren(e).some((c) => containsLoad(c, memo));
  memo.set(e, r);
  return r;
}

/** How often each non-leaf expression is referenced by these expressions (a shared one's children once). */
function countUses(exprs: readonly Expr[]): Map<string, number> {
  const uses = new Map<string, number>();
  const seen = new Set<string>();
  const count = (e: Expr): void => {
    if (isLeaf(e)) return;
    const key = exprKey(e);
    uses.set(key, (uses.get(key) ?? 0) + 1);
    if (seen.has(key)) return;
    seen.add(key);
    exprChildren(e).forEach(count);
  };
  exprs.forEach(count);
  return uses;
}

/**
 * The statement walk of a C-family renderer over statements `S` (CPU or GPU L2): in each block,
 * subexpressions used more than once are bound to a constant just before their first use and reused
 * (by a cautious walk, until a statement writes something they read). No walk binds what loads out of a select's branches:
 * a load there may be out of bounds when the branch is not taken (a padded conv reads before its
 * input's start), and a temporary would read it unconditionally. A `cautious` walk (the SIMT
 * renderers') also leaves inline whatever reads a value the block changes anywhere. A subclass
 * renders the statements themselves.
 */
export abstract class CFamilyEmitter<S> {
  private readonly lines: string[] = [];
  private temp = 0;
  private readonly loadMemo = new Map<Expr, boolean>();

  constructor(
    protected readonly lang: CFamilyLanguage,
    private readonly options: { readonly indentUnit: string; readonly cautious: boolean },
  ) {}

  /** The expressions a statement evaluates itself (not those of nested bodies). */
  protected abstract exprsOf(s: S): readonly Expr[];
  /** What a statement changes (nested bodies included), as readsOf names it. */
  protected abstract writesOf(s: S): readonly string[];
  /** Whether a statement only names a value (a `let`), rather than changing one. */
  protected abstract isLet(s: S): boolean;
  protected abstract stmt(s: S, depth: number, scope: Scope): void;
  /** The declaration of a temporary bound to a shared subexpression. */
  protected abstract tempDecl(type: ScalarType, name: string, value: string): string;
  /** A buffer load; `r` renders its index and any other subexpression. */
  protected abstract load(e: LoadExpr, r: (e: Expr) => string): string;

  text(): string {
    return this.lines.join("\n");
  }

  protected line(depth: number, text: string): void {
    this.lines.push(this.options.indentUnit.repeat(depth) + text);
  }

  /** A block; `outer` are the names of enclosing blocks that it may use (C's loops do, SIMT blocks start afresh). */
  block(stmts: readonly S[], depth: number, outer: Scope = new Map()): void {
    const uses = countUses(stmts.flatMap((s) => this.exprsOf(s)));
    const mutable = new Set(this.options.cautious ? stmts.flatMap((s) => (this.isLet(s) ? [] : this.writesOf(s))) : []);
    const scope = new Map(outer);
    const bind = (e: Expr, conditional: boolean): void => {
      if (isLeaf(e) || scope.has(exprKey(e))) return;
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
      if ((uses.get(exprKey(e)) ?? 0) < 2) return;
      const reads = readsOf(e);
      if ([...reads].some((r) => mutable.has(r))) return;
      const name = `t${this.temp++}`;
      this.line(depth, this.tempDecl(this.lang.textType?.(e) ?? e.type, name, this.expr(e, scope)));
      scope.set(exprKey(e), { name, reads });
    };
    for (const s of stmts) {
      for (const e of this.exprsOf(s)) bind(e, false);
      this.stmt(s, depth, scope);
      // A cautious walk forgets a bound value once a statement changes what it read. The C walk keeps
      // it: the lowering may store an updated value in place and use the same expression again after
      // the store (AdamW's new weights, then the moving average of them), meaning the value computed
      // before the store; evaluated again it would read the store's result and update twice.
      if (!this.options.cautious) continue;
      const written = new Set(this.writesOf(s));
      if (written.size) for (const [key, entry] of scope) if ([...entry.reads].some((r) => written.has(r))) scope.delete(key);
    }
  }

  expr(e: Expr, scope: Scope): string {
    const bound = scope.get(exprKey(e));
    if (bound) return bound.name;
    const r = (x: Expr): string => this.expr(x, scope);
    return renderExpr(this.lang, e, r, (l) => this.load(l, r));
  }
}

/**
 * The facts of a C-style language (C, CUDA C++), tinygrad's CStyleLanguage: values convert
 * implicitly, casts and selects are C's, and Philox takes its words as `u32`.
 */
export function cStyleLanguage(facts: {
  readonly valueType: (type: ScalarType) => string;
  readonly u32: string;
  readonly special: CFamilyLanguage["special"];
  readonly ops: OpSpelling;
}): CFamilyLanguage {
  return {
    valueType: facts.valueType,
    special: facts.special,
    ops: facts.ops,
    cast: (text, _from, to) => `((${facts.valueType(to)})${text})`,
    operand: (text) => text,
    select: (cond, a, b) => `(${cond} ? ${a} : ${b})`,
    philox: (seed, offset, index) => `kiln_philox((${facts.u32})${seed.text}, ${offset}u, (${facts.u32})(${index.text}))`,
  };
}
