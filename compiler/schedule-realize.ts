// The scheduler's first two passes: which nodes are realized (held in memory). What is not realized
// is recomputed inline by whichever kernel reads it.

import { sizeOf, type Tensor } from "./graph.ts";
import { keepsCall } from "./passes.ts";
import type { TemplateSet } from "./templates.ts";
import { alwaysRealized, batchStride, isMovement, stridedView } from "./schedule-groups.ts";

// Elementwise work above this cost is stored rather than recomputed by each consumer.
const RECOMPUTE_LIMIT = 8;
// A single-consumer expression tree larger than this is split, to keep kernels compilable.
const TREE_LIMIT = 96;

const OP_COST: Partial<Record<string, number>> = { exp2: 4, log2: 4, sin: 6, sqrt: 2, recip: 2, random: 24, gather: 2 };

export interface Realization {
  /** Roots that are reshapes of another value the step computes, and that value (they share its buffer). */
  readonly aliasOf: Map<Tensor, Tensor>;
  readonly realized: Set<Tensor>;
}

/**
 * How many times each node's elements are computed if it is recomputed inline: one per direct
 * non-view consumer, and per chain of views into a non-view consumer the elements that view exposes
 * over the node's own (a consumer that concatenates nine shifted windows of it, as conv2d's columns
 * do, computes each element about nine times; two disjoint halves, once); plus one if it is a root.
 */
function effectiveFanout(roots: readonly Tensor[], nodes: readonly Tensor[]): (n: Tensor) => number {
  const consumers = new Map<Tensor, Tensor[]>();
  for (const n of nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const memo = new Map<Tensor, number>();
  // Elements the non-view consumers reached through `n` read, in units of `n`'s own size.
  const reads = (n: Tensor, through: Tensor): number => {
    let total = 0;
    for (const c of new Set(consumers.get(through) ?? [])) {
      if (isMovement(c.op) && c.inputs.length === 1) total += reads(n, c);
      else total += through === n ? 1 : sizeOf(through.shape) / sizeOf(n.shape);
    }
    return total;
  };
  return (n) => {
    let fanout = memo.get(n);
    if (fanout === undefined) memo.set(n, (fanout = reads(n, n) + (roots.includes(n) ? 1 : 0)));
    return fanout;
  };
}

/**
 * Pass "realize": sources of data, reductions, dots, templates and roots are realized; so is
 * elementwise work that several consumers would otherwise recompute at a cost, or whose expression
 * tree grows too large. A root that only reshapes a value the step computes anyway shares its buffer.
 */
export function realizeByCost(roots: readonly Tensor[], nodes: readonly Tensor[], externals: readonly Tensor[]): Realization {
  const aliasOf = new Map<Tensor, Tensor>();
  for (const r of roots) {
    const source = r.inputs[0];
    const computed = source && source.op !== "input" && source.op !== "const" && source.op !== "iota" && !isMovement(source.op);
    if (r.op === "reshape" && computed) aliasOf.set(r, source);
  }
  const realized = new Set<Tensor>([...roots.map((r) => aliasOf.get(r) ?? r), ...externals]);
  const fanoutOf = effectiveFanout(roots, nodes);
  const cost = new Map<Tensor, number>();
  for (const n of nodes) {
    if (alwaysRealized(n)) realized.add(n);
    // Roots that are constants still need a buffer; constants elsewhere stay inline.
    if (realized.has(n) && n.op !== "const" && n.op !== "iota") {
      cost.set(n, 0);
      continue;
    }
    const own = isMovement(n.op) || n.op === "const" || n.op === "iota" ? 0 : (OP_COST[n.op] ?? 1);
    const c = own + n.inputs.reduce((s, i) => s + (realized.has(i) ? 0 : (cost.get(i) ?? 0)), 0);
    // Views are never worth storing on their own: their cost passes on to whoever reads them.
    const fanout = isMovement(n.op) ? 0 : fanoutOf(n);
    // A scalar is recomputed wherever it is needed (the C compiler hoists it out of the loops).
    const limit = sizeOf(n.shape) === 1 ? TREE_LIMIT : RECOMPUTE_LIMIT;
    if ((fanout > 1 && c > limit) || (c > TREE_LIMIT && !isMovement(n.op))) {
      realized.add(n);
      cost.set(n, 0);
    } else cost.set(n, c);
  }
  return { aliasOf, realized };
}

/** Is `operand` a strided view of a realized buffer (unit innermost stride, batch axes that fold, if asked)? */
function viewOk(operand: Tensor, realized: ReadonlySet<Tensor>, unitLast: boolean, foldBatch: boolean): boolean {
  const view = stridedView(operand, realized);
  if (view === null) return false;
  const unitOk = !unitLast || view.strides[view.strides.length - 1] === 1 || operand.shape[operand.shape.length - 1] === 1;
  return unitOk && (!foldBatch || batchStride(view, operand.shape) !== null);
}

function requireView(operand: Tensor, realized: Set<Tensor>, unitLast: boolean, foldBatch: boolean): void {
  if (viewOk(operand, realized, unitLast, foldBatch)) return;
  // Prefer realizing the value under a chain of single-input views (a norm's output under the
  // reshape that feeds a GEMM), so the operand becomes a free strided view of it.
  let base = operand;
  const isView = (op: string): boolean => op === "reshape" || op === "permute" || op === "expand" || op === "shrink";
  while (base.inputs.length === 1 && isView(base.op)) base = base.inputs[0]!;
  if (base !== operand && base.op !== "input") {
    realized.add(base);
    if (viewOk(operand, realized, unitLast, foldBatch)) return;
  }
  realized.add(operand);
}

/**
 * Pass "operands": a template reads its operands with strides, so each must be a strided view of
 * a realized buffer (a dot's batch axes folding into one stride; an attention operand with unit
 * channel stride); a checkpointed call's arguments are realized whole.
 */
export function realizeTemplateOperands(nodes: readonly Tensor[], realized: Set<Tensor>, templates: TemplateSet): void {
  for (const n of nodes) {
    if (n.op === "dot") n.inputs.forEach((operand) => requireView(operand, realized, false, true));
    if (n.op === "call" && keepsCall(n, templates)) {
      const call = n as Tensor<"call">;
      if (call.attrs.checkpoint) n.inputs.forEach((arg) => realized.add(arg));
      else n.inputs.forEach((arg) => requireView(arg, realized, true, false));
    }
  }
}
