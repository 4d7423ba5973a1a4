// One Step class over every device: compileOn(device, fn, example) traces and plans the step
// (runtime/trace.ts), hands the plan to the device (runtime/device.ts), and wraps what comes back. A
// Step has the same methods on every device: the input leaves stay resident between runs, donated
// outputs land in their inputs, and KILN_DEBUG=1 reports each run's time.

import {
  debugLevel,
  debugLog,
  graphText,
  isTensor,
  treeMap,
  type Pytree,
  type Tensor,
  describeGroup,
  kernelCount,
  type Schedule,
  type Program,
} from "../compiler/index.ts";
import { deviceNamed, type Device, type DeviceProgram, type StepOptions, type StepValues } from "./device.ts";
import { InputTable, leafValues, planStep, traceStep, type LeafInfo, type TypedArray } from "./trace.ts";

export interface KernelStat {
  name: string;
  comment: string;
  template: string;
  flops: number;
  bytes: number;
}

interface OutputLeaf {
  readonly path: string;
  readonly buffer: number;
  /** The donated input it is copied into after each run. */
  readonly copyTo?: number;
}

/** A compiled step on one device; `backend` is the device's own half (its library, its CUDA program …). */
export class Step<B extends DeviceProgram = DeviceProgram> {
  private readonly inputTable: InputTable;
  private readonly outputLeaves: readonly OutputLeaf[];
  private readonly times: Float64Array;
  private disposed = false;
  runs = 0;

  constructor(
    readonly name: string,
    readonly device: Device<B>,
    readonly backend: B,
    inputs: readonly LeafInfo[],
    private readonly outputTree: Pytree<Tensor>,
    outputLeaves: readonly OutputLeaf[],
    readonly compileSeconds: Readonly<Record<string, number>>,
  ) {
    this.inputTable = new InputTable(name, inputs, backend.program.inputs);
    this.outputLeaves = outputLeaves;
    this.times = new Float64Array(backend.program.kernels.length);
  }

  /** The L2 program the device runs. */
  get program(): Program {
    return this.backend.program;
  }

  /** Number of kernel launches one run makes. */
  get kernelCount(): number {
    return this.backend.launchCount;
  }

  get kernels(): KernelStat[] {
    return this.program.kernels.map((k) => ({ name: k.name, comment: k.comment, template: k.template, flops: k.flops, bytes: k.bytes }));
  }

  /** Outputs copied into their donated input after each run (those that could not be written in place). */
  get donationCopies(): number {
    return this.outputLeaves.filter((o) => o.copyTo !== undefined).length;
  }

  /** Paths of the input leaves, in sorted order. */
  get inputPaths(): string[] {
    return this.inputTable.paths;
  }

  /** The program buffer that holds input leaf `path` (for tools that move raw storage). */
  inputBuffer(path: string): number {
    return this.inputTable.get(path, "inputBuffer").buffer;
  }

  /** The program buffer that holds output leaf `path`. */
  outputBuffer(path: string): number {
    return this.outputLeaf(path, "outputBuffer").buffer;
  }

  /** Copy values into input leaves (a partial tree, or a map from path to values). They stay resident. */
  set(values: StepValues): void {
    this.check();
    for (const [target, value] of this.inputTable.assignments(values)) this.backend.write(target.buffer, leafValues(target.leaf, value));
  }

  /** The resident value of an input leaf: a live view where the device memory is host memory, else a copy. */
  input(path: string): TypedArray {
    return this.readLive(this.inputTable.get(path, "input").buffer);
  }

  /** The value of output leaf `path` after the last run: a view valid until the next run, or a copy. */
  output(path: string): TypedArray {
    return this.readLive(this.outputLeaf(path, "output").buffer);
  }

  /** input() for every device (a device that reads back asynchronously needs this one). */
  inputAsync(path: string): Promise<TypedArray> {
    const buffer = this.inputTable.get(path, "inputAsync").buffer;
    return this.backend.settle().then(() => this.backend.view(buffer) ?? this.backend.readAsync(buffer));
  }

  /** output() for every device. */
  async outputAsync(path: string): Promise<TypedArray> {
    const buffer = this.outputLeaf(path, "outputAsync").buffer;
    await this.backend.settle();
    return this.backend.view(buffer) ?? this.backend.readAsync(buffer);
  }

  /** Run the step once (after setting `values`, if given) without copying its outputs out. */
  execute(values?: StepValues): void {
    this.check();
    if (values) this.set(values);
    const timing = debugLevel() >= 1;
    const started = timing ? performance.now() : 0;
    if (timing) this.times.fill(0);
    this.backend.launch(timing && this.backend.timesKernels ? this.times : null);
    this.runs++;
    if (timing) this.report((performance.now() - started) / 1e3);
  }

  /**
   * Run the step once (after setting `values`, if given) on a thread of its own with `threads` threads,
   * so that several steps run side by side; the outputs are read after the promise resolves. Only on
   * a device that can (the CPU); do not touch the step's inputs or outputs until it resolves.
   */
  async executeOnThread(threads: number, values?: StepValues): Promise<void> {
    this.check();
    if (!this.backend.launchOnThread) throw new Error(`${this.name}: the ${this.device.name} device cannot run a step on a thread of its own`);
    if (values) this.set(values);
    await this.backend.launchOnThread(threads);
    this.runs++;
  }

  /**
   * Input leaf `path` becomes `source`'s input or output leaf `sourcePath` itself (no copies): this
   * step then reads whatever the other holds. Both steps on one device that can share memory (the CPU).
   */
  shareInput(path: string, source: Step, sourcePath: string): void {
    this.check();
    if (!this.backend.share || source.device !== this.device)
      throw new Error(`${this.name}: the ${this.device.name} device cannot share memory between steps`);
    const own = this.inputTable.get(path, "shareInput").buffer;
    const other = source.outputLeaves.find((o) => o.path === sourcePath)?.buffer ?? source.inputTable.get(sourcePath, "shareInput").buffer;
    this.backend.share(own, source.backend, other);
  }

  /** Run the step once (after setting `values`, if given) and return copies of the outputs. */
  run(values?: StepValues): Pytree<TypedArray> {
    this.checkSyncReadback();
    this.execute(values);
    const results = this.outputLeaves.map((o) => this.backend.view(o.buffer)?.slice() ?? this.backend.read(o.buffer));
    return treeMap(this.outputTree, isTensor, (_, i) => results[i]!);
  }

  /** run() for every device: on one that reads back asynchronously, the outputs come when they are mapped. */
  async runAsync(values?: StepValues): Promise<Pytree<TypedArray>> {
    this.execute(values);
    await this.backend.settle();
    const results = await Promise.all(this.outputLeaves.map((o) => this.backend.view(o.buffer)?.slice() ?? this.backend.readAsync(o.buffer)));
    return treeMap(this.outputTree, isTensor, (_, i) => results[i]!);
  }

  /** Free the step's memory on the device. */
  dispose(): void {
    if (this.disposed) return;
    this.backend.dispose();
    this.disposed = true;
  }

  private outputLeaf(path: string, method: string): OutputLeaf {
    const out = this.outputLeaves.find((o) => o.path === path);
    if (!out) throw new Error(`${this.name}.${method}: no output '${path}'. Outputs: ${this.outputLeaves.map((o) => o.path).join(", ")}`);
    return out;
  }

  private readLive(buffer: number): TypedArray {
    this.check();
    const view = this.backend.view(buffer);
    if (view) return view;
    this.checkSyncReadback();
    return this.backend.read(buffer);
  }

  private checkSyncReadback(): void {
    if (this.device.facts.asyncReadback)
      throw new Error(
        `${this.name}: the ${this.device.name} device reads results back asynchronously; use runAsync(), outputAsync() or inputAsync()`,
      );
  }

  private report(seconds: number): void {
    const kernels = this.program.kernels;
    if (!this.backend.timesKernels) {
      debugLog(1, `${this.name}: ${this.kernelCount} launches, ${(seconds * 1e3).toFixed(3)} ms on ${this.backend.description}`);
      return;
    }
    const total = this.times.reduce((a, b) => a + b, 0);
    const lines = kernels.map((k, i) => {
      const t = this.times[i]!;
      return `  ${(t * 1e3).toFixed(3).padStart(9)} ms ${(k.flops / t / 1e9).toFixed(1).padStart(7)} GFLOP/s ${(k.bytes / t / 1e9).toFixed(1).padStart(6)} GB/s  ${k.name}  ${k.comment}`;
    });
    debugLog(1, `${this.name}: ${kernels.length} kernels, ${(total * 1e3).toFixed(3)} ms\n${lines.join("\n")}`);
  }

  private check(): void {
    if (this.disposed) throw new Error(`${this.name}: used after dispose()`);
  }
}

/** compileStep on a given device, keeping the type of the device's own half (for device-specific callers). */
export function compileOn<B extends DeviceProgram, E extends Pytree<unknown>>(
  device: Device<B>,
  fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>,
  example: E,
  options: StepOptions = {},
): Step<B> {
  const t0 = performance.now();
  const traced = traceStep(fn, example, options);
  debugLog(3, () => `${traced.name}: L0 graph\n${graphText(traced.outputs)}`);
  const t1 = performance.now();
  const planned = planStep(traced, { ...options, templates: device.facts.templates });
  debugLog(3, () => `${traced.name}: L1 schedule, ${kernelCount(planned.schedule)} kernels\n${scheduleText(planned.schedule)}`);
  const t2 = performance.now();
  const outputLeaves: OutputLeaf[] = traced.outputPaths.map((path, i) => {
    const buffer = planned.program.outputs[i]!;
    const copyTo = planned.copies.get(i);
    return copyTo === undefined ? { path, buffer } : { path, buffer, copyTo };
  });
  const copies = outputLeaves.flatMap((o) => (o.copyTo === undefined ? [] : [{ from: o.buffer, to: o.copyTo }]));
  const backend = device.prepare({ name: traced.name, program: planned.program, copies });
  const seconds = { trace: (t1 - t0) / 1e3, schedule: (t2 - t1) / 1e3, ...backend.compileSeconds };
  return new Step(traced.name, device, backend, traced.leaves, traced.outputTree, outputLeaves, seconds);
}

function scheduleText(s: Schedule, indent = "  "): string {
  return s.groups
    .map((g) =>
      g.kind === "region" ? `${indent}region ${g.call.attrs.name}\n${scheduleText(g.inner, indent + "  ")}` : `${indent}${describeGroup(g)}`,
    )
    .join("\n");
}

/** A registered device's name, as `--device` takes it. */
export type DeviceName = string;

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs) on a device
 * (default "cpu"). The returned step takes values for the same tree (or any part of it; the rest stay resident).
 */
export function compileStep<E extends Pytree<unknown>>(fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>, example: E, options: StepOptions = {}): Step {
  const { device = "cpu", ...rest } = options;
  return compileOn(typeof device === "string" ? deviceNamed(device) : device, fn, example, rest);
}
