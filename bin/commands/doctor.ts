// `kiln doctor`: what this machine offers kiln — Node, the C compiler, nvcc, the CUDA driver and NVRTC
// (with every place searched when missing), the GPU, the collective engines for data-parallel training
// (Open MPI's mpirun and libmpi, NCCL), and the compile cache. Never fails for a missing GPU or MPI.
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import type { Command } from "../command.ts";
import { parseArgs } from "../command.ts";
import { cacheDir, cacheSize } from "../../runtime/cuda/compile-cache.ts";
import { findCudaInclude, findLibrary, libraryEnvVar, type CudaLibrary } from "../../runtime/cuda/find.ts";
import { nvccVersion } from "../../runtime/cuda/nvcc.ts";

const firstLine = (program: string, args: string[]): string | null => {
  try {
    return execFileSync(program, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).split("\n")[0]!.trim();
  } catch {
    return null;
  }
};

const bytes = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

function libraryLines(library: CudaLibrary, verbose: boolean): { path: string | null; lines: string[] } {
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

const doctor: Command = {
  summary: "show what kiln found on this machine (compilers, CUDA libraries, GPU, cache)",
  usage: "kiln doctor [--verbose]",
  async run(argv) {
    const { flags } = parseArgs(argv, ["verbose"]);
    const verbose = flags.has("verbose");
    const lines: string[] = [];
    lines.push(`node       ${process.version} (${process.platform}-${process.arch})`);
    const gcc = firstLine("gcc", ["--version"]);
    lines.push(`gcc        ${gcc ?? "not found on PATH (the CPU backend needs a C compiler)"}`);
    const nvcc = nvccVersion();
    lines.push(`nvcc       ${nvcc ? `${nvcc} (compile-only checks available)` : "not found on PATH"}`);
    const cuda = libraryLines("cuda", verbose);
    const nvrtc = libraryLines("nvrtc", verbose);
    lines.push(...cuda.lines, ...nvrtc.lines);
    lines.push(`cuda_bf16.h ${findCudaInclude() ?? "no include folder found (kiln's kernels do not need it)"}`);

    if (cuda.path) {
      try {
        // Imported here so that a machine without libcuda never loads the bindings.
        const { CudaDevice } = await import("../../runtime/cuda/device.ts");
        const device = CudaDevice.open({ cudaPath: cuda.path, ...(nvrtc.path ? { nvrtcPath: nvrtc.path } : {}) });
        const { info } = device;
        lines.push(
          `gpu        ${info.name}, compute ${info.computeCapability.major}.${info.computeCapability.minor} (${info.arch}), ${bytes(info.totalMemoryBytes)}, ` +
            `${info.multiprocessors} SMs, ${bytes(info.maxSharedMemoryPerBlockOptin)} shared/block, driver ${Math.floor(info.driverVersion / 1000)}.${(info.driverVersion % 1000) / 10}`,
        );
        if (nvrtc.path) lines.push(`nvrtc      version ${device.nvrtc.version.major}.${device.nvrtc.version.minor}`);
        device.close();
      } catch (error) {
        lines.push(`gpu        the driver was found but no device could be opened: ${(error as Error).message}`);
      }
    } else {
      lines.push("gpu        none (no CUDA driver); CPU backend and compile-only CUDA checks only");
    }
    // Data parallelism (kiln train --nproc N / mpirun -n N kiln train): MPI between processes, NCCL between GPUs.
    const mpirun = firstLine("mpirun", ["--version"]);
    lines.push(`mpirun     ${mpirun ?? "not found on PATH (kiln train --nproc needs Open MPI: apt-get install openmpi-bin libopenmpi-dev)"}`);
    lines.push(...libraryLines("mpi", verbose).lines);
    const nccl = libraryLines("nccl", verbose);
    if (nccl.path) {
      try {
        const { loadNccl, ncclVersionText } = await import("../../runtime/collective/nccl.ts");
        nccl.lines[0] += ` (NCCL ${ncclVersionText(loadNccl(nccl.path).version)})`;
      } catch (error) {
        nccl.lines[0] += ` (could not be loaded: ${(error as Error).message})`;
      }
    }
    lines.push(...nccl.lines);
    const dir = cacheDir();
    const size = cacheSize(dir);
    lines.push(`cache      ${dir} (${size.files} files, ${bytes(size.bytes)})`);
    console.log(lines.join("\n"));
    return 0;
  },
};

export default doctor;
