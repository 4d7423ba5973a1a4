// What a compiled CUDA step needs from a device, and that interface over a real CudaDevice: kernels
// compiled with NVRTC a few translation units at a time (through the disk cache) and loaded once,
// launches with packed arguments on the device stream, stream-ordered copies, graph capture.
import type { CudaKernelSource, CudaLaunch } from "../../compiler/index.ts";
import { FUNCTION_ATTRIBUTE, type Handle } from "./driver.ts";
import type { CudaDevice, CudaGraph, LoadedKernel } from "./device.ts";
import { findCudaInclude } from "./find.ts";
import { compileCached } from "./nvrtc.ts";

export interface StepDevice {
  /** The device in words (name, compute capability), for messages. */
  readonly description: string;
  alloc(bytes: number): Handle;
  free(pointer: Handle): void;
  upload(pointer: Handle, data: ArrayBufferView): void;
  download(pointer: Handle, into: ArrayBufferView): void;
  /** The stream the launches and copies go to (0n for the emulator, which runs them at once). */
  readonly stream: Handle;
  /** A device-to-device copy on the stream (so a graph capture records it). */
  copy(dst: Handle, src: Handle, bytes: number): void;
  /** Compiles and loads kernels before the first launch. */
  load(kernels: readonly CudaKernelSource[]): void;
  launch(launch: CudaLaunch, kernel: CudaKernelSource, args: Readonly<Record<string, bigint | number>>): void;
  capture(work: () => void): CudaGraph;
  synchronize(): void;
  /** Unloads what load() loaded. */
  unload(): void;
}

const DEFAULT_DYNAMIC_SMEM = 48 * 1024;

/** Kernels per NVRTC translation unit: fewer, larger units compile faster; a change recompiles only its unit. */
export const KERNELS_PER_UNIT = 12;

/** The StepDevice of a real GPU. */
export function cudaStepDevice(device: CudaDevice): StepDevice {
  const loaded = new Map<string, LoadedKernel>();
  const modules: Handle[] = [];
  return {
    description: `${device.info.name} (${device.info.arch})`,
    stream: device.stream,
    alloc: (bytes) => device.alloc(bytes),
    free: (pointer) => device.free(pointer),
    upload: (pointer, data) => device.upload(pointer, data),
    download: (pointer, into) => {
      device.synchronize();
      device.download(pointer, into);
    },
    copy: (dst, src, bytes) => device.driver.memcpyDtoD(dst, src, bytes, device.stream),
    load(kernels) {
      const fresh = kernels.filter((k) => !loaded.has(k.name));
      const include = findCudaInclude();
      for (let first = 0; first < fresh.length; first += KERNELS_PER_UNIT) {
        const unit = fresh.slice(first, first + KERNELS_PER_UNIT);
        const source = unit.map((k) => k.source).join("\n");
        const { binary, hit } = compileCached(device.nvrtc, source, unit[0]!.name, device.info.arch, include ? [include] : []);
        const module = device.driver.moduleLoadData(binary);
        modules.push(module);
        for (const k of unit) {
          const fn = device.driver.moduleGetFunction(module, k.name);
          if (k.smemBytes > DEFAULT_DYNAMIC_SMEM) {
            if (k.smemBytes > device.info.maxSharedMemoryPerBlockOptin)
              throw new Error(
                `${k.name} needs ${k.smemBytes} bytes of shared memory; ${device.info.name} allows ${device.info.maxSharedMemoryPerBlockOptin} per block`,
              );
            device.driver.functionSetAttribute(fn, FUNCTION_ATTRIBUTE.maxDynamicSharedSizeBytes, k.smemBytes);
          }
          loaded.set(k.name, { kernel: k, module, fn, cached: hit });
        }
      }
    },
    launch(_launch, kernel, args) {
      const k = loaded.get(kernel.name);
      if (!k) throw new Error(`kiln: kernel ${kernel.name} was launched before it was loaded`);
      device.launch(k, args);
    },
    capture: (work) => device.capture(work),
    synchronize: () => device.synchronize(),
    unload() {
      for (const module of modules.splice(0)) device.driver.moduleUnload(module);
      loaded.clear();
    },
  };
}
