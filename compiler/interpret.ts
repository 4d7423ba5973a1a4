// The reference interpreter: runs any L0 graph in TypeScript. It is the oracle of every test and
// never a production path. Precision "f64" computes every float in float64 (for finite-difference
// gradient checks); "native" rounds each result to its dtype (f32 via Math.fround, bf16/f16 ties to
// even as the hardware converts), so reduced-precision numerics can be checked on the CPU.

import { isFloat, roundTo, type DType } from "./dtype.ts";
import { describe, shapeStr, sizeOf, toposort, treeLeaves, treeMap, isTensor, type Op, type Pytree, type Shape, type Tensor } from "./graph.ts";
import { philoxUniform } from "./philox.ts";

export type Precision = "f64" | "native";

/** A host-side array: row-major values (always float64 storage here; ints and bools hold integral values). */
export interface HostArray {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly data: Float64Array;
}

export type Feed = HostArray | ArrayLike<number> | number;

export const isHostArray = (x: unknown): x is HostArray =>
  typeof x === "object" && x !== null && "shape" in x && "data" in x && "dtype" in x && !("op" in x);

export function hostArray(shape: Shape, data: ArrayLike<number> | ((i: number) => number), dtype: DType = "f32"): HostArray {
  const n = sizeOf(shape);
  const values = typeof data === "function" ? Float64Array.from({ length: n }, (_, i) => data(i)) : Float64Array.from(data);
  if (values.length !== n) throw new Error(`hostArray: ${values.length} values given for shape ${shapeStr(shape)} (${n} elements)`);
  return { shape: [...shape], dtype, data: values };
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Calls f(flatIndex, multiIndex) for every element of `shape` in row-major order. */
function forEachIndex(shape: Shape, f: (flat: number, index: number[]) => void): void {
  const n = sizeOf(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(flat, index);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
}

/** out[i] = src[offset + Σ index[k]·strides[k]] over `shape`: every view op reduces to this. */
function gatherStrided(src: Float64Array, shape: Shape, strides: readonly number[], offset: number): Float64Array {
  const out = new Float64Array(sizeOf(shape));
  forEachIndex(shape, (flat, index) => {
    let at = offset;
    for (let k = 0; k < index.length; k++) at += index[k]! * strides[k]!;
    out[flat] = src[at]!;
  });
  return out;
}

type Env = Map<Tensor, Float64Array>;

export interface InterpretOptions {
  precision?: Precision;
}

/** Evaluate `outputs` (a pytree of tensors) with values for the named inputs and params. */
export function interpret<T extends Pytree<Tensor>>(
  outputs: T,
  feeds: Readonly<Record<string, Feed>>,
  options: InterpretOptions = {},
): Pytree<HostArray> {
  const precision = options.precision ?? "f64";
  const leaves = treeLeaves(outputs, isTensor);
  const env: Env = new Map();
  evaluate(leaves, env, feeds, precision);
  return treeMap(outputs, isTensor, (t) => ({ shape: t.shape, dtype: t.dtype, data: env.get(t)! }));
}

/** Evaluate one tensor and return its host array. */
export function evaluateTensor(t: Tensor, feeds: Readonly<Record<string, Feed>>, options: InterpretOptions = {}): HostArray {
  return interpret(t, feeds, options) as HostArray;
}

function evaluate(roots: readonly Tensor[], env: Env, feeds: Readonly<Record<string, Feed>>, precision: Precision): void {
  for (const node of toposort(roots)) {
    if (env.has(node)) continue;
    const value = evalNode(
      node,
      node.inputs.map((i) => env.get(i)!),
      feeds,
      precision,
    );
    if (value.length !== sizeOf(node.shape)) throw new Error(`interpret: ${node.op} produced ${value.length} values for ${describe(node)}`);
    if (precision === "native" || !isFloat(node.dtype)) for (let i = 0; i < value.length; i++) value[i] = roundTo(node.dtype, value[i]!);
    env.set(node, value);
  }
}

function feedValue(node: Tensor<"input">, feeds: Readonly<Record<string, Feed>>): Float64Array {
  const { name, role } = node.attrs;
  const feed = feeds[name];
  if (feed === undefined) throw new Error(`interpret: no value was given for ${role} '${name}' (${describe(node)})`);
  const n = sizeOf(node.shape);
  if (typeof feed === "number") return new Float64Array(n).fill(feed);
  if (isHostArray(feed)) {
    if (feed.shape.length !== node.shape.length || feed.shape.some((d, i) => d !== node.shape[i]))
      throw new Error(`interpret: ${role} '${name}' expects shape ${shapeStr(node.shape)}, received ${shapeStr(feed.shape)}`);
    return Float64Array.from(feed.data);
  }
  if (feed.length !== n) throw new Error(`interpret: ${role} '${name}' expects ${n} values (${describe(node)}), received ${feed.length}`);
  return Float64Array.from(feed);
}

const UNARY: Record<"neg" | "exp2" | "log2" | "sin" | "sqrt" | "recip", (x: number) => number> = {
  neg: (x) => -x,
  exp2: (x) => 2 ** x,
  log2: Math.log2,
  sin: Math.sin,
  sqrt: Math.sqrt,
  recip: (x) => 1 / x,
};

const BINARY: Record<"add" | "mul" | "max" | "cmplt" | "cmpeq", (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  mul: (x, y) => x * y,
  max: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y)),
  cmplt: (x, y) => (x < y ? 1 : 0),
  cmpeq: (x, y) => (x === y ? 1 : 0),
};

/** What an evaluator needs beyond its node and argument values: the feeds (for inputs) and the precision (for casts and calls). */
interface EvalContext {
  readonly feeds: Readonly<Record<string, Feed>>;
  readonly precision: Precision;
}

/** An op's reference semantics: the values of `node` from the values of its inputs. */
type Evaluator<O extends Op> = (node: Tensor<O>, args: readonly Float64Array[], context: EvalContext) => Float64Array;

/** A view: the input read through strides (and an offset) into the output shape. */
const viewOf =
  <O extends Op>(layout: (node: Tensor<O>, inStrides: number[]) => { strides: readonly number[]; offset: number }): Evaluator<O> =>
  (node, [a]) => {
    const { strides, offset } = layout(node, stridesOf(node.inputs[0]?.shape ?? []));
    return gatherStrided(a!, node.shape, strides, offset);
  };

/** An elementwise op of one argument. */
const unary: Evaluator<keyof typeof UNARY> = (node, [a]) => a!.map(UNARY[node.op]);

/** An elementwise op of two arguments of the same shape. */
const binary: Evaluator<keyof typeof BINARY> = (node, [a, b]) => {
  const f = BINARY[node.op];
  return a!.map((x, i) => f(x, b![i]!));
};

/** Every op's evaluator, by family as in OpAttrs. */
const EVALUATORS: { readonly [O in Op]: Evaluator<O> } = {
  // movement
  reshape: (_node, [a]) => a!.slice(),
  permute: viewOf((node, inStrides) => ({ strides: node.attrs.perm.map((p) => inStrides[p]!), offset: 0 })),
  expand: viewOf((node, inStrides) => {
    const inShape = node.inputs[0]?.shape ?? [];
    return { strides: inStrides.map((s, i) => (inShape[i] === 1 && node.shape[i] !== 1 ? 0 : s)), offset: 0 };
  }),
  shrink: viewOf((node, inStrides) => ({
    strides: inStrides,
    offset: node.attrs.ranges.reduce((o, [start], i) => o + start * inStrides[i]!, 0),
  })),
  pad: evalPad,
  concat: evalConcat,
  // unary
  neg: unary,
  exp2: unary,
  log2: unary,
  sin: unary,
  sqrt: unary,
  recip: unary,
  // f64 mode keeps float casts exact; a cast to an integer type truncates toward zero in both modes.
  cast: (node, [a], { precision }) => (isFloat(node.attrs.dtype) && precision === "f64" ? a!.slice() : a!.map((x) => roundTo(node.attrs.dtype, x))),
  // binary and ternary
  add: binary,
  mul: binary,
  max: binary,
  cmplt: binary,
  cmpeq: binary,
  where: (_node, [cond, a, b]) => cond!.map((c, i) => (c ? a![i]! : b![i]!)),
  // reductions and contraction
  sum: evalReduce,
  reduce_max: evalReduce,
  dot: evalDot,
  // sources
  const: (node) => new Float64Array(sizeOf(node.shape)).fill(node.attrs.value),
  iota: evalIota,
  input: (node, _args, { feeds }) => feedValue(node, feeds),
  random: (node, [seed]) => {
    const out = new Float64Array(sizeOf(node.shape));
    philoxUniform(out, seed![0]!, node.attrs.offset);
    return out;
  },
  // indexing
  gather: evalGather,
  scatter_add: evalScatterAdd,
  // a named subgraph, evaluated in its own environment
  call: (node, args, { feeds, precision }) => {
    const { body } = node.attrs;
    const inner: Env = new Map(body.params.map((p, i) => [p, args[i]!]));
    evaluate([body.out], inner, feeds, precision);
    return inner.get(body.out)!.slice();
  },
};

/** One node's values from its inputs' values, by its op's evaluator. */
function evalNode(node: Tensor, args: Float64Array[], feeds: Readonly<Record<string, Feed>>, precision: Precision): Float64Array {
  // Indexing the table by node.op does not narrow the node's type, so the evaluator is widened here.
  const evaluator = EVALUATORS[node.op] as Evaluator<Op>;
  return evaluator(node, args, { feeds, precision });
}

/** iota: each element's index along the axis. */
function evalIota(node: Tensor<"iota">): Float64Array {
  const { axis } = node.attrs;
  const out = new Float64Array(sizeOf(node.shape));
  forEachIndex(node.shape, (flat, index) => (out[flat] = index[axis]!));
  return out;
}

/** pad: the input written at its offset into zeros. */
function evalPad(node: Tensor, args: readonly Float64Array[]): Float64Array {
  const [a] = args;
  const inShape = node.inputs[0]?.shape ?? [];
  const n = sizeOf(node.shape);
  const { pads } = (node as Tensor<"pad">).attrs;
  const out = new Float64Array(n);
  const outStrides = stridesOf(node.shape);
  forEachIndex(inShape, (flat, index) => {
    let at = 0;
    for (let k = 0; k < index.length; k++) at += (index[k]! + pads[k]![0]) * outStrides[k]!;
    out[at] = a![flat]!;
  });
  return out;
}

/** concat: each part written at its start along the axis. */
function evalConcat(node: Tensor, args: readonly Float64Array[]): Float64Array {
  const n = sizeOf(node.shape);
  const { axis } = (node as Tensor<"concat">).attrs;
  const out = new Float64Array(n);
  const outStrides = stridesOf(node.shape);
  let start = 0;
  node.inputs.forEach((part, p) => {
    forEachIndex(part.shape, (flat, index) => {
      let at = 0;
      for (let k = 0; k < index.length; k++) at += (index[k]! + (k === axis ? start : 0)) * outStrides[k]!;
      out[at] = args[p]![flat]!;
    });
    start += part.shape[axis]!;
  });
  return out;
}

/** sum and reduce_max over the axes the output keeps at 1; NaN propagates through max. */
function evalReduce(node: Tensor, args: readonly Float64Array[]): Float64Array {
  const [a] = args;
  const inShape = node.inputs[0]?.shape ?? [];
  const n = sizeOf(node.shape);
  const isSum = node.op === "sum";
  const out = new Float64Array(n).fill(isSum ? 0 : -Infinity);
  const outStrides = stridesOf(node.shape);
  forEachIndex(inShape, (flat, index) => {
    let at = 0;
    for (let k = 0; k < index.length; k++) if (node.shape[k] !== 1) at += index[k]! * outStrides[k]!;
    const x = a![flat]!;
    out[at] = isSum ? out[at]! + x : Number.isNaN(x) || Number.isNaN(out[at]!) ? NaN : Math.max(out[at]!, x);
  });
  return out;
}

/** dot: a batched [M, K] × [K, N] product, row-major operands. */
function evalDot(node: Tensor, args: readonly Float64Array[]): Float64Array {
  const [a, b] = args;
  const n = sizeOf(node.shape);
  const [sa, sb] = [node.inputs[0]!.shape, node.inputs[1]!.shape];
  const M = sa[sa.length - 2]!;
  const K = sa[sa.length - 1]!;
  const N = sb[sb.length - 1]!;
  const batch = sizeOf(sa.slice(0, -2));
  const out = new Float64Array(n);
  for (let bt = 0; bt < batch; bt++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a![bt * M * K + i * K + k]! * b![bt * K * N + k * N + j]!;
        out[bt * M * N + i * N + j] = acc;
      }
  return out;
}

/** gather: rows of the input along `axis`, an out-of-range index an error. */
function evalGather(node: Tensor, args: readonly Float64Array[]): Float64Array {
  const [a, b] = args;
  const n = sizeOf(node.shape);
  const { axis } = (node as Tensor<"gather">).attrs;
  const x = node.inputs[0]!.shape;
  const inner = sizeOf(x.slice(axis + 1));
  const outer = sizeOf(x.slice(0, axis));
  const count = sizeOf(node.inputs[1]!.shape);
  const out = new Float64Array(n);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < count; j++) {
      const row = b![j]!;
      if (row < 0 || row >= x[axis]!)
        throw new Error(`interpret: gather index ${row} at position ${j} is out of range for axis ${axis} of length ${x[axis]}`);
      for (let i = 0; i < inner; i++) out[(o * count + j) * inner + i] = a![(o * x[axis]! + row) * inner + i]!;
    }
  return out;
}

/** scatter_add: updates summed into rows along `axis`, an out-of-range index an error. */
function evalScatterAdd(node: Tensor, args: readonly Float64Array[]): Float64Array {
  const [a, b] = args;
  const n = sizeOf(node.shape);
  const { axis, size } = (node as Tensor<"scatter_add">).attrs;
  const u = node.inputs[0]!.shape;
  const count = sizeOf(node.inputs[1]!.shape);
  const outer = sizeOf(u.slice(0, axis));
  const inner = sizeOf(u.slice(axis + node.inputs[1]!.shape.length));
  const out = new Float64Array(n);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < count; j++) {
      const row = b![j]!;
      if (row < 0 || row >= size)
        throw new Error(`interpret: scatter_add index ${row} at position ${j} is out of range for an axis of length ${size}`);
      for (let i = 0; i < inner; i++) out[(o * size + row) * inner + i]! += a![(o * count + j) * inner + i]!;
    }
  return out;
}
