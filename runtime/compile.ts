// compile(fn, example, { device, donate }): trace a pure function over symbolic inputs, schedule
// and lower the graph, generate and compile the C, and return a CompiledStep that runs the whole
// step (a training step, a sampling step) with one native call.

import koffi from "koffi";
import {
  debugLevel, debugLog, graphText, input as inputNode, param as paramNode, isHostArray, isTensor, roundBf16, roundF16, shapeStr, sizeOf,
  treeLeaves, treeMap, type DType, type Pytree, type Shape, type Tensor,
} from "../compiler/index.ts";
import { schedule, kernelCount, describeGroup, type Schedule } from "../compiler/schedule.ts";
import { lowerSchedule, type Program } from "../compiler/lower.ts";
import { planArena, type ArenaPlan } from "../compiler/memory-plan.ts";
import { renderC } from "../compiler/codegen/c.ts";
import { inPlaceIsSafe } from "../compiler/donation.ts";
import { cpuTemplatePrelude } from "../kernels/cpu/index.ts";
import { compileC, evict, type CompiledLibrary } from "./cpu/toolchain.ts";
import { allocate, type NativeBlock } from "./cpu/native.ts";

/** Shape and dtype of an input leaf, when no example values are given. */
export interface TensorSpec {
  readonly shape: Shape;
  readonly dtype?: DType;
}
export type ExampleLeaf = TensorSpec | { readonly shape: Shape; readonly dtype: DType; readonly data: ArrayLike<number> };
export type TypedArray = Float32Array | Int32Array | Uint8Array;

export interface CompileOptions {
  device?: "cpu" | "cuda";
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

const isSpec = (x: unknown): x is ExampleLeaf => typeof x === "object" && x !== null && "shape" in x && Array.isArray((x as TensorSpec).shape);

interface LeafInfo {
  path: string;
  node: Tensor;
  shape: Shape;
  dtype: DType;
}

function leafPaths(tree: Pytree<unknown>, isLeaf: (x: unknown) => boolean, prefix = ""): string[] {
  if (isLeaf(tree)) return [prefix];
  if (Array.isArray(tree)) return tree.flatMap((t, i) => leafPaths(t, isLeaf, prefix ? `${prefix}/${i}` : String(i)));
  const obj = tree as Record<string, Pytree<unknown>>;
  return Object.keys(obj).sort().flatMap((k) => leafPaths(obj[k]!, isLeaf, prefix ? `${prefix}/${k}` : k));
}

const storageBytes = (dtype: DType): number => (dtype === "bool" ? 1 : 4);

function viewFor(block: NativeBlock, offset: number, dtype: DType, count: number): TypedArray {
  if (dtype === "i32") return new Int32Array(block.view, offset, count);
  if (dtype === "bool") return new Uint8Array(block.view, offset, count);
  return new Float32Array(block.view, offset, count);
}

export interface KernelStat {
  name: string;
  comment: string;
  template: string;
  flops: number;
  bytes: number;
}

/** A compiled step: its inputs stay resident in native memory between runs. */
export class CompiledStep {
  private readonly blocks: NativeBlock[] = [];
  private readonly table: BigUint64Array;
  private readonly views = new Map<number, TypedArray>();
  private readonly step: (table: BigUint64Array, times: Float64Array | null) => number;
  private readonly inputByPath: Map<string, { leaf: LeafInfo; buffer: number }>;
  private readonly outputLeaves: { path: string; buffer: number; copyTo?: number }[];
  private readonly times: Float64Array;
  private disposed = false;
  runs = 0;

  constructor(
    readonly name: string,
    readonly program: Program,
    readonly arena: ArenaPlan,
    readonly library: CompiledLibrary,
    inputs: readonly LeafInfo[],
    private readonly outputTree: Pytree<Tensor>,
    outputPaths: readonly string[],
    copies: ReadonlyMap<number, number>,
    readonly compileSeconds: { trace: number; schedule: number; codegen: number; cc: number },
  ) {
    const lib = koffi.load(library.library);
    this.step = lib.func("int kiln_step(void* table, double* times)") as (t: BigUint64Array, times: Float64Array | null) => number;
    this.table = new BigUint64Array(program.buffers.length);
    this.times = new Float64Array(program.kernels.length);
    const arenaBlock = allocate(arena.bytes);
    this.blocks.push(arenaBlock);
    for (const b of program.buffers) {
      const count = Math.max(b.size, 1);
      if (b.kind === "temp") {
        const offset = arena.offsets.get(b.id);
        if (offset === undefined) continue; // never touched by a kernel
        this.table[b.id] = arenaBlock.address + BigInt(offset);
        this.views.set(b.id, viewFor(arenaBlock, offset, b.dtype, count));
        continue;
      }
      if (this.table[b.id] !== 0n) continue;
      const block = allocate(count * storageBytes(b.dtype));
      this.blocks.push(block);
      this.table[b.id] = block.address;
      this.views.set(b.id, viewFor(block, 0, b.dtype, count));
    }
    this.inputByPath = new Map(inputs.map((leaf) => [leaf.path, { leaf, buffer: program.inputs.get(leaf.node)! }]));
    this.outputLeaves = outputPaths.map((path, i) => {
      const buffer = program.outputs[i]!;
      const copyTo = copies.get(i);
      return copyTo === undefined ? { path, buffer } : { path, buffer, copyTo };
    });
  }

  /** Number of kernels one run launches. */
  get kernelCount(): number {
    return this.program.kernels.length;
  }

  get kernels(): KernelStat[] {
    return this.program.kernels.map((k) => ({ name: k.name, comment: k.comment, template: k.template, flops: k.flops, bytes: k.bytes }));
  }

  /** Paths of the input leaves, in sorted order. */
  get inputPaths(): string[] {
    return [...this.inputByPath.keys()];
  }

  /** Copy values into input leaves (a partial tree, or a map from path to values). They stay resident. */
  set(values: Pytree<unknown> | ReadonlyMap<string, unknown>): void {
    this.check();
    const entries = values instanceof Map ? [...values.entries()] : flattenValues(values as Pytree<unknown>);
    for (const [path, value] of entries) {
      const target = this.inputByPath.get(path);
      if (!target) throw new Error(`${this.name}.set: no input '${path}'. Inputs: ${this.inputPaths.slice(0, 20).join(", ")}${this.inputByPath.size > 20 ? ", …" : ""}`);
      writeLeaf(target.leaf, this.views.get(target.buffer)!, value);
    }
  }

  /** The resident value of an input leaf (a view: it changes when the step runs or set() is called). */
  input(path: string): TypedArray {
    const target = this.inputByPath.get(path);
    if (!target) throw new Error(`${this.name}.input: no input '${path}'`);
    return this.views.get(target.buffer)!;
  }

  /** Run the step once (after setting `values`, if given) and return copies of the outputs. */
  run(values?: Pytree<unknown> | ReadonlyMap<string, unknown>): Pytree<TypedArray> {
    this.execute(values);
    const results = this.outputLeaves.map((o) => this.views.get(o.buffer)!.slice());
    return treeMap(this.outputTree, isTensor, (_, i) => results[i]!);
  }

  /** The current value of output leaf `path` (a view, valid until the next run). */
  output(path: string): TypedArray {
    const out = this.outputLeaves.find((o) => o.path === path);
    if (!out) throw new Error(`${this.name}.output: no output '${path}'. Outputs: ${this.outputLeaves.map((o) => o.path).join(", ")}`);
    return this.views.get(out.buffer)!;
  }

  /** Run the step once without copying its outputs out (read them with output()). */
  execute(values?: Pytree<unknown> | ReadonlyMap<string, unknown>): void {
    this.check();
    if (values) this.set(values);
    const timing = debugLevel() >= 1;
    if (timing) this.times.fill(0);
    const rc = this.step(this.table, timing ? this.times : null);
    if (rc !== 0) {
      const kernel = this.program.kernels[rc >> 8];
      throw new Error(`${this.name}: kernel ${kernel?.name ?? rc >> 8} (${kernel?.comment ?? "?"}) failed with code ${rc & 0xff}`);
    }
    this.runs++;
    for (const out of this.outputLeaves) if (out.copyTo !== undefined) this.views.get(out.copyTo)!.set(this.views.get(out.buffer)!);
    if (timing) this.report();
  }

  private report(): void {
    const total = this.times.reduce((a, b) => a + b, 0);
    const lines = this.program.kernels.map((k, i) => {
      const t = this.times[i]!;
      return `  ${(t * 1e3).toFixed(3).padStart(9)} ms ${(k.flops / t / 1e9).toFixed(1).padStart(7)} GFLOP/s ${(k.bytes / t / 1e9).toFixed(1).padStart(6)} GB/s  ${k.name}  ${k.comment}`;
    });
    debugLog(1, `${this.name}: ${this.program.kernels.length} kernels, ${(total * 1e3).toFixed(3)} ms\n${lines.join("\n")}`);
  }

  private check(): void {
    if (this.disposed) throw new Error(`${this.name}: used after dispose()`);
  }

  /** Free the step's native memory. */
  dispose(): void {
    for (const b of this.blocks) b.free();
    this.blocks.length = 0;
    this.disposed = true;
  }
}

function flattenValues(tree: Pytree<unknown>): [string, unknown][] {
  const isLeaf = (x: unknown): boolean => ArrayBuffer.isView(x) || Array.isArray(x) && x.every((v) => typeof v === "number") || typeof x === "number" || isHostArray(x) || (isSpec(x) && "data" in (x as object));
  const paths = leafPaths(tree, isLeaf);
  const leaves = treeLeaves(tree as Pytree<unknown>, ((x: unknown) => isLeaf(x)) as (x: unknown) => x is unknown);
  return paths.map((p, i) => [p, leaves[i]]);
}

function writeLeaf(leaf: LeafInfo, target: TypedArray, value: unknown): void {
  let data: ArrayLike<number>;
  if (typeof value === "number") data = [value];
  else if (isHostArray(value) || (typeof value === "object" && value !== null && "data" in value && "shape" in value)) {
    const v = value as { shape: Shape; data: ArrayLike<number> };
    if (v.shape.length !== leaf.shape.length || v.shape.some((d, i) => d !== leaf.shape[i]))
      throw new Error(`input '${leaf.path}': expected shape ${shapeStr(leaf.shape)} (${leaf.dtype}), received ${shapeStr(v.shape)}`);
    data = v.data;
  } else data = value as ArrayLike<number>;
  const n = sizeOf(leaf.shape);
  if (data.length !== n) throw new Error(`input '${leaf.path}': expected ${n} values for shape ${shapeStr(leaf.shape)} (${leaf.dtype}), received ${data.length}`);
  if (leaf.dtype === "bf16") for (let i = 0; i < n; i++) target[i] = roundBf16(data[i]!);
  else if (leaf.dtype === "f16") for (let i = 0; i < n; i++) target[i] = roundF16(data[i]!);
  else target.set(data);
}

let stepCounter = 0;

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs). The
 * returned step takes values for the same tree (or any part of it; the rest stay resident).
 */
export function compile<E extends Pytree<unknown>>(fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>, example: E, options: CompileOptions = {}): CompiledStep {
  const device = options.device ?? "cpu";
  if (device !== "cpu") throw new Error(`compile: device '${device}' is not available in this build; the CUDA backend runs only on a GPU machine (see bench/gpu/README.md)`);
  const name = options.name ?? `step${stepCounter++}`;
  const t0 = performance.now();
  const paths = leafPaths(example, isSpec);
  const specs = treeLeaves(example as Pytree<ExampleLeaf>, isSpec);
  const paramKeys = new Set(options.params ?? []);
  const leaves: LeafInfo[] = specs.map((spec, i) => {
    const path = paths[i]!;
    const dtype = spec.dtype ?? "f32";
    const role = paramKeys.has(path.split("/")[0]!) ? "param" : "input";
    const node = role === "param" ? paramNode(path, spec.shape, dtype) : inputNode(path, spec.shape, dtype);
    return { path, node, shape: spec.shape, dtype };
  });
  const symbolic = treeMap(example as Pytree<ExampleLeaf>, isSpec, (_, i) => leaves[i]!.node);
  const outputTree = fn(symbolic);
  const outputs = treeLeaves(outputTree, isTensor);
  const outputPaths = leafPaths(outputTree, isTensor);
  const t1 = performance.now();
  debugLog(3, () => `${name}: L0 graph\n${graphText(outputs)}`);

  const sched = schedule(outputs, leaves.map((l) => l.node));
  debugLog(3, () => `${name}: L1 schedule, ${kernelCount(sched)} kernels\n${scheduleText(sched)}`);
  // Donation: outputs at the same path as a donated input reuse its buffer when that is safe.
  const donated = new Set(options.donate ?? []);
  const byPath = new Map(leaves.map((l) => [l.path, l]));
  const wanted = new Map<Tensor, Tensor>();
  outputPaths.forEach((p, i) => {
    const leaf = byPath.get(p);
    const out = sched.roots[i]!;
    if (!leaf || !donated.has(p.split("/")[0]!)) return;
    if (leaf.dtype !== out.dtype || shapeStr(leaf.shape) !== shapeStr(out.shape))
      throw new Error(`compile: output '${p}' is ${out.dtype}${shapeStr(out.shape)} but the donated input is ${leaf.dtype}${shapeStr(leaf.shape)}`);
    if (out.op === "input" || outputs.indexOf(outputs[i]!) !== i) return;
    wanted.set(out, leaf.node);
  });
  let program = lowerSchedule(sched, wanted);
  const unsafe = [...wanted].filter(([, input]) => !inPlaceIsSafe(program, program.inputs.get(input)!));
  if (unsafe.length) {
    const safe = new Map([...wanted].filter(([root]) => !unsafe.some(([r]) => r === root)));
    program = lowerSchedule(sched, safe);
  }
  // Donated outputs not written in place are copied into their input after each run.
  const copies = new Map<number, number>();
  outputPaths.forEach((p, i) => {
    const leaf = byPath.get(p);
    if (!leaf || !donated.has(p.split("/")[0]!)) return;
    const inputBuffer = program.inputs.get(leaf.node)!;
    if (program.outputs[i] !== inputBuffer) copies.set(i, inputBuffer);
  });
  const arena = planArena(program, storageBytes);
  const t2 = performance.now();
  const source = renderC(program, { templateSource: cpuTemplatePrelude });
  debugLog(2, () => `${name}: generated C (${source.length} bytes)\n${source}`);
  const t3 = performance.now();
  let library = compileC(source);
  let step: CompiledStep;
  try {
    step = new CompiledStep(name, program, arena, library, leaves, outputTree, outputPaths, copies, { trace: (t1 - t0) / 1e3, schedule: (t2 - t1) / 1e3, codegen: (t3 - t2) / 1e3, cc: library.seconds });
  } catch (error) {
    // A corrupt cache entry is rebuilt, not fatal.
    if (library.compiled) throw error;
    evict(library);
    library = compileC(source);
    step = new CompiledStep(name, program, arena, library, leaves, outputTree, outputPaths, copies, { trace: (t1 - t0) / 1e3, schedule: (t2 - t1) / 1e3, codegen: (t3 - t2) / 1e3, cc: library.seconds });
  }
  debugLog(1, () => `${name}: ${program.kernels.length} kernels, arena ${(arena.bytes / 2 ** 20).toFixed(2)} MiB (${(arena.unplannedBytes / 2 ** 20).toFixed(2)} MiB without reuse), ${library.compiled ? `compiled in ${library.seconds.toFixed(2)} s` : "from cache"}`);
  return step;
}


function scheduleText(s: Schedule, indent = "  "): string {
  return s.groups.map((g) => (g.kind === "region" ? `${indent}region ${g.call.attrs.name}\n${scheduleText(g.inner, indent + "  ")}` : `${indent}${describeGroup(g)}`)).join("\n");
}
