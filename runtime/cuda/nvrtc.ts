// NVRTC bound with koffi: CUDA C++ source → cubin for the device's architecture, through the disk
// cache (after tinygrad's compiler_cuda.py). A failed compile throws with NVRTC's log.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import koffi from "koffi";
import { cachedBinary } from "./compile-cache.ts";

type NativeCall = (...args: unknown[]) => unknown;

const PROTOTYPES: Record<string, { result: string; args: readonly string[] }> = {
  nvrtcVersion: { result: "int", args: ["void *", "void *"] },
  nvrtcGetErrorString: { result: "const char *", args: ["int"] },
  nvrtcCreateProgram: { result: "int", args: ["void *", "const char *", "const char *", "int", "void *", "void *"] },
  nvrtcCompileProgram: { result: "int", args: ["void *", "int", "const char **"] },
  nvrtcGetProgramLogSize: { result: "int", args: ["void *", "void *"] },
  nvrtcGetProgramLog: { result: "int", args: ["void *", "void *"] },
  nvrtcGetCUBINSize: { result: "int", args: ["void *", "void *"] },
  nvrtcGetCUBIN: { result: "int", args: ["void *", "void *"] },
  nvrtcGetPTXSize: { result: "int", args: ["void *", "void *"] },
  nvrtcGetPTX: { result: "int", args: ["void *", "void *"] },
  nvrtcDestroyProgram: { result: "int", args: ["void *"] },
};

/** Compute capability → the `--gpu-architecture` NVRTC compiles for. Hopper gets the `a` target (wgmma). */
const ARCH_OVERRIDES: Record<string, string> = { "9.0": "sm_90a" };

export interface ComputeCapability {
  major: number;
  minor: number;
}

export const archFor = (cc: ComputeCapability): string => ARCH_OVERRIDES[`${cc.major}.${cc.minor}`] ?? `sm_${cc.major}${cc.minor}`;

/** The options kiln compiles every kernel with. */
export function nvrtcOptions(arch: string, includeDirs: readonly string[] = []): string[] {
  return [`--gpu-architecture=${arch}`, "-default-device", "--std=c++17", ...includeDirs.map((dir) => `--include-path=${dir}`)];
}

export interface CompileOutput {
  /** A cubin when compiled for a real architecture (sm_XY), else PTX text as bytes. */
  binary: Uint8Array;
  log: string;
}

export interface Nvrtc {
  path: string;
  version: { major: number; minor: number };
  /** Compiles one translation unit; `name` is the file name NVRTC puts in its messages. */
  compile(source: string, name: string, options: readonly string[]): CompileOutput;
}

/**
 * NVRTC opens libnvrtc-builtins by its bare name at compile time. A wheel's libnvrtc carries no rpath to
 * its own folder, so load the builtins beside it first; the loader then finds them already in the process.
 */
function preloadBuiltins(nvrtcPath: string): void {
  const folder = dirname(nvrtcPath);
  let names: string[] = [];
  try {
    names = readdirSync(folder).filter((name) => /^libnvrtc-builtins\.so(\.\d+)*$/.test(name));
  } catch {
    return;
  }
  const best = names.sort((a, b) => b.length - a.length || b.localeCompare(a))[0];
  if (best) koffi.load(join(folder, best));
}

export function loadNvrtc(path: string): Nvrtc {
  preloadBuiltins(path);
  const library = koffi.load(path);
  const native = Object.fromEntries(Object.entries(PROTOTYPES).map(([name, p]) => [name, library.func(name, p.result, [...p.args]) as NativeCall]));
  const check = (call: string, code: unknown, where: string, log = "") => {
    if (code === 0) return;
    const text = native.nvrtcGetErrorString!(code) as string;
    throw new Error(`${call} failed for ${where}: ${text} (${String(code)})${log ? `\n${log}` : ""}`);
  };
  const major = new Int32Array(1);
  const minor = new Int32Array(1);
  check("nvrtcVersion", native.nvrtcVersion!(major, minor), path);

  /** Reads a sized output (log, cubin, ptx) of a program. */
  const readSized = (program: bigint, sizeCall: string, dataCall: string, where: string): Uint8Array => {
    const size = new BigUint64Array(1);
    check(sizeCall, native[sizeCall]!(program, size), where);
    const data = new Uint8Array(Number(size[0]));
    if (data.length > 0) check(dataCall, native[dataCall]!(program, data), where);
    return data;
  };
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8").replace(/\0+$/, "");

  return {
    path,
    version: { major: major[0]!, minor: minor[0]! },
    compile(source, name, options) {
      const handle = new BigUint64Array(1);
      check("nvrtcCreateProgram", native.nvrtcCreateProgram!(handle, source, name, 0, null, null), name);
      const program = handle[0]!;
      try {
        const code = native.nvrtcCompileProgram!(program, options.length, [...options]);
        const log = text(readSized(program, "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", name));
        check("nvrtcCompileProgram", code, `${name} with ${options.join(" ")}`, log);
        const cubin = readSized(program, "nvrtcGetCUBINSize", "nvrtcGetCUBIN", name);
        const binary = cubin.length > 0 ? cubin : readSized(program, "nvrtcGetPTXSize", "nvrtcGetPTX", name);
        return { binary, log };
      } finally {
        native.nvrtcDestroyProgram!(handle);
      }
    },
  };
}

/** Compiles through the disk cache, keyed by source, options, NVRTC version and architecture. */
export function compileCached(
  nvrtc: Nvrtc,
  source: string,
  name: string,
  arch: string,
  includeDirs: readonly string[] = [],
): { binary: Uint8Array; hit: boolean } {
  const options = nvrtcOptions(arch, includeDirs);
  const version = `nvrtc ${nvrtc.version.major}.${nvrtc.version.minor}`;
  const { binary, hit } = cachedBinary([source, options.join(" "), version, arch], () => nvrtc.compile(source, `${name}.cu`, options).binary);
  return { binary, hit };
}
