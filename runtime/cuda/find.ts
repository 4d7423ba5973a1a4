// Where the CUDA driver (libcuda), NVRTC (libnvrtc) and the collective engines (Open MPI's libmpi,
// NCCL's libnccl) live on this machine. Used by the cuda device, runtime/collective and `kiln doctor`;
// no subprocess is run, the search is a fixed list of places plus globs.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export type CudaLibrary = "cuda" | "nvrtc" | "mpi" | "nccl";

interface LibrarySpec {
  envVar: string;
  fileNames: readonly string[];
  wheelDirs: readonly string[];
  /** Folders searched after the system ones (globs allowed), and variables naming an install prefix (its lib/). */
  extraDirs: readonly string[];
  prefixVars: readonly string[];
  /** What the library is and where it comes from, for the not-found error. */
  what: string;
}

/** What each library is called, which variable overrides the search, and where Python wheels put it. */
const LIBRARIES: Record<CudaLibrary, LibrarySpec> = {
  cuda: {
    envVar: "KILN_CUDA_PATH",
    fileNames: ["libcuda.so.1", "libcuda.so"],
    wheelDirs: [],
    extraDirs: [],
    prefixVars: [],
    what: "the NVIDIA driver's libcuda",
  },
  nvrtc: {
    envVar: "KILN_NVRTC_PATH",
    fileNames: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
    wheelDirs: ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"],
    extraDirs: [],
    prefixVars: [],
    what: "the NVRTC library of a CUDA toolkit or a Python wheel",
  },
  mpi: {
    envVar: "KILN_MPI_PATH",
    fileNames: ["libmpi.so.40", "libmpi.so"],
    wheelDirs: [],
    extraDirs: ["/usr/lib/x86_64-linux-gnu/openmpi/lib", "/usr/lib64/openmpi/lib", "/usr/local/lib", "/opt/openmpi/lib", "/opt/openmpi-*/lib"],
    prefixVars: ["MPI_HOME", "OPAL_PREFIX"],
    what: "Open MPI's libmpi; on Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev",
  },
  nccl: {
    envVar: "KILN_NCCL_PATH",
    fileNames: ["libnccl.so.2", "libnccl.so"],
    wheelDirs: ["nvidia/nccl/lib"],
    extraDirs: [],
    prefixVars: ["NCCL_HOME"],
    what: "NVIDIA's NCCL, from the nvidia-nccl-cu12/13 wheel (pip install nvidia-nccl-cu12) or the libnccl2 package",
  },
};

/** System folders, in search order (globs allowed: `*` inside one path segment). */
const SYSTEM_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/cuda/lib64",
  "/usr/local/cuda/targets/x86_64-linux/lib",
  "/usr/local/cuda-*/lib64",
  "/usr/local/cuda-*/targets/x86_64-linux/lib",
  "/usr/lib/wsl/lib",
];

/** Python prefixes whose site-packages may hold NVIDIA wheels (globbed, never by asking python). */
const PYTHON_SITE_DIRS = [
  "/usr/lib/python3*/site-packages",
  "/usr/lib/python3*/dist-packages",
  "/usr/lib/python3/dist-packages",
  "/usr/local/lib/python3*/site-packages",
  "/usr/local/lib/python3*/dist-packages",
  "/opt/conda/lib/python3*/site-packages",
  "/opt/*/lib/python3*/site-packages",
];

/** Include folders that may hold cuda_bf16.h (toolkit first, then wheels). */
const INCLUDE_DIRS = ["/usr/local/cuda/include", "/usr/local/cuda/targets/x86_64-linux/include", "/usr/local/cuda-*/include", "/usr/include"];
const WHEEL_INCLUDE_DIRS = ["nvidia/cu13/include", "nvidia/cuda_runtime/include"];

export interface SearchOptions {
  /** Environment to read KILN_*_PATH, LD_LIBRARY_PATH, CUDA_HOME, VIRTUAL_ENV, CONDA_PREFIX, HOME from. */
  env?: NodeJS.ProcessEnv;
  /** Prefix for every absolute system place (tests point it at a temp folder); "" means the real root. */
  root?: string;
}

export interface SearchResult {
  /** The library file found, or null. */
  path: string | null;
  /** Every place looked at, in order, up to and including the one that matched. */
  tried: string[];
}

/** Expands `*` within path segments against the file system; returns existing folders only. */
function globDirs(pattern: string): string[] {
  const segments = pattern.split("/").filter((s) => s !== "");
  let paths = [pattern.startsWith("/") ? "/" : "."];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of paths) {
      if (!segment.includes("*")) {
        next.push(join(base, segment));
        continue;
      }
      const re = new RegExp(`^${segment.split("*").map(escapeRegExp).join(".*")}$`);
      let names: string[] = [];
      try {
        names = readdirSync(base).sort();
      } catch {
        continue;
      }
      for (const name of names) if (re.test(name)) next.push(join(base, name));
    }
    paths = next;
  }
  return paths.filter(isDir);
}

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Python site-packages folders of this machine (virtualenv/conda first, then the usual prefixes). */
function pythonSiteDirs(env: NodeJS.ProcessEnv, root: string): string[] {
  const prefixes = [env.VIRTUAL_ENV, env.CONDA_PREFIX].filter((p): p is string => !!p).map((p) => `${p}/lib/python3*/site-packages`);
  const home = env.HOME ?? homedir();
  const userSites = [`${home}/.local/lib/python3*/site-packages`, `${home}/.pyenv/versions/*/lib/python3*/site-packages`];
  return [...prefixes, ...userSites, ...PYTHON_SITE_DIRS.map((d) => root + d)].flatMap(globDirs);
}

/** Full paths of libraries named in the glibc loader cache (/etc/ld.so.cache), read as text. */
function ldCacheEntries(root: string, fileNames: readonly string[]): string[] {
  let text: string;
  try {
    text = readFileSync(`${root}/etc/ld.so.cache`, "latin1");
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of text.split("\0")) if (entry.startsWith("/") && fileNames.some((f) => entry.endsWith(`/${f}`))) found.push(root + entry);
  return found;
}

/** The folders to search for a library, in order, with the label `tried` reports for each. */
function candidateDirs(library: CudaLibrary, env: NodeJS.ProcessEnv, root: string): string[] {
  const spec = LIBRARIES[library];
  const ldPath = (env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== "");
  const cudaHome = [env.CUDA_HOME, env.CUDA_PATH].filter((p): p is string => !!p).flatMap((p) => [`${p}/lib64`, `${p}/targets/x86_64-linux/lib`]);
  const prefixes = spec.prefixVars
    .map((v) => env[v])
    .filter((p): p is string => !!p)
    .flatMap((p) => [`${p}/lib`, `${p}/lib64`]);
  const system = [...SYSTEM_DIRS, ...spec.extraDirs].flatMap((d) => (d.includes("*") ? globDirs(root + d) : [root + d]));
  const wheels = pythonSiteDirs(env, root).flatMap((site) => spec.wheelDirs.map((w) => join(site, w)));
  return [...new Set([...ldPath, ...prefixes, ...cudaHome, ...system, ...wheels])];
}

/** The variable that overrides the search for a library (for messages). */
export const libraryEnvVar = (library: CudaLibrary): string => LIBRARIES[library].envVar;

/** Looks for a library: the KILN_*_PATH variable (a file or a folder), the ld cache, system folders, wheels. */
export function findLibrary(library: CudaLibrary, options: SearchOptions = {}): SearchResult {
  const env = options.env ?? process.env;
  const root = options.root ?? "";
  const spec = LIBRARIES[library];
  const tried: string[] = [];
  const tryFile = (path: string): string | null => {
    tried.push(path);
    return existsSync(path) && !isDir(path) ? path : null;
  };
  const override = env[spec.envVar];
  if (override) {
    if (isDir(override)) {
      for (const name of spec.fileNames) if (tryFile(join(override, name))) return { path: join(override, name), tried };
    } else if (tryFile(override)) return { path: override, tried };
  }
  tried.push(`${root}/etc/ld.so.cache`);
  // In the order of the file names (the versioned ABI first, e.g. libmpi.so.40 before the dev symlink).
  const entries = ldCacheEntries(root, spec.fileNames);
  const cached = spec.fileNames.flatMap((name) => entries.filter((p) => p.endsWith(`/${name}`))).find((p) => existsSync(p));
  if (cached) return { path: cached, tried };
  for (const dir of candidateDirs(library, env, root)) {
    for (const name of spec.fileNames) if (tryFile(join(dir, name))) return { path: join(dir, name), tried };
  }
  return { path: null, tried };
}

/** The library's path, or an error listing every place tried and how to point kiln at it. */
export function requireLibrary(library: CudaLibrary, options: SearchOptions = {}): string {
  const result = findLibrary(library, options);
  if (result.path) return result.path;
  const spec = LIBRARIES[library];
  throw new Error(
    `kiln: ${spec.fileNames[0]} not found (expected ${spec.what}); ` +
      `set ${spec.envVar} to the file or its folder. Places tried:\n  ${result.tried.join("\n  ")}`,
  );
}

/** A folder holding cuda_bf16.h for NVRTC's include path (toolkit, CUDA_HOME, then wheels), or null. */
export function findCudaInclude(options: SearchOptions = {}): string | null {
  const env = options.env ?? process.env;
  const root = options.root ?? "";
  const fromEnv = [env.CUDA_HOME, env.CUDA_PATH].filter((p): p is string => !!p).map((p) => `${p}/include`);
  const system = INCLUDE_DIRS.flatMap((d) => (d.includes("*") ? globDirs(root + d) : [root + d]));
  const wheels = pythonSiteDirs(env, root).flatMap((site) => WHEEL_INCLUDE_DIRS.map((w) => join(site, w)));
  return [...fromEnv, ...system, ...wheels].find((dir) => existsSync(join(dir, "cuda_bf16.h"))) ?? null;
}
