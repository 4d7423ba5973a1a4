// compile(fn, example, { device, donate }): trace a pure function over symbolic inputs, schedule
// and lower the graph, generate and compile the C, and return a CompiledStep that runs the whole
// step (a training step, a sampling step) with one native call.

import koffi from "koffi";
import { debugLevel, debugLog, graphText, isTensor, treeMap, type DType, type Pytree, type Tensor } from "../compiler/index.ts";
import { kernelCount, describeGroup, type Schedule } from "../compiler/schedule.ts";
import type { Program } from "../compiler/lower.ts";
import { planArena, type ArenaPlan } from "../compiler/memory-plan.ts";
import { renderC } from "../compiler/codegen/c.ts";
import { reuseReducedOperands } from "../compiler/reuse-operand.ts";
import { cpuTemplatePrelude } from "../kernels/cpu/index.ts";
import { compileC, evict, type CompiledLibrary } from "./cpu/toolchain.ts";
import { allocate, type NativeBlock } from "./cpu/native.ts";
import { InputTable, leafValues, planStep, traceStep, type LeafInfo, type TraceOptions, type TypedArray } from "./trace.ts";

export type { ExampleLeaf, TensorSpec, TypedArray } from "./trace.ts";

export interface CompileOptions extends TraceOptions {
  /** "cpu" (this machine, through generated C) or "cuda" (an NVIDIA GPU, through generated CUDA). */
  device?: "cpu" | "cuda";
}

/**
 * Compiled libraries stay loaded for the life of the process: unloading a library whose OpenMP
 * regions ran can pull code out from under libgomp's pooled threads (seen as a crash in libgomp).
 */
const loadedLibraries: ReturnType<typeof koffi.load>[] = [];
export function loadLibrary(file: string): ReturnType<typeof koffi.load> {
  const lib = koffi.load(file);
  loadedLibraries.push(lib);
  return lib;
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
  private readonly inputTable: InputTable;
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
    const lib = loadLibrary(library.library);
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
    this.inputTable = new InputTable(name, inputs, program.inputs);
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
    return this.inputTable.paths;
  }

  /** Copy values into input leaves (a partial tree, or a map from path to values). They stay resident. */
  set(values: Pytree<unknown> | ReadonlyMap<string, unknown>): void {
    this.check();
    for (const [target, value] of this.inputTable.assignments(values)) writeLeaf(target.leaf, this.views.get(target.buffer)!, value);
  }

  /** The resident value of an input leaf (a view: it changes when the step runs or set() is called). */
  input(path: string): TypedArray {
    const target = this.inputTable.get(path, "input");
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

function writeLeaf(leaf: LeafInfo, target: TypedArray, value: unknown): void {
  target.set(leafValues(leaf, value));
}

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs). The
 * returned step takes values for the same tree (or any part of it; the rest stay resident).
 * `device: "cuda"` compiles for an NVIDIA GPU (runtime/cuda/step.ts); the CPU is the default.
 */
export function compile<E extends Pytree<unknown>>(fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>, example: E, options: CompileOptions = {}): CompiledStep {
  const device = options.device ?? "cpu";
  if (device !== "cpu") throw new Error(`compile: device '${device}' — use compileCuda from runtime/cuda/step.ts (it needs a GPU machine with libcuda and libnvrtc; see bench/gpu/README.md)`);
  const t0 = performance.now();
  const traced = traceStep(fn, example, options);
  const { name, leaves, outputTree, outputs, outputPaths } = traced;
  const t1 = performance.now();
  debugLog(3, () => `${name}: L0 graph\n${graphText(outputs)}`);
  const planned = planStep(traced, options);
  const { schedule: sched, copies } = planned;
  const program = { ...planned.program, kernels: planned.program.kernels.map(reuseReducedOperands) };
  debugLog(3, () => `${name}: L1 schedule, ${kernelCount(sched)} kernels\n${scheduleText(sched)}`);
  const arena = planArena(program, storageBytes);
  const t2 = performance.now();
  const source = renderC(program, { templateSource: cpuTemplatePrelude });
  debugLog(2, () => `${name}: generated C (${source.length} bytes)\n${source}`);
  const t3 = performance.now();
  const times = (cc: number) => ({ trace: (t1 - t0) / 1e3, schedule: (t2 - t1) / 1e3, codegen: (t3 - t2) / 1e3, cc });
  let library = compileC(source);
  let step: CompiledStep;
  try {
    step = new CompiledStep(name, program, arena, library, leaves, outputTree, outputPaths, copies, times(library.seconds));
  } catch (error) {
    // A corrupt cache entry is rebuilt, not fatal.
    if (library.compiled) throw error;
    evict(library);
    library = compileC(source);
    step = new CompiledStep(name, program, arena, library, leaves, outputTree, outputPaths, copies, times(library.seconds));
  }
  debugLog(1, () => `${name}: ${program.kernels.length} kernels, arena ${(arena.bytes / 2 ** 20).toFixed(2)} MiB (${(arena.unplannedBytes / 2 ** 20).toFixed(2)} MiB without reuse), ${library.compiled ? `compiled in ${library.seconds.toFixed(2)} s` : "from cache"}`);
  return step;
}

function scheduleText(s: Schedule, indent = "  "): string {
  return s.groups.map((g) => (g.kind === "region" ? `${indent}region ${g.call.attrs.name}\n${scheduleText(g.inner, indent + "  ")}` : `${indent}${describeGroup(g)}`)).join("\n");
}
