// What every backend's compile() does before code generation, in one place: trace a pure function
// over symbolic inputs built from an example tree, schedule the graph, lower it with donated outputs
// written in place where that is safe, and name the outputs that must be copied back into their
// donated input after each run. Also the host-side checks and conversions of input values.

import {
  input as inputNode,
  param as paramNode,
  isHostArray,
  roundBf16Array,
  roundF16,
  shapeStr,
  sizeOf,
  treeLeaves,
  treeMap,
  isTensor,
  type DType,
  type Pytree,
  type Shape,
  type Tensor,
  schedule,
  type Schedule,
  lowerSchedule,
  type Program,
  inPlaceIsSafe,
  type TemplateSet,
} from "../compiler/index.ts";

/** Shape and dtype of an input leaf, when no example values are given. */
export interface TensorSpec {
  readonly shape: Shape;
  readonly dtype?: DType;
}
export type ExampleLeaf = TensorSpec | { readonly shape: Shape; readonly dtype: DType; readonly data: ArrayLike<number> };
export type TypedArray = Float32Array | Int32Array | Uint8Array;

export interface TraceOptions {
  /**
   * Top-level input keys whose buffers the step may overwrite: each output leaf at the same path
   * (same shape and dtype) is written into the input's buffer, so state is updated in place and
   * stays resident between runs.
   */
  donate?: readonly string[];
  /** Input keys whose leaves are parameters (declared with role "param"); others are plain inputs. */
  params?: readonly string[];
  name?: string;
}

export const isSpec = (x: unknown): x is ExampleLeaf => typeof x === "object" && x !== null && "shape" in x && Array.isArray((x as TensorSpec).shape);

export interface LeafInfo {
  path: string;
  node: Tensor;
  shape: Shape;
  dtype: DType;
}

/** Slash-joined paths of a tree's leaves, object keys sorted (the order treeLeaves uses). */
export function leafPaths(tree: Pytree<unknown>, isLeaf: (x: unknown) => boolean, prefix = ""): string[] {
  if (isLeaf(tree)) return [prefix];
  if (Array.isArray(tree)) return tree.flatMap((t, i) => leafPaths(t, isLeaf, prefix ? `${prefix}/${i}` : String(i)));
  const obj = tree as Record<string, Pytree<unknown>>;
  return Object.keys(obj)
    .sort()
    .flatMap((k) => leafPaths(obj[k]!, isLeaf, prefix ? `${prefix}/${k}` : k));
}

/** A tree of input values as (path, value) pairs. */
export function flattenValues(tree: Pytree<unknown>): [string, unknown][] {
  const isLeaf = (x: unknown): boolean =>
    ArrayBuffer.isView(x) ||
    (Array.isArray(x) && x.every((v) => typeof v === "number")) ||
    typeof x === "number" ||
    isHostArray(x) ||
    (isSpec(x) && "data" in (x as object));
  const paths = leafPaths(tree, isLeaf);
  const leaves = treeLeaves(tree as Pytree<unknown>, ((x: unknown) => isLeaf(x)) as (x: unknown) => x is unknown);
  return paths.map((p, i) => [p, leaves[i]]);
}

/** An input leaf of a compiled step and the program buffer that holds it. */
export interface InputTarget {
  leaf: LeafInfo;
  buffer: number;
}

/** A compiled step's input leaves by path: what set() and input() of every device look values up in. */
export class InputTable {
  private readonly byPath: Map<string, InputTarget>;

  constructor(
    private readonly stepName: string,
    leaves: readonly LeafInfo[],
    buffers: ReadonlyMap<Tensor, number>,
  ) {
    this.byPath = new Map(leaves.map((leaf) => [leaf.path, { leaf, buffer: buffers.get(leaf.node)! }]));
  }

  /** Paths of the input leaves, in sorted order. */
  get paths(): string[] {
    return [...this.byPath.keys()];
  }

  /** The input at `path`; an unknown path is an error naming the method and the inputs there are. */
  get(path: string, method: string): InputTarget {
    const target = this.byPath.get(path);
    if (!target)
      throw new Error(
        `${this.stepName}.${method}: no input '${path}'. Inputs: ${this.paths.slice(0, 20).join(", ")}${this.byPath.size > 20 ? ", …" : ""}`,
      );
    return target;
  }

  /** The targets of a partial tree of values (or a map from path to values), each with its value. */
  assignments(values: Pytree<unknown> | ReadonlyMap<string, unknown>): [InputTarget, unknown][] {
    const entries = values instanceof Map ? [...values.entries()] : flattenValues(values as Pytree<unknown>);
    return entries.map(([path, value]) => [this.get(path, "set"), value]);
  }
}

/** The values of one input leaf, checked against its shape and rounded to its dtype (bf16, f16). */
export function leafValues(leaf: LeafInfo, value: unknown): ArrayLike<number> {
  let data: ArrayLike<number>;
  if (typeof value === "number") data = [value];
  else if (isHostArray(value) || (typeof value === "object" && value !== null && "data" in value && "shape" in value)) {
    const v = value as { shape: Shape; data: ArrayLike<number> };
    if (v.shape.length !== leaf.shape.length || v.shape.some((d, i) => d !== leaf.shape[i]))
      throw new Error(`input '${leaf.path}': expected shape ${shapeStr(leaf.shape)} (${leaf.dtype}), received ${shapeStr(v.shape)}`);
    data = v.data;
  } else data = value as ArrayLike<number>;
  const n = sizeOf(leaf.shape);
  if (data.length !== n)
    throw new Error(`input '${leaf.path}': expected ${n} values for shape ${shapeStr(leaf.shape)} (${leaf.dtype}), received ${data.length}`);
  if (leaf.dtype === "bf16") return roundBf16Array(data);
  if (leaf.dtype === "f16") return Float64Array.from(data, roundF16);
  return data;
}

export interface TracedStep {
  readonly name: string;
  readonly leaves: readonly LeafInfo[];
  readonly outputTree: Pytree<Tensor>;
  readonly outputs: readonly Tensor[];
  readonly outputPaths: readonly string[];
}

let stepCounter = 0;

/** Symbolic inputs for `example`'s leaves, then `fn` over them. */
export function traceStep<E extends Pytree<unknown>>(
  fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>,
  example: E,
  options: TraceOptions = {},
): TracedStep {
  const name = options.name ?? `step${stepCounter++}`;
  const paths = leafPaths(example, isSpec);
  const specs = treeLeaves(example as Pytree<ExampleLeaf>, isSpec);
  const paramKeys = new Set(options.params ?? []);
  const leaves: LeafInfo[] = specs.map((spec, i) => {
    const path = paths[i]!;
    const dtype = spec.dtype ?? "f32";
    const role = paramKeys.has(path.split("/")[0]!) ? "param" : "input";
    const nodeName = path === "" ? "input" : path; // a bare tensor spec as the whole example: its path is ""
    const node = role === "param" ? paramNode(nodeName, spec.shape, dtype) : inputNode(nodeName, spec.shape, dtype);
    return { path, node, shape: spec.shape, dtype };
  });
  const symbolic = treeMap(example as Pytree<ExampleLeaf>, isSpec, (_, i) => leaves[i]!.node);
  const outputTree = fn(symbolic);
  return { name, leaves, outputTree, outputs: treeLeaves(outputTree, isTensor), outputPaths: leafPaths(outputTree, isTensor) };
}

export interface PlannedStep {
  readonly schedule: Schedule;
  readonly program: Program;
  /** Output index → the donated input buffer it is copied into after each run (outputs not written in place). */
  readonly copies: ReadonlyMap<number, number>;
}

/** Schedule and lower a traced step; donated outputs are written into their inputs when that is safe. */
export function planStep(traced: TracedStep, options: TraceOptions & { readonly templates?: TemplateSet } = {}): PlannedStep {
  const { leaves, outputPaths } = traced;
  const sched = schedule(
    traced.outputs,
    leaves.map((l) => l.node),
    options.templates ? { templates: options.templates } : {},
  );
  const donated = new Set(options.donate ?? []);
  const byPath = new Map(leaves.map((l) => [l.path, l]));
  const wanted = new Map<Tensor, Tensor>();
  outputPaths.forEach((p, i) => {
    const leaf = byPath.get(p);
    const out = sched.roots[i]!;
    if (!leaf || !donated.has(p.split("/")[0]!)) return;
    if (leaf.dtype !== out.dtype || shapeStr(leaf.shape) !== shapeStr(out.shape))
      throw new Error(`compile: output '${p}' is ${out.dtype}${shapeStr(out.shape)} but the donated input is ${leaf.dtype}${shapeStr(leaf.shape)}`);
    if (out.op === "input" || traced.outputs.indexOf(traced.outputs[i]!) !== i) return;
    wanted.set(out, leaf.node);
  });
  let program = lowerSchedule(sched, wanted);
  const unsafe = [...wanted].filter(([, input]) => !inPlaceIsSafe(program, program.inputs.get(input)!));
  if (unsafe.length) {
    const safe = new Map([...wanted].filter(([root]) => !unsafe.some(([r]) => r === root)));
    program = lowerSchedule(sched, safe);
  }
  const copies = new Map<number, number>();
  outputPaths.forEach((p, i) => {
    const leaf = byPath.get(p);
    if (!leaf || !donated.has(p.split("/")[0]!)) return;
    const inputBuffer = program.inputs.get(leaf.node)!;
    if (program.outputs[i] !== inputBuffer) copies.set(i, inputBuffer);
  });
  return { schedule: sched, program, copies };
}
