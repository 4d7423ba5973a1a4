// compileCuda(fn, example, options): compile() for the CUDA device. The same tracing, scheduling,
// lowering and donation as the CPU (runtime/trace.ts); then the GPU lowering and the CUDA renderer,
// every kernel compiled once with NVRTC; one device arena for the temporaries (offsets from the
// memory plan) followed by the workspace, inputs and outputs in their own device buffers, bf16 stored
// as 16-bit words. The first run captures every launch (and the copies into donated inputs that could
// not be updated in place) as one CUDA graph; each run replays it.

import { bf16BitsArray, bf16FromBits, debugLevel, debugLog, f16Bits, f16FromBits, isTensor, itemSize, treeMap, type DType, type Pytree, type Tensor } from "../../compiler/index.ts";
import { planArena, type ArenaPlan } from "../../compiler/memory-plan.ts";
import type { Program } from "../../compiler/lower.ts";
import { gpuConfig, lowerProgramForGpu, type GpuConfig, type GpuProgram } from "../../compiler/codegen/gpu-lower.ts";
import { renderCuda, type CudaLaunch, type CudaProgram } from "../../compiler/codegen/cuda.ts";
import type { CudaKernelSource, CudaTemplates } from "../../compiler/codegen/cuda-templates.ts";
import { InputTable, leafValues, planStep, traceStep, type LeafInfo, type TraceOptions, type TypedArray } from "../trace.ts";
import { CudaDevice, type CudaGraph } from "./device.ts";
import type { Handle } from "./driver.ts";
import { cudaStepDevice, type StepDevice } from "./step-device.ts";
import { cudaTemplates } from "./templates.ts";
import { TuneCache, deviceGemmTimer, tunedTiles } from "./autotune.ts";

export interface CudaCompileOptions extends TraceOptions {
  /** The GPU (default: CudaDevice.open()), or any StepDevice (an emulated one in tests). */
  device?: CudaDevice | StepDevice;
  /** Launch sizes and tiles of the generated kernels (default: for an H100). */
  config?: GpuConfig;
  /** The templates the renderer may use (default: kiln's mma.sync GEMM and flash attention); null for SIMT code only. */
  templates?: CudaTemplates | null;
  /**
   * Time the GEMM tiles of each new GEMM shape on the GPU and use the fastest (runtime/cuda/autotune.ts;
   * cached per device on disk). Default: KILN_AUTOTUNE=1. Needs a real GPU, not an emulated device.
   */
  autotune?: boolean;
}

/** Host values in a buffer's device format. */
export function toStorage(dtype: DType, values: ArrayLike<number>): ArrayBufferView {
  switch (dtype) {
    case "f32":
      return Float32Array.from(values);
    case "i32":
      return Int32Array.from(values);
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case "bf16":
      return bf16BitsArray(values);
    case "f16":
      return Uint16Array.from(values, f16Bits);
    default:
      return dtype satisfies never;
  }
}

/** A buffer read back from the device as host values (bf16 and f16 widened to f32). */
function fromDevice(device: StepDevice, pointer: Handle, dtype: DType, count: number): TypedArray {
  switch (dtype) {
    case "f32": {
      const out = new Float32Array(count);
      device.download(pointer, out);
      return out;
    }
    case "i32": {
      const out = new Int32Array(count);
      device.download(pointer, out);
      return out;
    }
    case "bool": {
      const out = new Uint8Array(count);
      device.download(pointer, out);
      return out;
    }
    case "bf16":
    case "f16": {
      const bits = new Uint16Array(count);
      device.download(pointer, bits);
      return Float32Array.from(bits, dtype === "bf16" ? bf16FromBits : f16FromBits);
    }
    default:
      return dtype satisfies never;
  }
}

const ALIGN = 256;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface CudaKernelStat {
  name: string;
  comment: string;
  template: string;
  flops: number;
  bytes: number;
  /** Launches this L2 kernel runs as, by compiled kernel name. */
  launches: string[];
}

/** A compiled step on a CUDA device: its inputs stay resident in device memory between runs. */
export class CudaStep {
  private readonly allocations: Handle[] = [];
  private readonly pointers = new Map<number, Handle>();
  private readonly inputTable: InputTable;
  private readonly outputLeaves: { path: string; buffer: number; copyTo?: number }[];
  private readonly kernelsByName: Map<string, CudaKernelSource>;
  private graph: CudaGraph | null = null;
  private disposed = false;
  runs = 0;

  constructor(
    readonly name: string,
    readonly program: Program,
    readonly gpu: GpuProgram,
    readonly cuda: CudaProgram,
    readonly arena: ArenaPlan,
    readonly device: StepDevice,
    inputs: readonly LeafInfo[],
    private readonly outputTree: Pytree<Tensor>,
    outputPaths: readonly string[],
    copies: ReadonlyMap<number, number>,
    readonly compileSeconds: { trace: number; codegen: number; nvrtc: number },
  ) {
    this.kernelsByName = new Map(cuda.kernels.map((k) => [k.name, k]));
    // One allocation for the arena and, after it, the workspace of the kernels' scratch buffers.
    const arenaBytes = align(arena.bytes);
    const arenaBase = this.allocate(arenaBytes + cuda.workspaceBytes);
    for (const b of program.buffers) {
      if (b.kind === "temp") {
        const offset = arena.offsets.get(b.id);
        if (offset !== undefined) this.pointers.set(b.id, arenaBase + BigInt(offset));
        continue;
      }
      if (this.pointers.has(b.id)) continue;
      this.pointers.set(b.id, this.allocate(Math.max(b.size, 1) * itemSize(b.dtype)));
    }
    for (const [id, offset] of gpu.scratchOffsets) this.pointers.set(id, arenaBase + BigInt(arenaBytes + offset));
    this.inputTable = new InputTable(name, inputs, program.inputs);
    this.outputLeaves = outputPaths.map((path, i) => {
      const buffer = program.outputs[i]!;
      const copyTo = copies.get(i);
      return copyTo === undefined ? { path, buffer } : { path, buffer, copyTo };
    });
  }

  private allocate(bytes: number): Handle {
    const pointer = this.device.alloc(Math.max(bytes, 1));
    this.allocations.push(pointer);
    return pointer;
  }

  private pointer(id: number): Handle {
    const p = this.pointers.get(id);
    if (p === undefined) throw new Error(`${this.name}: buffer ${id} has no device memory (no kernel touches it)`);
    return p;
  }

  /** Number of kernels one run launches. */
  get kernelCount(): number {
    return this.cuda.launches.length;
  }

  get kernels(): CudaKernelStat[] {
    return this.program.kernels.map((k, index) => ({
      name: k.name, comment: k.comment, template: k.template, flops: k.flops, bytes: k.bytes,
      launches: this.cuda.launches.filter((l) => l.step === index).map((l) => l.kernel),
    }));
  }

  /** Outputs copied into their donated input after each run (those that could not be written in place). */
  get donationCopies(): number {
    return this.outputLeaves.filter((o) => o.copyTo !== undefined).length;
  }

  /** Paths of the input leaves, in sorted order. */
  get inputPaths(): string[] {
    return this.inputTable.paths;
  }

  /** Copy values into input leaves (a partial tree, or a map from path to values). They stay resident. */
  set(values: Pytree<unknown> | ReadonlyMap<string, unknown>): void {
    this.check();
    for (const [target, value] of this.inputTable.assignments(values)) this.device.upload(this.pointer(target.buffer), toStorage(target.leaf.dtype, leafValues(target.leaf, value)));
  }

  /** The resident value of an input leaf (a copy read back from the device). */
  input(path: string): TypedArray {
    const target = this.inputTable.get(path, "input");
    const b = this.program.buffers[target.buffer]!;
    return fromDevice(this.device, this.pointer(b.id), b.dtype, Math.max(b.size, 1));
  }

  /** The value of output leaf `path` after the last run. */
  output(path: string): TypedArray {
    const out = this.outputLeaves.find((o) => o.path === path);
    if (!out) throw new Error(`${this.name}.output: no output '${path}'. Outputs: ${this.outputLeaves.map((o) => o.path).join(", ")}`);
    const b = this.program.buffers[out.buffer]!;
    return fromDevice(this.device, this.pointer(b.id), b.dtype, b.size);
  }

  /** The launches of one run with their arguments as device pointers, in order. */
  private resolved(): { launch: CudaLaunch; kernel: CudaKernelSource; args: Record<string, bigint | number> }[] {
    return this.cuda.launches.map((launch) => {
      const args: Record<string, bigint | number> = {};
      for (const [name, arg] of Object.entries(launch.args)) args[name] = arg.kind === "scalar" ? arg.value : this.pointer(arg.id) + BigInt(arg.byteOffset);
      return { launch, kernel: this.kernelsByName.get(launch.kernel)!, args };
    });
  }

  /** Run the step once without reading its outputs back (read them with output()). */
  execute(values?: Pytree<unknown> | ReadonlyMap<string, unknown>): void {
    this.check();
    if (values) this.set(values);
    if (!this.graph) {
      const work = this.resolved();
      const copies = this.outputLeaves.filter((o) => o.copyTo !== undefined).map((o) => {
        const b = this.program.buffers[o.buffer]!;
        return { dst: this.pointer(o.copyTo!), src: this.pointer(o.buffer), bytes: b.size * itemSize(b.dtype) };
      });
      this.graph = this.device.capture(() => {
        for (const w of work) this.device.launch(w.launch, w.kernel, w.args);
        for (const c of copies) this.device.copy(c.dst, c.src, c.bytes);
      });
    }
    this.graph.launch();
    this.device.synchronize();
    this.runs++;
  }

  /** Each launch of a run timed alone by `timer` (milliseconds per call), with the inputs as they are. */
  launchTimes(timer: (work: () => void) => number): { kernel: string; ms: number }[] {
    this.check();
    return this.resolved().map((w) => ({ kernel: w.kernel.name, ms: timer(() => this.device.launch(w.launch, w.kernel, w.args)) }));
  }

  /** Run the step once (after setting `values`, if given) and return copies of the outputs. */
  run(values?: Pytree<unknown> | ReadonlyMap<string, unknown>): Pytree<TypedArray> {
    this.execute(values);
    const results = this.outputLeaves.map((o) => {
      const b = this.program.buffers[o.buffer]!;
      return fromDevice(this.device, this.pointer(b.id), b.dtype, b.size);
    });
    return treeMap(this.outputTree, isTensor, (_, i) => results[i]!);
  }

  private check(): void {
    if (this.disposed) throw new Error(`${this.name}: used after dispose()`);
  }

  /** Free the step's device memory and graph. */
  dispose(): void {
    if (this.disposed) return;
    this.graph?.destroy();
    for (const p of this.allocations.splice(0)) this.device.free(p);
    this.device.unload();
    this.disposed = true;
  }
}

/** The CUDA program of a traced and planned step, for tests and tools that stop before the device. */
export function cudaProgramOf(program: Program, options: { config?: GpuConfig; templates?: CudaTemplates | null } = {}): { gpu: GpuProgram; cuda: CudaProgram } {
  const gpu = lowerProgramForGpu(program, options.config ?? gpuConfig());
  const templates = options.templates === undefined ? cudaTemplates() : options.templates;
  return { gpu, cuda: renderCuda(gpu, templates ? { templates } : {}) };
}

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs) on a CUDA
 * device. The returned step takes values for the same tree (or any part of it; the rest stay resident).
 */
export function compileCuda<E extends Pytree<unknown>>(fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>, example: E, options: CudaCompileOptions = {}): CudaStep {
  const t0 = performance.now();
  const traced = traceStep(fn, example, options);
  const planned = planStep(traced, options);
  const arena = planArena(planned.program);
  const t1 = performance.now();
  const gpuDevice = options.device === undefined ? CudaDevice.open() : options.device instanceof CudaDevice ? options.device : null;
  const device = gpuDevice ? cudaStepDevice(gpuDevice) : (options.device as StepDevice);
  // Asked for in the options, autotune needs a GPU; KILN_AUTOTUNE=1 only applies where there is one.
  if (options.autotune && !gpuDevice) throw new Error(`compileCuda: autotune times kernels on a GPU; ${device.description} cannot`);
  const autotune = options.autotune ?? process.env.KILN_AUTOTUNE === "1";
  const templates =
    options.templates !== undefined ? options.templates
    : gpuDevice ? cudaTemplates({
        multiprocessors: gpuDevice.info.multiprocessors,
        ...(autotune ? { chooseTile: tunedTiles(new TuneCache(`${gpuDevice.info.name} ${gpuDevice.info.arch}`), deviceGemmTimer(gpuDevice)) } : {}),
      })
    : undefined;
  const { gpu, cuda } = cudaProgramOf(planned.program, { ...(options.config ? { config: options.config } : {}), ...(templates !== undefined ? { templates } : {}) });
  debugLog(2, () => `${traced.name}: generated CUDA (${cuda.kernels.length} kernels)\n${cuda.kernels.map((k) => k.source).join("\n")}`);
  const t2 = performance.now();
  device.load(cuda.kernels);
  const t3 = performance.now();
  const step = new CudaStep(traced.name, planned.program, gpu, cuda, arena, device, traced.leaves, traced.outputTree, traced.outputPaths, planned.copies, { trace: (t1 - t0) / 1e3, codegen: (t2 - t1) / 1e3, nvrtc: (t3 - t2) / 1e3 });
  if (debugLevel() >= 1) debugLog(1, `${traced.name}: ${planned.program.kernels.length} kernels as ${cuda.launches.length} launches (${cuda.kernels.length} compiled) on ${device.description}, arena ${(arena.bytes / 2 ** 20).toFixed(2)} MiB + workspace ${(cuda.workspaceBytes / 2 ** 20).toFixed(2)} MiB`);
  return step;
}
