// From L0 nodes to L2 scalar expressions: the value of a node at a symbolic multi-index, with
// movement ops turned into index arithmetic (views never move data) and realized nodes read from
// their buffers. The scheduler uses the same walk to see which buffers a fused kernel reads and at
// which indices.

import type { DType } from "./dtype.ts";
import { sizeOf, type Shape, type Tensor } from "./graph.ts";
import { stridesOf } from "./interpret.ts";
import { bounds, exprKey, fconst, iconst, simplifyIndex, unreachable, type Expr, type ScalarType } from "./kernel-ir.ts";

export const scalarType = (dtype: DType): ScalarType => (dtype === "i32" ? "i32" : dtype === "bool" ? "bool" : "f32");

export interface LowerContext {
  /** Nodes read from a buffer (or held in a local) rather than computed inline. */
  isLeaf(node: Tensor): boolean;
  /** The value of a leaf at a (simplified) multi-index. */
  leaf(node: Tensor, index: readonly Expr[]): Expr;
}

const add = (a: Expr, b: Expr): Expr => simplifyIndex({ op: "binary", fn: "add", a, b, type: "i32" });
const mul = (a: Expr, c: number): Expr => simplifyIndex({ op: "binary", fn: "mul", a, b: iconst(c), type: "i32" });
const lt = (a: Expr, b: Expr): Expr => simplifyIndex({ op: "binary", fn: "lt", a, b, type: "i32" });
const and = (a: Expr, b: Expr): Expr => simplifyIndex({ op: "binary", fn: "and", a, b, type: "i32" });

/** Row-major flat index of a multi-index into `shape`. */
export function flatIndex(index: readonly Expr[], shape: Shape): Expr {
  const strides = stridesOf(shape);
  return index.reduce<Expr>((acc, e, k) => (shape[k] === 1 ? acc : add(acc, mul(e, strides[k]!))), iconst(0));
}

/** The multi-index into `shape` of a flat row-major index. */
export function unflatIndex(flat: Expr, shape: Shape): Expr[] {
  const strides = stridesOf(shape);
  return shape.map((d, k) =>
    d === 1
      ? iconst(0)
      : simplifyIndex({
          op: "binary",
          fn: "mod",
          a: simplifyIndex({ op: "binary", fn: "idiv", a: flat, b: iconst(strides[k]!), type: "i32" }),
          b: iconst(d),
          type: "i32",
        }),
  );
}

/**
 * The index into `inShape` of the element a reshape to `outShape` puts at `index`. The axes are
 * matched in groups of equal size (an axis split in several, or several merged into one), and each
 * group goes through its own flat index: a window shifted along one axis of a merged pair then reads
 * at a shifted sum, not at divisions and remainders of the whole flat position.
 */
function reshapeIndex(index: readonly Expr[], outShape: Shape, inShape: Shape): Expr[] {
  const result = inShape.map(() => iconst(0));
  let o = 0;
  let i = 0;
  for (;;) {
    while (o < outShape.length && outShape[o] === 1) o++;
    while (i < inShape.length && inShape[i] === 1) i++;
    if (o === outShape.length || i === inShape.length) return result;
    const [o0, i0] = [o, i];
    let outSize = outShape[o++]!;
    let inSize = inShape[i++]!;
    while (outSize !== inSize) {
      if (outSize < inSize) outSize *= outShape[o++]!;
      else inSize *= inShape[i++]!;
    }
    const flat = flatIndex(index.slice(o0, o), outShape.slice(o0, o));
    // Axes merged into one: the sum itself (an index out of range only occurs where a pad or concat masks the read).
    if (i - i0 === 1) result[i0] = flat;
    else unflatIndex(flat, inShape.slice(i0, i)).forEach((e, k) => (result[i0 + k] = e));
  }
}

/** The index of a movement op's input element that its output element at `index` reads (pads and concats need a mask too). */
export function viewIndex(node: Tensor, index: readonly Expr[]): Expr[] {
  const input = node.inputs[0]!;
  switch (node.op) {
    case "reshape":
      return sizeOf(input.shape) === 1 ? input.shape.map(() => iconst(0)) : reshapeIndex(index, node.shape, input.shape);
    case "permute": {
      const { perm } = (node as Tensor<"permute">).attrs;
      const out = new Array<Expr>(perm.length);
      perm.forEach((p, k) => (out[p] = index[k]!));
      return out;
    }
    case "expand":
      return index.map((e, k) => (input.shape[k] === 1 && node.shape[k] !== 1 ? iconst(0) : e));
    case "shrink":
      return index.map((e, k) => add(e, iconst((node as Tensor<"shrink">).attrs.ranges[k]![0])));
    case "pad":
      return index.map((e, k) => add(e, iconst(-(node as Tensor<"pad">).attrs.pads[k]![0])));
    default:
      throw new Error(`viewIndex: ${node.op} is not a single-input view`);
  }
}

/** Lowers nodes to expressions, sharing work: the same (node, index) is lowered once. */
export class ExprLowering {
  private readonly memo = new Map<string, Expr>();
  constructor(private readonly ctx: LowerContext) {}

  value(node: Tensor, index: readonly Expr[]): Expr {
    const key = `${node.id}@${index.map(exprKey).join(",")}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const result = this.ctx.isLeaf(node) ? this.ctx.leaf(node, index.map(simplifyIndex)) : this.compute(node, index);
    this.memo.set(key, result);
    return result;
  }

  private compute(node: Tensor, index: readonly Expr[]): Expr {
    const type = scalarType(node.dtype);
    const arg = (i: number, at: readonly Expr[] = index): Expr => this.value(node.inputs[i]!, at);
    const rounding = node.dtype === "bf16" ? "round_bf16" : node.dtype === "f16" ? "round_f16" : null;
    const round = (e: Expr): Expr => (rounding ? { op: "unary", fn: rounding, a: e, type: "f32" } : e);
    switch (node.op) {
      case "reshape":
      case "permute":
      case "expand":
      case "shrink":
        return arg(0, viewIndex(node, index));
      case "pad":
        return this.padded(node, index, type);
      case "concat":
        return this.concatenated(node, index, type);
      case "neg":
      case "exp2":
      case "log2":
      case "sin":
      case "sqrt":
      case "recip":
        return round({ op: "unary", fn: node.op, a: arg(0), type });
      case "cast": {
        const from = node.inputs[0]!.dtype;
        const a = arg(0);
        if (node.dtype === "bool") {
          const isZero: Expr = { op: "binary", fn: "eq", a, b: { op: "const", value: 0, type: scalarType(from) }, type: "bool" };
          return { op: "select", cond: isZero, a: { op: "const", value: 0, type: "bool" }, b: { op: "const", value: 1, type: "bool" }, type: "bool" };
        }
        return round(scalarType(from) === type ? a : { op: "cast", a, type });
      }
      case "add":
      case "mul":
      case "max":
        return round({ op: "binary", fn: node.op, a: arg(0), b: arg(1), type });
      case "cmplt":
        return { op: "binary", fn: "lt", a: arg(0), b: arg(1), type: "bool" };
      case "cmpeq":
        return { op: "binary", fn: "eq", a: arg(0), b: arg(1), type: "bool" };
      case "where":
        return { op: "select", cond: arg(0), a: arg(1), b: arg(2), type };
      case "const": {
        const { value } = (node as Tensor<"const">).attrs;
        return type === "f32" ? fconst(value) : { op: "const", value, type };
      }
      case "iota": {
        const at = index[(node as Tensor<"iota">).attrs.axis]!;
        return type === "i32" ? at : { op: "cast", a: at, type };
      }
      case "random":
        return { op: "philox", seed: arg(0, []), index: flatIndex(index, node.shape), offset: (node as Tensor<"random">).attrs.offset, type: "f32" };
      case "gather":
        return this.gathered(node, index);
      case "sum":
      case "reduce_max":
      case "dot":
      case "scatter_add":
      case "call":
      case "input":
        throw new Error(`lower: ${node.op} ${node.shape} must be realized before it is read (scheduler bug)`);
      default:
        return unreachable(node.op);
    }
  }

  /** pad: the input where the index falls inside it, zero elsewhere. */
  private padded(node: Tensor, index: readonly Expr[], type: ScalarType): Expr {
    const arg = (i: number, at: readonly Expr[]): Expr => this.value(node.inputs[i]!, at);
    const inner = viewIndex(node, index);
    const dims = node.inputs[0]!.shape;
    let valid: Expr = iconst(1);
    (node as Tensor<"pad">).attrs.pads.forEach(([lo, hi], k) => {
      if (lo > 0) valid = and(valid, lt(iconst(-1), inner[k]!));
      if (hi > 0) valid = and(valid, lt(inner[k]!, iconst(dims[k]!)));
    });
    const zero: Expr = { op: "const", value: 0, type };
    if (valid.op === "const") return valid.value ? arg(0, inner) : zero;
    return { op: "select", cond: valid, a: arg(0, inner), b: zero, type };
  }

  /** concat: a select over the parts, by where the index falls along the axis. */
  private concatenated(node: Tensor, index: readonly Expr[], type: ScalarType): Expr {
    const arg = (i: number, at: readonly Expr[]): Expr => this.value(node.inputs[i]!, at);
    const { axis } = (node as Tensor<"concat">).attrs;
    const starts: number[] = [];
    node.inputs.reduce((s, part) => (starts.push(s), s + part.shape[axis]!), 0);
    let out: Expr | undefined;
    for (let p = node.inputs.length - 1; p >= 0; p--) {
      // Inside its branch the part's index lies in [0, length); saying so (a clamp that is the
      // identity there) lets the simplifier drop the div/mod it would otherwise keep.
      const length = node.inputs[p]!.shape[axis]!;
      const local = add(index[axis]!, iconst(-starts[p]!));
      const [lo, hi] = bounds(local);
      const clamp = (): Expr => {
        const atLeastZero = simplifyIndex({ op: "binary", fn: "max", a: local, b: iconst(0), type: "i32" });
        return simplifyIndex({ op: "binary", fn: "min", a: atLeastZero, b: iconst(length - 1), type: "i32" });
      };
      const inRange = lo >= 0 && hi < length ? local : clamp();
      const at = index.map((e, k) => (k === axis ? inRange : e));
      const value = arg(p, at);
      if (!out) out = value;
      else {
        const cond = lt(index[axis]!, iconst(starts[p + 1]!));
        out = cond.op === "const" ? (cond.value ? value : out) : { op: "select", cond, a: value, b: out, type };
      }
    }
    return out!;
  }

  /** gather: the table's row named by the index tensor. */
  private gathered(node: Tensor, index: readonly Expr[]): Expr {
    const arg = (i: number, at: readonly Expr[]): Expr => this.value(node.inputs[i]!, at);
    const { axis } = (node as Tensor<"gather">).attrs;
    const k = node.inputs[1]!.shape.length;
    const row = arg(1, index.slice(axis, axis + k));
    const bound = node.inputs[0]!.shape[axis]!;
    // Out-of-range indices are clamped so a bad id cannot read outside the table.
    const atLeastZero: Expr = { op: "binary", fn: "max", a: row, b: iconst(0), type: "i32" };
    const clamped: Expr = { op: "binary", fn: "min", a: atLeastZero, b: iconst(bound - 1), type: "i32" };
    const at = [...index.slice(0, axis), clamped, ...index.slice(axis + k)];
    return arg(0, at);
  }
}

/** Generic loop variables for a shape: one per axis (size-1 axes are the constant 0). */
export function indexVars(shape: Shape, prefix: string): Expr[] {
  return shape.map((d, k) => (d === 1 ? iconst(0) : ({ op: "var", name: `${prefix}${k}`, type: "i32", extent: d } as Expr)));
}
