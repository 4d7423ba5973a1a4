// The groups the scheduler forms (one kernel each) and the facts about them that the scheduler and
// the lowering (lower.ts) both read: strided views of realized buffers, rows of a reduce group.

import { sizeOf, type Shape, type Tensor } from "./graph.ts";
import { affine, exprKey, type Expr } from "./kernel-ir.ts";
import { ExprLowering, flatIndex, indexVars } from "./lower-expr.ts";

interface GroupBase {
  id: number;
  /** Realized nodes this kernel computes (stored when read elsewhere or returned). */
  members: Tensor[];
}
export interface PointwiseGroup extends GroupBase {
  kind: "pointwise";
  space: Shape;
}
export interface ReduceGroup extends GroupBase {
  kind: "reduce";
  space: Shape;
  axes: readonly number[];
  stages: Tensor[];
}
export interface GemmGroup extends GroupBase {
  kind: "gemm";
  dot: Tensor;
}
export interface TemplateGroup extends GroupBase {
  kind: "attention" | "attention_bwd";
  call: Tensor<"call">;
}
export interface ScatterGroup extends GroupBase {
  kind: "scatter";
  node: Tensor;
}
export interface RegionGroup extends GroupBase {
  kind: "region";
  call: Tensor<"call">;
  inner: Schedule;
}
/** Independent elementwise kernels run as one (the multi-tensor optimizer update). */
export interface MultiGroup extends GroupBase {
  kind: "multi";
  parts: PointwiseGroup[];
}
export type Group = PointwiseGroup | ReduceGroup | GemmGroup | TemplateGroup | ScatterGroup | RegionGroup | MultiGroup;

export interface Schedule {
  /** Kernels in execution order. */
  readonly groups: readonly Group[];
  /** Every node held in memory: externals, and group outputs that are stored. */
  readonly realized: ReadonlySet<Tensor>;
  /** Members each group must store (read by another group, or a root). */
  readonly stored: ReadonlySet<Tensor>;
  readonly externals: readonly Tensor[];
  readonly roots: readonly Tensor[];
  /** Roots that are reshapes of another stored value, and that value (they share its buffer). */
  readonly aliasOf: ReadonlyMap<Tensor, Tensor>;
}

/** A view of a realized buffer as an offset and one stride per axis. */
export interface StridedView {
  base: Tensor;
  offset: number;
  strides: number[];
}

export const isMovement = (op: string): boolean =>
  op === "reshape" || op === "permute" || op === "expand" || op === "shrink" || op === "pad" || op === "concat";
/** Nodes always held in memory: a reduction or a dot is never recomputed, a template writes its own output. */
export const alwaysRealized = (n: Tensor): boolean =>
  n.op === "input" || n.op === "dot" || n.op === "sum" || n.op === "reduce_max" || n.op === "scatter_add" || n.op === "call";

/** Record which leaves an expression reads and at which indices, without emitting code. */
export function readsOf(isLeaf: (n: Tensor) => boolean, roots: readonly { node: Tensor; index: readonly Expr[] }[]): Map<Tensor, Expr[][]> {
  const found = new Map<Tensor, Expr[][]>();
  const lowering = new ExprLowering({
    isLeaf,
    leaf: (node, index) => {
      const list = found.get(node) ?? [];
      if (!list.some((l) => l.every((e, k) => exprKey(e) === exprKey(index[k]!)))) list.push([...index]);
      found.set(node, list);
      return { op: "local", name: `leaf${node.id}`, type: "f32" };
    },
  });
  for (const { node, index } of roots) lowering.value(node, index);
  return found;
}

/** Is `node` a strided view (offset + strides) of a realized buffer? */
export function stridedView(node: Tensor, realized: ReadonlySet<Tensor>): StridedView | null {
  const vars = indexVars(node.shape, "v");
  let found: { base: Tensor; index: Expr } | null = null;
  let ok = true;
  const lowering = new ExprLowering({
    isLeaf: (n) => realized.has(n),
    leaf: (n, index) => {
      if (found && found.base !== n) ok = false;
      found = { base: n, index: flatIndex(index, n.shape) };
      return { op: "load", buffer: n.id, index: found.index, type: "f32" };
    },
  });
  let value: Expr;
  try {
    value = lowering.value(node, vars);
  } catch {
    return null;
  }
  const hit = found as { base: Tensor; index: Expr } | null;
  if (!ok || !hit || value.op !== "load") return null;
  const form = affine(hit.index);
  if (!form) return null;
  const strides = node.shape.map((d, k) => (d === 1 ? 0 : (form.coeffs.get(`v${k}`) ?? 0)));
  if (form.coeffs.size > strides.filter((s) => s !== 0).length) return null;
  return { base: hit.base, offset: form.constant, strides };
}

/**
 * The single stride of a view's batch axes (all but the last two) when they fold into one
 * row-major batch axis, 0 when there is no batch, null when they do not fold.
 */
export function batchStride(view: StridedView, shape: Shape): number | null {
  const batchAxes = shape.slice(0, -2).flatMap((d, k) => (d > 1 ? [k] : []));
  for (let t = 0; t + 1 < batchAxes.length; t++) {
    const [p, q] = [batchAxes[t]!, batchAxes[t + 1]!];
    if (view.strides[p] !== view.strides[q]! * shape[q]!) return null;
  }
  return batchAxes.length ? view.strides[batchAxes[batchAxes.length - 1]!]! : 0;
}

/**
 * A reduce group that is one sum over leading axes, keeping the innermost axis, with only per-row
 * consumers: lowered with the output row as the accumulator (see lower.ts). Its sum is always stored.
 */
export function isColumnReduce(g: Group): boolean {
  if (g.kind !== "reduce" || g.stages.length !== 1 || g.stages[0]!.op !== "sum") return false;
  const last = g.space.length - 1;
  if (last < 0 || g.axes.includes(last) || g.space[last] === 1) return false;
  return g.members.every((m) => isPerRow(g, m));
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** One row of a reduce group: its space with the reduced axes at 1. */
export const rowShapeOf = (g: ReduceGroup): Shape => g.space.map((d, k) => (g.axes.includes(k) ? 1 : d));

/**
 * Is a member of a reduce group computed once per row (a stage, or a value shaped like a row) rather
 * than once per element? A member reached through a reshape can have another rank than the space
 * (at batch 1, `[1,1,384]` in a `[384]` space), so its size decides, not its axes.
 */
export function isPerRow(g: ReduceGroup, m: Tensor): boolean {
  if (g.stages.includes(m)) return true;
  if (m.shape.length === g.space.length) return g.axes.every((a) => m.shape[a] === 1);
  const size = sizeOf(m.shape);
  return size === sizeOf(rowShapeOf(g)) && size !== sizeOf(g.space);
}

/** Every recorded index of `target` is the generic index of `space` (size-1 axes and `zeroAxes` read as 0). */
export function readsAt(reads: Map<Tensor, Expr[][]>, target: Tensor, space: Shape, zeroAxes: readonly number[] = []): boolean {
  const list = reads.get(target);
  if (!list) return true;
  const expected = space.map((d, k) => (d === 1 || zeroAxes.includes(k) ? "i32:0" : `i${k}`));
  if (list.every((index) => index.length === expected.length && index.every((e, k) => exprKey(e) === expected[k]))) return true;
  // A read through a reshape is still the same element when the flat positions agree.
  if (zeroAxes.length || sizeOf(target.shape) !== sizeOf(space)) return false;
  const here = exprKey(flatIndex(indexVars(space, "i"), space));
  return list.every((index) => exprKey(flatIndex(index, target.shape)) === here);
}
