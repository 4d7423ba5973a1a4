// One CUDA GPU with its primary context, its memory, its compiled kernels, a stream, and graph capture:
// the state with a lifetime that the rest of runtime/cuda works through.
import type { CudaKernel } from "../../kernels/cuda/index.ts";
import { compileCached, archFor, loadNvrtc, type Nvrtc } from "./nvrtc.ts";
import { DEVICE_ATTRIBUTE, FUNCTION_ATTRIBUTE, loadCudaDriver, type CudaDriver, type Handle } from "./driver.ts";
import { findCudaInclude, requireLibrary } from "./find.ts";
import { packKernelArgs, type KernelArgs } from "./launch-args.ts";

/** Dynamic shared memory a kernel may use without opting in. */
const DEFAULT_DYNAMIC_SMEM = 48 * 1024;

export interface DeviceInfo {
  ordinal: number;
  name: string;
  computeCapability: { major: number; minor: number };
  /** The --gpu-architecture kernels are compiled for. */
  arch: string;
  totalMemoryBytes: number;
  multiprocessors: number;
  maxSharedMemoryPerBlockOptin: number;
  driverVersion: number;
}

export interface LoadedKernel {
  kernel: CudaKernel;
  module: Handle;
  fn: Handle;
  /** Whether the cubin came from the disk cache. */
  cached: boolean;
}

export interface CudaGraph {
  launch(): void;
  destroy(): void;
}

export interface OpenOptions {
  ordinal?: number;
  /** Paths to the libraries; default: the search of find.ts. */
  cudaPath?: string;
  nvrtcPath?: string;
}

export class CudaDevice {
  readonly info: DeviceInfo;
  /** The stream every launch and copy goes to unless told otherwise. */
  readonly stream: Handle;
  private readonly context: Handle;
  private readonly device: number;
  private nvrtcLibrary: Nvrtc | null = null;
  private readonly kernels = new Map<string, LoadedKernel>();
  private readonly allocations = new Set<Handle>();
  private closed = false;

  private constructor(
    readonly driver: CudaDriver,
    private readonly nvrtcPath: string | undefined,
    ordinal: number,
  ) {
    driver.init();
    const count = driver.deviceCount();
    if (ordinal >= count) throw new Error(`kiln: CUDA device ${ordinal} requested, but the driver reports ${count} device(s)`);
    const device = driver.device(ordinal);
    this.device = device;
    this.context = driver.primaryContextRetain(device);
    driver.contextSetCurrent(this.context);
    const attribute = (a: number) => driver.deviceAttribute(device, a);
    const computeCapability = {
      major: attribute(DEVICE_ATTRIBUTE.computeCapabilityMajor),
      minor: attribute(DEVICE_ATTRIBUTE.computeCapabilityMinor),
    };
    this.info = {
      ordinal,
      name: driver.deviceName(device),
      computeCapability,
      arch: archFor(computeCapability),
      totalMemoryBytes: driver.deviceTotalMem(device),
      multiprocessors: attribute(DEVICE_ATTRIBUTE.multiprocessorCount),
      maxSharedMemoryPerBlockOptin: attribute(DEVICE_ATTRIBUTE.maxSharedMemoryPerBlockOptin),
      driverVersion: driver.driverVersion(),
    };
    this.stream = driver.streamCreate(0);
  }

  /** Opens a device: finds and loads libcuda, makes the primary context current, creates a stream. */
  static open(options: OpenOptions = {}): CudaDevice {
    const driver = loadCudaDriver(options.cudaPath ?? requireLibrary("cuda"));
    return new CudaDevice(driver, options.nvrtcPath, options.ordinal ?? 0);
  }

  /** NVRTC, loaded on first compile (a device can run cached cubins without it). */
  get nvrtc(): Nvrtc {
    this.nvrtcLibrary ??= loadNvrtc(this.nvrtcPath ?? requireLibrary("nvrtc"));
    return this.nvrtcLibrary;
  }

  alloc(bytes: number): Handle {
    const pointer = this.driver.memAlloc(Math.max(bytes, 1));
    this.allocations.add(pointer);
    return pointer;
  }

  free(pointer: Handle): void {
    if (!this.allocations.delete(pointer))
      throw new Error(`kiln: free of 0x${pointer.toString(16)}, which this device did not allocate (or freed already)`);
    this.driver.memFree(pointer);
  }

  upload(pointer: Handle, data: ArrayBufferView): void {
    this.driver.memcpyHtoD(pointer, data);
  }

  download(pointer: Handle, into: ArrayBufferView): void {
    this.driver.memcpyDtoH(into, pointer);
  }

  memset(pointer: Handle, byte: number, bytes: number): void {
    this.driver.memsetD8(pointer, byte, bytes, this.stream);
  }

  /** Compiles (through the disk cache) and loads a kernel once; later calls return the loaded one. */
  load(kernel: CudaKernel): LoadedKernel {
    const known = this.kernels.get(kernel.name);
    if (known) {
      if (known.kernel.source !== kernel.source)
        throw new Error(`kiln: two different sources are named ${kernel.name}; kernel names must encode everything that changes the source`);
      return known;
    }
    const include = findCudaInclude();
    const { binary, hit } = compileCached(this.nvrtc, kernel.source, kernel.name, this.info.arch, include ? [include] : []);
    const module = this.driver.moduleLoadData(binary);
    const fn = this.driver.moduleGetFunction(module, kernel.name);
    if (kernel.smemBytes > DEFAULT_DYNAMIC_SMEM) {
      if (kernel.smemBytes > this.info.maxSharedMemoryPerBlockOptin)
        throw new Error(
          `${kernel.name} needs ${kernel.smemBytes} bytes of shared memory; ${this.info.name} allows ${this.info.maxSharedMemoryPerBlockOptin} per block`,
        );
      this.driver.functionSetAttribute(fn, FUNCTION_ATTRIBUTE.maxDynamicSharedSizeBytes, kernel.smemBytes);
    }
    const loaded = { kernel, module, fn, cached: hit };
    this.kernels.set(kernel.name, loaded);
    return loaded;
  }

  /** Registers and local (spill) bytes per thread of a loaded kernel, as the driver reports them. */
  resources(loaded: LoadedKernel): { registers: number; localBytes: number } {
    return {
      registers: this.driver.functionGetAttribute(loaded.fn, FUNCTION_ATTRIBUTE.numRegs),
      localBytes: this.driver.functionGetAttribute(loaded.fn, FUNCTION_ATTRIBUTE.localSizeBytes),
    };
  }

  /** Launches on the device stream with the kernel's grid, block and shared memory. */
  launch(kernel: CudaKernel | LoadedKernel, args: KernelArgs, grid?: readonly [number, number, number]): void {
    const loaded = "fn" in kernel ? kernel : this.load(kernel);
    const k = loaded.kernel;
    const [gx, gy, gz] = grid ?? k.grid;
    const packed = packKernelArgs(k.name, k.params, args);
    this.driver.launchKernel(loaded.fn, { x: gx, y: gy, z: gz }, { x: k.block[0], y: k.block[1], z: k.block[2] }, k.smemBytes, this.stream, packed);
  }

  synchronize(): void {
    this.driver.streamSynchronize(this.stream);
  }

  /** Milliseconds per call of `work` (which launches on the device stream), averaged over `iterations` after one warm-up call. */
  time(work: () => void, iterations = 10): number {
    const start = this.driver.eventCreate(0);
    const end = this.driver.eventCreate(0);
    try {
      work();
      this.driver.eventRecord(start, this.stream);
      for (let i = 0; i < iterations; i++) work();
      this.driver.eventRecord(end, this.stream);
      this.driver.eventSynchronize(end);
      return this.driver.eventElapsedMs(start, end) / iterations;
    } finally {
      this.driver.eventDestroy(start);
      this.driver.eventDestroy(end);
    }
  }

  /** Records the launches `work` makes on the device stream into a CUDA graph that replays them. */
  capture(work: () => void): CudaGraph {
    this.driver.streamBeginCapture(this.stream);
    let graph: Handle;
    try {
      work();
    } finally {
      graph = this.driver.streamEndCapture(this.stream);
    }
    const exec = this.driver.graphInstantiate(graph);
    let destroyed = false;
    return {
      launch: () => this.driver.graphLaunch(exec, this.stream),
      destroy: () => {
        if (destroyed) return;
        destroyed = true;
        this.driver.graphExecDestroy(exec);
        this.driver.graphDestroy(graph);
      },
    };
  }

  /** Frees what is left, unloads modules, and releases the primary context. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.driver.streamSynchronize(this.stream);
    for (const pointer of this.allocations) this.driver.memFree(pointer);
    this.allocations.clear();
    for (const loaded of this.kernels.values()) this.driver.moduleUnload(loaded.module);
    this.kernels.clear();
    this.driver.streamDestroy(this.stream);
    this.driver.primaryContextRelease(this.device);
  }
}
