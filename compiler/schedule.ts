// L1: the scheduler. It decides which nodes are realized (written to memory) and groups the rest
// into kernels, one template each (after jax-js's splitGraphDataflow; see ARCHITECTURE.md §5):
//   pointwise   elementwise work over one shape, several outputs allowed;
//   reduce      one or more chained reductions over the same rows (softmax, layer_norm, rms_norm
//               are one kernel), with an elementwise prologue and epilogue;
//   gemm        a `dot` with a fused epilogue (bias, activation, residual add, gate multiply);
//   attention   the attention call (forward, and its backward call) as one kernel;
//   scatter     scatter_add;
//   region      a checkpointed call, scheduled on its own so its inside is recomputed.
// Rules: a reduction or a dot is never recomputed; cheap elementwise work is recomputed rather than
// stored; an operand a template reads with strides must be a strided view of a realized buffer.

import { sizeOf, toposort, type Shape, type Tensor } from "./graph.ts";
import { affine, exprKey, type Expr } from "./kernel-ir.ts";
import { ExprLowering, flatIndex, indexVars } from "./lower-expr.ts";
import { inlineCalls, keepsCall, simplifyGraph } from "./passes.ts";
import { templateCallOf } from "./templates.ts";

interface GroupBase {
  id: number;
  /** Realized nodes this kernel computes (stored when read elsewhere or returned). */
  members: Tensor[];
}
export interface PointwiseGroup extends GroupBase { kind: "pointwise"; space: Shape }
export interface ReduceGroup extends GroupBase { kind: "reduce"; space: Shape; axes: readonly number[]; stages: Tensor[] }
export interface GemmGroup extends GroupBase { kind: "gemm"; dot: Tensor }
export interface TemplateGroup extends GroupBase { kind: "attention" | "attention_bwd"; call: Tensor<"call"> }
export interface ScatterGroup extends GroupBase { kind: "scatter"; node: Tensor }
export interface RegionGroup extends GroupBase { kind: "region"; call: Tensor<"call">; inner: Schedule }
/** Independent elementwise kernels run as one (the multi-tensor optimizer update). */
export interface MultiGroup extends GroupBase { kind: "multi"; parts: PointwiseGroup[] }
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

// Elementwise work above this cost is stored rather than recomputed by each consumer.
const RECOMPUTE_LIMIT = 8;
// A single-consumer expression tree larger than this is split, to keep kernels compilable.
const TREE_LIMIT = 96;

const OP_COST: Partial<Record<string, number>> = { exp2: 4, log2: 4, sin: 6, sqrt: 2, recip: 2, random: 24, gather: 2 };
const isMovement = (op: string): boolean => op === "reshape" || op === "permute" || op === "expand" || op === "shrink" || op === "pad" || op === "concat";
const alwaysRealized = (n: Tensor): boolean => n.op === "input" || n.op === "dot" || n.op === "sum" || n.op === "reduce_max" || n.op === "scatter_add" || n.op === "call";

/** Record which leaves an expression reads and at which indices, without emitting code. */
function readsOf(isLeaf: (n: Tensor) => boolean, roots: readonly { node: Tensor; index: readonly Expr[] }[]): Map<Tensor, Expr[][]> {
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
  const strides = node.shape.map((d, k) => (d === 1 ? 0 : form.coeffs.get(`v${k}`) ?? 0));
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

const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

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
function readsAt(reads: Map<Tensor, Expr[][]>, target: Tensor, space: Shape, zeroAxes: readonly number[] = []): boolean {
  const list = reads.get(target);
  if (!list) return true;
  const expected = space.map((d, k) => (d === 1 || zeroAxes.includes(k) ? "i32:0" : `i${k}`));
  if (list.every((index) => index.length === expected.length && index.every((e, k) => exprKey(e) === expected[k]))) return true;
  // A read through a reshape is still the same element when the flat positions agree.
  if (zeroAxes.length || sizeOf(target.shape) !== sizeOf(space)) return false;
  const here = exprKey(flatIndex(indexVars(space, "i"), space));
  return list.every((index) => exprKey(flatIndex(index, target.shape)) === here);
}

export function schedule(outputs: readonly Tensor[], externals: readonly Tensor[] = []): Schedule {
  const roots = simplifyGraph(inlineCalls(outputs));
  const nodes = toposort(roots);
  const consumers = new Map<Tensor, Set<Tensor>>();
  for (const n of nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, new Set()).get(i)!).add(n);

  /** Distinct non-view consumers, looking through chains of views. */
  const fanoutMemo = new Map<Tensor, Set<Tensor>>();
  const viewConsumers = (n: Tensor): Set<Tensor> => {
    const hit = fanoutMemo.get(n);
    if (hit) return hit;
    const out = new Set<Tensor>();
    for (const c of consumers.get(n) ?? []) {
      if (isMovement(c.op) && c.inputs.length === 1) for (const d of viewConsumers(c)) out.add(d);
      else out.add(c);
    }
    fanoutMemo.set(n, out);
    return out;
  };
  const effectiveFanout = (n: Tensor): number => viewConsumers(n).size + (roots.includes(n) ? 1 : 0);
  const rootValues = new Set(roots);
  // 1. What is realized: sources of data, reductions, dots, templates, roots; elementwise work that
  //    several consumers would otherwise recompute at a cost, or whose tree grows too large.
  // A root that only reshapes a value the step computes anyway shares that value's buffer.
  const aliasOf = new Map<Tensor, Tensor>();
  for (const r of roots) {
    const source = r.inputs[0];
    if (r.op === "reshape" && source && source.op !== "input" && source.op !== "const" && source.op !== "iota" && !isMovement(source.op)) aliasOf.set(r, source);
  }
  const realized = new Set<Tensor>([...roots.map((r) => aliasOf.get(r) ?? r), ...externals]);
  const cost = new Map<Tensor, number>();
  for (const n of nodes) {
    if (alwaysRealized(n)) realized.add(n);
    if (realized.has(n) && n.op !== "const" && n.op !== "iota") {
      cost.set(n, 0);
      continue;
    }
    const own = isMovement(n.op) || n.op === "const" || n.op === "iota" ? 0 : OP_COST[n.op] ?? 1;
    const c = own + n.inputs.reduce((s, i) => s + (realized.has(i) ? 0 : cost.get(i) ?? 0), 0);
    // Views are never worth storing on their own: their cost passes on to whoever reads them.
    const fanout = isMovement(n.op) ? 0 : effectiveFanout(n);
    // A scalar is recomputed wherever it is needed (the C compiler hoists it out of the loops).
    const limit = sizeOf(n.shape) === 1 ? TREE_LIMIT : RECOMPUTE_LIMIT;
    if ((fanout > 1 && c > limit) || (c > TREE_LIMIT && !isMovement(n.op))) {
      realized.add(n);
      cost.set(n, 0);
    } else cost.set(n, c);
  }
  // Roots that are constants still need a buffer; constants elsewhere stay inline.
  // 2. Template operands must be strided views of realized buffers.
  const viewOk = (operand: Tensor, unitLast: boolean, foldBatch: boolean): boolean => {
    const view = stridedView(operand, realized);
    const unitOk = !unitLast || (view !== null && (view.strides[view.strides.length - 1] === 1 || operand.shape[operand.shape.length - 1] === 1));
    return view !== null && unitOk && (!foldBatch || batchStride(view, operand.shape) !== null);
  };
  const requireView = (operand: Tensor, unitLast = false, foldBatch = false): void => {
    if (viewOk(operand, unitLast, foldBatch)) return;
    // Prefer realizing the value under a chain of single-input views (a norm's output under the
    // reshape that feeds a GEMM), so the operand becomes a free strided view of it.
    let base = operand;
    while (base.inputs.length === 1 && (base.op === "reshape" || base.op === "permute" || base.op === "expand" || base.op === "shrink")) base = base.inputs[0]!;
    if (base !== operand && base.op !== "input") {
      realized.add(base);
      if (viewOk(operand, unitLast, foldBatch)) return;
    }
    realized.add(operand);
  };
  for (const n of nodes) {
    if (n.op === "dot") n.inputs.forEach((operand) => requireView(operand, false, true));
    if (n.op === "call" && keepsCall(n)) {
      const call = n as Tensor<"call">;
      if (call.attrs.checkpoint) n.inputs.forEach((arg) => realized.add(arg));
      else n.inputs.forEach((arg) => requireView(arg, true));
    }
  }

  // 3. One group per realized node, then merges.
  let nextId = 0;
  const groups = new Map<number, Group>();
  const producer = new Map<Tensor, Group>();
  for (const n of nodes) {
    if (!realized.has(n) || n.op === "input") continue;
    let g: Group;
    if (n.op === "dot") g = { id: nextId++, kind: "gemm", members: [n], dot: n };
    else if (n.op === "sum" || n.op === "reduce_max") {
      const axes = (n as Tensor<"sum">).attrs.axes;
      g = { id: nextId++, kind: "reduce", members: [n], space: n.inputs[0]!.shape, axes, stages: [n] };
    } else if (n.op === "scatter_add") g = { id: nextId++, kind: "scatter", members: [n], node: n };
    else if (n.op === "call") {
      const call = n as Tensor<"call">;
      if (call.attrs.checkpoint) g = { id: nextId++, kind: "region", members: [n], call, inner: schedule([call.attrs.body.out], call.attrs.body.params) };
      else g = { id: nextId++, kind: templateCallOf(call), members: [n], call };
    } else g = { id: nextId++, kind: "pointwise", members: [n], space: n.shape };
    groups.set(g.id, g);
    producer.set(n, g);
  }

  /** Leaves read by a group's own expressions, with their indices. Members that are reductions or
   *  dots are leaves too (held as locals in the kernel); elementwise members are computed inline. */
  const groupReads = (g: Group): Map<Tensor, Expr[][]> => {
    const inside = new Set(g.members);
    const isLeaf = (n: Tensor): boolean => realized.has(n) && !(inside.has(n) && !alwaysRealized(n));
    const at = (node: Tensor, shape: Shape = node.shape) => ({ node, index: indexVars(shape, "i") });
    switch (g.kind) {
      case "pointwise":
        return readsOf(isLeaf, g.members.map((m) => at(m)));
      case "reduce":
        return readsOf(isLeaf, [...g.stages.map((r) => at(r.inputs[0]!, g.space)), ...g.members.filter((m) => !g.stages.includes(m)).map((m) => at(m))]);
      case "gemm": {
        const reads = readsOf(isLeaf, g.members.filter((m) => m !== g.dot).map((m) => at(m)));
        for (const operand of g.dot.inputs) {
          const view = stridedView(operand, realized);
          if (view && !reads.has(view.base)) reads.set(view.base, [[]]);
        }
        return reads;
      }
      case "attention":
      case "attention_bwd":
        return new Map(g.call.inputs.map((operand) => [stridedView(operand, realized)?.base ?? operand, [[]]]));
      case "scatter":
        return readsOf(isLeaf, [at(g.node.inputs[0]!), at(g.node.inputs[1]!)]);
      case "region":
        return new Map(g.call.inputs.map((a) => [a, [[]]]));
      case "multi": {
        const all = new Map<Tensor, Expr[][]>();
        for (const part of g.parts) for (const [leaf, idx] of groupReads(part)) all.set(leaf, [...(all.get(leaf) ?? []), ...idx]);
        return all;
      }
      default:
        return g satisfies never;
    }
  };
  /** Reads of a reduce group's members are consistent with computing them in the same row:
   *  per-row values (stages, and members shaped like a row) broadcast along the reduced axes,
   *  elementwise members at the same element. */
  const rowConsistent = (reads: Map<Tensor, Expr[][]>, p: ReduceGroup): boolean =>
    p.members.every((m) => (isPerRow(p, m) ? readsAt(reads, m, p.space, p.axes) : readsAt(reads, m, p.space)));

  const readCache = new Map<number, Map<Tensor, Expr[][]>>();
  const readsFor = (g: Group): Map<Tensor, Expr[][]> => readCache.get(g.id) ?? (readCache.set(g.id, groupReads(g)), readCache.get(g.id)!);
  const computeDeps = (g: Group): Set<Group> => {
    const found = new Set<Group>();
    for (const leaf of readsFor(g).keys()) {
      const p = producer.get(leaf);
      if (p && p !== g) found.add(p);
    }
    return found;
  };
  // The group graph, kept up to date as groups merge.
  const deps = new Map<Group, Set<Group>>();
  const users = new Map<Group, Set<Group>>();
  const usersOf = (g: Group): Set<Group> => users.get(g) ?? (users.set(g, new Set()), users.get(g)!);
  for (const g of groups.values()) deps.set(g, computeDeps(g));
  for (const [g, ds] of deps) for (const d of ds) usersOf(d).add(g);
  const depsOf = (g: Group): Set<Group> => deps.get(g)!;

  /** Is there a path from `from` to `to` through at least one other group? (Then merging them would make a cycle.) */
  const reachesIndirectly = (from: Group, to: Group): boolean => {
    const seen = new Set<Group>();
    const stack = [...usersOf(from)].filter((u) => u !== to);
    while (stack.length) {
      const g = stack.pop()!;
      if (g === to) return true;
      if (seen.has(g)) continue;
      seen.add(g);
      stack.push(...usersOf(g));
    }
    return false;
  };
  const absorb = (into: Group, from: Group, prependStages = false): void => {
    for (const m of from.members) producer.set(m, into);
    into.members.push(...from.members.filter((m) => !into.members.includes(m)));
    if (into.kind === "reduce" && from.kind === "reduce") into.stages = prependStages ? [...from.stages, ...into.stages] : [...into.stages, ...from.stages];
    groups.delete(from.id);
    readCache.delete(into.id);
    readCache.delete(from.id);
    for (const d of [...depsOf(into), ...depsOf(from)]) {
      usersOf(d).delete(into);
      usersOf(d).delete(from);
    }
    const mergedUsers = new Set([...usersOf(into), ...usersOf(from)]);
    mergedUsers.delete(into);
    mergedUsers.delete(from);
    for (const u of mergedUsers) {
      depsOf(u).delete(from);
      depsOf(u).add(into);
    }
    users.delete(from);
    deps.delete(from);
    users.set(into, mergedUsers);
    const fresh = computeDeps(into);
    deps.set(into, fresh);
    for (const d of fresh) usersOf(d).add(into);
  };

  /** Try one merge of `g` with a group it reads from; returns whether it merged. */
  const mergeOnce = (g: Group): boolean => {
    const reads = readsFor(g);
    for (const leaf of reads.keys()) {
      const p = producer.get(leaf);
      if (!p || p === g || !groups.has(p.id)) continue;
      // Row fusion: an earlier reduction over the same rows, read broadcast along the reduced axes.
      if (g.kind === "reduce" && p.kind === "reduce" && sameShape(p.space, g.space) && p.axes.join() === g.axes.join() && rowConsistent(reads, p) && !reachesIndirectly(p, g)) {
        absorb(g, p, true);
        return true;
      }
      // Elementwise consumers of a reduction join its kernel (per element or per row).
      const rowShape = p.kind === "reduce" ? rowShapeOf(p) : [];
      if (p.kind === "reduce" && g.kind === "pointwise" && (sameShape(g.space, p.space) || sameShape(g.space, rowShape)) && rowConsistent(reads, p) && !reachesIndirectly(p, g)) {
        absorb(p, g);
        return true;
      }
      // Elementwise producer of a reduction's rows: computed inside the row kernel.
      if (g.kind === "reduce" && p.kind === "pointwise" && sameShape(p.space, g.space) && p.members.every((m) => readsAt(reads, m, g.space)) && !reachesIndirectly(p, g)) {
        absorb(g, p);
        return true;
      }
      // GEMM epilogue: elementwise work on the dot's output, read at the same element.
      if (p.kind === "gemm" && g.kind === "pointwise" && sizeOf(g.space) === sizeOf(p.dot.shape) && p.members.every((m) => readsAt(reads, m, g.space)) && !reachesIndirectly(p, g)) {
        absorb(p, g);
        return true;
      }
      // Elementwise producer read at the same element: computed in the consumer's kernel.
      if (p.kind === "pointwise" && g.kind === "pointwise" && sizeOf(p.space) === sizeOf(g.space) && p.members.every((m) => readsAt(reads, m, g.space)) && !reachesIndirectly(p, g)) {
        absorb(g, p);
        return true;
      }
    }
    return false;
  };

  const ordered = (): Group[] => [...groups.values()].sort((a, b) => a.id - b.id);
  let changed = true;
  while (changed) {
    changed = false;
    for (const g of ordered()) {
      // A group absorbed into another since this pass began is skipped; its absorber is revisited.
      let current: Group | undefined = g;
      while (current && groups.has(current.id) && mergeOnce(current)) {
        changed = true;
        current = producer.get(current.members[0]!);
      }
    }
  }

  // Multi-tensor: elementwise kernels whose results leave the step without being read again (the
  // optimizer's updates of every parameter) are independent of each other, so they run as one.
  const terminal = ordered().filter((g): g is PointwiseGroup => g.kind === "pointwise" && usersOf(g).size === 0);
  if (terminal.length > 1) {
    const multi: MultiGroup = { id: nextId++, kind: "multi", members: terminal.flatMap((g) => g.members), parts: terminal };
    const multiDeps = new Set<Group>();
    for (const part of terminal) {
      for (const d of depsOf(part)) {
        multiDeps.add(d);
        usersOf(d).delete(part);
        usersOf(d).add(multi);
      }
      groups.delete(part.id);
      deps.delete(part);
      users.delete(part);
    }
    for (const m of multi.members) producer.set(m, multi);
    groups.set(multi.id, multi);
    deps.set(multi, multiDeps);
    users.set(multi, new Set());
  }

  // 4. Order groups by their dependencies; decide what each stores.
  const order: Group[] = [];
  const state = new Map<Group, number>();
  const visit = (g: Group): void => {
    if (state.get(g) === 2) return;
    if (state.get(g) === 1) throw new Error("schedule: kernels depend on each other in a cycle (scheduler bug)");
    state.set(g, 1);
    for (const d of depsOf(g)) visit(d);
    state.set(g, 2);
    order.push(g);
  };
  for (const g of ordered()) visit(g);
  const rootSet = new Set(roots.map((r) => aliasOf.get(r) ?? r));
  const stored = new Set<Tensor>();
  for (const g of order) for (const leaf of readsFor(g).keys()) if (producer.get(leaf) && producer.get(leaf) !== g) stored.add(leaf);
  for (const g of order) {
    for (const m of g.members) if (rootSet.has(m)) stored.add(m);
    if (isColumnReduce(g)) stored.add((g as ReduceGroup).stages[0]!);
    // Reads inside a reduce or gemm kernel of its own always-realized members are locals, not loads.
  }
  const memory = new Set<Tensor>([...externals, ...stored]);
  for (const n of nodes) if (n.op === "input") memory.add(n);
  return { groups: order, realized: memory, stored, externals: [...externals, ...nodes.filter((n) => n.op === "input" && !externals.includes(n))], roots, aliasOf };
}

/** Number of kernels a schedule runs (a region counts its inner kernels). */
export function kernelCount(s: Schedule): number {
  return s.groups.reduce((n, g) => n + (g.kind === "region" ? kernelCount(g.inner) : 1), 0);
}

export const describeGroup = (g: Group): string =>
  `${g.kind}: ${g.members.map((m) => `${m.op}${m.shape.length ? `[${m.shape.join(",")}]` : ""}`).join(" ")} (${sizeOf(g.members[0]!.shape)} el)`;
