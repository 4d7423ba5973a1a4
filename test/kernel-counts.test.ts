// Kernel-count assertions that stop fusion regressions: each canonical subgraph must compile to the
// stated number of kernels (ARCHITECTURE.md §5).

import { describe, expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { backward } from "../compiler/autodiff.ts";
import { schedule, kernelCount, describeGroup } from "../compiler/schedule.ts";
import type { Tensor } from "../compiler/graph.ts";
import { ditConfig, ditParamSpec, aaaBlock } from "../models/dit.ts";
import { adamwUpdate } from "../models/optim.ts";

const count = (outputs: Tensor[]) => {
  const s = schedule(outputs);
  return { n: kernelCount(s), text: s.groups.map(describeGroup).join("\n") };
};

describe("fusion: canonical subgraphs compile to a fixed number of kernels", () => {
  const x = ops.input("x", [64, 256]);
  test("layer_norm forward (affine) is 1 kernel", () => {
    const c = count([nn.layerNorm(x, { weight: ops.param("w", [256]), bias: ops.param("b", [256]) })]);
    expect(c.n, c.text).toBe(1);
  });
  test("rms_norm forward is 1 kernel", () => {
    const c = count([nn.rmsNorm(x, { weight: ops.param("w", [256]) })]);
    expect(c.n, c.text).toBe(1);
  });
  test("softmax is 1 kernel", () => {
    const c = count([nn.softmax(x, -1)]);
    expect(c.n, c.text).toBe(1);
  });
  test("linear + bias + silu is 1 kernel (a GEMM with its epilogue)", () => {
    const c = count([nn.silu(nn.linear(x, ops.param("w", [512, 256]), ops.param("b", [512])))]);
    expect(c.n, c.text).toBe(1);
  });
  test("an AdamW update of a whole parameter tree is 1 kernel", () => {
    const shapes: Record<string, number[]> = { "a.weight": [32, 16], "a.bias": [32], "b.weight": [8, 32], norm: [8], emb: [1, 8, 4, 4] };
    const tree = Object.fromEntries(
      Object.entries(shapes).map(([name, shape]) => [
        name,
        {
          param: ops.param(name, shape),
          grad: ops.input(`grad/${name}`, shape),
          m: ops.input(`m/${name}`, shape),
          v: ops.input(`v/${name}`, shape),
        },
      ]),
    );
    const step = ops.input("step", [], "f32");
    const lr = ops.input("lr", [], "f32");
    const outs = Object.values(tree).flatMap((t) => {
      const u = adamwUpdate(t.param, t.grad, t.m, t.v, { step, lr });
      return [u.param, u.m, u.v];
    });
    const c = count(outs);
    expect(c.n, c.text).toBe(1);
  });
});

describe("fusion: an AAA block at dim 64 (the seed's AAABlock)", () => {
  const cfg = ditConfig({ dim: 64, depth: 1, heads: 2 });
  const specs = ditParamSpec(cfg).filter((p) => p.name.startsWith("blocks.0."));
  const p = Object.fromEntries(specs.map((s) => [s.name, ops.param(s.name, s.shape)]));
  const x = ops.input("x", [2, 40, 64]);
  const pos = ops.input("pos", [2, 40, 64]);
  const temb = ops.input("temb", [2, 1, 64]);
  const out = aaaBlock(p, "blocks.0", x, pos, temb, cfg.heads);
  // Forward: q, k, v, out, ff.0, ff.2, to_gate GEMMs with epilogues; two RMSNorm row kernels; attention.
  const FORWARD = 10;
  // Forward and backward (gradients of every block parameter and of x, pos and temb): the loss; the
  // backward GEMMs (7 for activations, 7 for weights, written transposed in place); attention_bwd;
  // two RMSNorm backward row kernels; 7 bias-gradient column sums and the gate's two; the forward 10.
  const FORWARD_BACKWARD = 38;
  test(`forward is ${FORWARD} kernels`, () => {
    const c = count([out]);
    expect(c.n, c.text).toBe(FORWARD);
  });
  test(`forward + backward is ${FORWARD_BACKWARD} kernels`, () => {
    const loss = nn.mseLoss(out, ops.input("target", out.shape));
    const wrt = [x, pos, temb, ...specs.map((s) => p[s.name]!)];
    const c = count([loss, ...backward(loss, wrt, ops.scalar(1))]);
    expect(c.n, c.text).toBe(FORWARD_BACKWARD);
  });
});
