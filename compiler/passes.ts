// Graph passes before scheduling: calls are inlined (their bodies joined to the graph, where CSE
// and fusion see them), except those a backend runs as one kernel (attention) and checkpointed
// calls, which the scheduler keeps as regions recomputed from their arguments.

import { remake, toposort, substitute, type Tensor } from "./graph.ts";
import * as ops from "./ops.ts";
import { TEMPLATE_CALL_NAMES } from "./templates.ts";

/** Calls a backend template runs whole (compiler/templates.ts); everything else is inlined. */
export const TEMPLATE_CALLS: ReadonlySet<string> = new Set(TEMPLATE_CALL_NAMES);

export const keepsCall = (node: Tensor): boolean =>
  node.op === "call" && (TEMPLATE_CALLS.has((node as Tensor<"call">).attrs.name) || (node as Tensor<"call">).attrs.checkpoint);

/** The graph with every inlinable call replaced by its body over the call's arguments. */
export function inlineCalls(roots: readonly Tensor[]): Tensor[] {
  const done = new Map<Tensor, Tensor>();
  for (const node of toposort(roots)) {
    const inputs = node.inputs.map((i) => done.get(i) ?? i);
    if (node.op === "call" && !keepsCall(node)) {
      const { body } = (node as Tensor<"call">).attrs;
      const [inlined] = substitute([body.out], new Map(body.params.map((p, i) => [p, inputs[i]!])));
      // The body may itself contain calls to inline.
      done.set(node, inlineCalls([inlined!])[0]!);
    } else done.set(node, remake(node, inputs));
  }
  return roots.map((r) => done.get(r)!);
}

/** Does this permute swap the last two axes and keep the others? */
const swapsLastTwo = (node: Tensor): boolean => {
  if (node.op !== "permute") return false;
  const { perm } = (node as Tensor<"permute">).attrs;
  const n = perm.length;
  return n >= 2 && perm[n - 1] === n - 2 && perm[n - 2] === n - 1 && perm.slice(0, -2).every((p, i) => p === i);
};

/**
 * Local rewrites that save kernels: a transposed dot (the weight gradient of a linear layer, say)
 * becomes the dot of the transposed operands, which a GEMM reads for free: (A·B)ᵀ = Bᵀ·Aᵀ.
 */
export function simplifyGraph(roots: readonly Tensor[]): Tensor[] {
  const order = toposort(roots);
  const users = new Map<Tensor, number>();
  for (const n of order) for (const i of n.inputs) users.set(i, (users.get(i) ?? 0) + 1);
  for (const r of roots) users.set(r, (users.get(r) ?? 0) + 1);
  const done = new Map<Tensor, Tensor>();
  for (const node of order) {
    const inputs = node.inputs.map((i) => done.get(i) ?? i);
    const source = node.inputs[0];
    if (swapsLastTwo(node) && source?.op === "dot" && users.get(source) === 1) {
      const [a, b] = inputs[0]!.inputs as [Tensor, Tensor];
      done.set(node, ops.dot(ops.transpose(b), ops.transpose(a)));
    } else done.set(node, remake(node, inputs));
  }
  return roots.map((r) => done.get(r)!);
}
