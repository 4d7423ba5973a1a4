// A StepDevice without a GPU: device memory is host memory, and each launch runs the GPU L2 it was
// printed from in the emulator (compiler/codegen/gpu-emulator.ts), so a compiled CUDA step — arena,
// workspace, donation, graph capture and replay — runs end to end in tests. Tensor-core GEMM
// launches run as a plain bf16 GEMM followed by the plan's epilogue; flash-attention launches are
// not modelled (compile without the attention templates for this device).
import {
  type CudaKernelSource,
  type CudaLaunch,
  emulateKernel,
  type StorageArray,
  mmaReferenceKernel,
  type MmaGemmPlan,
  type GlobalParam,
} from "../../compiler/index.ts";
import type { Handle } from "./driver.ts";
import type { StepDevice } from "./step-device.ts";

const ALIGN = 256n;

export interface EmulatedDevice extends StepDevice {
  /** Launches run so far, by kernel name. */
  readonly launches: Map<string, number>;
  /** Bytes currently allocated. */
  allocatedBytes(): number;
}

/** Where the reference GEMM's buffers are for a template launch's arguments (A and B carry element offsets). */
function gemmBases(plan: MmaGemmPlan, args: Readonly<Record<string, bigint | number>>): Map<number, bigint> {
  const map = new Map<number, bigint>([
    [plan.a.id, BigInt(args.A!) - BigInt(plan.a.offset * 2)],
    [plan.b.id, BigInt(args.B!) - BigInt(plan.b.offset * 2)],
    [plan.c.id, BigInt(args.C!)],
  ]);
  plan.epilogueParams.forEach((p, index) => map.set(p.id, BigInt(args[`e${index}`]!)));
  return map;
}

/** Parameter `p`'s elements in its storage format, from `offset` of an allocation (cut short at its end). */
function storageView(buffer: ArrayBuffer, offset: number, p: GlobalParam): StorageArray {
  const bytes = buffer.byteLength - offset;
  switch (p.dtype) {
    case "f32":
      return new Float32Array(buffer, offset, Math.min(p.size, bytes / 4));
    case "i32":
      return new Int32Array(buffer, offset, Math.min(p.size, bytes / 4));
    case "bf16":
    case "f16":
      return new Uint16Array(buffer, offset, Math.min(p.size, bytes / 2));
    case "bool":
      return new Uint8Array(buffer, offset, Math.min(p.size, bytes));
  }
}

/** Host memory posing as device memory: each allocation at its own fake address, aligned and with a gap after it. */
interface EmulatedMemory {
  alloc(bytes: number): Handle;
  free(pointer: Handle): void;
  /** The allocation that holds `pointer`, and the byte offset of `pointer` in it. */
  find(pointer: Handle): { buffer: ArrayBuffer; offset: number };
  /** Parameter `p`'s elements at `pointer`, in their storage format. */
  view(pointer: Handle, p: GlobalParam): StorageArray;
  allocatedBytes(): number;
}

/** An empty EmulatedMemory; addresses start at 0x10000000 so that a null pointer is never in an allocation. */
function emulatedMemory(): EmulatedMemory {
  const allocations = new Map<bigint, ArrayBuffer>();
  let next = 0x10000000n;
  const find = (pointer: Handle): { buffer: ArrayBuffer; offset: number } => {
    for (const [base, buffer] of allocations) {
      if (pointer >= base && pointer < base + BigInt(buffer.byteLength)) return { buffer, offset: Number(pointer - base) };
    }
    throw new Error(`emulated device: 0x${pointer.toString(16)} is not in any allocation`);
  };
  return {
    alloc(bytes) {
      const base = next;
      allocations.set(base, new ArrayBuffer(Math.max(bytes, 1)));
      next += ((BigInt(Math.max(bytes, 1)) + ALIGN - 1n) / ALIGN) * ALIGN + ALIGN;
      return base;
    },
    free(pointer) {
      if (!allocations.delete(pointer)) throw new Error(`emulated device: free of 0x${pointer.toString(16)}, which was not allocated`);
    },
    find,
    view(pointer, p) {
      const { buffer, offset } = find(pointer);
      return storageView(buffer, offset, p);
    },
    allocatedBytes: () => [...allocations.values()].reduce((s, b) => s + b.byteLength, 0),
  };
}

/** One launch in the emulator: a SIMT kernel as it was printed, a tensor-core GEMM as the reference GEMM with the plan's epilogue. */
function runLaunch(memory: EmulatedMemory, launch: CudaLaunch, kernel: CudaKernelSource, args: Readonly<Record<string, bigint | number>>): void {
  if (launch.simt) {
    const byId = new Map(launch.simt.params.map((p, index) => [p.id, BigInt(args[`p${index}`]!)]));
    emulateKernel(launch.simt, (p) => memory.view(byId.get(p.id)!, p));
    return;
  }
  if (launch.template?.kind === "gemm") {
    const pointers = gemmBases(launch.template.plan, args);
    emulateKernel(mmaReferenceKernel(launch.template.plan), (p) => memory.view(pointers.get(p.id)!, p));
    return;
  }
  throw new Error(`emulated device: cannot run ${kernel.name} (a ${launch.template?.kind ?? "template"} launch it has no model of)`);
}

/** The device stream: work runs at once, except while a graph is captured, when it is recorded for the graph's launch() to replay. */
function emulatedStream(): { enqueue(work: () => void): void; capture: StepDevice["capture"] } {
  let recording: (() => void)[] | null = null;
  return {
    enqueue: (work) => (recording ? recording.push(work) : work()),
    capture(work) {
      const recorded: (() => void)[] = [];
      recording = recorded;
      try {
        work();
      } finally {
        recording = null;
      }
      return { launch: () => recorded.forEach((r) => r()), destroy: () => void (recorded.length = 0) };
    },
  };
}

const bytesOf = (data: ArrayBufferView): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** A StepDevice on host memory that runs each launch in the GPU emulator (what it models: the head of this file). */
export function emulatedStepDevice(): EmulatedDevice {
  const memory = emulatedMemory();
  const stream = emulatedStream();
  const launches = new Map<string, number>();
  return {
    description: "emulated GPU (gpu-emulator.ts)",
    stream: 0n,
    launches,
    allocatedBytes: () => memory.allocatedBytes(),
    alloc: (bytes) => memory.alloc(bytes),
    free: (pointer) => memory.free(pointer),
    upload(pointer, data) {
      const { buffer, offset } = memory.find(pointer);
      new Uint8Array(buffer, offset, data.byteLength).set(bytesOf(data));
    },
    download(pointer, into) {
      const { buffer, offset } = memory.find(pointer);
      bytesOf(into).set(new Uint8Array(buffer, offset, into.byteLength));
    },
    copy(dst, src, bytes) {
      stream.enqueue(() => {
        const from = memory.find(src);
        const to = memory.find(dst);
        new Uint8Array(to.buffer, to.offset, bytes).set(new Uint8Array(from.buffer, from.offset, bytes));
      });
    },
    load(_kernels: readonly CudaKernelSource[]) {},
    launch(launch, kernel, args) {
      stream.enqueue(() => {
        launches.set(kernel.name, (launches.get(kernel.name) ?? 0) + 1);
        runLaunch(memory, launch, kernel, args);
      });
    },
    capture: (work) => stream.capture(work),
    synchronize() {},
    unload() {},
  };
}
