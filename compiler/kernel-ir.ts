// L2: the kernel IR shared by every renderer — loops, scalar expressions (values and symbolic
// indices), loads, stores, accumulators and calls into templates — plus the index simplifier that
// turns the div/mod chains of reshapes back into plain affine indices.

export type ScalarType = "f32" | "i32" | "bool";

export type UnaryOp = "neg" | "exp2" | "log2" | "sin" | "sqrt" | "recip" | "round_bf16" | "round_f16";
export type BinaryOp = "add" | "mul" | "idiv" | "mod" | "max" | "min" | "lt" | "eq" | "and";

export type Expr =
  | { readonly op: "const"; readonly value: number; readonly type: ScalarType }
  | { readonly op: "var"; readonly name: string; readonly type: "i32"; readonly extent: number }
  /** A scalar held in a named local (an accumulator or a value computed earlier in the kernel). */
  | { readonly op: "local"; readonly name: string; readonly type: ScalarType }
  | { readonly op: "load"; readonly buffer: number; readonly index: Expr; readonly type: ScalarType; readonly bound?: number }
  | { readonly op: "unary"; readonly fn: UnaryOp; readonly a: Expr; readonly type: ScalarType }
  | { readonly op: "binary"; readonly fn: BinaryOp; readonly a: Expr; readonly b: Expr; readonly type: ScalarType }
  | { readonly op: "select"; readonly cond: Expr; readonly a: Expr; readonly b: Expr; readonly type: ScalarType }
  | { readonly op: "cast"; readonly a: Expr; readonly type: ScalarType }
  /** kiln's Philox uniform (philox.ts) of element `index` of a random node with this seed and offset. */
  | { readonly op: "philox"; readonly seed: Expr; readonly index: Expr; readonly offset: number; readonly type: "f32" };

export type Stmt =
  | { readonly s: "loop"; readonly var: Expr & { op: "var" }; readonly parallel: boolean; readonly body: readonly Stmt[] }
  | { readonly s: "let"; readonly name: string; readonly value: Expr }
  /** buffer[index] = value, or += value when `accumulate` (scatter_add). */
  | { readonly s: "store"; readonly buffer: number; readonly index: Expr; readonly value: Expr; readonly accumulate?: boolean }
  | { readonly s: "acc_init"; readonly name: string; readonly fn: "add" | "max"; readonly type: ScalarType }
  | { readonly s: "acc"; readonly name: string; readonly fn: "add" | "max"; readonly value: Expr }
  | TemplateStmt
  | { readonly s: "zero"; readonly buffer: number; readonly count: number };

/**
 * A call into a template (compiler/templates.ts names them), with its typed arguments and its
 * buffers by operand name. Renderers read the arguments as they are; nothing is parsed back.
 */
export type TemplateStmt =
  | {
      readonly s: "template";
      readonly template: "gemm";
      readonly args: GemmArgs;
      readonly buffers: Readonly<Record<"a" | "b" | "c", number>>;
      readonly epilogue?: Epilogue;
    }
  | {
      readonly s: "template";
      readonly template: "attention" | "attention_bwd";
      readonly args: AttentionArgs;
      readonly buffers: Readonly<Record<string, number>>;
      readonly epilogue?: undefined;
    };

/** The gemm template's sizes and each operand's element offset and batch, row and column strides. */
export interface GemmArgs {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a_off: number;
  readonly a_bs: number;
  readonly a_rs: number;
  readonly a_cs: number;
  readonly b_off: number;
  readonly b_bs: number;
  readonly b_rs: number;
  readonly b_cs: number;
  readonly c_bs: number;
  readonly ldc: number;
}

/** An attention operand in the "b s (n d)" layout: element offset, batch stride, sequence stride. */
export interface AttentionView {
  readonly off: number;
  readonly bs: number;
  readonly ss: number;
}

/** The attention templates' shape, scale and masking, and their operands' views (q, k, v; o, do in the backward). */
export interface AttentionArgs {
  readonly batch: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly seqQ: number;
  readonly seqK: number;
  readonly headDim: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly views: Readonly<Record<string, AttentionView>>;
  readonly mask: { readonly off: number; readonly bs: number } | null;
}

/** Code a template runs on each finished block of its output: `vars` name the block's coordinates. */
export interface Epilogue {
  readonly vars: Readonly<Record<string, Expr & { op: "var" }>>;
  readonly body: readonly Stmt[];
}

export interface KernelBuffer {
  readonly id: number;
  readonly dtype: "f32" | "bf16" | "f16" | "i32" | "bool";
  readonly size: number;
  readonly role: "read" | "write" | "readwrite";
}

export interface Kernel {
  readonly name: string;
  /** One line naming the graph nodes it fuses, for the generated source. */
  readonly comment: string;
  readonly template: "pointwise" | "reduce" | "gemm" | "attention" | "attention_bwd" | "scatter" | "multi";
  readonly buffers: readonly KernelBuffer[];
  readonly body: readonly Stmt[];
  /** Floating-point operations and bytes moved, for roofline reporting. */
  readonly flops: number;
  readonly bytes: number;
}

/** Marks a switch as exhaustive: the argument has type never once every case is handled. */
export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

// --- constructors --------------------------------------------------------------------------------

export const iconst = (value: number): Expr => ({ op: "const", value, type: "i32" });
export const fconst = (value: number): Expr => ({ op: "const", value, type: "f32" });
export const loopVar = (name: string, extent: number): Expr & { op: "var" } => ({ op: "var", name, type: "i32", extent });
export const isConst = (e: Expr, value?: number): e is Expr & { op: "const" } => e.op === "const" && (value === undefined || e.value === value);

// --- bounds --------------------------------------------------------------------------------------

export type Range = readonly [number, number];
const UNBOUNDED: Range = [-Infinity, Infinity];

const boundsCache = new WeakMap<Expr, Range>();

/** Inclusive bounds of an integer expression, from loop extents and constants. */
export function bounds(e: Expr): Range {
  const cached = boundsCache.get(e);
  if (cached) return cached;
  const result = computeBounds(e);
  boundsCache.set(e, result);
  return result;
}

function computeBounds(e: Expr): Range {
  switch (e.op) {
    case "const":
      return [e.value, e.value];
    case "var":
      return [0, e.extent - 1];
    case "load":
      return e.bound !== undefined ? [0, e.bound - 1] : UNBOUNDED;
    case "binary": {
      const [a0, a1] = bounds(e.a);
      const [b0, b1] = bounds(e.b);
      switch (e.fn) {
        case "add":
          return [a0 + b0, a1 + b1];
        case "mul": {
          const products = [a0 * b0, a0 * b1, a1 * b0, a1 * b1].map((p) => (Number.isNaN(p) ? 0 : p));
          return [Math.min(...products), Math.max(...products)];
        }
        case "idiv":
          return b0 === b1 && b0 > 0 && a0 >= 0 ? [Math.floor(a0 / b0), Math.floor(a1 / b0)] : UNBOUNDED;
        case "mod":
          return b0 === b1 && b0 > 0 && a0 >= 0 ? (a1 < b0 ? [a0, a1] : [0, b0 - 1]) : UNBOUNDED;
        case "max":
          return [Math.max(a0, b0), Math.max(a1, b1)];
        case "min":
          return [Math.min(a0, b0), Math.min(a1, b1)];
        case "lt":
        case "eq":
        case "and":
          return [0, 1];
        default:
          return unreachable(e);
      }
    }
    case "select": {
      const [a0, a1] = bounds(e.a);
      const [b0, b1] = bounds(e.b);
      return [Math.min(a0, b0), Math.max(a1, b1)];
    }
    default:
      return UNBOUNDED;
  }
}

// --- index simplification ------------------------------------------------------------------------

/**
 * Identity of an expression for CSE and comparisons: variables and constants are their own text;
 * anything larger gets a short id (`#123`) for its structure, so keys stay short however deep the
 * expression is. Structurally equal expressions always get equal keys.
 */
export function exprKey(e: Expr): string {
  const cached = keyCache.get(e);
  if (cached) return cached;
  let key: string;
  switch (e.op) {
    case "const":
      key = `${e.type}:${e.value}`;
      break;
    case "var":
      key = e.name;
      break;
    case "local":
      key = `$${e.name}`;
      break;
    default:
      key = structureId(structureText(e));
  }
  keyCache.set(e, key);
  return key;
}

function structureText(e: Expr): string {
  switch (e.op) {
    case "load":
      return `b${e.buffer}[${exprKey(e.index)}]`;
    case "unary":
      return `${e.fn}(${exprKey(e.a)})`;
    case "binary":
      return `${e.fn}(${exprKey(e.a)},${exprKey(e.b)}):${e.type}`;
    case "select":
      return `?(${exprKey(e.cond)},${exprKey(e.a)},${exprKey(e.b)})`;
    case "cast":
      return `${e.type}(${exprKey(e.a)})`;
    case "philox":
      return `philox(${exprKey(e.seed)},${e.offset},${exprKey(e.index)})`;
    default:
      return exprKey(e);
  }
}

const keyCache = new WeakMap<Expr, string>();
const structureIds = new Map<string, string>();
let nextStructureId = 0;
function structureId(text: string): string {
  let id = structureIds.get(text);
  if (id === undefined) {
    // Forgetting old structures only costs CSE opportunities between expressions built far apart.
    if (structureIds.size > 1_000_000) structureIds.clear();
    id = `#${nextStructureId++}`;
    structureIds.set(text, id);
  }
  return id;
}

/** A linear form: Σ coeff·atom + constant, with atoms compared by key. */
interface Linear {
  terms: Map<string, { atom: Expr; coeff: number }>;
  constant: number;
}

function linear(e: Expr): Linear {
  if (e.op === "const") return { terms: new Map(), constant: e.value };
  if (e.op === "binary" && e.fn === "add") {
    const a = linear(e.a);
    const b = linear(e.b);
    for (const [k, t] of b.terms) addTerm(a, k, t.atom, t.coeff);
    a.constant += b.constant;
    return a;
  }
  if (e.op === "binary" && e.fn === "mul" && (isConst(e.a) || isConst(e.b))) {
    const [c, rest] = isConst(e.a) ? [e.a.value, e.b] : [(e.b as Expr & { op: "const" }).value, e.a];
    const l = linear(rest);
    for (const t of l.terms.values()) t.coeff *= c;
    l.constant *= c;
    for (const [k, t] of [...l.terms]) if (t.coeff === 0) l.terms.delete(k);
    return l;
  }
  const l: Linear = { terms: new Map(), constant: 0 };
  addTerm(l, exprKey(e), e, 1);
  return l;
}

function addTerm(l: Linear, key: string, atom: Expr, coeff: number): void {
  const t = l.terms.get(key);
  if (t) {
    t.coeff += coeff;
    if (t.coeff === 0) l.terms.delete(key);
  } else if (coeff !== 0) l.terms.set(key, { atom, coeff });
}

function fromLinear(l: Linear): Expr {
  // Recombine d·(x div d) + (x mod d) → x, the signature of a reshape split followed by a merge.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [k, t] of l.terms) {
      const atom = t.atom;
      if (atom.op !== "binary" || atom.fn !== "mod" || !isConst(atom.b)) continue;
      const d = atom.b.value;
      const divKey = exprKey({ op: "binary", fn: "idiv", a: atom.a, b: atom.b, type: "i32" });
      const div = l.terms.get(divKey);
      if (div && div.coeff === t.coeff * d) {
        l.terms.delete(k);
        l.terms.delete(divKey);
        const inner = linear(atom.a);
        for (const [ik, it] of inner.terms) addTerm(l, ik, it.atom, it.coeff * t.coeff);
        l.constant += inner.constant * t.coeff;
        changed = true;
        break;
      }
      // c·inner·((x div inner) mod e) + c·(x mod inner) → c·(x mod inner·e): the digits of a mixed radix.
      for (const [k2, t2] of l.terms) {
        const a2 = t2.atom;
        if (a2.op !== "binary" || a2.fn !== "mod" || !isConst(a2.b) || a2.a.op !== "binary" || a2.a.fn !== "idiv" || !isConst(a2.a.b)) continue;
        const innerDiv = a2.a.b.value;
        if (innerDiv !== d || exprKey(a2.a.a) !== exprKey(atom.a) || t2.coeff !== t.coeff * d || bounds(atom.a)[0] < 0) continue;
        l.terms.delete(k);
        l.terms.delete(k2);
        const merged = simplifyIndex({ op: "binary", fn: "mod", a: atom.a, b: iconst(d * a2.b.value), type: "i32" });
        const ml = linear(merged);
        for (const [mk, mt] of ml.terms) addTerm(l, mk, mt.atom, mt.coeff * t.coeff);
        l.constant += ml.constant * t.coeff;
        changed = true;
        break;
      }
      if (changed) break;
    }
  }
  const parts = [...l.terms.values()].sort((x, y) => (exprKey(x.atom) < exprKey(y.atom) ? -1 : 1));
  let out: Expr | undefined;
  for (const { atom, coeff } of parts) {
    const term = coeff === 1 ? atom : mkBinary("mul", atom, iconst(coeff));
    out = out ? mkBinary("add", out, term) : term;
  }
  if (!out) return iconst(l.constant);
  return l.constant !== 0 ? mkBinary("add", out, iconst(l.constant)) : out;
}

const mkBinary = (fn: BinaryOp, a: Expr, b: Expr, type: ScalarType = "i32"): Expr => ({ op: "binary", fn, a, b, type });

/** Split a linear form into the part whose coefficients d divides (as a quotient) and the rest. */
function splitByDivisor(l: Linear, d: number): { quotient: Linear; rest: Linear } {
  const quotient: Linear = { terms: new Map(), constant: 0 };
  const rest: Linear = { terms: new Map(), constant: 0 };
  for (const [k, t] of l.terms) {
    if (t.coeff % d === 0) addTerm(quotient, k, t.atom, t.coeff / d);
    else addTerm(rest, k, t.atom, t.coeff);
  }
  const q = Math.floor(l.constant / d);
  quotient.constant = q;
  rest.constant = l.constant - q * d;
  return { quotient, rest };
}

/** The affine form Σ coeff·var + constant of an index, or null when it is not affine in the loop variables. */
export function affine(e: Expr): { constant: number; coeffs: Map<string, number> } | null {
  const l = linear(simplifyIndex(e));
  const coeffs = new Map<string, number>();
  for (const { atom, coeff } of l.terms.values()) {
    if (atom.op !== "var") return null;
    coeffs.set(atom.name, coeff);
  }
  return { constant: l.constant, coeffs };
}

const gcd = (x: number, y: number): number => {
  x = Math.abs(x);
  y = Math.abs(y);
  while (y) [x, y] = [y, x % y];
  return x;
};

/**
 * Find c > 1 dividing d such that the form is c·q + r with 0 ≤ r < c (terms whose coefficients c
 * divides make up q; the rest, r, must stay below c). Candidates are gcd(d, coefficient).
 */
function factorDivisor(form: Linear, d: number): { c: number; quotient: Linear; rest: Linear } | null {
  const candidates = new Set<number>();
  for (const t of form.terms.values()) {
    const c = gcd(d, t.coeff);
    if (c > 1 && c < d) candidates.add(c);
  }
  for (const c of [...candidates].sort((x, y) => y - x)) {
    const { quotient, rest } = splitByDivisor(form, c);
    const [lo, hi] = linearBounds(rest);
    if (lo >= 0 && hi < c && quotient.terms.size > 0) return { c, quotient, rest };
  }
  return null;
}

const linearBounds = (l: Linear): Range => bounds(fromLinear({ terms: new Map(l.terms), constant: l.constant }));

/**
 * Simplify an integer index expression without changing its value for any assignment of the loop
 * variables within their extents (property-tested). Division and modulo are C's, applied only to
 * non-negative operands by construction.
 */
export function simplifyIndex(e: Expr): Expr {
  if (e.type !== "i32") return e;
  switch (e.op) {
    case "const":
    case "var":
    case "local":
      return e;
    case "load":
      return { ...e, index: simplifyIndex(e.index) };
    case "select": {
      const cond = simplifyIndex(e.cond);
      const a = simplifyIndex(e.a);
      const b = simplifyIndex(e.b);
      if (isConst(cond)) return cond.value ? a : b;
      return { ...e, cond, a, b };
    }
    case "binary":
      break;
    default:
      return e;
  }
  const a = simplifyIndex(e.a);
  const b = simplifyIndex(e.b);
  switch (e.fn) {
    case "add":
    case "mul": {
      if (e.fn === "mul" && !isConst(a) && !isConst(b)) return isConst(a, 0) || isConst(b, 0) ? iconst(0) : mkBinary("mul", a, b);
      return fromLinear(linear(mkBinary(e.fn, a, b)));
    }
    case "idiv":
      return simplifyDiv(a, b);
    case "mod":
      return simplifyMod(a, b);
    case "max":
    case "min":
    case "lt":
    case "eq":
    case "and":
      return simplifyLogic(e, a, b);
    default:
      return unreachable(e);
  }
}

/** a div b, for simplified operands: constant folds, nested divisions, and divisors that split a linear form. */
function simplifyDiv(a: Expr, b: Expr): Expr {
  if (!isConst(b) || b.value <= 0) return mkBinary("idiv", a, b);
  const d = b.value;
  if (d === 1) return a;
  const [lo, hi] = bounds(a);
  // C division truncates; the rules below assume floor, so they need a non-negative dividend.
  if (lo < 0) return mkBinary("idiv", a, b);
  if (hi < d) return iconst(0);
  // (x div c) div d = x div (c·d) for non-negative x.
  if (a.op === "binary" && a.fn === "idiv" && isConst(a.b) && a.b.value > 0 && bounds(a.a)[0] >= 0)
    return simplifyIndex(mkBinary("idiv", a.a, iconst(a.b.value * d)));
  const form = linear(a);
  const { quotient, rest } = splitByDivisor(form, d);
  const [rlo, rhi] = linearBounds(rest);
  if (rlo >= 0 && rhi < d) return fromLinear(quotient);
  if (quotient.terms.size > 0 && rlo >= 0) return simplifyIndex(mkBinary("add", fromLinear(quotient), mkBinary("idiv", fromLinear(rest), b)));
  // (c·q + r) div d = q div (d/c) when c divides d and 0 ≤ r < c.
  const factored = factorDivisor(form, d);
  if (factored) return simplifyIndex(mkBinary("idiv", fromLinear(factored.quotient), iconst(d / factored.c)));
  return mkBinary("idiv", a, b);
}

/** a mod b, for simplified operands: ranges already below the divisor, and divisors that split a linear form. */
function simplifyMod(a: Expr, b: Expr): Expr {
  if (!isConst(b) || b.value <= 0) return mkBinary("mod", a, b);
  const d = b.value;
  if (d === 1) return iconst(0);
  const [lo, hi] = bounds(a);
  if (lo >= 0 && hi < d) return a;
  if (lo < 0) return mkBinary("mod", a, b);
  const form = linear(a);
  const { rest } = splitByDivisor(form, d);
  const restExpr = fromLinear(rest);
  const [rlo, rhi] = bounds(restExpr);
  if (rlo >= 0 && rhi < d) return restExpr;
  // (c·q + r) mod d = c·(q mod (d/c)) + r when c divides d and 0 ≤ r < c.
  const factored = factorDivisor(form, d);
  if (factored) {
    const inner = mkBinary("mod", fromLinear(factored.quotient), iconst(d / factored.c));
    return simplifyIndex(mkBinary("add", mkBinary("mul", inner, iconst(factored.c)), fromLinear(factored.rest)));
  }
  if (rlo >= 0) return mkBinary("mod", restExpr, b);
  return mkBinary("mod", a, b);
}

/** min, max, comparisons and `and` of simplified operands, decided by their ranges where they can be. */
function simplifyLogic(e: Expr & { op: "binary" }, a: Expr, b: Expr): Expr {
  if (isConst(a) && isConst(b)) return iconst(evalBinary(e.fn, a.value, b.value));
  if (e.fn === "max" && bounds(a)[0] >= bounds(b)[1]) return a;
  if (e.fn === "min" && bounds(a)[1] <= bounds(b)[0]) return a;
  if (e.fn === "lt") {
    const [alo, ahi] = bounds(a);
    const [blo, bhi] = bounds(b);
    if (ahi < blo) return iconst(1);
    if (alo >= bhi) return iconst(0);
  }
  if (e.fn === "and") {
    if (isConst(a)) return a.value ? b : iconst(0);
    if (isConst(b)) return b.value ? a : iconst(0);
  }
  return { ...e, a, b };
}

function evalBinary(fn: BinaryOp, x: number, y: number): number {
  switch (fn) {
    case "add":
      return x + y;
    case "mul":
      return x * y;
    case "idiv":
      return Math.trunc(x / y) + 0; // + 0 turns -0 into 0, as integer division in C has no -0
    case "mod":
      return (x % y) + 0;
    case "max":
      return Math.max(x, y);
    case "min":
      return Math.min(x, y);
    case "lt":
      return x < y ? 1 : 0;
    case "eq":
      return x === y ? 1 : 0;
    case "and":
      return x && y ? 1 : 0;
    default:
      return fn satisfies never;
  }
}

/** Evaluate an integer expression for given variable values (the simplifier's test oracle). */
export function evalIndex(e: Expr, vars: Readonly<Record<string, number>>): number {
  switch (e.op) {
    case "const":
      return e.value;
    case "var": {
      const v = vars[e.name];
      if (v === undefined) throw new Error(`evalIndex: no value for ${e.name}`);
      return v;
    }
    case "binary":
      return evalBinary(e.fn, evalIndex(e.a, vars), evalIndex(e.b, vars));
    case "select":
      return evalIndex(e.cond, vars) ? evalIndex(e.a, vars) : evalIndex(e.b, vars);
    default:
      throw new Error(`evalIndex: ${e.op} is not an index expression`);
  }
}

/** Does `e` mention variable `name` inside a division or modulo? (Loops can be merged only when it does not.) */
export function usesDivMod(e: Expr, name: string): boolean {
  const mentions = (x: Expr): boolean => {
    switch (x.op) {
      case "var":
        return x.name === name;
      case "load":
        return mentions(x.index);
      case "unary":
      case "cast":
        return mentions(x.a);
      case "binary":
        return mentions(x.a) || mentions(x.b);
      case "select":
        return mentions(x.cond) || mentions(x.a) || mentions(x.b);
      case "philox":
        return mentions(x.seed) || mentions(x.index);
      default:
        return false;
    }
  };
  const walk = (x: Expr): boolean => {
    switch (x.op) {
      case "binary":
        if ((x.fn === "idiv" || x.fn === "mod") && mentions(x.a)) return true;
        return walk(x.a) || walk(x.b);
      case "load":
        return walk(x.index);
      case "unary":
      case "cast":
        return walk(x.a);
      case "select":
        return walk(x.cond) || walk(x.a) || walk(x.b);
      case "philox":
        return walk(x.seed) || walk(x.index);
      default:
        return false;
    }
  };
  return walk(e);
}

/** Replace variables by expressions throughout `e`. */
export function substituteVars(e: Expr, replace: ReadonlyMap<string, Expr>): Expr {
  switch (e.op) {
    case "var":
      return replace.get(e.name) ?? e;
    case "const":
    case "local":
      return e;
    case "load":
      return { ...e, index: substituteVars(e.index, replace) };
    case "unary":
    case "cast":
      return { ...e, a: substituteVars(e.a, replace) } as Expr;
    case "binary":
      return { ...e, a: substituteVars(e.a, replace), b: substituteVars(e.b, replace) };
    case "select":
      return { ...e, cond: substituteVars(e.cond, replace), a: substituteVars(e.a, replace), b: substituteVars(e.b, replace) };
    case "philox":
      return { ...e, seed: substituteVars(e.seed, replace), index: substituteVars(e.index, replace) };
    default:
      return e satisfies never;
  }
}

/** The direct subexpressions of an expression. */
export function exprChildren(e: Expr): Expr[] {
  switch (e.op) {
    case "load":
      return [e.index];
    case "unary":
    case "cast":
      return [e.a];
    case "binary":
      return [e.a, e.b];
    case "select":
      return [e.cond, e.a, e.b];
    case "philox":
      return [e.seed, e.index];
    default:
      return [];
  }
}

/**
 * Substitute variables and re-simplify the indices that changed. Memoised per call, since lowered
 * expressions are DAGs with much sharing; untouched subexpressions are returned as they are.
 */
export function substituteSimplify(replace: ReadonlyMap<string, Expr>): (e: Expr) => Expr {
  const memo = new Map<Expr, Expr>();
  const go = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: Expr;
    switch (e.op) {
      case "const":
      case "local":
        out = e;
        break;
      case "var":
        out = replace.get(e.name) ?? e;
        break;
      case "load": {
        const index = go(e.index);
        out = index === e.index ? e : { ...e, index: simplifyIndex(index) };
        break;
      }
      case "unary":
      case "cast": {
        const a = go(e.a);
        out = a === e.a ? e : ({ ...e, a } as Expr);
        break;
      }
      case "binary": {
        const [a, b] = [go(e.a), go(e.b)];
        out = a === e.a && b === e.b ? e : e.type === "i32" ? simplifyIndex({ ...e, a, b }) : { ...e, a, b };
        break;
      }
      case "select": {
        const [cond, a, b] = [go(e.cond), go(e.a), go(e.b)];
        out = cond === e.cond && a === e.a && b === e.b ? e : e.type === "i32" ? simplifyIndex({ ...e, cond, a, b }) : { ...e, cond, a, b };
        break;
      }
      case "philox": {
        const [seed, index] = [go(e.seed), go(e.index)];
        out = seed === e.seed && index === e.index ? e : { ...e, seed, index: simplifyIndex(index) };
        break;
      }
      default:
        out = e satisfies never;
    }
    memo.set(e, out);
    return out;
  };
  return go;
}
