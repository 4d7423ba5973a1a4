// Test and bench C toolchain: writes a C source into a fresh temp directory, compiles it with gcc into a
// shared object and loads it with koffi. (The runtime's real, cached compiler lives in runtime/.)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import koffi, { type LibraryHandle } from "koffi";

/** The flags the CPU backend compiles generated kernels with. */
// -z nodelete as the CPU device's (runtime/cpu/toolchain.ts): libgomp must outlive its spinning workers at exit.
export const KERNEL_CFLAGS: readonly string[] = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-Wl,-z,nodelete"];

export interface CompileOptions {
  /** Compiler flags; defaults to KERNEL_CFLAGS. */
  readonly flags?: readonly string[];
  /** Extra libraries to link, as gcc arguments (e.g. "-lm"). */
  readonly libs?: readonly string[];
  /** Base name of the source and library files, for error messages and debugging. */
  readonly name?: string;
  /** C compiler executable; defaults to $CC or gcc. */
  readonly compiler?: string;
}

export type CFunction = ReturnType<LibraryHandle["func"]>;

export interface CLibrary {
  /** Path of the loaded shared object. */
  readonly path: string;
  /** Binds an exported function from a C prototype, e.g. "int add(int a, int b)". */
  func(prototype: string): CFunction;
  /**
   * Removes the temp files. The library itself stays mapped (bound functions keep working): unloading
   * it could drop the last reference to libgomp while its OpenMP worker threads are still alive.
   */
  close(): void;
}

/** Compiles `source` into a shared object and loads it. Throws with gcc's diagnostics on failure. */
export function compileC(source: string, options: CompileOptions = {}): CLibrary {
  const name = options.name ?? "kiln_test";
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const sourcePath = join(dir, `${name}.c`);
  const libraryPath = join(dir, `${name}.so`);
  writeFileSync(sourcePath, source);
  const compiler = options.compiler ?? process.env.CC ?? "gcc";
  const args = [...(options.flags ?? KERNEL_CFLAGS), sourcePath, "-o", libraryPath, ...(options.libs ?? [])];
  try {
    execFileSync(compiler, args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    // The source is kept so the diagnostics' line numbers can be followed.
    throw new Error(`compileC: expected ${compiler} ${args.join(" ")} to succeed; it failed with:\n${stderr}`);
  }
  const lib = koffi.load(libraryPath);
  return {
    path: libraryPath,
    func: (prototype) => lib.func(prototype),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
