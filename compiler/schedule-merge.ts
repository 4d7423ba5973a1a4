// The scheduler's grouping passes over the group graph: one group per realized node ("group"),
// merges of a group with a group it reads from ("merge"), and the independent elementwise updates
// of a step joined into one kernel ("multi-tensor").

import { sizeOf, type Shape, type Tensor } from "./graph.ts";
import type { Expr } from "./kernel-ir.ts";
import { indexVars } from "./lower-expr.ts";
import {
  alwaysRealized,
  isPerRow,
  readsAt,
  readsOf,
  rowShapeOf,
  sameShape,
  stridedView,
  type Group,
  type MultiGroup,
  type PointwiseGroup,
  type ReduceGroup,
  type Schedule,
} from "./schedule-groups.ts";
import { templateCallOf, TEMPLATES } from "./templates.ts";

/** Leaves a group reads, each with the indices it reads them at. */
type Reads = Map<Tensor, Expr[][]>;

/** The groups and the dependencies between them, kept up to date as groups merge. */
export interface GroupGraph {
  readonly realized: ReadonlySet<Tensor>;
  readonly groups: Map<number, Group>;
  /** The group computing each realized node. */
  readonly producer: Map<Tensor, Group>;
  readonly deps: Map<Group, Set<Group>>;
  readonly users: Map<Group, Set<Group>>;
  readonly readCache: Map<number, Reads>;
  nextId: number;
}

/** Groups in creation order (the order merges visit them and ties in the final order break). */
export const orderedGroups = (graph: GroupGraph): Group[] => [...graph.groups.values()].sort((a, b) => a.id - b.id);

export const depsOf = (graph: GroupGraph, g: Group): Set<Group> => graph.deps.get(g)!;
const usersOf = (graph: GroupGraph, g: Group): Set<Group> => graph.users.get(g) ?? (graph.users.set(g, new Set()), graph.users.get(g)!);

/** Leaves read by a group's own expressions, with their indices. Members that are reductions or
 *  dots are leaves too (held as locals in the kernel); elementwise members are computed inline. */
function groupReads(g: Group, realized: ReadonlySet<Tensor>): Reads {
  const inside = new Set(g.members);
  const isLeaf = (n: Tensor): boolean => realized.has(n) && !(inside.has(n) && !alwaysRealized(n));
  const at = (node: Tensor, shape: Shape = node.shape) => ({ node, index: indexVars(shape, "i") });
  switch (g.kind) {
    case "pointwise":
      return readsOf(
        isLeaf,
        g.members.map((m) => at(m)),
      );
    case "reduce": {
      const elementwise = g.members.filter((m) => !g.stages.includes(m));
      return readsOf(isLeaf, [...g.stages.map((r) => at(r.inputs[0]!, g.space)), ...elementwise.map((m) => at(m))]);
    }
    case "gemm": {
      const reads = readsOf(
        isLeaf,
        g.members.filter((m) => m !== g.dot).map((m) => at(m)),
      );
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
      const all: Reads = new Map();
      for (const part of g.parts) for (const [leaf, idx] of groupReads(part, realized)) all.set(leaf, [...(all.get(leaf) ?? []), ...idx]);
      return all;
    }
    default:
      return g satisfies never;
  }
}

export const readsFor = (graph: GroupGraph, g: Group): Reads =>
  graph.readCache.get(g.id) ?? (graph.readCache.set(g.id, groupReads(g, graph.realized)), graph.readCache.get(g.id)!);

function computeDeps(graph: GroupGraph, g: Group): Set<Group> {
  const found = new Set<Group>();
  for (const leaf of readsFor(graph, g).keys()) {
    const p = graph.producer.get(leaf);
    if (p && p !== g) found.add(p);
  }
  return found;
}

/** The group a realized node starts in: its template, or pointwise. */
function groupOf(n: Tensor, id: number, scheduleBody: (call: Tensor<"call">) => Schedule): Group {
  if (TEMPLATES.gemm.starts(n)) return { id, kind: "gemm", members: [n], dot: n };
  if (n.op === "sum" || n.op === "reduce_max") {
    const axes = (n as Tensor<"sum">).attrs.axes;
    return { id, kind: "reduce", members: [n], space: n.inputs[0]!.shape, axes, stages: [n] };
  }
  if (n.op === "scatter_add") return { id, kind: "scatter", members: [n], node: n };
  if (n.op === "call") {
    const call = n as Tensor<"call">;
    if (call.attrs.checkpoint) return { id, kind: "region", members: [n], call, inner: scheduleBody(call) };
    return { id, kind: templateCallOf(call), members: [n], call };
  }
  return { id, kind: "pointwise", members: [n], space: n.shape };
}

/** Pass "group": one group per realized node that is not an input, and the graph of their dependencies. */
export function formGroups(nodes: readonly Tensor[], realized: ReadonlySet<Tensor>, scheduleBody: (call: Tensor<"call">) => Schedule): GroupGraph {
  const graph: GroupGraph = { realized, groups: new Map(), producer: new Map(), deps: new Map(), users: new Map(), readCache: new Map(), nextId: 0 };
  for (const n of nodes) {
    if (!realized.has(n) || n.op === "input") continue;
    const g = groupOf(n, graph.nextId++, scheduleBody);
    graph.groups.set(g.id, g);
    graph.producer.set(n, g);
  }
  for (const g of graph.groups.values()) graph.deps.set(g, computeDeps(graph, g));
  for (const [g, ds] of graph.deps) for (const d of ds) usersOf(graph, d).add(g);
  return graph;
}

/** Is there a path from `from` to `to` through at least one other group? (Then merging them would make a cycle.) */
function reachesIndirectly(graph: GroupGraph, from: Group, to: Group): boolean {
  const seen = new Set<Group>();
  const stack = [...usersOf(graph, from)].filter((u) => u !== to);
  while (stack.length) {
    const g = stack.pop()!;
    if (g === to) return true;
    if (seen.has(g)) continue;
    seen.add(g);
    stack.push(...usersOf(graph, g));
  }
  return false;
}

/** `into` takes over the members of `from`; the dependency graph is rewired around the merged group. */
function absorb(graph: GroupGraph, into: Group, from: Group, prependStages: boolean): void {
  for (const m of from.members) graph.producer.set(m, into);
  into.members.push(...from.members.filter((m) => !into.members.includes(m)));
  if (into.kind === "reduce" && from.kind === "reduce")
    into.stages = prependStages ? [...from.stages, ...into.stages] : [...into.stages, ...from.stages];
  graph.groups.delete(from.id);
  graph.readCache.delete(into.id);
  graph.readCache.delete(from.id);
  for (const d of [...depsOf(graph, into), ...depsOf(graph, from)]) {
    usersOf(graph, d).delete(into);
    usersOf(graph, d).delete(from);
  }
  const mergedUsers = new Set([...usersOf(graph, into), ...usersOf(graph, from)]);
  mergedUsers.delete(into);
  mergedUsers.delete(from);
  for (const u of mergedUsers) {
    depsOf(graph, u).delete(from);
    depsOf(graph, u).add(into);
  }
  graph.users.delete(from);
  graph.deps.delete(from);
  graph.users.set(into, mergedUsers);
  const fresh = computeDeps(graph, into);
  graph.deps.set(into, fresh);
  for (const d of fresh) usersOf(graph, d).add(into);
}

/** Reads of a reduce group's members are consistent with computing them in the same row:
 *  per-row values (stages, and members shaped like a row) broadcast along the reduced axes,
 *  elementwise members at the same element. */
const rowConsistent = (reads: Reads, p: ReduceGroup): boolean =>
  p.members.every((m) => (isPerRow(p, m) ? readsAt(reads, m, p.space, p.axes) : readsAt(reads, m, p.space)));

/**
 * When a consumer group `g` may merge with a group `p` it reads from (`reads` are g's reads), and
 * which of the two keeps the merged kernel. Tried in order; the first that fits wins. Every merge
 * also needs no other path from p to g (else the merged kernel would depend on itself).
 */
interface MergeRule {
  fits: (g: Group, p: Group, reads: Reads) => boolean;
  into: "consumer" | "producer";
}
const MERGE_RULES: readonly MergeRule[] = [
  // Row fusion: an earlier reduction over the same rows, read broadcast along the reduced axes.
  {
    fits: (g, p, reads) =>
      g.kind === "reduce" && p.kind === "reduce" && sameShape(p.space, g.space) && p.axes.join() === g.axes.join() && rowConsistent(reads, p),
    into: "consumer",
  },
  // Elementwise consumers of a reduction join its kernel (per element or per row).
  {
    fits: (g, p, reads) =>
      p.kind === "reduce" && g.kind === "pointwise" && (sameShape(g.space, p.space) || sameShape(g.space, rowShapeOf(p))) && rowConsistent(reads, p),
    into: "producer",
  },
  // Elementwise producer of a reduction's rows: computed inside the row kernel.
  {
    fits: (g, p, reads) =>
      g.kind === "reduce" && p.kind === "pointwise" && sameShape(p.space, g.space) && p.members.every((m) => readsAt(reads, m, g.space)),
    into: "consumer",
  },
  // GEMM epilogue: elementwise work on the dot's output, read at the same element.
  {
    fits: (g, p, reads) =>
      p.kind === "gemm" && g.kind === "pointwise" && sizeOf(g.space) === sizeOf(p.dot.shape) && p.members.every((m) => readsAt(reads, m, g.space)),
    into: "producer",
  },
  // Elementwise producer read at the same element: computed in the consumer's kernel.
  {
    fits: (g, p, reads) =>
      p.kind === "pointwise" && g.kind === "pointwise" && sizeOf(p.space) === sizeOf(g.space) && p.members.every((m) => readsAt(reads, m, g.space)),
    into: "consumer",
  },
];

/** Try one merge of `g` with a group it reads from; returns whether it merged. */
function mergeOnce(graph: GroupGraph, g: Group): boolean {
  const reads = readsFor(graph, g);
  for (const leaf of reads.keys()) {
    const p = graph.producer.get(leaf);
    if (!p || p === g || !graph.groups.has(p.id)) continue;
    for (const rule of MERGE_RULES) {
      if (!rule.fits(g, p, reads) || reachesIndirectly(graph, p, g)) continue;
      // Row fusion keeps the producer's stages first: they run first in the row.
      if (rule.into === "consumer") absorb(graph, g, p, true);
      else absorb(graph, p, g, false);
      return true;
    }
  }
  return false;
}

/** Pass "merge": merge groups with groups they read from until no rule applies. */
export function mergeGroups(graph: GroupGraph): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const g of orderedGroups(graph)) {
      // A group absorbed into another since this pass began is skipped; its absorber is revisited.
      let current: Group | undefined = g;
      while (current && graph.groups.has(current.id) && mergeOnce(graph, current)) {
        changed = true;
        current = graph.producer.get(current.members[0]!);
      }
    }
  }
}

/**
 * Pass "multi-tensor": elementwise kernels whose results leave the step without being read again
 * (the optimizer's updates of every parameter) are independent of each other, so they run as one.
 */
export function fuseMultiTensor(graph: GroupGraph): void {
  const terminal = orderedGroups(graph).filter((g): g is PointwiseGroup => g.kind === "pointwise" && usersOf(graph, g).size === 0);
  if (terminal.length <= 1) return;
  const multi: MultiGroup = { id: graph.nextId++, kind: "multi", members: terminal.flatMap((g) => g.members), parts: terminal };
  const multiDeps = new Set<Group>();
  for (const part of terminal) {
    for (const d of depsOf(graph, part)) {
      multiDeps.add(d);
      usersOf(graph, d).delete(part);
      usersOf(graph, d).add(multi);
    }
    graph.groups.delete(part.id);
    graph.deps.delete(part);
    graph.users.delete(part);
  }
  for (const m of multi.members) graph.producer.set(m, multi);
  graph.groups.set(multi.id, multi);
  graph.deps.set(multi, multiDeps);
  graph.users.set(multi, new Set());
}
