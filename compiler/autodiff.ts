// Reverse-mode autodiff as an L0 → L0 transform: one VJP rule per primitive (the table below is
// exhaustive by type), a short driver that walks the nodes between the wrt set and the output in
// reverse order and sums fan-in. The result is an ordinary graph, so forward and backward fuse
// together and higher-order gradients come for free.

import { isFloat } from "./dtype.ts";
import { GraphError } from "./errors.ts";
import { isTensor, substitute, toposort, treeLeaves, treeMap, type Op, type Pytree, type Tensor } from "./graph.ts";
import * as ops from "./ops.ts";

type Cotangents = readonly (Tensor | null)[];
type VjpRule<O extends Op> = (node: Tensor<O>, ct: Tensor) => Cotangents;

const zerosLike = (t: Tensor): Tensor => ops.full(t.shape, 0, t.dtype);

/** Sum `ct` over the axes where `node`'s input had size 1 but the output does not (undoing expand). */
function unexpand(ct: Tensor, inShape: readonly number[]): Tensor {
  const axes = inShape.flatMap((d, i) => (d === 1 && ct.shape[i] !== 1 ? [i] : []));
  return axes.length ? ops.sum(ct, axes, true) : ct;
}

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

const LN2 = Math.LN2;

const rules: { [O in Op]: VjpRule<O> } = {
  reshape: (node, ct) => [ops.reshape(ct, node.inputs[0]!.shape)],
  permute: (node, ct) => [ops.permute(ct, inversePerm(node.attrs.perm))],
  expand: (node, ct) => [unexpand(ct, node.inputs[0]!.shape)],
  pad: (node, ct) => [
    ops.shrink(
      ct,
      node.attrs.pads.map(([lo], i) => [lo, lo + node.inputs[0]!.shape[i]!] as const),
    ),
  ],
  shrink: (node, ct) => [
    ops.pad(
      ct,
      node.attrs.ranges.map(([start, end], i) => [start, node.inputs[0]!.shape[i]! - end] as const),
    ),
  ],
  concat: (node, ct) => {
    let start = 0;
    return node.inputs.map((part) => {
      const ranges = ct.shape.map((d, i) => (i === node.attrs.axis ? ([start, start + part.shape[i]!] as const) : ([0, d] as const)));
      start += part.shape[node.attrs.axis]!;
      return ops.shrink(ct, ranges);
    });
  },
  neg: (_, ct) => [ops.neg(ct)],
  exp2: (node, ct) => [ops.mul(ct, ops.mul(node, LN2))],
  log2: (node, ct) => [ops.mul(ct, ops.recip(ops.mul(node.inputs[0]!, LN2)))],
  sin: (node, ct) => [ops.mul(ct, ops.sin(ops.add(node.inputs[0]!, Math.PI / 2)))],
  sqrt: (node, ct) => [ops.mul(ct, ops.recip(ops.mul(node, 2)))],
  recip: (node, ct) => [ops.neg(ops.mul(ct, ops.mul(node, node)))],
  cast: (node, ct) => [isFloat(node.inputs[0]!.dtype) ? ops.cast(ct, node.inputs[0]!.dtype) : null],
  add: (_, ct) => [ct, ct],
  mul: (node, ct) => [ops.mul(ct, node.inputs[1]!), ops.mul(ct, node.inputs[0]!)],
  max: (node, ct) => {
    // Ties split the cotangent evenly, so the rule is symmetric (and matches the subgradient's average).
    const [a, b] = node.inputs as [Tensor, Tensor];
    const share = ops.add(ops.cast(ops.cmplt(b, a), ct.dtype), ops.mul(ops.cast(ops.cmpeq(a, b), ct.dtype), 0.5));
    return [ops.mul(ct, share), ops.mul(ct, ops.add(ops.neg(share), 1))];
  },
  cmplt: () => [null, null],
  cmpeq: () => [null, null],
  where: (node, ct) => {
    const cond = node.inputs[0]!;
    return [null, ops.where(cond, ct, 0), ops.where(cond, 0, ct)];
  },
  sum: (node, ct) => [ops.expand(ct, node.inputs[0]!.shape)],
  reduce_max: (node, ct) => {
    // The cotangent goes to the maximal elements, shared equally among ties.
    const x = node.inputs[0]!;
    const hits = ops.cast(ops.cmpeq(x, ops.expand(node, x.shape)), ct.dtype);
    const count = ops.sum(hits, node.attrs.axes, true);
    return [ops.mul(hits, ops.expand(ops.mul(ct, ops.recip(count)), x.shape))];
  },
  dot: (node, ct) => {
    const [a, b] = node.inputs as [Tensor, Tensor];
    return [ops.dot(ct, ops.transpose(b)), ops.dot(ops.transpose(a), ct)];
  },
  const: () => [],
  iota: () => [],
  input: () => [],
  random: () => [null],
  gather: (node, ct) => {
    const [x, indices] = node.inputs as [Tensor, Tensor];
    return [ops.scatterAdd(ct, indices, node.attrs.axis, x.shape[node.attrs.axis]!), null];
  },
  scatter_add: (node, ct) => [ops.gather(ct, node.inputs[1]!, node.attrs.axis), null],
  call: (node, ct) => callVjp(node, ct),
};

/**
 * A call's cotangents: its custom VJP if it has one; for a checkpointed call, one call per argument
 * whose body re-runs the forward from the arguments (so nothing inside is kept from the forward
 * pass; siblings share the recomputation through interning); otherwise the body inlined.
 */
function callVjp(node: Tensor<"call">, ct: Tensor): Cotangents {
  const { name, body, checkpoint, vjp } = node.attrs;
  if (vjp) {
    const result = vjp(node.inputs, node, ct);
    if (result.length !== node.inputs.length)
      throw new GraphError(
        `call ${name}`,
        `custom VJP returned ${result.length} cotangents for ${node.inputs.length} arguments`,
        node.inputs,
        "one cotangent (or null) per argument",
      );
    return result;
  }
  const wrt = body.params.map((p, i) => (isFloat(p.dtype) ? i : -1)).filter((i) => i >= 0);
  if (!checkpoint) {
    const [out] = substitute([body.out], new Map(body.params.map((p, i) => [p, node.inputs[i]!])));
    const grads = backward(
      out!,
      wrt.map((i) => node.inputs[i]!),
      ct,
    );
    return node.inputs.map((_, i) => (wrt.includes(i) ? grads[wrt.indexOf(i)]! : null));
  }
  // One call computes every argument's cotangent, so the forward is recomputed once.
  const cts = ops.callTuple(
    `${name}.vjp`,
    (...args) => {
      const [out] = substitute([body.out], new Map(body.params.map((p, k) => [p, args[k]!])));
      return backward(
        out!,
        wrt.map((i) => args[i]!),
        args[args.length - 1]!,
      );
    },
    [...node.inputs, ct],
  );
  return node.inputs.map((_, i) => (wrt.includes(i) ? cts[wrt.indexOf(i)]! : null));
}

function accumulate(grads: Map<Tensor, Tensor>, node: Tensor, ct: Tensor): void {
  const prev = grads.get(node);
  grads.set(node, prev ? ops.add(prev, ct) : ct);
}

/**
 * Cotangents of `wrt` given the cotangent `ct` of `output`. A wrt node is treated as a variable:
 * gradients stop there. A wrt node the output does not depend on gets zeros.
 */
export function backward(output: Tensor, wrt: readonly Tensor[], ct: Tensor): Tensor[] {
  if (ct.dtype !== output.dtype || ct.shape.length !== output.shape.length || ct.shape.some((d, i) => d !== output.shape[i]))
    throw new GraphError(
      "backward",
      "the cotangent does not match the output",
      [output, ct],
      `a cotangent of ${output.dtype}[${output.shape.join(",")}]`,
    );
  const targets = new Set(wrt);
  // Only nodes on a path from a wrt node to the output carry gradient.
  const order = toposort([output]);
  const onPath = new Set<Tensor>();
  for (const node of order) if (targets.has(node) || node.inputs.some((i) => onPath.has(i))) onPath.add(node);
  const grads = new Map<Tensor, Tensor>([[output, ct]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    const g = grads.get(node);
    if (!g || targets.has(node) || !onPath.has(node)) continue;
    const cts = (rules[node.op] as VjpRule<Op>)(node, g);
    node.inputs.forEach((input, i) => {
      const c = cts[i];
      if (c && onPath.has(input) && isFloat(input.dtype)) accumulate(grads, input, c);
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}

// --- the user-facing transforms ------------------------------------------------------------------

function checkScalar(op: string, out: Tensor): void {
  if (out.shape.length !== 0 || !isFloat(out.dtype))
    throw new GraphError(op, "the function must return a float scalar", [out], "shape [] (reduce with sum or mean first)");
}

/** The VJP of f at `primals`: the output, and a function from an output cotangent to the primals' cotangents. */
export function vjp<P extends Pytree<Tensor>>(f: (primals: P) => Tensor, primals: P): { out: Tensor; vjp: (ct: Tensor) => Pytree<Tensor> } {
  const leaves = treeLeaves(primals, isTensor);
  const out = f(primals);
  return {
    out,
    vjp: (ct) => {
      const grads = backward(out, leaves, ct);
      return treeMap(primals, isTensor, (_, i) => grads[i]!);
    },
  };
}

/** f's value and its gradient with respect to `primals` (a pytree of tensors); f must return a float scalar. */
export function valueAndGrad<P extends Pytree<Tensor>>(f: (primals: P) => Tensor): (primals: P) => [Tensor, Pytree<Tensor>] {
  return (primals) => {
    const { out, vjp: pullback } = vjp(f, primals);
    checkScalar("valueAndGrad", out);
    return [out, pullback(ops.scalar(1, out.dtype))];
  };
}

export function grad<P extends Pytree<Tensor>>(f: (primals: P) => Tensor): (primals: P) => Pytree<Tensor> {
  const vg = valueAndGrad(f);
  return (primals) => vg(primals)[1];
}

/** Identity in the forward pass; blocks gradients in the backward pass. */
export const stopGradient = (x: Tensor): Tensor => ops.call("stop_gradient", (v) => v, [x], { vjp: () => [null] });
