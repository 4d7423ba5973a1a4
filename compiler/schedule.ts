// L1: the scheduler. It decides which nodes are realized (written to memory) and groups the rest
// into kernels, one template each (after jax-js's splitGraphDataflow; see ARCHITECTURE.md §5):
//   pointwise   elementwise work over one shape, several outputs allowed;
//   reduce      one or more chained reductions over the same rows (softmax, layer_norm, rms_norm
//               are one kernel), with an elementwise prologue and epilogue;
//   gemm        a `dot` with a fused epilogue (bias, activation, residual add, gate multiply);
//   attention   the attention call (forward, and its backward call) as one kernel;
//   scatter     scatter_add;
//   region      a checkpointed call, scheduled on its own so its inside is recomputed.
//   multi       independent elementwise kernels run as one (the optimizer's update of every parameter).
// Rules: a reduction or a dot is never recomputed; cheap elementwise work is recomputed rather than
// stored; an operand a template reads with strides must be a strided view of a realized buffer.
// The scheduler is a list of passes (below, in `schedule`); KILN_DEBUG=3 prints each one's result.

import { debugLevel, debugLog } from "./debug.ts";
import { describe, sizeOf, toposort, type Tensor } from "./graph.ts";
import { dotsAsSums, inlineCalls, simplifyGraph } from "./passes.ts";
import { isColumnReduce, type Group, type ReduceGroup, type Schedule } from "./schedule-groups.ts";
import { depsOf, formGroups, fuseMultiTensor, mergeGroups, orderedGroups, readsFor, type GroupGraph } from "./schedule-merge.ts";
import { realizeByCost, realizeTemplateOperands } from "./schedule-realize.ts";
import { ALL_TEMPLATES, type TemplateSet } from "./templates.ts";

export type { Group, Schedule } from "./schedule-groups.ts";

export interface ScheduleOptions {
  /**
   * The templates the device runs (compiler/templates.ts; default all): the others are lowered to
   * primitives — calls inlined, dots summed, the optimizer's updates left one kernel each.
   */
  readonly templates?: TemplateSet;
}

/**
 * The passes, in order:
 *   realize       nodes held in memory: always-realized ops, roots, elementwise work too costly to recompute;
 *   operands      template operands made strided views of realized buffers;
 *   group         one group per realized node;
 *   merge         groups merged with groups they read from (row fusion, prologues, epilogues);
 *   multi-tensor  terminal elementwise groups joined into one;
 *   order         groups in dependency order, and the values each must store.
 */
export function schedule(outputs: readonly Tensor[], externals: readonly Tensor[] = [], options: ScheduleOptions = {}): Schedule {
  const templates = options.templates ?? ALL_TEMPLATES;
  const inlined = inlineCalls(outputs, templates);
  const roots = simplifyGraph(templates.has("gemm") ? inlined : dotsAsSums(inlined));
  const nodes = toposort(roots);
  const dumping = debugLevel() >= 3;
  if (dumping) debugLog(3, `schedule: ${roots.length} roots, ${nodes.length} nodes`);
  const { aliasOf, realized } = realizeByCost(roots, nodes, externals);
  if (dumping) dumpRealized("realize", nodes, realized);
  realizeTemplateOperands(nodes, realized, templates);
  if (dumping) dumpRealized("operands", nodes, realized);
  const graph = formGroups(nodes, realized, (call) => schedule([call.attrs.body.out], call.attrs.body.params, options));
  if (dumping) dumpGroups("group", graph, orderedGroups(graph));
  mergeGroups(graph);
  if (dumping) dumpGroups("merge", graph, orderedGroups(graph));
  if (templates.has("multi")) fuseMultiTensor(graph);
  if (dumping) dumpGroups("multi-tensor", graph, orderedGroups(graph));
  const order = orderGroups(graph);
  if (dumping) dumpGroups("order", graph, order);
  const stored = storedValues(graph, order, new Set(roots.map((r) => aliasOf.get(r) ?? r)));
  const memory = new Set<Tensor>([...externals, ...stored]);
  for (const n of nodes) if (n.op === "input") memory.add(n);
  const inputs = nodes.filter((n) => n.op === "input" && !externals.includes(n));
  return { groups: order, realized: memory, stored, externals: [...externals, ...inputs], roots, aliasOf };
}

/** Pass "order": groups in dependency order (depth first, ties broken by creation order). */
function orderGroups(graph: GroupGraph): Group[] {
  const order: Group[] = [];
  const state = new Map<Group, number>();
  const visit = (g: Group): void => {
    if (state.get(g) === 2) return;
    if (state.get(g) === 1) throw new Error("schedule: kernels depend on each other in a cycle (scheduler bug)");
    state.set(g, 1);
    for (const d of depsOf(graph, g)) visit(d);
    state.set(g, 2);
    order.push(g);
  };
  for (const g of orderedGroups(graph)) visit(g);
  return order;
}

/** Members each group must store: read by another group, a root, or a column reduce's accumulator row. */
function storedValues(graph: GroupGraph, order: readonly Group[], rootSet: ReadonlySet<Tensor>): Set<Tensor> {
  const stored = new Set<Tensor>();
  for (const g of order) {
    for (const leaf of readsFor(graph, g).keys()) {
      const p = graph.producer.get(leaf);
      if (p && p !== g) stored.add(leaf);
    }
  }
  for (const g of order) {
    for (const m of g.members) if (rootSet.has(m)) stored.add(m);
    if (isColumnReduce(g)) stored.add((g as ReduceGroup).stages[0]!);
  }
  return stored;
}

function dumpRealized(pass: string, nodes: readonly Tensor[], realized: ReadonlySet<Tensor>): void {
  const lines = nodes.flatMap((n, i) => (realized.has(n) && n.op !== "input" ? [`  %${i} ${n.op} ${describe(n)}`] : []));
  debugLog(3, `schedule pass ${pass}: ${lines.length} realized nodes besides inputs (%i: position in topological order)\n${lines.join("\n")}`);
}

function dumpGroups(pass: string, graph: GroupGraph, groups: readonly Group[]): void {
  const lines = groups.map((g) => {
    const deps = [...(graph.deps.get(g) ?? [])].map((d) => `g${d.id}`);
    return `  g${g.id} ${describeGroup(g)}${deps.length ? ` <- ${deps.join(" ")}` : ""}`;
  });
  debugLog(3, `schedule pass ${pass}: ${groups.length} groups\n${lines.join("\n")}`);
}

/** Number of kernels a schedule runs (a region counts its inner kernels). */
export function kernelCount(s: Schedule): number {
  return s.groups.reduce((n, g) => n + (g.kind === "region" ? kernelCount(g.inner) : 1), 0);
}

export const describeGroup = (g: Group): string =>
  `${g.kind}: ${g.members.map((m) => `${m.op}${m.shape.length ? `[${m.shape.join(",")}]` : ""}`).join(" ")} (${sizeOf(g.members[0]!.shape)} el)`;
