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

export function emulatedStepDevice(): EmulatedDevice {
  const allocations = new Map<bigint, ArrayBuffer>();
  let next = 0x10000000n;
  const launches = new Map<string, number>();
  const find = (pointer: Handle): { buffer: ArrayBuffer; offset: number } => {
    for (const [base, buffer] of allocations) {
      if (pointer >= base && pointer < base + BigInt(buffer.byteLength)) return { buffer, offset: Number(pointer - base) };
    }
    throw new Error(`emulated device: 0x${pointer.toString(16)} is not in any allocation`);
  };
  const view = (pointer: Handle, p: GlobalParam): StorageArray => {
    const { buffer, offset } = find(pointer);
    return storageView(buffer, offset, p);
  };
  const bytesOf = (data: ArrayBufferView) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let recording: (() => void)[] | null = null;
  const stream = (work: () => void) => (recording ? recording.push(work) : work());
  const run = (launch: CudaLaunch, kernel: CudaKernelSource, args: Readonly<Record<string, bigint | number>>): void => {
    launches.set(kernel.name, (launches.get(kernel.name) ?? 0) + 1);
    if (launch.simt) {
      const byId = new Map(launch.simt.params.map((p, index) => [p.id, BigInt(args[`p${index}`]!)]));
      emulateKernel(launch.simt, (p) => view(byId.get(p.id)!, p));
      return;
    }
    if (launch.template?.kind === "gemm") {
      const pointers = gemmBases(launch.template.plan, args);
      emulateKernel(mmaReferenceKernel(launch.template.plan), (p) => view(pointers.get(p.id)!, p));
      return;
    }
    throw new Error(`emulated device: cannot run ${kernel.name} (a ${launch.template?.kind ?? "template"} launch it has no model of)`);
  };
  return {
    description: "emulated GPU (gpu-emulator.ts)",
    launches,
    allocatedBytes: () => [...allocations.values()].reduce((s, b) => s + b.byteLength, 0),
    alloc(bytes) {
      const base = next;
      allocations.set(base, new ArrayBuffer(Math.max(bytes, 1)));
      next += ((BigInt(Math.max(bytes, 1)) + ALIGN - 1n) / ALIGN) * ALIGN + ALIGN;
      return base;
    },
    free(pointer) {
      if (!allocations.delete(pointer)) throw new Error(`emulated device: free of 0x${pointer.toString(16)}, which was not allocated`);
    },
    upload(pointer, data) {
      const { buffer, offset } = find(pointer);
      new Uint8Array(buffer, offset, data.byteLength).set(bytesOf(data));
    },
    download(pointer, into) {
      const { buffer, offset } = find(pointer);
      bytesOf(into).set(new Uint8Array(buffer, offset, into.byteLength));
    },
    copy(dst, src, bytes) {
      stream(() => {
        const from = find(src);
        const to = find(dst);
        new Uint8Array(to.buffer, to.offset, bytes).set(new Uint8Array(from.buffer, from.offset, bytes));
      });
    },
    load(_kernels: readonly CudaKernelSource[]) {},
    launch(launch, kernel, args) {
      stream(() => run(launch, kernel, args));
    },
    capture(work) {
      // Work on the stream is recorded while capturing and replayed by the graph's launch().
      const recorded: (() => void)[] = [];
      recording = recorded;
      try {
        work();
      } finally {
        recording = null;
      }
      return { launch: () => recorded.forEach((r) => r()), destroy: () => void (recorded.length = 0) };
    },
    synchronize() {},
    unload() {},
  };
}
