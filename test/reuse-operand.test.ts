// The CPU's reuse of a row reduction's operand (compiler/reuse-operand.ts): softmax computes each
// exp once, the results equal the interpreter's, and the rewrite stays away from kernels where it
// could change a result (an output that aliases an input) or buys nothing (no transcendental).

import { expect, test } from "vitest";
import * as nn from "../compiler/nn.ts";
import * as ops from "../compiler/ops.ts";
import { interpret } from "../compiler/interpret.ts";
import type { Tensor } from "../compiler/graph.ts";
import { exprChildren, type Expr, type Kernel, type Stmt } from "../compiler/kernel-ir.ts";
import { compile } from "../runtime/compile.ts";

/** How many loops of a kernel compute an exp2 (each innermost loop that does so counts once). */
function exp2Count(body: readonly Stmt[]): number {
  const has = (e: Expr): boolean => (e.op === "unary" && e.fn === "exp2") || exprChildren(e).some(has);
  return body.reduce((n, s) => {
    if (s.s !== "loop") return n;
    const inner = s.body.some((b) => (b.s === "store" || b.s === "acc" || b.s === "let") && has(b.value));
    return n + (inner ? 1 : 0) + exp2Count(s.body);
  }, 0);
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 4);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(2e-6 * Math.max(1, Math.abs(want[i]!)));
}

const reduceKernels = (kernels: readonly Kernel[]) => kernels.filter((k) => k.template === "reduce");

test("softmax computes exp once per element and matches the interpreter", () => {
  const shape = [6, 37];
  const fn = (t: unknown) => ({ y: nn.softmax((t as { x: Tensor }).x, -1) });
  const step = compile(fn, { x: { shape } });
  const [kernel] = reduceKernels(step.program.kernels);
  expect(exp2Count(kernel!.body)).toBe(1);
  expect(kernel!.buffers.find((b) => b.id === step.program.outputs[0])?.role).toBe("readwrite");
  const x = values(6 * 37, 1);
  const got = step.run({ x }) as { y: Float32Array };
  const want = interpret(fn({ x: ops.input("x", shape) }), { x }, { precision: "native" }) as unknown as { y: { data: ArrayLike<number> } };
  expectClose(got.y, want.y.data);
});

test("a softmax over two merged axes is rewritten too and stays correct", () => {
  const shape = [3, 4, 5, 6];
  const fn = (t: unknown) => {
    const x = (t as { x: Tensor }).x;
    const e = nn.exp(nn.sub(x, ops.max(x, [2, 3], true)));
    return { y: nn.div(e, ops.sum(e, [2, 3], true)) };
  };
  const step = compile(fn, { x: { shape } });
  const x = values(360, 2);
  const got = step.run({ x }) as { y: Float32Array };
  const want = interpret(fn({ x: ops.input("x", shape) }), { x }, { precision: "native" }) as unknown as { y: { data: ArrayLike<number> } };
  expectClose(got.y, want.y.data);
  expect(reduceKernels(step.program.kernels).map((k) => exp2Count(k.body))).toEqual([1]);
});

test("a softmax written into its donated input is left alone (the epilogue still reads the input)", () => {
  const fn = (t: unknown) => ({ x: nn.softmax((t as { x: Tensor }).x, -1) });
  const step = compile(fn, { x: { shape: [4, 16] } }, { donate: ["x"] });
  const x = values(64, 3);
  const want = interpret(fn({ x: ops.input("x", [4, 16]) }), { x }, { precision: "native" }) as unknown as { x: { data: ArrayLike<number> } };
  step.set({ x });
  step.execute();
  expectClose(step.input("x"), want.x.data);
  expect(reduceKernels(step.program.kernels).map((k) => exp2Count(k.body))).toEqual([2]);
});

test("layer_norm (no transcendental in its summed operand) is not rewritten", () => {
  const fn = (t: unknown) => ({ y: nn.layerNorm((t as { x: Tensor }).x, { eps: 1e-5 }) });
  const step = compile(fn, { x: { shape: [8, 32] } });
  for (const k of reduceKernels(step.program.kernels))
    for (const b of k.buffers) if (step.program.outputs.includes(b.id)) expect(b.role).toBe("write");
});
