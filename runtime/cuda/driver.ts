// The CUDA driver API bound with koffi: the ~40 calls kiln's cuda device needs (after tinygrad's
// ops_cuda.py). Handles and device pointers are bigints; every failure names the call and CUDA's error.
import koffi from "koffi";

/** A CUdeviceptr (u64) or an opaque handle (CUcontext, CUmodule, CUfunction, CUstream, CUevent, CUgraph…). */
export type Handle = bigint;

/** The C prototypes, by the name kiln calls them; alternatives are tried in order (newer ABI first). */
const PROTOTYPES: Record<string, { symbols: readonly string[]; result: string; args: readonly string[] }> = {
  cuInit: { symbols: ["cuInit"], result: "int", args: ["uint32"] },
  cuDriverGetVersion: { symbols: ["cuDriverGetVersion"], result: "int", args: ["void *"] },
  cuGetErrorName: { symbols: ["cuGetErrorName"], result: "int", args: ["int", "_Out_ const char **"] },
  cuGetErrorString: { symbols: ["cuGetErrorString"], result: "int", args: ["int", "_Out_ const char **"] },
  cuDeviceGetCount: { symbols: ["cuDeviceGetCount"], result: "int", args: ["void *"] },
  cuDeviceGet: { symbols: ["cuDeviceGet"], result: "int", args: ["void *", "int"] },
  cuDeviceGetName: { symbols: ["cuDeviceGetName"], result: "int", args: ["void *", "int", "int"] },
  cuDeviceGetAttribute: { symbols: ["cuDeviceGetAttribute"], result: "int", args: ["void *", "int", "int"] },
  cuDeviceTotalMem: { symbols: ["cuDeviceTotalMem_v2"], result: "int", args: ["void *", "int"] },
  cuDevicePrimaryCtxRetain: { symbols: ["cuDevicePrimaryCtxRetain"], result: "int", args: ["void *", "int"] },
  cuDevicePrimaryCtxRelease: { symbols: ["cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"], result: "int", args: ["int"] },
  cuCtxSetCurrent: { symbols: ["cuCtxSetCurrent"], result: "int", args: ["void *"] },
  cuCtxSynchronize: { symbols: ["cuCtxSynchronize"], result: "int", args: [] },
  cuMemGetInfo: { symbols: ["cuMemGetInfo_v2"], result: "int", args: ["void *", "void *"] },
  cuMemAlloc: { symbols: ["cuMemAlloc_v2"], result: "int", args: ["void *", "size_t"] },
  cuMemFree: { symbols: ["cuMemFree_v2"], result: "int", args: ["uint64"] },
  cuMemcpyHtoD: { symbols: ["cuMemcpyHtoD_v2"], result: "int", args: ["uint64", "void *", "size_t"] },
  cuMemcpyDtoH: { symbols: ["cuMemcpyDtoH_v2"], result: "int", args: ["void *", "uint64", "size_t"] },
  cuMemcpyDtoD: { symbols: ["cuMemcpyDtoD_v2"], result: "int", args: ["uint64", "uint64", "size_t"] },
  cuMemcpyHtoDAsync: { symbols: ["cuMemcpyHtoDAsync_v2"], result: "int", args: ["uint64", "void *", "size_t", "void *"] },
  cuMemcpyDtoHAsync: { symbols: ["cuMemcpyDtoHAsync_v2"], result: "int", args: ["void *", "uint64", "size_t", "void *"] },
  cuMemcpyDtoDAsync: { symbols: ["cuMemcpyDtoDAsync_v2"], result: "int", args: ["uint64", "uint64", "size_t", "void *"] },
  cuMemsetD8: { symbols: ["cuMemsetD8_v2"], result: "int", args: ["uint64", "uint8", "size_t"] },
  cuMemsetD8Async: { symbols: ["cuMemsetD8Async"], result: "int", args: ["uint64", "uint8", "size_t", "void *"] },
  cuModuleLoadData: { symbols: ["cuModuleLoadData"], result: "int", args: ["void *", "void *"] },
  cuModuleGetFunction: { symbols: ["cuModuleGetFunction"], result: "int", args: ["void *", "void *", "const char *"] },
  cuModuleUnload: { symbols: ["cuModuleUnload"], result: "int", args: ["void *"] },
  cuFuncSetAttribute: { symbols: ["cuFuncSetAttribute"], result: "int", args: ["void *", "int", "int"] },
  cuFuncGetAttribute: { symbols: ["cuFuncGetAttribute"], result: "int", args: ["void *", "int", "void *"] },
  cuLaunchKernel: {
    symbols: ["cuLaunchKernel"],
    result: "int",
    args: ["void *", "uint32", "uint32", "uint32", "uint32", "uint32", "uint32", "uint32", "void *", "void *", "void *"],
  },
  cuStreamCreate: { symbols: ["cuStreamCreate"], result: "int", args: ["void *", "uint32"] },
  cuStreamSynchronize: { symbols: ["cuStreamSynchronize"], result: "int", args: ["void *"] },
  cuStreamDestroy: { symbols: ["cuStreamDestroy_v2"], result: "int", args: ["void *"] },
  cuEventCreate: { symbols: ["cuEventCreate"], result: "int", args: ["void *", "uint32"] },
  cuEventRecord: { symbols: ["cuEventRecord"], result: "int", args: ["void *", "void *"] },
  cuEventSynchronize: { symbols: ["cuEventSynchronize"], result: "int", args: ["void *"] },
  cuEventElapsedTime: { symbols: ["cuEventElapsedTime_v2", "cuEventElapsedTime"], result: "int", args: ["void *", "void *", "void *"] },
  cuEventDestroy: { symbols: ["cuEventDestroy_v2"], result: "int", args: ["void *"] },
  cuStreamBeginCapture: { symbols: ["cuStreamBeginCapture_v2"], result: "int", args: ["void *", "int"] },
  cuStreamEndCapture: { symbols: ["cuStreamEndCapture"], result: "int", args: ["void *", "void *"] },
  cuGraphInstantiate: { symbols: ["cuGraphInstantiateWithFlags"], result: "int", args: ["void *", "void *", "uint64"] },
  cuGraphLaunch: { symbols: ["cuGraphLaunch"], result: "int", args: ["void *", "void *"] },
  cuGraphExecDestroy: { symbols: ["cuGraphExecDestroy"], result: "int", args: ["void *"] },
  cuGraphDestroy: { symbols: ["cuGraphDestroy"], result: "int", args: ["void *"] },
};

/** Device attributes kiln reads (CUdevice_attribute values from cuda.h). */
export const DEVICE_ATTRIBUTE = {
  maxThreadsPerBlock: 1,
  clockRateKHz: 13,
  multiprocessorCount: 16,
  memoryClockRateKHz: 36,
  memoryBusWidthBits: 37,
  l2CacheBytes: 38,
  computeCapabilityMajor: 75,
  computeCapabilityMinor: 76,
  maxSharedMemoryPerMultiprocessor: 81,
  maxSharedMemoryPerBlockOptin: 97,
} as const;

/** Function attributes (CUfunction_attribute). */
export const FUNCTION_ATTRIBUTE = { sharedSizeBytes: 1, localSizeBytes: 3, numRegs: 4, maxDynamicSharedSizeBytes: 8 } as const;

const CU_LAUNCH_PARAM_BUFFER_POINTER = 1n;
const CU_LAUNCH_PARAM_BUFFER_SIZE = 2n;
const CU_LAUNCH_PARAM_END = 0n;
// Relaxed: loading a module or allocating while capturing is allowed (kiln loads kernels lazily).
const CU_STREAM_CAPTURE_MODE_RELAXED = 2;

type NativeCall = (...args: unknown[]) => unknown;

export class CudaError extends Error {
  constructor(
    message: string,
    readonly call: string,
    readonly code: number,
  ) {
    super(message);
    this.name = "CudaError";
  }
}

export interface Dim3 {
  x: number;
  y: number;
  z: number;
}

/** The driver API as plain functions. Out-parameters come back as results; errors throw CudaError. */
export interface CudaDriver {
  path: string;
  init(): void;
  driverVersion(): number;
  deviceCount(): number;
  device(ordinal: number): number;
  deviceName(device: number): string;
  deviceAttribute(device: number, attribute: number): number;
  deviceTotalMem(device: number): number;
  primaryContextRetain(device: number): Handle;
  primaryContextRelease(device: number): void;
  contextSetCurrent(context: Handle): void;
  contextSynchronize(): void;
  memGetInfo(): { free: number; total: number };
  memAlloc(bytes: number): Handle;
  memFree(pointer: Handle): void;
  memcpyHtoD(dst: Handle, src: ArrayBufferView, stream?: Handle): void;
  memcpyDtoH(dst: ArrayBufferView, src: Handle, stream?: Handle): void;
  memcpyDtoD(dst: Handle, src: Handle, bytes: number, stream?: Handle): void;
  memsetD8(dst: Handle, value: number, bytes: number, stream?: Handle): void;
  moduleLoadData(image: Uint8Array): Handle;
  moduleGetFunction(module: Handle, name: string): Handle;
  moduleUnload(module: Handle): void;
  functionSetAttribute(fn: Handle, attribute: number, value: number): void;
  functionGetAttribute(fn: Handle, attribute: number): number;
  /** Launches with the packed-argument form: `args` holds the kernel parameters laid out as in C. */
  launchKernel(fn: Handle, grid: Dim3, block: Dim3, sharedBytes: number, stream: Handle, args: Uint8Array): void;
  streamCreate(flags?: number): Handle;
  streamSynchronize(stream: Handle): void;
  streamDestroy(stream: Handle): void;
  eventCreate(flags?: number): Handle;
  eventRecord(event: Handle, stream: Handle): void;
  eventSynchronize(event: Handle): void;
  eventElapsedMs(start: Handle, end: Handle): number;
  eventDestroy(event: Handle): void;
  streamBeginCapture(stream: Handle): void;
  streamEndCapture(stream: Handle): Handle;
  graphInstantiate(graph: Handle): Handle;
  graphLaunch(graphExec: Handle, stream: Handle): void;
  graphExecDestroy(graphExec: Handle): void;
  graphDestroy(graph: Handle): void;
  errorName(code: number): string;
}

/** The driver's calls bound by name: each checks the result code and names the call and its arguments when it fails. */
interface NativeCalls {
  call(name: string, detail: () => string, ...args: unknown[]): void;
  /** A call whose first argument is an out-parameter handle (or size), returned. */
  outHandle(name: string, detail: () => string, ...args: unknown[]): Handle;
  /** A call whose first argument is an out-parameter int, returned. */
  outInt(name: string, detail: () => string, ...args: unknown[]): number;
  errorText(code: number): string;
}

/** Binds the calls of the library at `path` (each on first use, so an old driver fails late and clearly). */
function bindNative(path: string): NativeCalls {
  const library = koffi.load(path);
  const bound = new Map<string, NativeCall>();
  const native = (name: string): NativeCall => {
    const known = bound.get(name);
    if (known) return known;
    const proto = PROTOTYPES[name]!;
    const errors: string[] = [];
    for (const symbol of proto.symbols) {
      try {
        const fn = library.func(symbol, proto.result, [...proto.args]) as NativeCall;
        bound.set(name, fn);
        return fn;
      } catch (error) {
        errors.push(`${symbol}: ${(error as Error).message}`);
      }
    }
    throw new Error(`kiln: ${path} lacks ${name} (tried ${errors.join("; ")}); the CUDA driver is too old for kiln`);
  };
  const errorText = (code: number): string => {
    const name: (string | null)[] = [null];
    const text: (string | null)[] = [null];
    native("cuGetErrorName")(code, name);
    native("cuGetErrorString")(code, text);
    return `${name[0] ?? `CUDA error ${code}`} (${text[0] ?? "no description"})`;
  };
  const call = (name: string, detail: () => string, ...args: unknown[]): void => {
    const code = native(name)(...args) as number;
    if (code !== 0) throw new CudaError(`${name}(${detail()}) failed: ${errorText(code)}`, name, code);
  };
  const outHandle = (name: string, detail: () => string, ...args: unknown[]): Handle => {
    const out = new BigUint64Array(1);
    call(name, detail, out, ...args);
    return out[0]!;
  };
  const outInt = (name: string, detail: () => string, ...args: unknown[]): number => {
    const out = new Int32Array(1);
    call(name, detail, out, ...args);
    return out[0]!;
  };
  return { call, outHandle, outInt, errorText };
}

const none = () => "";
const hex = (h: Handle) => `0x${h.toString(16)}`;

/** Opens libcuda at `path` and binds the calls (each bound on first use, so an old driver fails late and clearly). */
export function loadCudaDriver(path: string): CudaDriver {
  const b = bindNative(path);
  return { path, ...deviceCalls(b), ...memoryCalls(b), ...moduleCalls(b), ...streamCalls(b), errorName: b.errorText };
}

/** Initialisation, devices and contexts. */
function deviceCalls(b: NativeCalls) {
  return {
    init: () => b.call("cuInit", () => "0", 0),
    driverVersion: () => b.outInt("cuDriverGetVersion", none),
    deviceCount: () => b.outInt("cuDeviceGetCount", none),
    device: (ordinal) => b.outInt("cuDeviceGet", () => `ordinal ${ordinal}`, ordinal),
    deviceName: (device) => {
      const buffer = Buffer.alloc(256);
      b.call("cuDeviceGetName", () => `device ${device}`, buffer, buffer.length, device);
      return buffer.toString("utf8", 0, buffer.indexOf(0));
    },
    deviceAttribute: (device, attribute) => b.outInt("cuDeviceGetAttribute", () => `attribute ${attribute}, device ${device}`, attribute, device),
    deviceTotalMem: (device) => Number(b.outHandle("cuDeviceTotalMem", () => `device ${device}`, device)),
    primaryContextRetain: (device) => b.outHandle("cuDevicePrimaryCtxRetain", () => `device ${device}`, device),
    primaryContextRelease: (device) => b.call("cuDevicePrimaryCtxRelease", () => `device ${device}`, device),
    contextSetCurrent: (context) => b.call("cuCtxSetCurrent", () => hex(context), context),
    contextSynchronize: () => b.call("cuCtxSynchronize", none),
  } satisfies Partial<CudaDriver>;
}

/** Device memory: allocation, copies, fills. */
function memoryCalls(b: NativeCalls) {
  return {
    memGetInfo: () => {
      const free = new BigUint64Array(1);
      const total = new BigUint64Array(1);
      b.call("cuMemGetInfo", none, free, total);
      return { free: Number(free[0]), total: Number(total[0]) };
    },
    memAlloc: (bytes) => b.outHandle("cuMemAlloc", () => `${bytes} bytes`, bytes),
    memFree: (pointer) => b.call("cuMemFree", () => hex(pointer), pointer),
    memcpyHtoD: (dst, src, stream) =>
      stream === undefined
        ? b.call("cuMemcpyHtoD", () => `${hex(dst)}, ${src.byteLength} bytes`, dst, src, src.byteLength)
        : b.call("cuMemcpyHtoDAsync", () => `${hex(dst)}, ${src.byteLength} bytes`, dst, src, src.byteLength, stream),
    memcpyDtoH: (dst, src, stream) =>
      stream === undefined
        ? b.call("cuMemcpyDtoH", () => `${hex(src)}, ${dst.byteLength} bytes`, dst, src, dst.byteLength)
        : b.call("cuMemcpyDtoHAsync", () => `${hex(src)}, ${dst.byteLength} bytes`, dst, src, dst.byteLength, stream),
    memcpyDtoD: (dst, src, bytes, stream) =>
      stream === undefined
        ? b.call("cuMemcpyDtoD", () => `${hex(dst)} ← ${hex(src)}, ${bytes} bytes`, dst, src, bytes)
        : b.call("cuMemcpyDtoDAsync", () => `${hex(dst)} ← ${hex(src)}, ${bytes} bytes`, dst, src, bytes, stream),
    memsetD8: (dst, value, bytes, stream) =>
      stream === undefined
        ? b.call("cuMemsetD8", () => `${hex(dst)}, ${bytes} bytes`, dst, value, bytes)
        : b.call("cuMemsetD8Async", () => `${hex(dst)}, ${bytes} bytes`, dst, value, bytes, stream),
  } satisfies Partial<CudaDriver>;
}

/** Modules, functions and launches. */
function moduleCalls(b: NativeCalls) {
  return {
    moduleLoadData: (image) => b.outHandle("cuModuleLoadData", () => `${image.byteLength}-byte image`, image),
    moduleGetFunction: (module, name) => b.outHandle("cuModuleGetFunction", () => `'${name}'`, module, name),
    moduleUnload: (module) => b.call("cuModuleUnload", () => hex(module), module),
    functionSetAttribute: (fn, attribute, value) => b.call("cuFuncSetAttribute", () => `attribute ${attribute} = ${value}`, fn, attribute, value),
    functionGetAttribute: (fn, attribute) => {
      const out = new Int32Array(1);
      b.call("cuFuncGetAttribute", () => `attribute ${attribute}`, out, attribute, fn);
      return out[0]!;
    },
    launchKernel: (fn, grid, block, sharedBytes, stream, args) => {
      // CU_LAUNCH_PARAM_BUFFER_POINTER/SIZE: the driver copies the packed parameters during the call.
      const size = new BigUint64Array([BigInt(args.byteLength)]);
      const extra = new BigUint64Array([
        CU_LAUNCH_PARAM_BUFFER_POINTER,
        koffi.address(args),
        CU_LAUNCH_PARAM_BUFFER_SIZE,
        koffi.address(size),
        CU_LAUNCH_PARAM_END,
      ]);
      b.call(
        "cuLaunchKernel",
        () =>
          `grid ${grid.x}×${grid.y}×${grid.z}, block ${block.x}×${block.y}×${block.z}, ${sharedBytes} B shared, ${args.byteLength} B of arguments`,
        fn,
        grid.x,
        grid.y,
        grid.z,
        block.x,
        block.y,
        block.z,
        sharedBytes,
        stream,
        null,
        extra,
      );
    },
  } satisfies Partial<CudaDriver>;
}

/** Streams, events and CUDA graphs. */
function streamCalls(b: NativeCalls) {
  return {
    streamCreate: (flags = 0) => b.outHandle("cuStreamCreate", () => `flags ${flags}`, flags),
    streamSynchronize: (stream) => b.call("cuStreamSynchronize", () => hex(stream), stream),
    streamDestroy: (stream) => b.call("cuStreamDestroy", () => hex(stream), stream),
    eventCreate: (flags = 0) => b.outHandle("cuEventCreate", () => `flags ${flags}`, flags),
    eventRecord: (event, stream) => b.call("cuEventRecord", () => hex(event), event, stream),
    eventSynchronize: (event) => b.call("cuEventSynchronize", () => hex(event), event),
    eventElapsedMs: (start, end) => {
      const out = new Float32Array(1);
      b.call("cuEventElapsedTime", none, out, start, end);
      return out[0]!;
    },
    eventDestroy: (event) => b.call("cuEventDestroy", () => hex(event), event),
    streamBeginCapture: (stream) => b.call("cuStreamBeginCapture", () => hex(stream), stream, CU_STREAM_CAPTURE_MODE_RELAXED),
    streamEndCapture: (stream) => {
      const graph = new BigUint64Array(1);
      b.call("cuStreamEndCapture", () => hex(stream), stream, graph);
      return graph[0]!;
    },
    graphInstantiate: (graph) => b.outHandle("cuGraphInstantiate", () => hex(graph), graph, 0n),
    graphLaunch: (graphExec, stream) => b.call("cuGraphLaunch", () => hex(graphExec), graphExec, stream),
    graphExecDestroy: (graphExec) => b.call("cuGraphExecDestroy", () => hex(graphExec), graphExec),
    graphDestroy: (graph) => b.call("cuGraphDestroy", () => hex(graph), graph),
  } satisfies Partial<CudaDriver>;
}
