// L0: the graph. A Tensor is an immutable, interned node — structurally equal nodes are the same
// object — so CSE is free, and `hash` (op, dtype, shape, attrs and input hashes; never object
// identity) is a stable cache key across runs. Only this file constructs nodes; ops.ts checks them.

import type { DType } from "./dtype.ts";

export type Shape = readonly number[];

/** A cotangent rule supplied by the user for a `call`: returns one cotangent (or null for none) per argument. */
export type CustomVjp = (args: readonly Tensor[], out: Tensor, cotangent: Tensor) => readonly (Tensor | null)[];

/** The traced subgraph of a `call`: placeholders (op "input", role "arg") and the output built from them. */
export interface CallBody {
  readonly params: readonly Tensor[];
  readonly out: Tensor;
}

/** Each primitive and its attributes. Keys of this interface are the closed op set (ARCHITECTURE.md §3). */
export interface OpAttrs {
  // movement
  reshape: { readonly shape: Shape };
  permute: { readonly perm: readonly number[] };
  expand: { readonly shape: Shape };
  pad: { readonly pads: readonly (readonly [number, number])[] };
  shrink: { readonly ranges: readonly (readonly [number, number])[] };
  concat: { readonly axis: number };
  // unary
  neg: Record<string, never>;
  exp2: Record<string, never>;
  log2: Record<string, never>;
  sin: Record<string, never>;
  sqrt: Record<string, never>;
  recip: Record<string, never>;
  cast: { readonly dtype: DType };
  // binary and ternary
  add: Record<string, never>;
  mul: Record<string, never>;
  max: Record<string, never>;
  cmplt: Record<string, never>;
  cmpeq: Record<string, never>;
  where: Record<string, never>;
  // reductions (keep the reduced axes with size 1)
  sum: { readonly axes: readonly number[] };
  reduce_max: { readonly axes: readonly number[] };
  // contraction: a [...batch, M, K] · b [...batch, K, N] → [...batch, M, N]
  dot: Record<string, never>;
  // sources
  const: { readonly value: number };
  iota: { readonly axis: number };
  input: { readonly name: string; readonly role: "input" | "param" | "arg" };
  random: { readonly offset: number };
  // indexing
  gather: { readonly axis: number };
  scatter_add: { readonly axis: number; readonly size: number };
  // a named subgraph
  call: {
    readonly name: string;
    readonly body: CallBody;
    readonly checkpoint: boolean;
    readonly vjp?: CustomVjp;
    /** Facts a backend template needs (heads, scale, …); part of the node's identity. */
    readonly meta?: Readonly<Record<string, number | boolean | string>>;
  };
}

export type Op = keyof OpAttrs;

export const OPS: readonly Op[] = [
  "reshape",
  "permute",
  "expand",
  "pad",
  "shrink",
  "concat",
  "neg",
  "exp2",
  "log2",
  "sin",
  "sqrt",
  "recip",
  "cast",
  "add",
  "mul",
  "max",
  "cmplt",
  "cmpeq",
  "where",
  "sum",
  "reduce_max",
  "dot",
  "const",
  "iota",
  "input",
  "random",
  "gather",
  "scatter_add",
  "call",
] as const satisfies readonly Op[];

export interface Tensor<O extends Op = Op> {
  /** Process-local identity, used only for interning and ordering; never in cache keys. */
  readonly id: number;
  readonly op: O;
  readonly inputs: readonly Tensor[];
  readonly shape: Shape;
  readonly dtype: DType;
  readonly attrs: OpAttrs[O];
  /** Stable structural hash (16 hex digits). */
  readonly hash: string;
}

export const isOp = <O extends Op>(t: Tensor, op: O): t is Tensor<O> => t.op === op;

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export const shapeStr = (shape: Shape): string => `[${shape.join(",")}]`;

export const describe = (t: Tensor): string => `${t.dtype}${shapeStr(t.shape)}`;

// --- hashing -------------------------------------------------------------------------------------

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over a string's UTF-16 code units (seeds and short tags; hashString below for graph keys). */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** 64-bit FNV-1a over a string, as 16 hex digits (two 32-bit lanes; collisions are not a concern at our graph sizes). */
export function hashString(text: string): string {
  let h1 = FNV_OFFSET;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, FNV_PRIME) ^ (h1 >>> 7);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

/** FNV-1a over the text and a second multiplicative lane, as 12 hex digits: a short stable tag for names in generated code. */
export function textHash(text: string): string {
  let h2 = FNV_PRIME ^ text.length;
  for (let k = 0; k < text.length; k++) h2 = Math.imul(h2 ^ text.charCodeAt(k), 0x5bd1e995);
  return fnv1a32(text).toString(16).padStart(8, "0") + ((h2 >>> 0) & 0xffff).toString(16).padStart(4, "0");
}

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 0;
const functionId = (f: object): number => {
  let id = functionIds.get(f);
  if (id === undefined) functionIds.set(f, (id = nextFunctionId++));
  return id;
};

/** The attributes as text: `local` may use process identities (for interning), `stable` may not (for hashes). */
function attrsKey(op: Op, attrs: OpAttrs[Op], mode: "local" | "stable"): string {
  if (op !== "call") return JSON.stringify(attrs);
  const call = attrs as OpAttrs["call"];
  const body = call.body;
  const bodyKey =
    mode === "local" ? `${body.out.id}(${body.params.map((p) => p.id).join(",")})` : `${body.out.hash}(${body.params.map((p) => p.hash).join(",")})`;
  const vjpKey = call.vjp ? (mode === "local" ? `vjp#${functionId(call.vjp)}` : `vjp:${hashString(call.vjp.toString())}`) : "";
  return `${call.name}|${call.checkpoint}|${bodyKey}|${vjpKey}|${call.meta ? JSON.stringify(call.meta) : ""}`;
}

// --- interning -----------------------------------------------------------------------------------

const interned = new Map<string, WeakRef<Tensor>>();
const registry = new FinalizationRegistry<string>((key) => {
  const ref = interned.get(key);
  if (ref && ref.deref() === undefined) interned.delete(key);
});
let nextId = 0;

/**
 * The one constructor of graph nodes. Callers (ops.ts) have already checked shapes and dtypes;
 * this returns the existing node when an equal one is alive.
 */
export function makeNode<O extends Op>(op: O, inputs: readonly Tensor[], shape: Shape, dtype: DType, attrs: OpAttrs[O]): Tensor<O> {
  const key = `${op}|${dtype}|${shape.join(",")}|${attrsKey(op, attrs, "local")}|${inputs.map((i) => i.id).join(",")}`;
  const existing = interned.get(key)?.deref();
  if (existing) return existing as Tensor<O>;
  const hash = hashString(`${op}|${dtype}|${shape.join(",")}|${attrsKey(op, attrs, "stable")}|${inputs.map((i) => i.hash).join(",")}`);
  const node: Tensor<O> = Object.freeze({
    id: nextId++,
    op,
    inputs: Object.freeze([...inputs]),
    shape: Object.freeze([...shape]),
    dtype,
    attrs: Object.freeze(attrs) as OpAttrs[O],
    hash,
  });
  interned.set(key, new WeakRef(node));
  registry.register(node, key);
  return node;
}

/** The same node with new inputs of the same shapes and dtypes (used by substitution and passes). */
export const remake = <O extends Op>(node: Tensor<O>, inputs: readonly Tensor[]): Tensor<O> =>
  inputs.every((t, i) => t === node.inputs[i]) ? node : makeNode(node.op, inputs, node.shape, node.dtype, node.attrs);

// --- traversal -----------------------------------------------------------------------------------

/** Nodes reachable from `roots`, inputs before users (call bodies are not entered). Iterative, so deep graphs are fine. */
export function toposort(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<number, 1 | 2>();
  const stack: [Tensor, number][] = [];
  for (const root of roots) {
    if (state.has(root.id)) continue;
    stack.push([root, 0]);
    state.set(root.id, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      if (next < node.inputs.length) {
        top[1]++;
        const child = node.inputs[next]!;
        if (!state.has(child.id)) {
          state.set(child.id, 1);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        state.set(node.id, 2);
        order.push(node);
      }
    }
  }
  return order;
}

/**
 * Rebuild `roots` with some nodes replaced: every node on a path from a replaced node to a root is
 * remade over the new inputs. Shapes and dtypes of replacements must equal those they replace.
 */
export function substitute(roots: readonly Tensor[], replacements: ReadonlyMap<Tensor, Tensor>): Tensor[] {
  const done = new Map<Tensor, Tensor>(replacements);
  for (const node of toposort(roots)) {
    if (done.has(node)) continue;
    done.set(
      node,
      remake(
        node,
        node.inputs.map((i) => done.get(i) ?? i),
      ),
    );
  }
  return roots.map((r) => done.get(r)!);
}

// --- pytrees -------------------------------------------------------------------------------------

/** Nested arrays and plain objects with leaves of type T (e.g. a parameter tree of Tensors). */
export type Pytree<T> = T | readonly Pytree<T>[] | { readonly [key: string]: Pytree<T> };

export function treeLeaves<T>(tree: Pytree<T>, isLeaf: (x: unknown) => x is T): T[] {
  const leaves: T[] = [];
  const walk = (node: Pytree<T>): void => {
    if (isLeaf(node)) leaves.push(node);
    else if (Array.isArray(node)) for (const child of node) walk(child);
    else if (node !== null && typeof node === "object") for (const key of Object.keys(node).sort()) walk((node as Record<string, Pytree<T>>)[key]!);
    else throw new Error(`pytree: expected a leaf, an array or a plain object, found ${String(node)}`);
  };
  walk(tree);
  return leaves;
}

/** The tree with each leaf replaced by f(leaf), in the same (sorted-key) order treeLeaves uses. */
export function treeMap<T, U>(tree: Pytree<T>, isLeaf: (x: unknown) => x is T, f: (leaf: T, index: number) => U): Pytree<U> {
  let index = 0;
  const walk = (node: Pytree<T>): Pytree<U> => {
    if (isLeaf(node)) return f(node, index++);
    if (Array.isArray(node)) return node.map(walk);
    const out: Record<string, Pytree<U>> = {};
    for (const key of Object.keys(node).sort()) out[key] = walk((node as Record<string, Pytree<T>>)[key]!);
    return out;
  };
  return walk(tree);
}

export const isTensor = (x: unknown): x is Tensor => typeof x === "object" && x !== null && "op" in x && "hash" in x && "inputs" in x;
