// The buffer plan: every temporary lives in one arena, at an offset reused by buffers whose
// lifetimes (first write to last read, in kernel order) do not overlap. Inputs and outputs live
// outside the arena, owned by the compiled step.

import { itemSize } from "./dtype.ts";
import type { Kernel } from "./kernel-ir.ts";
import type { Program } from "./lower.ts";

export interface ArenaPlan {
  /** Byte offset of each temporary buffer in the arena. */
  readonly offsets: ReadonlyMap<number, number>;
  readonly bytes: number;
  /** Sum of all temporaries' sizes: what the arena would need without reuse. */
  readonly unplannedBytes: number;
}

const ALIGN = 64;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** The kernels touching each buffer: [first, last] index. */
export function lifetimes(kernels: readonly Kernel[]): Map<number, [number, number]> {
  const live = new Map<number, [number, number]>();
  kernels.forEach((k, i) => {
    for (const b of k.buffers) {
      const span = live.get(b.id);
      if (span) span[1] = i;
      else live.set(b.id, [i, i]);
    }
  });
  return live;
}

/**
 * Offsets for every temporary. `elementBytes` is the device's storage size per dtype (the CPU holds
 * bf16 and f16 values in f32; CUDA stores them in 2 bytes).
 */
export function planArena(program: Program, elementBytes: (dtype: Program["buffers"][number]["dtype"]) => number = itemSize): ArenaPlan {
  const live = lifetimes(program.kernels);
  const temps = program.buffers
    .filter((b) => b.kind === "temp" && live.has(b.id))
    .map((b) => ({ id: b.id, bytes: align(Math.max(b.size, 1) * elementBytes(b.dtype)), span: live.get(b.id)! }))
    .sort((a, b) => a.span[0] - b.span[0] || b.bytes - a.bytes);
  // First fit over the blocks in use at each buffer's birth.
  const placed: { offset: number; bytes: number; end: number }[] = [];
  const offsets = new Map<number, number>();
  let bytes = 0;
  for (const t of temps) {
    const busy = placed.filter((p) => p.end >= t.span[0]).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + t.bytes <= p.offset) break;
      offset = Math.max(offset, p.offset + p.bytes);
    }
    placed.push({ offset, bytes: t.bytes, end: t.span[1] });
    offsets.set(t.id, offset);
    bytes = Math.max(bytes, offset + t.bytes);
  }
  return { offsets, bytes, unplannedBytes: temps.reduce((s, t) => s + t.bytes, 0) };
}
