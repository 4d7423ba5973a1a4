// L1 → L2: each scheduled group becomes a kernel of loops, loads, stores and accumulators (or a
// call into a template with a fused epilogue), over numbered buffers (one group: lower-group.ts;
// loop nests, merged where indices stay affine: lower-loops.ts). This file declares the buffers and
// walks the schedule, regions included.

import type { DType } from "./dtype.ts";
import { shapeStr, sizeOf, type Tensor } from "./graph.ts";
import { loopVar, type Kernel } from "./kernel-ir.ts";
import { bindOldValues } from "./old-values.ts";
import { scalarType } from "./lower-expr.ts";
import { lowerGroup } from "./lower-group.ts";
import { PARALLEL_MIN_ELEMENTS } from "./lower-loops.ts";
import type { Schedule } from "./schedule-groups.ts";

export interface BufferDecl {
  readonly id: number;
  readonly node: Tensor;
  readonly dtype: DType;
  readonly size: number;
  /** input: supplied by the caller; output: returned; temp: lives in the arena between kernels. */
  kind: "input" | "output" | "temp";
  readonly name?: string;
}

export interface Program {
  readonly kernels: Kernel[];
  readonly buffers: BufferDecl[];
  /** Buffer of each root, in order. */
  readonly outputs: readonly number[];
  /** Buffer of each external input node. */
  readonly inputs: ReadonlyMap<Tensor, number>;
}

export function lowerSchedule(schedule: Schedule, aliases: ReadonlyMap<Tensor, Tensor> = new Map()): Program {
  const buffers: BufferDecl[] = [];
  const kernels: Kernel[] = [];
  const bufferOf = new Map<Tensor, number>();
  const declare = (node: Tensor, kind: BufferDecl["kind"], name?: string): number => {
    const existing = bufferOf.get(node);
    if (existing !== undefined) return existing;
    const id = buffers.length;
    buffers.push({ id, node, dtype: node.dtype, size: sizeOf(node.shape), kind, ...(name ? { name } : {}) });
    bufferOf.set(node, id);
    return id;
  };
  const inputs = new Map<Tensor, number>();
  for (const ext of schedule.externals) {
    const attrs = (ext as Tensor<"input">).attrs;
    inputs.set(ext, declare(ext, "input", attrs.name));
  }
  // A donated root is written straight into the input buffer it replaces.
  for (const [root, input] of aliases) if (bufferOf.has(input)) bufferOf.set(schedule.aliasOf.get(root) ?? root, bufferOf.get(input)!);
  emitSchedule(schedule, bufferOf, declare, kernels);
  const inputIds = new Set(inputs.values());
  const outputs = schedule.roots.map((r) => {
    const id = bufferOf.get(schedule.aliasOf.get(r) ?? r);
    if (id === undefined) throw new Error(`lower: root ${shapeStr(r.shape)} ${r.op} has no buffer (scheduler bug)`);
    if (buffers[id]!.kind === "temp") buffers[id]!.kind = "output";
    return id;
  });
  return { kernels: kernels.map((k) => bindOldValues(k, inputIds)), buffers, outputs, inputs };
}

function emitSchedule(
  schedule: Schedule,
  bufferOf: Map<Tensor, number>,
  declare: (node: Tensor, kind: BufferDecl["kind"]) => number,
  kernels: Kernel[],
): void {
  for (const node of schedule.stored) declare(node, "temp");
  for (const group of schedule.groups) {
    if (group.kind === "region") {
      // The region's inside reads the call's arguments and writes the call's output.
      const { body } = group.call.attrs;
      const inner = group.inner;
      const innerBuffers = new Map<Tensor, number>();
      body.params.forEach((p, i) => innerBuffers.set(p, bufferOf.get(group.call.inputs[i]!)!));
      const outId = bufferOf.get(group.call) ?? declare(group.call, "temp");
      const innerRoot = inner.aliasOf.get(inner.roots[0]!) ?? inner.roots[0]!;
      if (!body.params.includes(innerRoot)) innerBuffers.set(innerRoot, outId);
      const declareInner = (node: Tensor, kind: BufferDecl["kind"]): number =>
        innerBuffers.has(node) ? innerBuffers.get(node)! : (innerBuffers.set(node, declare(node, kind)), innerBuffers.get(node)!);
      emitSchedule(inner, innerBuffers, declareInner, kernels);
      if (body.params.includes(innerRoot)) kernels.push(copyKernel(innerBuffers.get(innerRoot)!, outId, innerRoot, kernels.length));
      continue;
    }
    const kernel = lowerGroup(group, schedule, bufferOf, kernels.length);
    if (kernel) kernels.push(kernel);
  }
}

function copyKernel(from: number, to: number, node: Tensor, index: number): Kernel {
  const n = sizeOf(node.shape);
  const v = loopVar("i0", Math.max(n, 1));
  return {
    name: `copy_${n}_${index}`,
    comment: `copy of ${node.op}${shapeStr(node.shape)}`,
    template: "pointwise",
    buffers: [
      { id: from, dtype: node.dtype, size: n, role: "read" },
      { id: to, dtype: node.dtype, size: n, role: "write" },
    ],
    body: [
      {
        s: "loop",
        var: v,
        parallel: n >= PARALLEL_MIN_ELEMENTS,
        body: [{ s: "store", buffer: to, index: v, value: { op: "load", buffer: from, index: v, type: scalarType(node.dtype) } }],
      },
    ],
    flops: 0,
    bytes: 2 * n * 4,
  };
}

export const describeKernel = (k: Kernel): string => `${k.name}  ${k.comment}`;
