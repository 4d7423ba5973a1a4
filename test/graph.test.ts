// Properties of L0: nodes are interned and hashed structurally, the text form is stable, and
// ill-typed nodes are refused at build time with the op, the operands and the caller's line.

import { describe, expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { GraphError } from "../compiler/errors.ts";
import { graphText } from "../compiler/text.ts";
import { toposort, substitute } from "../compiler/graph.ts";

describe("interning and hashing", () => {
  test("structurally equal nodes are the same object", () => {
    const x = ops.input("x", [2, 3]);
    const a = ops.add(ops.sin(x), 1);
    const b = ops.add(ops.sin(ops.input("x", [2, 3])), 1);
    expect(a).toBe(b);
  });

  test("different attributes, dtypes or shapes give different nodes and hashes", () => {
    const x = ops.input("x", [2, 3]);
    const variants = [ops.sum(x, 0, true), ops.sum(x, 1, true), ops.input("x", [3, 2]), ops.input("x", [2, 3], "bf16"), ops.add(x, 2), ops.add(x, 3)];
    expect(new Set(variants).size).toBe(variants.length);
    expect(new Set(variants.map((v) => v.hash)).size).toBe(variants.length);
  });

  test("the hash does not depend on construction order or process identities", () => {
    const build = () => ops.mul(ops.input("a", [4]), ops.exp2(ops.input("b", [4])));
    const first = build().hash;
    for (let i = 0; i < 50; i++) ops.full([i + 1], i); // unrelated nodes shift the id counter
    expect(build().hash).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
  });

  test("nodes are immutable", () => {
    const x = ops.input("x", [2]);
    expect(() => ((x as unknown as { shape: number[] }).shape = [3])).toThrow();
    expect(Object.isFrozen(x.shape)).toBe(true);
  });

  test("substitute rebuilds only the nodes that depend on a replacement", () => {
    const x = ops.input("x", [3]);
    const y = ops.input("y", [3]);
    const keep = ops.sin(y);
    const out = ops.add(ops.mul(x, 2), keep);
    const [rebuilt] = substitute([out], new Map([[x, ops.input("z", [3])]]));
    expect(rebuilt).toBe(ops.add(ops.mul(ops.input("z", [3]), 2), keep));
  });

  test("toposort handles a chain 20000 nodes deep without recursion", () => {
    let t = ops.input("x", [1]);
    for (let i = 0; i < 20000; i++) t = ops.neg(t);
    expect(toposort([t]).length).toBe(20001);
  });
});

describe("text form", () => {
  test("is numbered from the roots, so the same graph prints the same text", () => {
    const f = () => nn.softmax(ops.add(ops.input("logits", [2, 4]), ops.param("bias", [4])));
    const text = graphText([f()]);
    for (let i = 0; i < 20; i++) ops.full([i + 2], 1);
    expect(graphText([f()])).toBe(text);
    expect(text).toContain('input param "bias"');
    expect(text).toContain("-> out0");
    expect(text).toMatch(/^%0 = /);
  });

  test("prints call bodies indented under the call", () => {
    const q = ops.input("q", [1, 2, 4]);
    const text = graphText([nn.attention(q, q, q, { heads: 2 })]);
    expect(text).toContain('call "attention"');
    expect(text).toMatch(/\n {4}%\d+ = dot/);
  });
});

describe("build-time errors name the op, the operands and the caller", () => {
  const x = ops.input("x", [2, 3]);
  const misuse: [string, () => unknown, RegExp][] = [
    ["add of shapes that do not broadcast", () => ops.add(x, ops.input("y", [4])), /add: shapes \[2,3\] and \[4\] do not broadcast/],
    ["mul of different dtypes", () => ops.mul(x, ops.input("h", [2, 3], "bf16")), /mul: dtypes f32 and bf16 differ/],
    ["reshape to the wrong element count", () => ops.reshape(x, [4, 2]), /reshape: cannot reshape 6 elements into \[4,2\]/],
    ["permute with a non-permutation", () => ops.permute(x, [0, 0]), /permute: \[0,0\] is not a permutation/],
    ["expand of a non-1 dimension", () => ops.expand(x, [4, 3]), /expand: cannot expand \[2,3\] to \[4,3\]/],
    ["sum over an axis out of range", () => ops.sum(x, 2), /sum: axis 2 is out of range for rank 2/],
    ["dot with mismatched inner dimensions", () => ops.dot(x, ops.input("w", [2, 5])), /dot: contracted dimensions differ: K = 3 vs 2/],
    ["sqrt of an integer tensor", () => ops.sqrt(ops.input("i", [3], "i32")), /sqrt: dtype i32 is not a float/],
    ["where with a non-bool condition", () => ops.where(x, x, x), /where: the condition has dtype f32/],
    [
      "shrink beyond the end",
      () =>
        ops.shrink(x, [
          [0, 2],
          [1, 5],
        ]),
      /shrink: ranges .* do not fit \[2,3\]/,
    ],
    ["concat with different off-axis sizes", () => ops.concat([x, ops.input("z", [3, 3])], 1), /concat: operands disagree off axis 1/],
    [
      "pad with negative amounts",
      () =>
        ops.pad(x, [
          [0, 0],
          [-1, 0],
        ]),
      /pad: padding .* does not fit rank 2/,
    ],
    ["gather with float indices", () => ops.gather(x, ops.input("idx", [2])), /gather: indices have dtype f32/],
    ["linear with a transposed weight", () => nn.linear(x, ops.param("w", [3, 5])), /linear: weight \[3,5\] does not take 3 input features/],
    [
      "attention with heads that do not divide the channels",
      () => nn.attention(x.shape.length === 2 ? ops.input("q", [1, 2, 6]) : x, ops.input("k", [1, 2, 6]), ops.input("v", [1, 2, 6]), { heads: 4 }),
      /attention: .* do not fit 4 heads/,
    ],
    [
      "conv2d with mismatched channels",
      () => nn.conv2d(ops.input("img", [1, 3, 8, 8]), ops.param("k", [4, 2, 3, 3])),
      /conv2d: input \[1,3,8,8\] and weight \[4,2,3,3\] do not match/,
    ],
    ["random with a float seed", () => ops.random(ops.input("s", []), [2]), /random: the seed must be an i32 scalar/],
    [
      "layer_norm with a weight of the wrong size",
      () => nn.layerNorm(x, { weight: ops.param("g", [2]) }),
      /layer_norm: weight \[2\] does not match the normalised shape \[3\]/,
    ],
  ];
  for (const [name, build, message] of misuse)
    test(name, () => {
      let error: unknown;
      try {
        build();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GraphError);
      const text = (error as Error).message;
      expect(text).toMatch(message);
      expect(text).toMatch(/Expected: /);
      expect(text).toMatch(/\(at test\/graph\.test\.ts:\d+:\d+\)/);
    });
});
