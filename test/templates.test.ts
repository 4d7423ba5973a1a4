// The fused-op registry (compiler/templates.ts): a call kept whole that no template runs is an error
// naming it and the template calls (before, any such call was scheduled as attention_bwd); the
// attention metadata is checked where it is read; nn.attention's calls become typed template
// statements whose arguments are numbers and booleans, not strings to parse back.
import { expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import type { Tensor } from "../compiler/graph.ts";
import { TEMPLATE_CALLS } from "../compiler/passes.ts";
import { schedule } from "../compiler/schedule.ts";
import { lowerSchedule } from "../compiler/lower.ts";
import { attentionMeta, TEMPLATE_CALL_NAMES } from "../compiler/templates.ts";

test("a call kept whole that no template runs is an error naming the call and the template calls", () => {
  const x = ops.input("x", [4, 8]);
  const fused = ops.call("my_fused_op", (a) => ops.exp2(a!), [x]);
  // A name added to the kept calls without a template (as a new fused op would be, half wired in).
  const kept = TEMPLATE_CALLS as Set<string>;
  kept.add("my_fused_op");
  try {
    expect(() => schedule([fused], [x])).toThrow(
      /call 'my_fused_op' is kept whole but no template runs it; template calls are attention, attention_bwd/,
    );
  } finally {
    kept.delete("my_fused_op");
  }
  expect(schedule([fused], [x]).groups.length).toBe(1);
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
  expect(TEMPLATE_CALL_NAMES).toEqual(["attention", "attention_bwd"]);
});
