// The CUDA device (cudaDevice) and compileCuda(fn, example, options), compileStep on it with CUDA's own
// options. The same tracing, scheduling, lowering and donation as every device (runtime/step.ts);
// then the GPU lowering and the CUDA renderer,
// every kernel compiled once with NVRTC; one device arena for the temporaries (offsets from the
// memory plan) followed by the workspace, inputs and outputs in their own device buffers, bf16 stored
// as 16-bit words. The first run captures every launch (and the copies into donated inputs that could
// not be updated in place) as one CUDA graph; each run replays it.

import {
  bf16BitsArray,
  bf16FromBits,
  debugLevel,
  debugLog,
  f16Bits,
  f16FromBits,
  itemSize,
  type DType,
  type Pytree,
  type Tensor,
  planArena,
  type ArenaPlan,
  type Program,
  gpuConfig,
  lowerProgramForGpu,
  type GpuConfig,
  type GpuProgram,
  renderCuda,
  type CudaLaunch,
  type CudaProgram,
  type CudaKernelSource,
  type CudaTemplates,
  SIMT_TEMPLATES,
  templatesOf,
} from "../../compiler/index.ts";
import type { TraceOptions, TypedArray } from "../trace.ts";
import type { Device, DeviceFacts, DeviceProgram, StepPlan } from "../device.ts";
import { compileOn, type Step } from "../compiled-step.ts";
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

/** A step on a CUDA device: its GPU lowering, its CUDA program, its memory and its (captured) launches. */
export interface CudaStepProgram extends DeviceProgram {
  readonly gpu: GpuProgram;
  readonly cuda: CudaProgram;
  readonly arena: ArenaPlan;
  /** The device the step runs on (a GPU, or the emulator). */
  readonly device: StepDevice;
  /** The L2 kernels with the launches each runs as. */
  readonly kernels: CudaKernelStat[];
  /** The device pointer of a buffer. */
  pointer(buffer: number): Handle;
  /** Each launch of a run timed alone by `timer` (milliseconds per call), with the inputs as they are. */
  launchTimes(timer: (work: () => void) => number): { kernel: string; ms: number }[];
}

/** A compiled step on a CUDA device: a step whose device half is CUDA's. */
export type CudaStep = Step<CudaStepProgram>;

/** The allocator: one allocation for the arena and, after it, the workspace of the kernels' scratch buffers; one per other buffer. */
function allocateStep(
  device: StepDevice,
  program: Program,
  gpu: GpuProgram,
  cuda: CudaProgram,
  arena: ArenaPlan,
): { pointers: Map<number, Handle>; allocations: Handle[] } {
  const allocations: Handle[] = [];
  const allocate = (bytes: number): Handle => {
    const pointer = device.alloc(Math.max(bytes, 1));
    allocations.push(pointer);
    return pointer;
  };
  const pointers = new Map<number, Handle>();
  const arenaBytes = align(arena.bytes);
  const arenaBase = allocate(arenaBytes + cuda.workspaceBytes);
  for (const b of program.buffers) {
    if (b.kind === "temp") {
      const offset = arena.offsets.get(b.id);
      if (offset !== undefined) pointers.set(b.id, arenaBase + BigInt(offset));
      continue;
    }
    if (pointers.has(b.id)) continue;
    pointers.set(b.id, allocate(Math.max(b.size, 1) * itemSize(b.dtype)));
  }
  for (const [id, offset] of gpu.scratchOffsets) pointers.set(id, arenaBase + BigInt(arenaBytes + offset));
  return { pointers, allocations };
}

/** A buffer's device pointer, by id; a buffer that no kernel touches has none. */
function pointerLookup(stepName: string, pointers: ReadonlyMap<number, Handle>): (id: number) => Handle {
  return (id) => {
    const p = pointers.get(id);
    if (p === undefined) throw new Error(`${stepName}: buffer ${id} has no device memory (no kernel touches it)`);
    return p;
  };
}

/** One launch of a run with its arguments as device pointers. */
interface ResolvedLaunch {
  readonly launch: CudaLaunch;
  readonly kernel: CudaKernelSource;
  readonly args: Record<string, bigint | number>;
}

/** The launches of one run with their arguments as device pointers, in order (resolved at each call). */
function launchResolver(cuda: CudaProgram, pointer: (id: number) => Handle): () => ResolvedLaunch[] {
  const kernelsByName = new Map(cuda.kernels.map((k) => [k.name, k]));
  return () =>
    cuda.launches.map((launch) => {
      const args: Record<string, bigint | number> = {};
      for (const [name, arg] of Object.entries(launch.args))
        args[name] = arg.kind === "scalar" ? arg.value : pointer(arg.id) + BigInt(arg.byteOffset);
      return { launch, kernel: kernelsByName.get(launch.kernel)!, args };
    });
}

/** One run as a CUDA graph: every launch, then the copies into donated inputs that could not be updated in place. */
function captureRun(plan: StepPlan, device: StepDevice, pointer: (id: number) => Handle, work: readonly ResolvedLaunch[]): CudaGraph {
  const copies = plan.copies.map((c) => {
    const b = plan.program.buffers[c.from]!;
    return { dst: pointer(c.to), src: pointer(c.from), bytes: b.size * itemSize(b.dtype) };
  });
  return device.capture(() => {
    for (const w of work) device.launch(w.launch, w.kernel, w.args);
    for (const c of copies) device.copy(c.dst, c.src, c.bytes);
  });
}

/** The L2 kernels of a step with the compiled launches each runs as. */
function kernelStats(program: Program, cuda: CudaProgram): CudaKernelStat[] {
  return program.kernels.map((k, index) => ({
    name: k.name,
    comment: k.comment,
    template: k.template,
    flops: k.flops,
    bytes: k.bytes,
    launches: cuda.launches.filter((l) => l.step === index).map((l) => l.kernel),
  }));
}

/** The launcher: the first run captures every launch and the donation copies as one CUDA graph; each run replays it. */
function cudaStepProgram(
  plan: StepPlan,
  gpu: GpuProgram,
  cuda: CudaProgram,
  arena: ArenaPlan,
  device: StepDevice,
  compileSeconds: Record<string, number>,
): CudaStepProgram {
  const { program } = plan;
  const { pointers, allocations } = allocateStep(device, program, gpu, cuda, arena);
  const pointer = pointerLookup(plan.name, pointers);
  const resolved = launchResolver(cuda, pointer);
  const read = (id: number): TypedArray => {
    const b = program.buffers[id]!;
    return fromDevice(device, pointer(id), b.dtype, Math.max(b.size, 1));
  };
  let graph: CudaGraph | null = null;
  let disposed = false;
  return {
    program,
    gpu,
    cuda,
    arena,
    device,
    description: device.description,
    launchCount: cuda.launches.length,
    compileSeconds,
    timesKernels: false,
    get kernels() {
      return kernelStats(program, cuda);
    },
    pointer,
    memory: {
      pointer,
      copy: (dst, src, bytes) => device.copy(dst, src, bytes),
      download: (src, into) => device.download(src, into),
      upload: (dst, data) => device.upload(dst, data),
      stream: device.stream,
      synchronize: () => device.synchronize(),
    },
    write: (id, values) => device.upload(pointer(id), toStorage(program.buffers[id]!.dtype, values)),
    view: () => null,
    read,
    readAsync: (id) => Promise.resolve(read(id)),
    launch() {
      graph ??= captureRun(plan, device, pointer, resolved());
      graph.launch();
      device.synchronize();
    },
    settle: () => Promise.resolve(),
    launchTimes: (timer) => resolved().map((w) => ({ kernel: w.kernel.name, ms: timer(() => device.launch(w.launch, w.kernel, w.args)) })),
    dispose() {
      if (disposed) return;
      disposed = true;
      graph?.destroy();
      for (const p of allocations.splice(0)) device.free(p);
      device.unload();
    },
  };
}

/** The CUDA program of a traced and planned step, for tests and tools that stop before the device. */
export function cudaProgramOf(
  program: Program,
  options: { config?: GpuConfig; templates?: CudaTemplates | null } = {},
): { gpu: GpuProgram; cuda: CudaProgram } {
  const gpu = lowerProgramForGpu(program, options.config ?? gpuConfig());
  const templates = options.templates === undefined ? cudaTemplates() : options.templates;
  return { gpu, cuda: renderCuda(gpu, templates ? { templates } : {}) };
}

/** The templates of a step: the options', else kiln's for the GPU (autotuned when asked), else the defaults. */
function templatesFor(options: CudaCompileOptions, gpuDevice: CudaDevice | null, description: string): CudaTemplates | null | undefined {
  // Asked for in the options, autotune needs a GPU; KILN_AUTOTUNE=1 only applies where there is one.
  if (options.autotune && !gpuDevice) throw new Error(`compileCuda: autotune times kernels on a GPU; ${description} cannot`);
  if (options.templates !== undefined) return options.templates;
  if (!gpuDevice) return undefined;
  const autotune = options.autotune ?? process.env.KILN_AUTOTUNE === "1";
  return cudaTemplates({
    multiprocessors: gpuDevice.info.multiprocessors,
    ...(autotune ? { chooseTile: tunedTiles(new TuneCache(`${gpuDevice.info.name} ${gpuDevice.info.arch}`), deviceGemmTimer(gpuDevice)) } : {}),
  });
}

/** Lanes in a warp, bf16 and f16 stored as 16-bit words, atomics on floats. */
export const CUDA_FACTS: DeviceFacts = {
  laneWidth: 32,
  floatAtomics: true,
  storableDtypes: ["f32", "i32", "bool", "bf16", "f16"],
  maxBindings: null,
  asyncReadback: false,
  templates: templatesOf(SIMT_TEMPLATES),
};

/** Renderer (GPU lowering, CUDA), compiler (NVRTC, cached) and loader of one step on the device `options.device` opens to. */
function prepareCuda(plan: StepPlan, options: CudaCompileOptions, open: () => CudaDevice | StepDevice): CudaStepProgram {
  const t0 = performance.now();
  const arena = planArena(plan.program);
  const opened = options.device ?? open();
  const gpuDevice = opened instanceof CudaDevice ? opened : null;
  const device = gpuDevice ? cudaStepDevice(gpuDevice) : (opened as StepDevice);
  const templates = templatesFor(options, gpuDevice, device.description);
  const { gpu, cuda } = cudaProgramOf(plan.program, {
    ...(options.config ? { config: options.config } : {}),
    ...(templates !== undefined ? { templates } : {}),
  });
  debugLog(2, () => `${plan.name}: generated CUDA (${cuda.kernels.length} kernels)\n${cuda.kernels.map((k) => k.source).join("\n")}`);
  const t1 = performance.now();
  device.load(cuda.kernels);
  const t2 = performance.now();
  const step = cudaStepProgram(plan, gpu, cuda, arena, device, { codegen: (t1 - t0) / 1e3, nvrtc: (t2 - t1) / 1e3 });
  if (debugLevel() >= 1)
    debugLog(
      1,
      `${plan.name}: ${plan.program.kernels.length} kernels as ${cuda.launches.length} launches (${cuda.kernels.length} compiled) on ${device.description}, arena ${(arena.bytes / 2 ** 20).toFixed(2)} MiB + workspace ${(cuda.workspaceBytes / 2 ** 20).toFixed(2)} MiB`,
    );
  return step;
}

export interface CudaDeviceDefinition {
  name: string;
  summary: string;
  /** The device a step runs on when the options name none (opened on first use). */
  open: () => CudaDevice | StepDevice;
  status: Device["status"];
  /** Options every step on this device compiles with (templates, launch configuration). */
  defaults?: Omit<CudaCompileOptions, keyof TraceOptions>;
}

/** A CUDA-family device: the CUDA renderer and a StepDevice (a GPU through the driver, or the emulator). */
export function cudaDevice(definition: CudaDeviceDefinition, options: CudaCompileOptions = {}): Device<CudaStepProgram> {
  const merged = { ...definition.defaults, ...options };
  return {
    name: definition.name,
    summary: definition.summary,
    facts: CUDA_FACTS,
    status: definition.status,
    prepare: (plan) => prepareCuda(plan, merged, definition.open),
  };
}

/** A CUDA device for one call's options (no registry entry): the GPU it names or opens, or the StepDevice given. */
const adHocCuda = (options: CudaCompileOptions): Device<CudaStepProgram> =>
  cudaDevice(
    { name: "cuda", summary: "a CUDA device", open: () => CudaDevice.open(), status: async () => ({ available: true, lines: [] }) },
    options,
  );

/**
 * Compile `fn` for the shapes of `example` (a pytree of arrays or { shape, dtype } specs) on a CUDA
 * device. The returned step takes values for the same tree (or any part of it; the rest stay resident).
 */
export function compileCuda<E extends Pytree<unknown>>(
  fn: (inputs: Pytree<Tensor>) => Pytree<Tensor>,
  example: E,
  options: CudaCompileOptions = {},
): CudaStep {
  const trace: TraceOptions = {
    ...(options.donate ? { donate: options.donate } : {}),
    ...(options.params ? { params: options.params } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
  };
  return compileOn(adHocCuda(options), fn, example, trace);
}
