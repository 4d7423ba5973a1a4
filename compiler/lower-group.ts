// L1 → L2 for one scheduled group: a kernel of loops, loads, stores and accumulators, or a call into a
// template with a fused epilogue. One lowering per group kind; lowerGroup picks it.

import { shapeStr, sizeOf, type Shape, type Tensor } from "./graph.ts";
import {
  fconst,
  iconst,
  loopVar,
  type AttentionArgs,
  type AttentionView,
  type Epilogue,
  type Expr,
  type Kernel,
  type KernelBuffer,
  type Stmt,
} from "./kernel-ir.ts";
import { ExprLowering, flatIndex, indexVars, scalarType, unflatIndex } from "./lower-expr.ts";
import { loopNest, PARALLEL_MIN_ELEMENTS, unflat, varsOf } from "./lower-loops.ts";
import {
  batchStride,
  isColumnReduce,
  isPerRow,
  rowShapeOf,
  sameShape,
  stridedView,
  type GemmGroup,
  type Group,
  type MultiGroup,
  type PointwiseGroup,
  type ReduceGroup,
  type Schedule,
  type ScatterGroup,
  type TemplateGroup,
} from "./schedule-groups.ts";
import { attentionMeta } from "./templates.ts";

/** The index into `node` of the element at `at` in `space` (same flat position when the shapes differ, as through a reshape). */
const indexIn = (node: Tensor, at: readonly Expr[], space: Shape): readonly Expr[] =>
  sameShape(node.shape, space) ? at : unflatIndex(flatIndex(at, space), node.shape);

/** What the lowering of every group kind shares: the buffers the kernel touches, its stores, the finished kernel. */
interface KernelBuilder {
  readonly schedule: Schedule;
  /** The group's members this kernel must store. */
  readonly stored: readonly Tensor[];
  /** The buffer of `node`, recorded as read or written by this kernel. */
  touch(node: Tensor, role: "read" | "write"): number;
  /** Expressions over the group's members: realized values load, `locals` are held in registers. */
  lowering(locals?: ReadonlyMap<Tensor, Expr>): ExprLowering;
  store(node: Tensor, at: readonly Expr[], value: Expr): Stmt;
  finish(template: Kernel["template"], shape: Shape, body: Stmt[], work: number): Kernel;
}

function kernelBuilder(group: Group, schedule: Schedule, bufferOf: ReadonlyMap<Tensor, number>, index: number): KernelBuilder {
  const members = new Set(group.members);
  const used = new Map<number, KernelBuffer>();
  const touch = (node: Tensor, role: "read" | "write"): number => {
    const id = bufferOf.get(node);
    if (id === undefined) throw new Error(`lower: ${node.op}${shapeStr(node.shape)} has no buffer (scheduler bug)`);
    const prev = used.get(id);
    used.set(id, { id, dtype: node.dtype, size: sizeOf(node.shape), role: prev && prev.role !== role ? "readwrite" : role });
    return id;
  };
  const load = (node: Tensor, at: readonly Expr[]): Expr => ({
    op: "load",
    buffer: touch(node, "read"),
    index: flatIndex(at, node.shape),
    type: scalarType(node.dtype),
  });
  const isComputedHere = (n: Tensor): boolean => members.has(n) && n.op !== "dot" && n.op !== "sum" && n.op !== "reduce_max";
  const comment = `${group.kind}: ${group.members.map((m) => `${m.op}${shapeStr(m.shape)}`).join(", ")}`;
  return {
    schedule,
    stored: group.members.filter((m) => schedule.stored.has(m)),
    touch,
    lowering: (locals = new Map()) =>
      new ExprLowering({
        isLeaf: (n) => locals.has(n) || (schedule.realized.has(n) && !isComputedHere(n)) || (bufferOf.has(n) && !isComputedHere(n)),
        leaf: (n, at) => locals.get(n) ?? load(n, at),
      }),
    store: (node, at, value) => ({ s: "store", buffer: touch(node, "write"), index: flatIndex(at, node.shape), value }),
    finish: (template, shape, body, work) => ({
      name: `${template}_${shape.join("x") || "scalar"}_${index}`,
      comment,
      template,
      buffers: [...used.values()].sort((a, b) => a.id - b.id),
      body,
      flops: work,
      bytes: [...used.values()].reduce((s, b) => s + b.size * 4, 0),
    }),
  };
}

/** Store member `m`, computed inline, at the element `at` of `space`. */
function storeMember(kb: KernelBuilder, lowering: ExprLowering, m: Tensor, at: readonly Expr[], space: Shape): Stmt {
  const mAt = indexIn(m, at, space);
  return kb.store(m, mAt, lowering.value(m, mAt));
}

/** The kernel of one group (a region is lowered by its inner schedule instead); null when it stores nothing. */
export function lowerGroup(
  group: Exclude<Group, { kind: "region" }>,
  schedule: Schedule,
  bufferOf: ReadonlyMap<Tensor, number>,
  index: number,
): Kernel | null {
  const kb = kernelBuilder(group, schedule, bufferOf, index);
  switch (group.kind) {
    case "multi":
      return lowerMulti(kb, group);
    case "pointwise":
      return lowerPointwise(kb, group);
    case "reduce":
      return isColumnReduce(group) ? lowerColumnReduce(kb, group) : lowerRowReduce(kb, group);
    case "gemm":
      return lowerGemm(kb, group);
    case "attention":
    case "attention_bwd":
      return lowerAttention(kb, group);
    case "scatter":
      return lowerScatter(kb, group);
    default:
      return group satisfies never;
  }
}

function lowerMulti(kb: KernelBuilder, group: MultiGroup): Kernel {
  // Each part keeps its own loops; the renderer runs them in one parallel region.
  const body: Stmt[] = [];
  let work = 0;
  group.parts.forEach((part, k) => {
    const partStored = part.members.filter((m) => kb.schedule.stored.has(m));
    const at = indexVars(part.space, `i`);
    const lowering = kb.lowering();
    const stores = partStored.map((m) => storeMember(kb, lowering, m, at, part.space));
    body.push(...loopNest(varsOf(at), stores, true, `t${k}`));
    work += sizeOf(part.space);
  });
  return kb.finish("multi", [group.parts.length], body, work);
}

function lowerPointwise(kb: KernelBuilder, group: PointwiseGroup): Kernel | null {
  if (kb.stored.length === 0) return null;
  const at = indexVars(group.space, "i");
  const lowering = kb.lowering();
  const body = kb.stored.map((m) => storeMember(kb, lowering, m, at, group.space));
  const n = sizeOf(group.space);
  return kb.finish("pointwise", group.space, loopNest(varsOf(at), body, n >= PARALLEL_MIN_ELEMENTS, "p"), n);
}

/** Chained reductions over the same rows: per row, each stage's accumulator, then per-row and elementwise stores. */
function lowerRowReduce(kb: KernelBuilder, group: ReduceGroup): Kernel {
  const { stored } = kb;
  const full = indexVars(group.space, "i");
  const rowIndex = full.map((e, k) => (group.axes.includes(k) ? iconst(0) : e));
  const locals = new Map<Tensor, Expr>(group.stages.map((r, k) => [r, { op: "local", name: `acc${k}`, type: scalarType(r.dtype) }]));
  const lowering = kb.lowering(locals);
  const innerVars = varsOf(full.filter((_, k) => group.axes.includes(k)));
  const outerVars = varsOf(full.filter((_, k) => !group.axes.includes(k)));
  const row: Stmt[] = [];
  group.stages.forEach((r, k) => {
    const fn = r.op === "sum" ? "add" : "max";
    row.push({ s: "acc_init", name: `acc${k}`, fn, type: scalarType(r.dtype) });
    row.push(...loopNest(innerVars, [{ s: "acc", name: `acc${k}`, fn, value: lowering.value(r.inputs[0]!, full) }], false, `r${k}`));
    if (stored.includes(r)) row.push(kb.store(r, rowIndex, locals.get(r)!));
  });
  const rowShape = rowShapeOf(group);
  const perRow = stored.filter((m) => !group.stages.includes(m) && isPerRow(group, m));
  for (const m of perRow) row.push(storeMember(kb, lowering, m, rowIndex, rowShape));
  const elementwise = stored.filter((m) => !isPerRow(group, m));
  if (elementwise.length)
    row.push(
      ...loopNest(
        innerVars,
        elementwise.map((m) => storeMember(kb, lowering, m, full, group.space)),
        false,
        "e",
      ),
    );
  const n = sizeOf(group.space);
  const parallel = n >= PARALLEL_MIN_ELEMENTS && outerVars.length > 0;
  return kb.finish("reduce", group.space, loopNest(outerVars, row, parallel, "o"), n * (group.stages.length + 1));
}

/**
 * A sum over leading axes that keeps the innermost one (bias gradients, sums over the batch):
 * the output row itself accumulates, with the kept innermost axis as the vector loop, so memory is
 * read in order instead of one strided element per iteration.
 */
function lowerColumnReduce(kb: KernelBuilder, g: ReduceGroup): Kernel {
  const stage = g.stages[0]!;
  const full = indexVars(g.space, "i");
  const last = g.space.length - 1;
  const kVar = full[last] as Expr & { op: "var" };
  const rowIndex = full.map((e, k) => (g.axes.includes(k) ? iconst(0) : e));
  const lowering = kb.lowering(new Map());
  const outerVars = varsOf(full.filter((_, k) => !g.axes.includes(k) && k !== last));
  const reduceVars = varsOf(full.filter((_, k) => g.axes.includes(k)));
  const target = kb.touch(stage, "write");
  const at = flatIndex(rowIndex, stage.shape);
  const accumulate: Stmt = { s: "store", buffer: target, index: at, value: lowering.value(stage.inputs[0]!, full), accumulate: true };
  const row: Stmt[] = [
    { s: "loop", var: kVar, parallel: false, body: [{ s: "store", buffer: target, index: at, value: fconst(0) }] },
    ...loopNest(reduceVars, [{ s: "loop", var: kVar, parallel: false, body: [accumulate] }], false, "c"),
  ];
  const perRow = kb.stored.filter((m) => m !== stage);
  if (perRow.length) {
    const fromBuffer = kb.lowering(new Map([[stage, { op: "load", buffer: target, index: at, type: "f32" } as Expr]]));
    const rowShape = rowShapeOf(g);
    row.push({ s: "loop", var: kVar, parallel: false, body: perRow.map((m) => storeMember(kb, fromBuffer, m, rowIndex, rowShape)) });
  }
  const n = sizeOf(g.space);
  return kb.finish("reduce", g.space, loopNest(outerVars, row, n >= PARALLEL_MIN_ELEMENTS && outerVars.length > 0, "o"), n);
}

/** A gemm operand as buffer, offset and batch/row/column strides. */
function gemmOperand(kb: KernelBuilder, x: Tensor, name: string, rank: number) {
  const view = stridedView(x, kb.schedule.realized);
  if (!view) throw new Error(`lower: gemm operand ${name} ${shapeStr(x.shape)} is not a strided view (scheduler bug)`);
  const s = view.strides;
  // Batch axes fold into one stride; the scheduler made sure they are row-major consistent.
  const bs = batchStride(view, x.shape);
  if (bs === null) throw new Error(`lower: gemm operand ${name} has batch axes that do not fold (scheduler bug)`);
  return { id: kb.touch(view.base, "read"), offset: view.offset, bs, rs: s[rank - 2]!, cs: s[rank - 1]! };
}

function lowerGemm(kb: KernelBuilder, group: GemmGroup): Kernel {
  const { stored } = kb;
  const dot = group.dot;
  const [a, b] = dot.inputs as [Tensor, Tensor];
  const rank = dot.shape.length;
  const [m, k, n] = [a.shape[rank - 2]!, a.shape[rank - 1]!, b.shape[rank - 1]!];
  const batchShape = dot.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  const A = gemmOperand(kb, a, "a", rank);
  const B = gemmOperand(kb, b, "b", rank);
  const epilogueMembers = stored.filter((x) => x !== dot);
  // C goes to the dot's own buffer when it is stored, else straight into an epilogue output.
  const cNode = stored.includes(dot) ? dot : epilogueMembers[0]!;
  const C = kb.touch(cNode, "write");
  const vars = { b: loopVar("eb", Math.max(batch, 1)), i: loopVar("ei", m), j: loopVar("ej", n) };
  const at = [...(batchShape.length ? unflat(vars.b, batchShape) : []), vars.i, vars.j];
  const lowering = kb.lowering(new Map([[dot, { op: "local", name: "acc", type: "f32" } as Expr]]));
  const body = epilogueMembers.map((x) => storeMember(kb, lowering, x, at, dot.shape));
  const epilogue: Epilogue | undefined = body.length ? { vars, body } : undefined;
  const work = 2 * batch * m * n * k;
  return kb.finish(
    "gemm",
    dot.shape,
    [
      {
        s: "template",
        template: "gemm",
        args: {
          batch,
          m,
          n,
          k,
          a_off: A.offset,
          a_bs: A.bs,
          a_rs: A.rs,
          a_cs: A.cs,
          b_off: B.offset,
          b_bs: B.bs,
          b_rs: B.rs,
          b_cs: B.cs,
          c_bs: m * n,
          ldc: n,
        },
        buffers: { a: A.id, b: B.id, c: C },
        ...(epilogue ? { epilogue } : {}),
      },
    ],
    work,
  );
}

function lowerAttention(kb: KernelBuilder, group: TemplateGroup): Kernel {
  const call = group.call;
  const meta = attentionMeta(call);
  const { heads, kvHeads } = meta;
  const [q, kT] = call.inputs as [Tensor, Tensor, Tensor];
  const [batchSize, qLen, width] = q.shape as [number, number, number];
  const kvLen = kT.shape[1]!;
  const headDim = width / heads;
  const view = (x: Tensor, name: string) => {
    const sv = stridedView(x, kb.schedule.realized);
    if (!sv || (sv.strides[2] !== 1 && x.shape[2] !== 1))
      throw new Error(`lower: attention operand ${name} is not a [B, S, H·D] view with unit channel stride (scheduler bug)`);
    return { id: kb.touch(sv.base, "read"), off: sv.offset, bs: sv.strides[0]!, ss: sv.strides[1]! };
  };
  const buffers: Record<string, number> = {};
  const views: Record<string, AttentionView> = {};
  const names = group.kind === "attention" ? ["q", "k", "v"] : ["q", "k", "v", "o", "do"];
  names.forEach((name, i) => {
    const w = view(call.inputs[i]!, name);
    buffers[name] = w.id;
    views[name] = { off: w.off, bs: w.bs, ss: w.ss };
  });
  let mask: AttentionArgs["mask"] = null;
  const maskArg = call.inputs[names.length];
  if (maskArg) {
    const w = stridedView(maskArg, kb.schedule.realized);
    if (!w || (w.strides[1] !== 1 && maskArg.shape[1] !== 1))
      throw new Error("lower: attention mask is not a [B, Sk] view with unit stride (scheduler bug)");
    buffers.mask = kb.touch(w.base, "read");
    mask = { off: w.offset, bs: w.strides[0]! };
  }
  buffers.out = kb.touch(call, "write");
  const args: AttentionArgs = {
    batch: batchSize,
    heads,
    kvHeads,
    seqQ: qLen,
    seqK: kvLen,
    headDim,
    scale: meta.scale,
    causal: meta.causal,
    views,
    mask,
  };
  const work = 4 * batchSize * heads * qLen * kvLen * headDim * (group.kind === "attention" ? 1 : 2.5);
  return kb.finish(group.kind, call.shape, [{ s: "template", template: group.kind, args, buffers }], work);
}

function lowerScatter(kb: KernelBuilder, group: ScatterGroup): Kernel {
  const node = group.node as Tensor<"scatter_add">;
  const [updates, indices] = node.inputs as [Tensor, Tensor];
  const { axis, size } = node.attrs;
  const at = indexVars(updates.shape, "i");
  const lowering = kb.lowering();
  const row = lowering.value(indices, at.slice(axis, axis + indices.shape.length));
  const atLeastZero: Expr = { op: "binary", fn: "max", a: row, b: iconst(0), type: "i32" };
  const clamped: Expr = { op: "binary", fn: "min", a: atLeastZero, b: iconst(size - 1), type: "i32" };
  const target = [...at.slice(0, axis), clamped, ...at.slice(axis + indices.shape.length)];
  const out = kb.touch(node, "write");
  const body: Stmt[] = [{ s: "zero", buffer: out, count: sizeOf(node.shape) }];
  const inner: Stmt = { s: "store", buffer: out, index: flatIndex(target, node.shape), value: lowering.value(updates, at), accumulate: true };
  // Serial: two updates may hit the same row.
  body.push(...loopNest(varsOf(at), [inner], false, "s"));
  return kb.finish("scatter", node.shape, body, sizeOf(updates.shape));
}
