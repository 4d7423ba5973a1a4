// The fused-op registry (compiler/templates.ts): one spec per template (its matching rule, its
// typed arguments, its primitives), one lowering table per renderer with a fallback, and devices
// that list the templates they run. A call kept whole that no template runs is an error naming it
// and the template calls (before, any such call was scheduled as attention_bwd); the attention
// metadata is checked where it is read; nn.attention's calls become typed template statements whose
// arguments are numbers and booleans, not strings to parse back; a device without a template gets
// the same results from its primitives.
import { expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import type { Tensor } from "../compiler/graph.ts";
import { schedule } from "../compiler/schedule.ts";
import { lowerSchedule } from "../compiler/lower.ts";
import { grad } from "../compiler/autodiff.ts";
import { C_TEMPLATES } from "../compiler/codegen/c.ts";
import { SIMT_TEMPLATES } from "../compiler/codegen/gpu-lower.ts";
import type { TemplateStmt } from "../compiler/kernel-ir.ts";
import {
  attentionMeta,
  lowerTemplate,
  TEMPLATE_CALL_NAMES,
  TEMPLATE_NAMES,
  TEMPLATES,
  templateCallOf,
  templateSet,
  templatesOf,
  type TemplateName,
} from "../compiler/templates.ts";
import { compileOn, type Device, type TypedArray } from "../runtime/index.ts";
import { cpuDevice } from "../runtime/cpu/device.ts";

test("a call kept whole that no template runs is an error naming the call and the template calls", () => {
  const x = ops.input("x", [4, 8]);
  const fused = ops.call("my_fused_op", (a) => ops.exp2(a!), [x]) as Tensor<"call">;
  expect(() => templateCallOf(fused)).toThrow(
    /call 'my_fused_op' is kept whole but no template runs it; template calls are attention, attention_bwd/,
  );
  // Not a template call: the passes inline it, and it fuses into one pointwise kernel.
  expect(schedule([fused], [x]).groups.map((g) => g.kind)).toEqual(["pointwise"]);
});

test("the registry names every template once, with its rule, arguments and primitives; unknown names are errors", () => {
  expect(Object.keys(TEMPLATES)).toEqual([...TEMPLATE_NAMES]);
  for (const name of TEMPLATE_NAMES) {
    const spec = TEMPLATES[name];
    expect(spec.name).toBe(name);
    for (const words of [spec.rule, spec.args, spec.primitives]) expect(words.length).toBeGreaterThan(10);
  }
  expect(TEMPLATE_CALL_NAMES).toEqual(["attention", "attention_bwd"]);
  expect(() => templateSet(["gemm", "flash"], "device 'x'")).toThrow(
    /device 'x': unknown template 'flash'; the templates are gemm, attention, attention_bwd, multi/,
  );
  // Every renderer's table covers what its devices claim: C and the GPU's SIMT code run them all.
  expect([...templatesOf(C_TEMPLATES)].sort()).toEqual([...TEMPLATE_NAMES].sort());
  expect([...templatesOf(SIMT_TEMPLATES)].sort()).toEqual([...TEMPLATE_NAMES].sort());
  expect([...cpuDevice.facts.templates].sort()).toEqual([...TEMPLATE_NAMES].sort());
});

test("a renderer without a lowering and without a fallback says how to run the template instead", () => {
  const [a, b] = [ops.input("a", [8, 16]), ops.input("b", [16, 4])];
  const program = lowerSchedule(schedule([ops.dot(a, b)], [a, b]));
  const stmt = program.kernels.flatMap((k) => k.body).find((s): s is TemplateStmt => s.s === "template")!;
  expect(stmt.template).toBe("gemm");
  expect(() => lowerTemplate("toy renderer", { attention: () => "attention" }, stmt, null)).toThrow(
    /toy renderer: no lowering of the 'gemm' template and no fallback; a device with this renderer must leave 'gemm' out of its facts' templates, so that the scheduler lowers it to primitives \(the dot as an elementwise product/,
  );
  expect(lowerTemplate("toy renderer", { gemm: () => null }, stmt, null, () => "fallback")).toBe("fallback");
  expect(lowerTemplate("toy renderer", { gemm: () => "own" }, stmt, null, () => "fallback")).toBe("own");
});

/** A training-like step: masked grouped-query attention, a linear layer with GELU, its gradients, and a clipped SGD update of every weight. */
function modelStep(t: unknown): Record<string, Tensor> {
  const { x, mask, wq, wk, wv, w, b } = t as Record<string, Tensor>;
  const loss = (p: Record<string, Tensor>): Tensor => {
    const q = nn.linear(x!, p.wq!);
    const att = nn.attention(q, nn.linear(x!, p.wk!), nn.linear(x!, p.wv!), { heads: 4, kvHeads: 2, keyMask: mask!, causal: true });
    const y = nn.gelu(nn.linear(att, p.w!, p.b!));
    return ops.sum(ops.mul(y, y));
  };
  const params = { wq: wq!, wk: wk!, wv: wv!, w: w!, b: b! };
  const grads = grad(loss)(params) as Record<string, Tensor>;
  // Clipped by the global gradient norm, as the trainer does: the updates wait for one reduction, so they are the multi-tensor kernel.
  const norm = ops.sqrt(Object.values(grads).reduce((acc: Tensor, g) => ops.add(acc, ops.sum(ops.mul(g, g))), ops.full([], 0)));
  const rate = nn.div(0.01, ops.maximum(norm, 1));
  const updated = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, nn.sub(p, ops.mul(grads[k]!, rate))]));
  return { loss: loss(params), ...updated };
}

test("a device that runs no template gets each template's primitives and the same results", () => {
  const none: Device = { ...cpuDevice, name: "cpu-no-templates", facts: { ...cpuDevice.facts, templates: new Set<TemplateName>() } };
  const onlyGemm: Device = { ...cpuDevice, name: "cpu-gemm-only", facts: { ...cpuDevice.facts, templates: new Set<TemplateName>(["gemm"]) } };
  const random = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.37) * 0.5);
  const [batch, seq, dim] = [2, 6, 16];
  const example = {
    x: { shape: [batch, seq, dim], dtype: "f32" as const, data: random(batch * seq * dim, 1) },
    mask: { shape: [batch, seq], dtype: "bool" as const, data: Array.from({ length: batch * seq }, (_, i) => (i % 5 === 4 ? 0 : 1)) },
    wq: { shape: [dim, dim], dtype: "f32" as const, data: random(dim * dim, 2) },
    wk: { shape: [dim / 2, dim], dtype: "f32" as const, data: random((dim * dim) / 2, 3) },
    wv: { shape: [dim / 2, dim], dtype: "f32" as const, data: random((dim * dim) / 2, 4) },
    w: { shape: [8, dim], dtype: "f32" as const, data: random(8 * dim, 5) },
    b: { shape: [8], dtype: "f32" as const, data: random(8, 6) },
  };
  const values = Object.fromEntries(Object.entries(example).map(([k, v]) => [k, v.data]));
  const run = (device: Device) => {
    const step = compileOn(device, modelStep, example);
    const out = step.run(values) as Record<string, TypedArray>;
    const kinds = step.program.kernels.map((k) => k.template);
    const statements = step.program.kernels.flatMap((k) => k.body.filter((s) => s.s === "template").map((s) => (s as TemplateStmt).template));
    step.dispose();
    return { out, kinds, statements };
  };
  const all = run(cpuDevice);
  expect(new Set(all.statements)).toEqual(new Set(["gemm", "attention", "attention_bwd"]));
  expect(all.kinds).toContain("multi");
  const primitives = run(none);
  expect(primitives.statements).toEqual([]);
  expect(primitives.kinds.filter((k) => k === "multi" || k === "gemm" || k.startsWith("attention"))).toEqual([]);
  const gemmOnly = run(onlyGemm);
  expect(new Set(gemmOnly.statements)).toEqual(new Set(["gemm"]));
  for (const other of [primitives, gemmOnly])
    for (const [key, want] of Object.entries(all.out)) {
      const got = other.out[key]!;
      expect(got.length).toBe(want.length);
      const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
      const worst = Math.max(...Array.from(want, (w, i) => Math.abs(w - got[i]!)));
      expect(worst / scale, key).toBeLessThan(1e-5);
    }
});

test("attention metadata of the wrong type is an error naming the call and the field", () => {
  const q = ops.input("q", [1, 4, 8]);
  const call = ops.call("attention", (a) => a!, [q], { meta: { heads: "two", scale: 1 } }) as Tensor<"call">;
  expect(() => attentionMeta(call)).toThrow(/attention: meta.heads must be a finite number, got "two"/);
});

test("attention lowers to typed template statements: numbers, a boolean causal flag, one view per operand", () => {
  const [q, k, v] = [ops.input("q", [2, 5, 16]), ops.input("k", [2, 7, 16]), ops.input("v", [2, 7, 16])];
  const out = nn.attention(q, k, v, { heads: 2, causal: false });
  const program = lowerSchedule(schedule([out], [q, k, v]));
  const statements = program.kernels.flatMap((kernel) => kernel.body.filter((s) => s.s === "template"));
  expect(statements.map((s) => s.template)).toEqual(["attention"]);
  const t = statements[0]!;
  if (t.template === "gemm") throw new Error("expected the attention template");
  expect(t.args).toMatchObject({ batch: 2, heads: 2, kvHeads: 2, seqQ: 5, seqK: 7, headDim: 8, causal: false, mask: null });
  expect(Object.keys(t.args.views).sort()).toEqual(["k", "q", "v"]);
  for (const view of Object.values(t.args.views)) for (const n of [view.off, view.bs, view.ss]) expect(typeof n).toBe("number");
});
