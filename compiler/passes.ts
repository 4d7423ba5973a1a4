// Graph passes before scheduling: calls are inlined (their bodies joined to the graph, where CSE
// and fusion see them), except those a backend runs as one kernel (attention) and checkpointed
// calls, which the scheduler keeps as regions recomputed from their arguments.

import { remake, toposort, substitute, type Tensor } from "./graph.ts";

/** Calls a backend template runs whole; everything else is inlined. */
export const TEMPLATE_CALLS: ReadonlySet<string> = new Set(["attention", "attention_bwd"]);

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
