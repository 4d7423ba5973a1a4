// L1 → L2: each scheduled group becomes a kernel of loops, loads, stores and accumulators (or a
// call into a template with a fused epilogue), over numbered buffers. Loops whose indices stay
// affine when merged are merged, so a contiguous elementwise kernel is a single flat loop.

import type { DType } from "./dtype.ts";
import { shapeStr, sizeOf, type Shape, type Tensor } from "./graph.ts";
import {
  exprChildren, fconst, iconst, loopVar, simplifyIndex, substituteSimplify,
  type AttentionArgs, type AttentionView, type Epilogue, type Expr, type Kernel, type KernelBuffer, type Stmt,
} from "./kernel-ir.ts";
import { ExprLowering, flatIndex, indexVars, scalarType, unflatIndex } from "./lower-expr.ts";
import { attentionMeta } from "./templates.ts";

const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
import { batchStride, isColumnReduce, isPerRow, rowShapeOf, stridedView, type Group, type Schedule } from "./schedule-groups.ts";

/** The index into `node` of the element at `at` in `space` (same flat position when the shapes differ, as through a reshape). */
const indexIn = (node: Tensor, at: readonly Expr[], space: Shape): readonly Expr[] => (sameShape(node.shape, space) ? at : unflatIndex(flatIndex(at, space), node.shape));

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

// Elementwise kernels with fewer elements than this run on one thread (waking the team costs more).
const PARALLEL_MIN_ELEMENTS = 32768;

/** Apply f to every expression of a statement list (loop bodies included). */
export function mapExprs(stmts: readonly Stmt[], f: (e: Expr) => Expr): Stmt[] {
  return stmts.map((s): Stmt => {
    switch (s.s) {
      case "loop":
        return { ...s, body: mapExprs(s.body, f) };
      case "let":
        return { ...s, value: f(s.value) };
      case "store":
        return { ...s, index: f(s.index), value: f(s.value) };
      case "acc":
        return { ...s, value: f(s.value) };
      case "template":
        return s.epilogue ? { ...s, epilogue: { ...s.epilogue, body: mapExprs(s.epilogue.body, f) } } : s;
      case "acc_init":
      case "zero":
        return s;
      default:
        return s satisfies never;
    }
  });
}

function anyExpr(stmts: readonly Stmt[], pred: (e: Expr) => boolean): boolean {
  let hit = false;
  mapExprs(stmts, (e) => {
    if (!hit && pred(e)) hit = true;
    return e;
  });
  return hit;
}

/** Does any index in these statements divide or take the modulo of `name`? (Memoised over the DAG.) */
function divModOf(stmts: readonly Stmt[], name: string): boolean {
  const divMemo = new Map<Expr, boolean>();
  const varMemo = new Map<Expr, boolean>();
  const hasDivMod = (e: Expr): boolean => {
    const hit = divMemo.get(e);
    if (hit !== undefined) return hit;
    let r = false;
    if (e.op === "binary" && (e.fn === "idiv" || e.fn === "mod") && mentionsVar(e.a, name, varMemo)) r = true;
    else r = exprChildren(e).some(hasDivMod);
    divMemo.set(e, r);
    return r;
  };
  return anyExpr(stmts, hasDivMod);
}

function mentionsVar(e: Expr, name: string, memo: Map<Expr, boolean>): boolean {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  const r = e.op === "var" ? e.name === name : exprChildren(e).some((c) => mentionsVar(c, name, memo));
  memo.set(e, r);
  return r;
}


/**
 * Nested loops over `vars` (outermost first) around `body`, merging neighbours whose merged index
 * stays free of division and modulo, and marking the outermost loop parallel when asked.
 */
export function loopNest(vars: readonly (Expr & { op: "var" })[], body: readonly Stmt[], parallel: boolean, prefix: string): Stmt[] {
  let loops = [...vars];
  let inner = [...body];
  let counter = 0;
  for (let k = loops.length - 2; k >= 0; k--) {
    const outer = loops[k]!;
    const next = loops[k + 1]!;
    const merged = loopVar(`${prefix}m${counter++}`, outer.extent * next.extent);
    const replace = new Map<string, Expr>([
      [outer.name, simplifyIndex({ op: "binary", fn: "idiv", a: merged, b: iconst(next.extent), type: "i32" })],
      [next.name, simplifyIndex({ op: "binary", fn: "mod", a: merged, b: iconst(next.extent), type: "i32" })],
    ]);
    const candidate = mapExprs(inner, substituteSimplify(replace));
    if (!divModOf(candidate, merged.name)) {
      loops = [...loops.slice(0, k), merged, ...loops.slice(k + 2)];
      inner = candidate;
    }
  }
  let out: Stmt[] = inner;
  for (let k = loops.length - 1; k >= 0; k--) out = [{ s: "loop", var: loops[k]!, parallel: parallel && k === 0, body: out }];
  return out;
}

const varsOf = (index: readonly Expr[]): (Expr & { op: "var" })[] => index.filter((e): e is Expr & { op: "var" } => e.op === "var");

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
  const outputs = schedule.roots.map((r) => {
    const id = bufferOf.get(schedule.aliasOf.get(r) ?? r);
    if (id === undefined) throw new Error(`lower: root ${shapeStr(r.shape)} ${r.op} has no buffer (scheduler bug)`);
    if (buffers[id]!.kind === "temp") buffers[id]!.kind = "output";
    return id;
  });
  return { kernels, buffers, outputs, inputs };
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
      emitSchedule(inner, innerBuffers, (node, kind) => (innerBuffers.has(node) ? innerBuffers.get(node)! : (innerBuffers.set(node, declare(node, kind)), innerBuffers.get(node)!)), kernels);
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
    buffers: [{ id: from, dtype: node.dtype, size: n, role: "read" }, { id: to, dtype: node.dtype, size: n, role: "write" }],
    body: [{ s: "loop", var: v, parallel: n >= PARALLEL_MIN_ELEMENTS, body: [{ s: "store", buffer: to, index: v, value: { op: "load", buffer: from, index: v, type: scalarType(node.dtype) } }] }],
    flops: 0,
    bytes: 2 * n * 4,
  };
}

function lowerGroup(group: Exclude<Group, { kind: "region" }>, schedule: Schedule, bufferOf: Map<Tensor, number>, index: number): Kernel | null {
  const members = new Set(group.members);
  const stored = group.members.filter((m) => schedule.stored.has(m));
  const used = new Map<number, KernelBuffer>();
  const touch = (node: Tensor, role: "read" | "write"): number => {
    const id = bufferOf.get(node);
    if (id === undefined) throw new Error(`lower: ${node.op}${shapeStr(node.shape)} has no buffer (scheduler bug)`);
    const prev = used.get(id);
    used.set(id, { id, dtype: node.dtype, size: sizeOf(node.shape), role: prev && prev.role !== role ? "readwrite" : role });
    return id;
  };
  let flops = 0;
  const load = (node: Tensor, at: readonly Expr[]): Expr => ({ op: "load", buffer: touch(node, "read"), index: flatIndex(at, node.shape), type: scalarType(node.dtype) });
  const isComputedHere = (n: Tensor): boolean => members.has(n) && n.op !== "dot" && n.op !== "sum" && n.op !== "reduce_max";
  const makeLowering = (locals: ReadonlyMap<Tensor, Expr>): ExprLowering =>
    new ExprLowering({
      isLeaf: (n) => locals.has(n) || (schedule.realized.has(n) && !isComputedHere(n)) || (bufferOf.has(n) && !isComputedHere(n)),
      leaf: (n, at) => locals.get(n) ?? load(n, at),
    });
  const store = (node: Tensor, at: readonly Expr[], value: Expr): Stmt => {
    flops++;
    return { s: "store", buffer: touch(node, "write"), index: flatIndex(at, node.shape), value };
  };
  const comment = `${group.kind}: ${group.members.map((m) => `${m.op}${shapeStr(m.shape)}`).join(", ")}`;
  const finish = (template: Kernel["template"], shape: Shape, body: Stmt[], work: number): Kernel => ({
    name: `${template}_${shape.join("x") || "scalar"}_${index}`,
    comment,
    template,
    buffers: [...used.values()].sort((a, b) => a.id - b.id),
    body,
    flops: work,
    bytes: [...used.values()].reduce((s, b) => s + b.size * 4, 0),
  });

  /**
   * A sum over leading axes that keeps the innermost one (bias gradients, sums over the batch):
   * the output row itself accumulates, with the kept innermost axis as the vector loop, so memory is
   * read in order instead of one strided element per iteration.
   */
  const lowerColumnReduce = (g: Extract<Group, { kind: "reduce" }>): Kernel => {
    const stage = g.stages[0]!;
    const full = indexVars(g.space, "i");
    const last = g.space.length - 1;
    const kVar = full[last] as Expr & { op: "var" };
    const rowIndex = full.map((e, k) => (g.axes.includes(k) ? iconst(0) : e));
    const lowering = makeLowering(new Map());
    const outerVars = varsOf(full.filter((_, k) => !g.axes.includes(k) && k !== last));
    const reduceVars = varsOf(full.filter((_, k) => g.axes.includes(k)));
    const target = touch(stage, "write");
    const at = flatIndex(rowIndex, stage.shape);
    const row: Stmt[] = [
      { s: "loop", var: kVar, parallel: false, body: [{ s: "store", buffer: target, index: at, value: fconst(0) }] },
      ...loopNest(reduceVars, [{ s: "loop", var: kVar, parallel: false, body: [{ s: "store", buffer: target, index: at, value: lowering.value(stage.inputs[0]!, full), accumulate: true }] }], false, "c"),
    ];
    const perRow = stored.filter((m) => m !== stage);
    if (perRow.length) {
      const fromBuffer = makeLowering(new Map([[stage, { op: "load", buffer: target, index: at, type: "f32" } as Expr]]));
      const rowShape = rowShapeOf(g);
      row.push({ s: "loop", var: kVar, parallel: false, body: perRow.map((m) => {
        const mAt = indexIn(m, rowIndex, rowShape);
        return store(m, mAt, fromBuffer.value(m, mAt));
      }) });
    }
    const n = sizeOf(g.space);
    return finish("reduce", g.space, loopNest(outerVars, row, n >= PARALLEL_MIN_ELEMENTS && outerVars.length > 0, "o"), n);
  };

  switch (group.kind) {
    case "multi": {
      // Each part keeps its own loops; the renderer runs them in one parallel region.
      const body: Stmt[] = [];
      let work = 0;
      group.parts.forEach((part, k) => {
        const partStored = part.members.filter((m) => schedule.stored.has(m));
        const at = indexVars(part.space, `i`);
        const lowering = makeLowering(new Map());
        const stores = partStored.map((m) => {
          const mAt = indexIn(m, at, part.space);
          return store(m, mAt, lowering.value(m, mAt));
        });
        body.push(...loopNest(varsOf(at), stores, true, `t${k}`));
        work += sizeOf(part.space);
      });
      return finish("multi", [group.parts.length], body, work);
    }
    case "pointwise": {
      if (stored.length === 0) return null;
      const at = indexVars(group.space, "i");
      const lowering = makeLowering(new Map());
      const body = stored.map((m) => {
        const mAt = indexIn(m, at, group.space);
        return store(m, mAt, lowering.value(m, mAt));
      });
      const n = sizeOf(group.space);
      return finish("pointwise", group.space, loopNest(varsOf(at), body, n >= PARALLEL_MIN_ELEMENTS, "p"), n);
    }
    case "reduce": {
      if (isColumnReduce(group)) return lowerColumnReduce(group);
      const full = indexVars(group.space, "i");
      const rowIndex = full.map((e, k) => (group.axes.includes(k) ? iconst(0) : e));
      const locals = new Map<Tensor, Expr>(group.stages.map((r, k) => [r, { op: "local", name: `acc${k}`, type: scalarType(r.dtype) }]));
      const lowering = makeLowering(locals);
      const innerVars = varsOf(full.filter((_, k) => group.axes.includes(k)));
      const outerVars = varsOf(full.filter((_, k) => !group.axes.includes(k)));
      const row: Stmt[] = [];
      group.stages.forEach((r, k) => {
        const fn = r.op === "sum" ? "add" : "max";
        row.push({ s: "acc_init", name: `acc${k}`, fn, type: scalarType(r.dtype) });
        row.push(...loopNest(innerVars, [{ s: "acc", name: `acc${k}`, fn, value: lowering.value(r.inputs[0]!, full) }], false, `r${k}`));
        if (stored.includes(r)) row.push(store(r, rowIndex, locals.get(r)!));
      });
      const rowShape = rowShapeOf(group);
      const perRow = stored.filter((m) => !group.stages.includes(m) && isPerRow(group, m));
      for (const m of perRow) {
        const at = indexIn(m, rowIndex, rowShape);
        row.push(store(m, at, lowering.value(m, at)));
      }
      const elementwise = stored.filter((m) => !isPerRow(group, m));
      if (elementwise.length)
        row.push(...loopNest(innerVars, elementwise.map((m) => {
          const at = indexIn(m, full, group.space);
          return store(m, at, lowering.value(m, at));
        }), false, "e"));
      const n = sizeOf(group.space);
      return finish("reduce", group.space, loopNest(outerVars, row, n >= PARALLEL_MIN_ELEMENTS && outerVars.length > 0, "o"), n * (group.stages.length + 1));
    }
    case "gemm": {
      const dot = group.dot;
      const [a, b] = dot.inputs as [Tensor, Tensor];
      const rank = dot.shape.length;
      const [m, k, n] = [a.shape[rank - 2]!, a.shape[rank - 1]!, b.shape[rank - 1]!];
      const batchShape = dot.shape.slice(0, -2);
      const batch = sizeOf(batchShape);
      const operand = (x: Tensor, name: string) => {
        const view = stridedView(x, schedule.realized);
        if (!view) throw new Error(`lower: gemm operand ${name} ${shapeStr(x.shape)} is not a strided view (scheduler bug)`);
        const s = view.strides;
        // Batch axes fold into one stride; the scheduler made sure they are row-major consistent.
        const bs = batchStride(view, x.shape);
        if (bs === null) throw new Error(`lower: gemm operand ${name} has batch axes that do not fold (scheduler bug)`);
        return { id: touch(view.base, "read"), offset: view.offset, bs, rs: s[rank - 2]!, cs: s[rank - 1]! };
      };
      const A = operand(a, "a");
      const B = operand(b, "b");
      const epilogueMembers = stored.filter((x) => x !== dot);
      // C goes to the dot's own buffer when it is stored, else straight into an epilogue output.
      const cNode = stored.includes(dot) ? dot : epilogueMembers[0]!;
      const C = touch(cNode, "write");
      const vars = { b: loopVar("eb", Math.max(batch, 1)), i: loopVar("ei", m), j: loopVar("ej", n) };
      const at = [...(batchShape.length ? unflat(vars.b, batchShape) : []), vars.i, vars.j];
      const lowering = makeLowering(new Map([[dot, { op: "local", name: "acc", type: "f32" } as Expr]]));
      const body = epilogueMembers.map((x) => {
        const xAt = indexIn(x, at, dot.shape);
        return store(x, xAt, lowering.value(x, xAt));
      });
      const epilogue: Epilogue | undefined = body.length ? { vars, body } : undefined;
      const work = 2 * batch * m * n * k;
      return finish("gemm", dot.shape, [{
        s: "template",
        template: "gemm",
        args: { batch, m, n, k, a_off: A.offset, a_bs: A.bs, a_rs: A.rs, a_cs: A.cs, b_off: B.offset, b_bs: B.bs, b_rs: B.rs, b_cs: B.cs, c_bs: m * n, ldc: n },
        buffers: { a: A.id, b: B.id, c: C },
        ...(epilogue ? { epilogue } : {}),
      }], work);
    }
    case "attention":
    case "attention_bwd": {
      const call = group.call;
      const meta = attentionMeta(call);
      const { heads, kvHeads } = meta;
      const [q, kT, v] = call.inputs as [Tensor, Tensor, Tensor];
      const [batchSize, qLen, width] = q.shape as [number, number, number];
      const kvLen = kT.shape[1]!;
      const headDim = width / heads;
      const view = (x: Tensor, name: string) => {
        const sv = stridedView(x, schedule.realized);
        if (!sv || (sv.strides[2] !== 1 && x.shape[2] !== 1)) throw new Error(`lower: attention operand ${name} is not a [B, S, H·D] view with unit channel stride (scheduler bug)`);
        return { id: touch(sv.base, "read"), off: sv.offset, bs: sv.strides[0]!, ss: sv.strides[1]! };
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
        const w = stridedView(maskArg, schedule.realized);
        if (!w || (w.strides[1] !== 1 && maskArg.shape[1] !== 1)) throw new Error("lower: attention mask is not a [B, Sk] view with unit stride (scheduler bug)");
        buffers.mask = touch(w.base, "read");
        mask = { off: w.offset, bs: w.strides[0]! };
      }
      buffers.out = touch(call, "write");
      const args: AttentionArgs = { batch: batchSize, heads, kvHeads, seqQ: qLen, seqK: kvLen, headDim, scale: meta.scale, causal: meta.causal, views, mask };
      const work = 4 * batchSize * heads * qLen * kvLen * headDim * (group.kind === "attention" ? 1 : 2.5);
      return finish(group.kind, call.shape, [{ s: "template", template: group.kind, args, buffers }], work);
    }
    case "scatter": {
      const node = group.node as Tensor<"scatter_add">;
      const [updates, indices] = node.inputs as [Tensor, Tensor];
      const { axis, size } = node.attrs;
      const at = indexVars(updates.shape, "i");
      const lowering = makeLowering(new Map());
      const row = lowering.value(indices, at.slice(axis, axis + indices.shape.length));
      const clamped: Expr = { op: "binary", fn: "min", a: { op: "binary", fn: "max", a: row, b: iconst(0), type: "i32" }, b: iconst(size - 1), type: "i32" };
      const target = [...at.slice(0, axis), clamped, ...at.slice(axis + indices.shape.length)];
      const out = touch(node, "write");
      const body: Stmt[] = [{ s: "zero", buffer: out, count: sizeOf(node.shape) }];
      const inner: Stmt = { s: "store", buffer: out, index: flatIndex(target, node.shape), value: lowering.value(updates, at), accumulate: true };
      // Serial: two updates may hit the same row.
      body.push(...loopNest(varsOf(at), [inner], false, "s"));
      return finish("scatter", node.shape, body, sizeOf(updates.shape));
    }
    default:
      return group satisfies never;
  }
}

function unflat(flat: Expr, shape: Shape): Expr[] {
  let rest = flat;
  const out: Expr[] = new Array(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    out[k] = d === 1 ? iconst(0) : simplifyIndex({ op: "binary", fn: "mod", a: rest, b: iconst(d), type: "i32" });
    rest = simplifyIndex({ op: "binary", fn: "idiv", a: rest, b: iconst(d), type: "i32" });
  }
  return out;
}

export const describeKernel = (k: Kernel): string => `${k.name}  ${k.comment}`;
