// The CPU device's compiler: generated C → shared library with the system C compiler, cached on
// disk by the hash of source, flags, compiler version and CPU, so a second run compiles nothing.
// Beside each library, `<key>.so.sha256` records its hash at build time; a library that no longer
// matches (bytes flipped, files swapped) is rebuilt instead of loaded — loading it could crash kiln.

import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { cacheDir, cacheKey, writeAtomic } from "../cache.ts";

// -z nodelete: the library (and libgomp through it) stays mapped when it is closed at process exit.
// OpenMP's worker threads may still be spinning in libgomp then; unmapped under them, the process died
// with SIGSEGV after its work was done (always with OMP_WAIT_POLICY=active; now and then with a short spin).
export const C_FLAGS = ["-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-shared", "-fPIC", "-Wl,-z,nodelete"] as const;

let compilerRuns = 0;
/** How many times this process has started the C compiler (a warm cache starts none). */
export const compilerInvocations = (): number => compilerRuns;

export const cCompiler = (): string => process.env.KILN_CC || "gcc";

const versions = new Map<string, string>();
export function compilerVersion(cc = cCompiler()): string {
  let v = versions.get(cc);
  if (v === undefined) {
    try {
      v = execFileSync(cc, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        .split("\n")[0]!
        .trim();
    } catch (error) {
      throw new Error(
        `kiln cpu: the C compiler '${cc}' could not be run (${(error as Error).message.split("\n")[0]}). Install gcc (Debian: apt-get install gcc) or set KILN_CC to a C compiler.`,
      );
    }
    versions.set(cc, v);
  }
  return v;
}

let cpuName: string | undefined;
export function cpuModel(): string {
  if (cpuName === undefined) {
    try {
      const info = readFileSync("/proc/cpuinfo", "utf8");
      const model = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? "";
      const flags = /flags\s*:\s*(.*)/.exec(info)?.[1] ?? "";
      cpuName = `${model}|${flags
        .split(" ")
        .filter((f) => f.startsWith("avx") || f === "fma")
        .sort()
        .join(",")}`;
    } catch {
      cpuName = `${process.arch}`;
    }
  }
  return cpuName;
}

export interface CompiledLibrary {
  /** Path of the shared library. */
  library: string;
  /** Path of the C source it was built from (kept beside it for debugging). */
  source: string;
  /** Whether this call ran the compiler. */
  compiled: boolean;
  seconds: number;
}

const sidecar = (library: string): string => `${library}.sha256`;
const fileHash = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Whether the cached `library` is the one built for its key: undefined when it is, else what is wrong. */
export function verifyLibrary(library: string): string | undefined {
  if (!existsSync(library)) return "missing";
  let recorded: string;
  try {
    recorded = readFileSync(sidecar(library), "utf8");
  } catch {
    return "no recorded hash (built by an older kiln, or the build was interrupted)";
  }
  const [key, hash] = recorded.trim().split(/\s+/);
  if (key !== path.basename(library, ".so")) return `its hash record belongs to ${key}`;
  return fileHash(library) === hash ? undefined : "its bytes differ from those built";
}

/** Every library in the CPU cache folder that fails verifyLibrary, with the reason. */
export function damagedLibraries(dir = cacheDir("cpu")): { library: string; problem: string }[] {
  const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".so")) : [];
  return names.flatMap((name) => {
    const library = path.join(dir, name);
    const problem = verifyLibrary(library);
    return problem ? [{ library, problem }] : [];
  });
}

/** Compile `source` into a cached shared library (or find it in the cache, verified against its recorded hash). */
export function compileC(source: string, extraFlags: readonly string[] = []): CompiledLibrary {
  const started = performance.now();
  const cc = cCompiler();
  const flags = [...C_FLAGS, ...extraFlags];
  const key = cacheKey(source, flags.join(" "), compilerVersion(cc), cpuModel());
  const dir = cacheDir("cpu");
  const library = path.join(dir, `${key}.so`);
  const sourcePath = path.join(dir, `${key}.c`);
  if (existsSync(library)) {
    const problem = verifyLibrary(library);
    if (!problem) return { library, source: sourcePath, compiled: false, seconds: (performance.now() - started) / 1000 };
    // A library from before hashes were recorded is rebuilt quietly; a damaged one is worth a line.
    if (existsSync(sidecar(library))) process.stderr.write(`kiln cpu: rebuilding the cached kernel library ${library}: ${problem}\n`);
    rmSync(library, { force: true });
  }
  writeAtomic(sourcePath, source);
  const tmp = `${library}.tmp-${process.pid}`;
  const args = [...flags, "-o", tmp, sourcePath, "-lm"];
  compilerRuns++;
  const result = spawnSync(cc, args, { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    rmSync(tmp, { force: true });
    const why = result.error ? result.error.message : `exit status ${result.status}`;
    throw new Error(
      `kiln cpu: compiling a kernel file failed (${why}).\n  command: ${cc} ${args.join(" ")}\n  source: ${sourcePath}\n${(result.stderr ?? "").trim().split("\n").slice(0, 40).join("\n")}`,
    );
  }
  // The hash first: a kill between the two leaves a library without a matching record, which is rebuilt.
  writeAtomic(sidecar(library), `${key} ${fileHash(tmp)}\n`);
  renameSync(tmp, library);
  return { library, source: sourcePath, compiled: true, seconds: (performance.now() - started) / 1000 };
}

/** Remove a cache entry that failed to load, so the next compile rebuilds it. */
export function evict(entry: CompiledLibrary): void {
  rmSync(entry.library, { force: true });
  rmSync(sidecar(entry.library), { force: true });
}
