// A step that updates state in place (donated inputs) and reads the updated value again in the same
// kernel: the optimizer's weights and their moving average. The new average must be computed from
// the new weights once, not by evaluating the update again over weights already overwritten (which
// applied the update twice inside the average on the GPU lowering: off by ~4e-4 after one step).
import { expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import type { Tensor } from "../compiler/graph.ts";
import { interpret } from "../compiler/interpret.ts";
import { compileStep, type TypedArray } from "../runtime/index.ts";

const N = 300;
const update = (t: unknown): Record<string, Tensor> => {
  const { p, ema, g } = t as Record<string, Tensor>;
  // A rate that waits for a reduction over the gradient (a clip by its norm), as the trainer's does.
  const rate = nn.div(0.25, ops.maximum(ops.sqrt(ops.sum(ops.mul(g!, g!))), 1));
  const next = nn.sub(p!, ops.mul(ops.sin(ops.add(p!, g!)), rate));
  return { p: next, ema: ops.add(ops.mul(ema!, 0.5), ops.mul(next, 0.5)) };
};

test.each(["cpu", "cuda-emulated"])("in-place weights and their moving average on %s equal the interpreter's", (device) => {
  const values = {
    p: Float32Array.from({ length: N }, (_, i) => Math.cos(i * 0.37) * 2),
    ema: Float32Array.from({ length: N }, (_, i) => Math.sin(i * 0.11)),
    g: Float32Array.from({ length: N }, (_, i) => Math.cos(i * 0.05)),
  };
  const example = { p: { shape: [N] }, ema: { shape: [N] }, g: { shape: [N] } };
  const step = compileStep(update, example, { device, donate: ["p", "ema"], name: `in_place_${device.replace("-", "_")}` });
  // Written in place: no copy of p or ema after the run.
  for (const path of ["p", "ema"]) expect(step.outputBuffer(path)).toBe(step.inputBuffer(path));
  step.set(values);
  const out = step.run({}) as Record<string, TypedArray>;
  const [p, ema, g] = [ops.input("p", [N]), ops.input("ema", [N]), ops.input("g", [N])];
  const want = update({ p, ema, g });
  const [wantP, wantEma] = (interpret([want.p!, want.ema!], values) as unknown as { data: Float64Array }[]).map((h) => h.data);
  for (const [got, expected] of [
    [out.p!, wantP!],
    [out.ema!, wantEma!],
  ] as const)
    for (let i = 0; i < N; i++) expect(Math.abs(got[i]! - expected[i]!)).toBeLessThan(1e-5);
  step.dispose();
});
