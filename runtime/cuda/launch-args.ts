// Packs kernel arguments into the byte layout of the kernel's parameter list (C struct rules: each
// field at its natural alignment), the buffer cuLaunchKernel takes through CU_LAUNCH_PARAM_BUFFER_POINTER.
import type { KernelParam, KernelParamType } from "../../kernels/cuda/index.ts";

const SIZE: Record<KernelParamType, number> = { ptr: 8, i64: 8, i32: 4, u32: 4, f32: 4 };

export type KernelArgs = Readonly<Record<string, bigint | number>>;

/** The packed parameter buffer; throws naming the kernel and parameter when an argument is missing or mistyped. */
export function packKernelArgs(kernel: string, params: readonly KernelParam[], args: KernelArgs): Uint8Array {
  let size = 0;
  const offsets = params.map((p) => {
    size = Math.ceil(size / SIZE[p.type]) * SIZE[p.type];
    const at = size;
    size += SIZE[p.type];
    return at;
  });
  const align = Math.max(1, ...params.map((p) => SIZE[p.type]));
  const bytes = new Uint8Array(Math.ceil(size / align) * align);
  const view = new DataView(bytes.buffer);
  params.forEach((p, i) => {
    const value = args[p.name];
    if (value === undefined)
      throw new Error(`${kernel}: no argument for parameter ${p.name} (${p.cType}); expected one of ${params.map((q) => q.name).join(", ")}`);
    const at = offsets[i]!;
    switch (p.type) {
      case "ptr":
      case "i64":
        view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
        break;
      case "i32":
      case "u32":
        if (typeof value !== "number" || !Number.isInteger(value))
          throw new Error(`${kernel}: parameter ${p.name} is ${p.cType}, got ${String(value)}`);
        view.setUint32(at, value >>> 0, true);
        break;
      case "f32":
        view.setFloat32(at, Number(value), true);
        break;
      default:
        p.type satisfies never;
    }
  });
  const unknown = Object.keys(args).filter((name) => !params.some((p) => p.name === name));
  if (unknown.length > 0)
    throw new Error(`${kernel}: unknown argument(s) ${unknown.join(", ")}; parameters are ${params.map((q) => q.name).join(", ")}`);
  return bytes;
}
