// The public API of the CUDA runtime: open a device, move memory, compile and launch kernel templates,
// time them, capture graphs; plus library discovery and the GPU-less nvcc check.
export { CudaDevice, type CudaGraph, type DeviceInfo, type LoadedKernel, type OpenOptions } from "./device.ts";
export { CudaError, type CudaDriver, type Handle } from "./driver.ts";
export { findCudaInclude, findLibrary, requireLibrary, type CudaLibrary, type SearchResult } from "./find.ts";
export { archFor, compileCached, loadNvrtc, nvrtcOptions, type Nvrtc } from "./nvrtc.ts";
export { compileWithNvcc, compileWithNvccAsync, nvccVersion, parseResourceUsage, type KernelResources } from "./nvcc.ts";
export { cacheDir, cacheSize, clearCudaCache, damagedCudaEntries } from "./compile-cache.ts";
export { packKernelArgs, type KernelArgs } from "./launch-args.ts";
