// What this machine offers the CUDA device, for `kiln doctor`: nvcc, the driver and NVRTC (with every
// place searched when missing), the GPU, and the compile cache. Never fails for a missing GPU.
import { dirname } from "node:path";
import type { DeviceStatus } from "../device.ts";
import { cacheDir, cacheSize } from "./compile-cache.ts";
import { findCudaInclude, findLibrary, libraryEnvVar, type CudaLibrary } from "./find.ts";
import { nvccVersion } from "./nvcc.ts";

export const bytesText = (n: number) =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;

/** Where a library was found, or every folder searched and the variable that overrides the search. */
export function libraryLines(library: CudaLibrary, verbose: boolean): { path: string | null; lines: string[] } {
  const result = findLibrary(library);
  const label = `lib${library}`;
  if (result.path) return { path: result.path, lines: [`${label.padEnd(10)} ${result.path}`] };
  // One line per folder (each was searched for every file name of the library).
  const places = [...new Set(result.tried.map((path) => (path.endsWith("ld.so.cache") ? path : dirname(path))))];
  const tried = verbose ? places : places.slice(0, 12);
  const more = places.length - tried.length;
  return {
    path: null,
    lines: [
      `${label.padEnd(10)} not found (set ${libraryEnvVar(library)}); tried:`,
      ...tried.map((place) => `             ${place}`),
      ...(more > 0 ? [`             … and ${more} more (kiln doctor --verbose)`] : []),
    ],
  };
}

/** The CUDA libraries, the GPU (opened and closed again) and the cubin cache. */
export async function cudaStatus(options: { verbose?: boolean } = {}): Promise<DeviceStatus> {
  const verbose = options.verbose ?? false;
  const lines: string[] = [];
  const nvcc = nvccVersion();
  lines.push(`nvcc       ${nvcc ? `${nvcc} (compile-only checks available)` : "not found on PATH"}`);
  const cuda = libraryLines("cuda", verbose);
  const nvrtc = libraryLines("nvrtc", verbose);
  lines.push(...cuda.lines, ...nvrtc.lines);
  lines.push(`cuda_bf16.h ${findCudaInclude() ?? "no include folder found (kiln's kernels do not need it)"}`);
  let available = false;
  if (cuda.path) {
    try {
      // Imported here so that a machine without libcuda never loads the bindings.
      const { CudaDevice } = await import("./device.ts");
      const device = CudaDevice.open({ cudaPath: cuda.path, ...(nvrtc.path ? { nvrtcPath: nvrtc.path } : {}) });
      const { info } = device;
      lines.push(
        `gpu        ${info.name}, compute ${info.computeCapability.major}.${info.computeCapability.minor} (${info.arch}), ${bytesText(info.totalMemoryBytes)}, ` +
          `${info.multiprocessors} SMs, ${bytesText(info.maxSharedMemoryPerBlockOptin)} shared/block, driver ${Math.floor(info.driverVersion / 1000)}.${(info.driverVersion % 1000) / 10}`,
      );
      if (nvrtc.path) lines.push(`nvrtc      version ${device.nvrtc.version.major}.${device.nvrtc.version.minor}`);
      device.close();
      available = nvrtc.path !== null;
    } catch (error) {
      lines.push(`gpu        the driver was found but no device could be opened: ${(error as Error).message}`);
    }
  } else {
    lines.push("gpu        none (no CUDA driver); CPU backend and compile-only CUDA checks only");
  }
  const dir = cacheDir();
  const size = cacheSize(dir);
  lines.push(`cache      ${dir} (${size.files} files, ${bytesText(size.bytes)})`);
  return { available, lines };
}
