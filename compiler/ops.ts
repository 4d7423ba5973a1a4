// The primitive builders: the only public way to make L0 nodes. Each checks its operands at once
// (shapes, dtypes, attributes) and throws a GraphError naming the op and the caller's line.
// Binary ops broadcast NumPy-style by inserting reshape + expand, so the nodes themselves always
// have operands of equal shape.

import { type DType, isFloat, DTYPES } from "./dtype.ts";
import { check, GraphError } from "./errors.ts";
import { makeNode, shapeStr, sizeOf, substitute, toposort, type CallBody, type CustomVjp, type Shape, type Tensor } from "./graph.ts";

export type TensorLike = Tensor | number;

const isInt = (n: number): boolean => Number.isInteger(n);
const validShape = (shape: Shape): boolean => shape.every((d) => isInt(d) && d >= 0);

function normAxis(op: string, axis: number, ndim: number, operands: readonly Tensor[]): number {
  const a = axis < 0 ? axis + ndim : axis;
  check(isInt(axis) && a >= 0 && a < ndim, op, () => `axis ${axis} is out of range for rank ${ndim}`, operands, `an axis in [${-ndim}, ${ndim - 1}]`);
  return a;
}

function normAxes(op: string, axes: readonly number[] | number | undefined, ndim: number, operands: readonly Tensor[]): number[] {
  if (axes === undefined) return [...Array(ndim).keys()];
  const list = (typeof axes === "number" ? [axes] : axes).map((a) => normAxis(op, a, ndim, operands));
  check(new Set(list).size === list.length, op, () => `axes ${JSON.stringify(axes)} repeat an axis`, operands, "distinct axes");
  return list.sort((a, b) => a - b);
}

// --- sources -------------------------------------------------------------------------------------

function checkSource(op: string, shape: Shape, dtype: DType): void {
  check(validShape(shape), op, () => `shape ${shapeStr(shape)} is not a list of non-negative integers`, [], "e.g. [2, 3]");
  check(DTYPES.includes(dtype), op, () => `unknown dtype ${String(dtype)}`, [], DTYPES.join(", "));
}

/** A tensor of the given shape filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = "f32"): Tensor {
  checkSource("const", shape, dtype);
  check(typeof value === "number", "const", () => `value ${String(value)} is not a number`, [], "a number");
  return makeNode("const", [], shape, dtype, { value });
}

export const scalar = (value: number, dtype: DType = "f32"): Tensor => full([], value, dtype);

/** Values 0, 1, 2, … along `axis`, broadcast over the other axes. */
export function iota(shape: Shape, axis: number, dtype: DType = "i32"): Tensor {
  checkSource("iota", shape, dtype);
  check(dtype !== "bool", "iota", () => "dtype bool cannot count", [], "a numeric dtype");
  return makeNode("iota", [], shape, dtype, { axis: normAxis("iota", axis, shape.length, []) });
}

function leaf(role: "input" | "param" | "arg", name: string, shape: Shape, dtype: DType): Tensor {
  checkSource(role, shape, dtype);
  check(typeof name === "string" && name.length > 0, role, () => "the name is empty", [], "a non-empty name");
  return makeNode("input", [], shape, dtype, { name, role });
}

/** A value supplied at run time (data, timesteps, noise seeds). */
export const input = (name: string, shape: Shape, dtype: DType = "f32"): Tensor => leaf("input", name, shape, dtype);
/** A persistent, trainable value (a model weight); its name is the checkpoint key. */
export const param = (name: string, shape: Shape, dtype: DType = "f32"): Tensor => leaf("param", name, shape, dtype);

/**
 * Uniform f32 values in [0, 1) from Philox4x32-10 (see philox.ts for the exact, reproducible
 * definition): element i uses key (seed, 0) and counter (i >> 2, offset, 0, 0), output word i & 3.
 * Nodes with the same seed, shape and offset are the same values; give independent draws distinct offsets.
 */
export function random(seed: Tensor, shape: Shape, offset = 0): Tensor {
  checkSource("random", shape, "f32");
  check(seed.dtype === "i32" && seed.shape.length === 0, "random", () => "the seed must be an i32 scalar", [seed], "i32[]");
  check(
    isInt(offset) && offset >= 0 && offset < 2 ** 32,
    "random",
    () => `offset ${offset} is not a 32-bit unsigned integer`,
    [seed],
    "0 ≤ offset < 2^32",
  );
  return makeNode("random", [seed], shape, "f32", { offset });
}

// --- movement ------------------------------------------------------------------------------------

export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferred = shape.filter((d) => d === -1).length;
  check(inferred <= 1, "reshape", () => `shape ${shapeStr(shape)} has more than one -1`, [x], "at most one inferred (-1) dimension");
  let target = [...shape];
  if (inferred) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    check(
      known > 0 && sizeOf(x.shape) % known === 0,
      "reshape",
      () => `cannot infer -1 in ${shapeStr(shape)} for ${sizeOf(x.shape)} elements`,
      [x],
      `a shape whose known dims divide ${sizeOf(x.shape)}`,
    );
    target = shape.map((d) => (d === -1 ? sizeOf(x.shape) / known : d));
  }
  check(validShape(target), "reshape", () => `target ${shapeStr(shape)} has invalid dimensions`, [x], "non-negative integer dimensions");
  check(
    sizeOf(target) === sizeOf(x.shape),
    "reshape",
    () => `cannot reshape ${sizeOf(x.shape)} elements into ${shapeStr(target)} (${sizeOf(target)} elements)`,
    [x],
    `a shape with ${sizeOf(x.shape)} elements`,
  );
  if (target.length === x.shape.length && target.every((d, i) => d === x.shape[i])) return x;
  return makeNode("reshape", [x], target, x.dtype, { shape: target });
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const n = x.shape.length;
  const ok = perm.length === n && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
  check(
    ok,
    "permute",
    () => `${JSON.stringify(perm)} is not a permutation of the ${n} axes`,
    [x],
    `a permutation of [${[...Array(n).keys()].join(", ")}]`,
  );
  if (perm.every((p, i) => p === i)) return x;
  return makeNode(
    "permute",
    [x],
    perm.map((p) => x.shape[p]!),
    x.dtype,
    { perm: [...perm] },
  );
}

/** Swap two axes (the last two by default). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const n = x.shape.length;
  const perm = [...Array(n).keys()];
  const i = normAxis("transpose", a, n, [x]);
  const j = normAxis("transpose", b, n, [x]);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return permute(x, perm);
}

export function expand(x: Tensor, shape: Shape): Tensor {
  const ok = shape.length === x.shape.length && shape.every((d, i) => x.shape[i] === d || x.shape[i] === 1) && validShape(shape);
  check(
    ok,
    "expand",
    () => `cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`,
    [x],
    "a shape of the same rank where each dimension equals the input's or the input's is 1",
  );
  if (shape.every((d, i) => d === x.shape[i])) return x;
  return makeNode("expand", [x], [...shape], x.dtype, { shape: [...shape] });
}

/** NumPy broadcasting of x to `shape`: prepend size-1 axes, then expand. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  check(
    x.shape.length <= shape.length,
    "broadcast",
    () => `rank ${x.shape.length} is larger than the target ${shapeStr(shape)}`,
    [x],
    "a target of at least the input's rank",
  );
  const padded = [...Array(shape.length - x.shape.length).fill(1), ...x.shape];
  return expand(reshape(x, padded), shape);
}

export function broadcastShapes(op: string, operands: readonly Tensor[], shapes: readonly Shape[] = operands.map((t) => t.shape)): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (dim !== 1 && d !== dim)
        throw new GraphError(
          op,
          `shapes ${shapes.map(shapeStr).join(" and ")} do not broadcast (axis ${i - rank}: ${dim} vs ${d})`,
          operands,
          "trailing dimensions that are equal or 1",
        );
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

export function pad(x: Tensor, pads: readonly (readonly [number, number])[]): Tensor {
  const ok = pads.length === x.shape.length && pads.every(([lo, hi]) => isInt(lo) && isInt(hi) && lo >= 0 && hi >= 0);
  check(
    ok,
    "pad",
    () => `padding ${JSON.stringify(pads)} does not fit rank ${x.shape.length}`,
    [x],
    `${x.shape.length} pairs [before, after] of non-negative integers (use shrink to crop)`,
  );
  if (pads.every(([lo, hi]) => lo === 0 && hi === 0)) return x;
  return makeNode(
    "pad",
    [x],
    x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]),
    x.dtype,
    { pads: pads.map(([a, b]) => [a, b] as const) },
  );
}

export function shrink(x: Tensor, ranges: readonly (readonly [number, number])[]): Tensor {
  const ok = ranges.length === x.shape.length && ranges.every(([s, e], i) => isInt(s) && isInt(e) && s >= 0 && s <= e && e <= x.shape[i]!);
  check(
    ok,
    "shrink",
    () => `ranges ${JSON.stringify(ranges)} do not fit ${shapeStr(x.shape)}`,
    [x],
    "one [start, end) per axis with 0 ≤ start ≤ end ≤ dim",
  );
  if (ranges.every(([s, e], i) => s === 0 && e === x.shape[i])) return x;
  return makeNode(
    "shrink",
    [x],
    ranges.map(([s, e]) => e - s),
    x.dtype,
    { ranges: ranges.map(([a, b]) => [a, b] as const) },
  );
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  check(xs.length > 0, "concat", () => "no tensors were given", [], "at least one tensor");
  const first = xs[0]!;
  const a = normAxis("concat", axis, first.shape.length, xs);
  const ok = xs.every(
    (t) => t.dtype === first.dtype && t.shape.length === first.shape.length && t.shape.every((d, i) => i === a || d === first.shape[i]),
  );
  check(ok, "concat", () => `operands disagree off axis ${a} or in dtype`, xs, `equal dtypes and equal dimensions except along axis ${a}`);
  if (xs.length === 1) return first;
  const shape = first.shape.map((d, i) => (i === a ? xs.reduce((s, t) => s + t.shape[a]!, 0) : d));
  return makeNode("concat", xs, shape, first.dtype, { axis: a });
}

// --- elementwise ---------------------------------------------------------------------------------

function unaryFloat(op: "exp2" | "log2" | "sin" | "sqrt" | "recip", x: Tensor): Tensor {
  check(isFloat(x.dtype), op, () => `dtype ${x.dtype} is not a float`, [x], "f32, bf16 or f16 (cast first)");
  return makeNode(op, [x], x.shape, x.dtype, {});
}

export function neg(x: Tensor): Tensor {
  check(x.dtype !== "bool", "neg", () => "bool cannot be negated", [x], "a numeric dtype");
  return makeNode("neg", [x], x.shape, x.dtype, {});
}
export const exp2 = (x: Tensor): Tensor => unaryFloat("exp2", x);
export const log2 = (x: Tensor): Tensor => unaryFloat("log2", x);
export const sin = (x: Tensor): Tensor => unaryFloat("sin", x);
export const sqrt = (x: Tensor): Tensor => unaryFloat("sqrt", x);
export const recip = (x: Tensor): Tensor => unaryFloat("recip", x);

export function cast(x: Tensor, dtype: DType): Tensor {
  check(DTYPES.includes(dtype), "cast", () => `unknown dtype ${String(dtype)}`, [x], DTYPES.join(", "));
  if (x.dtype === dtype) return x;
  return makeNode("cast", [x], x.shape, dtype, { dtype });
}

/** A number becomes a scalar constant of the other operand's dtype; tensors are broadcast together. */
function operands(op: string, parts: readonly TensorLike[]): Tensor[] {
  const tensors = parts.filter((p): p is Tensor => typeof p !== "number");
  check(tensors.length > 0, op, () => "no operand is a tensor", [], "at least one tensor operand");
  const dtype = tensors[0]!.dtype;
  const lifted = parts.map((p) => (typeof p === "number" ? scalar(p, dtype) : p));
  const shape = broadcastShapes(op, lifted);
  return lifted.map((t) => broadcastTo(t, shape));
}

function binary(op: "add" | "mul" | "max" | "cmplt" | "cmpeq", a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(op, [a, b]) as [Tensor, Tensor];
  check(x.dtype === y.dtype, op, () => `dtypes ${x.dtype} and ${y.dtype} differ`, [x, y], "equal dtypes (cast one operand)");
  const arithmetic = op === "add" || op === "mul" || op === "max";
  check(!arithmetic || x.dtype !== "bool", op, () => "bool operands have no arithmetic", [x, y], "numeric dtypes (cast to i32 or f32)");
  return makeNode(op, [x, y], x.shape, op === "cmplt" || op === "cmpeq" ? "bool" : x.dtype, {});
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary("max", a, b);
export const cmplt = (a: TensorLike, b: TensorLike): Tensor => binary("cmplt", a, b);
export const cmpeq = (a: TensorLike, b: TensorLike): Tensor => binary("cmpeq", a, b);

export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  check(cond.dtype === "bool", "where", () => `the condition has dtype ${cond.dtype}`, [cond], "a bool condition (from cmplt/cmpeq)");
  const values = [a, b].filter((p): p is Tensor => typeof p !== "number");
  const dtype = values[0]?.dtype ?? "f32";
  const [c, x, y] = operands("where", [cond, typeof a === "number" ? scalar(a, dtype) : a, typeof b === "number" ? scalar(b, dtype) : b]) as [
    Tensor,
    Tensor,
    Tensor,
  ];
  check(x.dtype === y.dtype, "where", () => `branch dtypes ${x.dtype} and ${y.dtype} differ`, [x, y], "equal branch dtypes");
  return makeNode("where", [c, x, y], x.shape, x.dtype, {});
}

// --- reductions and contraction ------------------------------------------------------------------

function reduce(op: "sum" | "reduce_max", x: Tensor, axes: readonly number[] | number | undefined, keepdims: boolean): Tensor {
  check(x.dtype !== "bool", op, () => "bool cannot be reduced", [x], "a numeric dtype (cast first)");
  const list = normAxes(op, axes, x.shape.length, [x]);
  if (op === "reduce_max")
    check(
      list.every((a) => x.shape[a]! > 0),
      op,
      () => "max over an empty axis",
      [x],
      "non-empty reduced axes",
    );
  const kept = x.shape.map((d, i) => (list.includes(i) ? 1 : d));
  const node = list.length === 0 ? x : makeNode(op, [x], kept, x.dtype, { axes: list });
  return keepdims
    ? node
    : reshape(
        node,
        x.shape.filter((_, i) => !list.includes(i)),
      );
}

export const sum = (x: Tensor, axes?: readonly number[] | number, keepdims = false): Tensor => reduce("sum", x, axes, keepdims);
export const max = (x: Tensor, axes?: readonly number[] | number, keepdims = false): Tensor => reduce("reduce_max", x, axes, keepdims);

/** Batched matrix product: a [...batch, M, K] · b [...batch, K, N] → [...batch, M, N] (batch dims equal). */
export function dot(a: Tensor, b: Tensor): Tensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  check(
    ra >= 2 && rb >= 2 && ra === rb,
    "dot",
    () => `ranks ${ra} and ${rb} do not match [...batch, M, K] · [...batch, K, N]`,
    [a, b],
    "operands of equal rank ≥ 2 (use matmul to broadcast)",
  );
  check(
    a.shape[ra - 1] === b.shape[rb - 2],
    "dot",
    () => `contracted dimensions differ: K = ${a.shape[ra - 1]} vs ${b.shape[rb - 2]}`,
    [a, b],
    `b.shape[-2] equal to a.shape[-1] = ${a.shape[ra - 1]}`,
  );
  check(
    a.shape.slice(0, -2).every((d, i) => d === b.shape[i]),
    "dot",
    () => "batch dimensions differ",
    [a, b],
    "equal batch dimensions (broadcast with matmul)",
  );
  check(a.dtype === b.dtype && isFloat(a.dtype), "dot", () => `dtypes ${a.dtype} and ${b.dtype}`, [a, b], "two operands of the same float dtype");
  return makeNode("dot", [a, b], [...a.shape.slice(0, -1), b.shape[rb - 1]!], a.dtype, {});
}

// --- indexing ------------------------------------------------------------------------------------

/** out[pre..., j..., post...] = x[pre..., indices[j...], post...]: shape x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  check(indices.dtype === "i32", "gather", () => `indices have dtype ${indices.dtype}`, [x, indices], "i32 indices");
  const a = normAxis("gather", axis, x.shape.length, [x, indices]);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return makeNode("gather", [x, indices], shape, x.dtype, { axis: a });
}

/** The transpose of gather: out (axis of length `size`) accumulates updates[pre..., j..., post...] at indices[j...]. */
export function scatterAdd(updates: Tensor, indices: Tensor, axis: number, size: number): Tensor {
  check(indices.dtype === "i32", "scatter_add", () => `indices have dtype ${indices.dtype}`, [updates, indices], "i32 indices");
  check(
    isInt(size) && size >= 0,
    "scatter_add",
    () => `size ${size} is not a non-negative integer`,
    [updates, indices],
    "the length of the output axis",
  );
  const k = indices.shape.length;
  const ok = axis >= 0 && axis + k <= updates.shape.length && indices.shape.every((d, i) => updates.shape[axis + i] === d);
  check(
    ok,
    "scatter_add",
    () => `updates ${shapeStr(updates.shape)} do not hold indices ${shapeStr(indices.shape)} at axis ${axis}`,
    [updates, indices],
    "updates.shape[axis : axis + indices.ndim] equal to indices.shape",
  );
  check(isFloat(updates.dtype) || updates.dtype === "i32", "scatter_add", () => `dtype ${updates.dtype}`, [updates], "a numeric dtype");
  const shape = [...updates.shape.slice(0, axis), size, ...updates.shape.slice(axis + k)];
  return makeNode("scatter_add", [updates, indices], shape, updates.dtype, { axis, size });
}

// --- call ----------------------------------------------------------------------------------------

export interface CallOptions {
  /** Recompute the body in backward instead of keeping its intermediates. */
  checkpoint?: boolean;
  /** Replaces differentiation of the body. */
  vjp?: CustomVjp;
  /** Facts a backend template needs to run the call as one kernel (e.g. attention's head count). */
  meta?: Readonly<Record<string, number | boolean | string>>;
}

/**
 * A named subgraph: `fn` is traced once over placeholders shaped like `args`. Tensors that the
 * body uses from outside (closures over parameters, say) become extra arguments, so the call
 * depends on its inputs only and can be scheduled, recomputed and differentiated as a unit.
 */
export function call(name: string, fn: (...args: Tensor[]) => Tensor, args: readonly Tensor[], options: CallOptions = {}): Tensor {
  check(name.length > 0, "call", () => "the name is empty", args, "a non-empty name");
  const params = args.map((a, i) => leaf("arg", `${name}:${i}`, a.shape, a.dtype));
  const out = fn(...params);
  if (typeof out !== "object" || out === null || !("hash" in out))
    throw new GraphError("call", `the body of '${name}' did not return a Tensor`, args, "a function returning one Tensor");
  const captured = capturedValues(out, new Set(params));
  if (captured.length === 0) return makeCall(name, { params, out }, args, options);
  // Re-trace with the captured values as further placeholders, so the body is closed.
  const capturedParams = captured.map((c, i) => leaf("arg", `${name}:${args.length + i}`, c.shape, c.dtype));
  const [closedOut] = substitute([out], new Map(captured.map((c, i) => [c, capturedParams[i]!])));
  return makeCall(name, { params: [...params, ...capturedParams], out: closedOut! }, [...args, ...captured], options);
}

/**
 * A call with several results. L0 nodes have one output, so the body returns the results flattened
 * and concatenated (in the widest float dtype among them), and each result is a view of that
 * buffer: a backend fills the slices directly, and nothing is copied.
 */
export function callTuple(name: string, fn: (...args: Tensor[]) => readonly Tensor[], args: readonly Tensor[], options: CallOptions = {}): Tensor[] {
  let shapes: Shape[] = [];
  let dtypes: DType[] = [];
  const packed = call(
    name,
    (...params) => {
      const results = fn(...params);
      shapes = results.map((r) => r.shape);
      dtypes = results.map((r) => r.dtype);
      const wide: DType = dtypes.includes("f32") || new Set(dtypes).size > 1 ? "f32" : dtypes[0]!;
      return concat(
        results.map((r) => reshape(cast(r, wide), [sizeOf(r.shape)])),
        0,
      );
    },
    args,
    options,
  );
  let start = 0;
  return shapes.map((shape, i) => {
    const size = sizeOf(shape);
    const part = cast(reshape(shrink(packed, [[start, start + size]]), shape), dtypes[i]!);
    start += size;
    return part;
  });
}

function makeCall(name: string, body: CallBody, args: readonly Tensor[], options: CallOptions): Tensor {
  const attrs = {
    name,
    body,
    checkpoint: options.checkpoint ?? false,
    ...(options.vjp ? { vjp: options.vjp } : {}),
    ...(options.meta ? { meta: options.meta } : {}),
  };
  return makeNode("call", args, body.out.shape, body.out.dtype, attrs);
}

/** Maximal subgraphs of the body that do not depend on its placeholders but do depend on outside data. */
function capturedValues(out: Tensor, params: ReadonlySet<Tensor>): Tensor[] {
  const onParam = new Set<Tensor>();
  const onData = new Set<Tensor>();
  for (const t of toposort([out])) {
    if (params.has(t)) onParam.add(t);
    else {
      if (t.inputs.some((i) => onParam.has(i))) onParam.add(t);
      const isData = t.op === "input" || t.op === "random" || (t.op === "call" && t.inputs.length > 0);
      if (isData || t.inputs.some((i) => onData.has(i))) onData.add(t);
    }
  }
  const captured = new Set<Tensor>();
  const seen = new Set<Tensor>();
  const stack = [out];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (onParam.has(t)) stack.push(...t.inputs);
    else if (onData.has(t)) captured.add(t);
  }
  return [...captured];
}
