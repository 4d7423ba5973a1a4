// The CPU device: the C renderer (compiler/codegen/c.ts) writes the whole step as one function, the
// system C compiler builds it into a cached shared library (toolchain.ts), the step's memory is native
// blocks outside the JS heap (native.ts) that JS reads through views without copies, and one native
// call runs every kernel.

import koffi from "koffi";
import {
  C_TEMPLATES,
  debugLog,
  type DType,
  type Program,
  planArena,
  type ArenaPlan,
  renderC,
  reuseReducedOperands,
  templatesOf,
} from "../../compiler/index.ts";
import { cpuTemplatePrelude } from "../../kernels/cpu/index.ts";
import type { Device, DeviceFacts, DeviceProgram, DonationCopy, StepPlan } from "../device.ts";
import type { TypedArray } from "../trace.ts";
import { allocate, type NativeBlock } from "./native.ts";
import { applyOpenMpDefaults } from "./openmp.ts";
import { cCompiler, compileC, compilerVersion, cpuModel, evict, type CompiledLibrary } from "./toolchain.ts";

/**
 * Compiled libraries stay loaded for the life of the process: unloading a library whose OpenMP
 * regions ran can pull code out from under libgomp's pooled threads (seen as a crash in libgomp).
 */
const loadedLibraries: ReturnType<typeof koffi.load>[] = [];
export function loadLibrary(file: string): ReturnType<typeof koffi.load> {
  applyOpenMpDefaults(); // before libgomp is loaded with the first kernel library
  const lib = koffi.load(file);
  loadedLibraries.push(lib);
  return lib;
}

/** Bytes per element in CPU memory: bf16 and f16 are computed and stored as f32. */
export const storageBytes = (dtype: DType): number => (dtype === "bool" ? 1 : 4);

function viewFor(block: NativeBlock, offset: number, dtype: DType, count: number): TypedArray {
  if (dtype === "i32") return new Int32Array(block.view, offset, count);
  if (dtype === "bool") return new Uint8Array(block.view, offset, count);
  return new Float32Array(block.view, offset, count);
}

/** A step on the CPU: its library, and views of its native memory by buffer id. */
export interface CpuProgram extends DeviceProgram {
  readonly library: CompiledLibrary;
  readonly arena: ArenaPlan;
}

/** kiln_step(table, times, threads): threads 0 is OpenMP's default; `async` runs it on a libuv worker thread. */
type NativeStep = ((table: BigUint64Array, times: Float64Array | null, threads: number) => number) & {
  async: (table: BigUint64Array, times: null, threads: number, done: (error: unknown, rc: number) => void) => void;
};

/** The allocator: one native block for the arena of temporaries, one per other buffer; the table of their addresses. */
function allocateStep(program: Program, arena: ArenaPlan): { blocks: NativeBlock[]; table: BigUint64Array; views: Map<number, TypedArray> } {
  const table = new BigUint64Array(program.buffers.length);
  const views = new Map<number, TypedArray>();
  const arenaBlock = allocate(arena.bytes);
  const blocks = [arenaBlock];
  for (const b of program.buffers) {
    const count = Math.max(b.size, 1);
    if (b.kind === "temp") {
      const offset = arena.offsets.get(b.id);
      if (offset === undefined) continue; // never touched by a kernel
      table[b.id] = arenaBlock.address + BigInt(offset);
      views.set(b.id, viewFor(arenaBlock, offset, b.dtype, count));
      continue;
    }
    if (table[b.id] !== 0n) continue;
    const block = allocate(count * storageBytes(b.dtype));
    blocks.push(block);
    table[b.id] = block.address;
    views.set(b.id, viewFor(block, 0, b.dtype, count));
  }
  return { blocks, table, views };
}

/** The compiler and loader: the library's step function, rebuilding a cache entry that fails to load. */
function loadStep(source: string): { library: CompiledLibrary; step: NativeStep } {
  const load = (library: CompiledLibrary) => ({
    library,
    step: loadLibrary(library.library).func("int kiln_step(void* table, double* times, int threads)") as NativeStep,
  });
  const library = compileC(source);
  try {
    return load(library);
  } catch (error) {
    // A corrupt cache entry is rebuilt, not fatal.
    if (library.compiled) throw error;
    evict(library);
    return load(compileC(source));
  }
}

/** Each CPU program's buffer table and views, for share(). */
const hostMemory = new WeakMap<DeviceProgram, { table: BigUint64Array; views: Map<number, TypedArray> }>();

/** The launcher over the allocated memory: one native call, then the donation copies. */
function cpuProgram(plan: StepPlan, program: Program, arena: ArenaPlan, source: string, renderSeconds: number): CpuProgram {
  const { library, step } = loadStep(source);
  const { blocks, table, views } = allocateStep(program, arena);
  const view = (id: number): TypedArray => {
    const v = views.get(id);
    if (!v) throw new Error(`${plan.name}: buffer ${id} has no memory (no kernel touches it)`);
    return v;
  };
  const copies: readonly DonationCopy[] = plan.copies;
  let running = false;
  const finish = (rc: number): void => {
    if (rc !== 0) {
      const kernel = program.kernels[rc >> 8];
      throw new Error(`${plan.name}: kernel ${kernel?.name ?? rc >> 8} (${kernel?.comment ?? "?"}) failed with code ${rc & 0xff}`);
    }
    for (const c of copies) view(c.to).set(view(c.from));
  };
  const cpu: CpuProgram = {
    program,
    library,
    arena,
    description: "this CPU (generated C)",
    launchCount: program.kernels.length,
    compileSeconds: { codegen: renderSeconds, cc: library.seconds },
    timesKernels: true,
    write: (buffer, values) => view(buffer).set(values),
    view,
    read: (buffer) => view(buffer).slice(),
    readAsync: (buffer) => Promise.resolve(view(buffer).slice()),
    launch(times) {
      finish(step(table, times, 0));
    },
    launchOnThread(threads) {
      if (running) throw new Error(`${plan.name}: launched on a thread while its previous run is still going`);
      running = true;
      return new Promise((resolve, reject) =>
        step.async(table, null, threads, (error, rc) => {
          running = false;
          if (error) return reject(error instanceof Error ? error : new Error(String(error)));
          try {
            finish(rc);
            resolve();
          } catch (failure) {
            reject(failure as Error);
          }
        }),
      );
    },
    settle: () => Promise.resolve(),
    share(buffer, source, sourceBuffer) {
      const from = hostMemory.get(source);
      const sourceView = from?.views.get(sourceBuffer);
      if (!from || !sourceView) throw new Error(`${plan.name}: buffer ${buffer} can share only another CPU step's buffer that has memory`);
      const own = view(buffer);
      if (own.length !== sourceView.length || own.BYTES_PER_ELEMENT !== sourceView.BYTES_PER_ELEMENT)
        throw new Error(`${plan.name}: buffer ${buffer} (${own.length} elements) cannot share a buffer of ${sourceView.length}`);
      table[buffer] = from.table[sourceBuffer]!;
      views.set(buffer, sourceView);
    },
    dispose() {
      for (const b of blocks.splice(0)) b.free();
    },
  };
  hostMemory.set(cpu, { table, views });
  return cpu;
}

/** f32 lanes of the widest vector unit the CPU reports. */
function simdLanes(): number | null {
  const flags = cpuModel().split("|")[1] ?? "";
  if (flags.includes("avx512f")) return 16;
  if (flags.includes("avx")) return 8;
  return process.arch === "x64" || process.arch === "arm64" ? 4 : null;
}

const facts: DeviceFacts = {
  laneWidth: simdLanes(),
  floatAtomics: true,
  storableDtypes: ["f32", "i32", "bool"],
  maxBindings: null,
  asyncReadback: false,
  templates: templatesOf(C_TEMPLATES),
};

export const cpuDevice: Device<CpuProgram> = {
  name: "cpu",
  summary: "this machine's CPU, through generated C built with the system C compiler (gcc, or KILN_CC) and OpenMP",
  facts,
  async status() {
    try {
      return { available: true, lines: [`${cCompiler()}: ${compilerVersion()}`, `${facts.laneWidth ?? "?"} f32 SIMD lanes`] };
    } catch (error) {
      return { available: false, lines: [(error as Error).message] };
    }
  },
  prepare(plan) {
    const started = performance.now();
    const program = { ...plan.program, kernels: plan.program.kernels.map(reuseReducedOperands) };
    const arena = planArena(program, storageBytes);
    const source = renderC(program, { templateSource: cpuTemplatePrelude });
    debugLog(2, () => `${plan.name}: generated C (${source.length} bytes)\n${source}`);
    const step = cpuProgram(plan, program, arena, source, (performance.now() - started) / 1e3);
    const { library } = step;
    debugLog(
      1,
      () =>
        `${plan.name}: ${program.kernels.length} kernels, arena ${(arena.bytes / 2 ** 20).toFixed(2)} MiB (${(arena.unplannedBytes / 2 ** 20).toFixed(2)} MiB without reuse), ${library.compiled ? `compiled in ${library.seconds.toFixed(2)} s` : "from cache"}`,
    );
    return step;
  },
};
