// Graph passes before scheduling: calls are inlined (their bodies joined to the graph, where CSE
// and fusion see them), except those a template of the device runs whole (attention) and
// checkpointed calls, which the scheduler keeps as regions recomputed from their arguments; for a
// device without a GEMM, dots become primitives (compiler/templates.ts says what each template falls
// back to).

import { remake, toposort, substitute, type Tensor } from "./graph.ts";
import * as ops from "./ops.ts";
import { ALL_TEMPLATES, templateOfCall, type TemplateSet } from "./templates.ts";

/** Is this call kept whole: a template call the device runs, or a checkpointed call? */
export const keepsCall = (node: Tensor, templates: TemplateSet = ALL_TEMPLATES): boolean => {
  if (node.op !== "call") return false;
  const { name, checkpoint } = (node as Tensor<"call">).attrs;
  const template = templateOfCall(name);
  return checkpoint === true || (template !== undefined && templates.has(template));
};

/** The graph with every call that is not kept replaced by its body over the call's arguments. */
export function inlineCalls(roots: readonly Tensor[], templates: TemplateSet = ALL_TEMPLATES): Tensor[] {
  const done = new Map<Tensor, Tensor>();
  for (const node of toposort(roots)) {
    const inputs = node.inputs.map((i) => done.get(i) ?? i);
    if (node.op === "call" && !keepsCall(node, templates)) {
      const { body } = (node as Tensor<"call">).attrs;
      const [inlined] = substitute([body.out], new Map(body.params.map((p, i) => [p, inputs[i]!])));
      // The body may itself contain calls to inline.
      done.set(node, inlineCalls([inlined!], templates)[0]!);
    } else done.set(node, remake(node, inputs));
  }
  return roots.map((r) => done.get(r)!);
}

/**
 * The GEMM template's primitives: a·b for a [...batch, M, K] and b [...batch, K, N] as the product
 * of a [..., M, K, 1] and b [..., 1, K, N] broadcast to [..., M, K, N], summed over K in f32 (as a
 * GEMM accumulates), then rounded to the dot's dtype.
 */
export function dotAsSum(a: Tensor, b: Tensor): Tensor {
  const rank = a.shape.length;
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[rank - 1]!;
  const batch = a.shape.slice(0, -2);
  const wide = (t: Tensor): Tensor => (t.dtype === "f32" ? t : ops.cast(t, "f32"));
  const full = [...batch, m, k, n];
  const left = ops.expand(ops.reshape(wide(a), [...batch, m, k, 1]), full);
  const right = ops.expand(ops.reshape(wide(b), [...batch, 1, k, n]), full);
  const sum = ops.sum(ops.mul(left, right), [rank - 1]);
  return a.dtype === "f32" ? sum : ops.cast(sum, a.dtype);
}

/** The graph with every dot as its primitives (dotAsSum): for a device that runs no GEMM. */
export function dotsAsSums(roots: readonly Tensor[]): Tensor[] {
  const done = new Map<Tensor, Tensor>();
  for (const node of toposort(roots)) {
    const inputs = node.inputs.map((i) => done.get(i) ?? i);
    done.set(node, node.op === "dot" ? dotAsSum(inputs[0]!, inputs[1]!) : remake(node, inputs));
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
