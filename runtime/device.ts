// The device interface and the registry of devices by name. A device turns a planned step (the L2
// program of runtime/trace.ts) into a program it can run: its renderer writes the program as source,
// its compiler builds that (cached on disk), its allocator gives the step one arena, and its launcher
// runs the kernels over the step's buffer table. Step (runtime/step.ts) drives what comes back; no
// other file names a device. A new device is a folder under runtime/ and one registerDevice() call.

import type { DType, Pytree, Program, TemplateSet } from "../compiler/index.ts";
import type { TraceOptions, TypedArray } from "./trace.ts";

/** What the lowering and the runtime may rely on a device for. */
export interface DeviceFacts {
  /** Lanes that run in lockstep (CPU SIMD f32 lanes, GPU warp or subgroup); null where none is known. */
  readonly laneWidth: number | null;
  /** Whether kernels may add floats atomically in global memory. */
  readonly floatAtomics: boolean;
  /** The dtypes a buffer may hold as they are (others are widened or packed by the device). */
  readonly storableDtypes: readonly DType[];
  /** Buffers one kernel may bind; null for no limit short of memory. */
  readonly maxBindings: number | null;
  /** Whether results can only be read back asynchronously (WebGPU's mapAsync): use Step.runAsync. */
  readonly asyncReadback: boolean;
  /**
   * The fused-op templates its renderer lowers (compiler/templates.ts); the scheduler lowers the
   * others to primitives for it. A device takes them from its renderer's lowerings (templatesOf).
   */
  readonly templates: TemplateSet;
}

/** A device's state on this machine, for `kiln doctor` and error messages. */
export interface DeviceStatus {
  /** Whether a step can be compiled and run on it here. */
  readonly available: boolean;
  /** One line per fact (libraries found or searched, the hardware, the cache). */
  readonly lines: readonly string[];
}

/** A donated input that an output is copied into after each run (the output could not be written in place). */
export interface DonationCopy {
  readonly from: number;
  readonly to: number;
}

/** What a device is given to prepare: the traced and planned step. */
export interface StepPlan {
  readonly name: string;
  readonly program: Program;
  /** Copies into donated inputs that every run ends with, by buffer id. */
  readonly copies: readonly DonationCopy[];
}

/**
 * A step's program on a device: its memory (one arena plus the leaves' buffers, allocated once) and
 * its launcher. Buffers are the program's buffer ids; values are host numbers already checked and
 * rounded to the buffer's dtype.
 */
/**
 * Device memory the host does not view (CUDA and its emulator): where a step's buffers live, copies
 * between them, transfers, and the stream the launches run on — for collectives on device memory
 * (NCCL) and for handing one step's outputs to another without the host.
 */
export interface DeviceMemory {
  pointer(buffer: number): bigint;
  /** A device-to-device copy, ordered with the launches. */
  copy(dst: bigint, src: bigint, bytes: number): void;
  download(src: bigint, into: ArrayBufferView): void;
  upload(dst: bigint, data: ArrayBufferView): void;
  /** The stream (cudaStream_t) the launches and copies run on; 0n where there is none (the emulator). */
  readonly stream: bigint;
  synchronize(): void;
}

export interface DeviceProgram {
  /** The L2 program as the device runs it (a renderer may rewrite kernels, e.g. reuse operands). */
  readonly program: Program;
  /** The device in words, for messages. */
  readonly description: string;
  /** Kernel launches of one run. */
  readonly launchCount: number;
  /** Seconds spent by each compile phase after planning (render, compile, load …). */
  readonly compileSeconds: Readonly<Record<string, number>>;
  /** Whether launch() can time each L2 kernel (the KILN_DEBUG=1 report); else the run is timed whole. */
  readonly timesKernels: boolean;
  write(buffer: number, values: ArrayLike<number>): void;
  /** A view of a buffer that stays valid (device memory that is host memory); null when the device has none. */
  view(buffer: number): TypedArray | null;
  /** A copy of a buffer's values (bf16 and f16 widened to f32); throws where readback is asynchronous. */
  read(buffer: number): TypedArray;
  /** read() for every device; a synchronous device resolves at once. */
  readAsync(buffer: number): Promise<TypedArray>;
  /** One run: every kernel, then the donation copies; per-kernel seconds into `times` when given. */
  launch(times: Float64Array | null): void;
  /** Waits until the launched work is done (a device that queues work; a no-op elsewhere). */
  settle(): Promise<void>;
  /**
   * One run (every kernel, then the donation copies) on a thread of its own, with `threads` threads,
   * leaving the caller's thread free: several steps run side by side (the CPU's batch shards).
   * Absent where a launch only queues work anyway.
   */
  launchOnThread?(threads: number): Promise<void>;
  /**
   * Makes `buffer` the memory of `source`'s buffer `sourceBuffer` (another step on this device), so
   * that one step reads what the other wrote without a copy. Absent where steps cannot share memory.
   */
  share?(buffer: number, source: DeviceProgram, sourceBuffer: number): void;
  dispose(): void;
  /** The step's device memory, where the host has no view of it (CUDA); absent elsewhere. */
  readonly memory?: DeviceMemory;
}

export interface Device<B extends DeviceProgram = DeviceProgram> {
  /** The name `--device` and `compileStep(…, { device })` take. */
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  readonly facts: DeviceFacts;
  /** The device's state here; never throws for missing hardware or libraries. */
  status(options?: { verbose?: boolean }): Promise<DeviceStatus>;
  /** Renderer, compiler, allocator and launcher in turn: the planned step as a program on this device. */
  prepare(plan: StepPlan): B;
  /**
   * Asynchronous setup that must finish before the first prepare() (WebGPU requests its adapter and
   * device asynchronously); absent where there is none. Commands await it for the device they are given.
   */
  open?(): Promise<void>;
}

const registry = new Map<string, Device>();

/** Make `device` available by its name; a second device of the same name is an error. */
export function registerDevice(device: Device): void {
  if (registry.has(device.name)) throw new Error(`registerDevice: a device named '${device.name}' is registered already`);
  registry.set(device.name, device);
}

/** Every registered device, in registration order. */
export const registeredDevices = (): readonly Device[] => [...registry.values()];

/** The names `--device` accepts. */
export const deviceNames = (): string[] => [...registry.keys()];

/** The registered device called `name`; an unknown name is an error listing the known ones. */
export function deviceNamed(name: string): Device {
  const device = registry.get(name);
  if (!device) throw new Error(`unknown device '${name}': expected one of ${deviceNames().join(", ")}`);
  return device;
}

/** A device by name, or the device itself. */
export type DeviceChoice = string | Device;

export interface StepOptions extends TraceOptions {
  /** A registered device's name or a device (default "cpu"). */
  device?: DeviceChoice;
}

/** A tree of input values or a map from leaf path to values, as set() and run() take them. */
export type StepValues = Pytree<unknown> | ReadonlyMap<string, unknown>;
