// The compiled CUDA step end to end without a GPU: compileCuda on an emulated device (device memory
// in host memory, every launch run by the GPU emulator) agrees with the interpreter — f32 SIMT code,
// bf16 with the tensor-core GEMM plan and its split epilogue, in-kernel Philox noise — keeps donated
// state resident and updated across runs, and replays one captured graph per run.
import { describe, expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { interpret, type HostArray } from "../compiler/interpret.ts";
import type { Tensor } from "../compiler/graph.ts";
import { seededRandom } from "../compiler/gradcheck.ts";
import { adamwUpdate } from "../models/optim.ts";
import { compileCuda } from "../runtime/cuda/step.ts";
import { emulatedStepDevice } from "../runtime/cuda/emulated-device.ts";
import { cudaTemplates } from "../runtime/cuda/templates.ts";

const random = (n: number, seed: number, scale = 1) => {
  const r = seededRandom(seed);
  return Float64Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};
const maxRelError = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst / scale;
};
// GEMM templates only: the emulated device has no model of the flash-attention templates.
const gemmOnly = { gemm: cudaTemplates().gemm! };

describe("compileCuda on the emulated device", () => {
  test("an f32 step (GEMM, softmax row kernel, Philox noise) agrees with the interpreter", () => {
    const fn = (t: unknown) => {
      const { x, w, seed } = t as { x: Tensor; w: Tensor; seed: Tensor };
      const y = nn.softmax(ops.mul(nn.linear(x, w), 0.5), -1);
      return { y, noisy: ops.add(y, ops.random(seed, y.shape, 11)) };
    };
    const values = { x: random(5 * 12, 1), w: random(7 * 12, 2), seed: [123] };
    const step = compileCuda(
      fn,
      { x: { shape: [5, 12] }, w: { shape: [7, 12] }, seed: { shape: [], dtype: "i32" } },
      { device: emulatedStepDevice(), templates: null },
    );
    const out = step.run(values) as { y: Float32Array; noisy: Float32Array };
    const x = ops.input("x", [5, 12]);
    const w = ops.input("w", [7, 12]);
    const seed = ops.input("seed", [], "i32");
    const want = interpret(
      fn({ x, w, seed }) as Record<string, Tensor>,
      { x: values.x, w: values.w, seed: values.seed },
      { precision: "native" },
    ) as Record<string, HostArray>;
    expect(maxRelError(out.y, want.y!.data)).toBeLessThan(1e-5);
    expect(maxRelError(out.noisy, want.noisy!.data)).toBeLessThan(1e-5);
    step.dispose();
  });

  test("a bf16 linear + bias + gelu runs as the tensor-core GEMM with its epilogue and agrees with the interpreter", () => {
    const device = emulatedStepDevice();
    const fn = (t: unknown) => {
      const { x, w, b } = t as { x: Tensor; w: Tensor; b: Tensor };
      const h = nn.linear(x, w, b);
      return { h, g: nn.gelu(h) };
    };
    const example = {
      x: { shape: [2, 20, 32], dtype: "bf16" as const },
      w: { shape: [24, 32], dtype: "bf16" as const },
      b: { shape: [24], dtype: "bf16" as const },
    };
    const step = compileCuda(fn, example, { device, templates: gemmOnly });
    expect(
      step.backend.cuda.launches.some((l) => l.template?.kind === "gemm"),
      "the GEMM uses the template",
    ).toBe(true);
    const values = { x: random(2 * 20 * 32, 3), w: random(24 * 32, 4, 0.2), b: random(24, 5) };
    const out = step.run(values) as { h: Float32Array; g: Float32Array };
    const [x, w, b] = [ops.input("x", [2, 20, 32], "bf16"), ops.input("w", [24, 32], "bf16"), ops.input("b", [24], "bf16")];
    const want = interpret(fn({ x, w, b }) as Record<string, Tensor>, values, { precision: "native" }) as Record<string, HostArray>;
    expect(maxRelError(out.h, want.h!.data)).toBeLessThan(2e-2);
    expect(maxRelError(out.g, want.g!.data)).toBeLessThan(2e-2);
    step.dispose();
    expect(device.allocatedBytes()).toBe(0);
  });

  test("AdamW with donated state updates it in place across runs, replaying one captured graph", () => {
    const device = emulatedStepDevice();
    const shapes: Record<string, number[]> = { "a.weight": [6, 4], "a.bias": [6], norm: [3] };
    const fn = (t: unknown) => {
      const { params, grads, m, v, step, lr } = t as Record<string, Record<string, Tensor>> & { step: Tensor; lr: Tensor };
      const out: Record<string, Record<string, Tensor>> = { params: {}, m: {}, v: {} };
      for (const name of Object.keys(shapes)) {
        const u = adamwUpdate(params[name]!, grads[name]!, m[name]!, v[name]!, { step, lr });
        out.params![name] = u.param;
        out.m![name] = u.m;
        out.v![name] = u.v;
      }
      return out;
    };
    const tree = (f: (shape: number[]) => { shape: number[] }) => Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, f(s)]));
    const example = {
      params: tree((s) => ({ shape: s })),
      grads: tree((s) => ({ shape: s })),
      m: tree((s) => ({ shape: s })),
      v: tree((s) => ({ shape: s })),
      step: { shape: [] },
      lr: { shape: [] },
    };
    const compiled = compileCuda(fn, example, { device, templates: null, donate: ["params", "m", "v"] });
    expect(compiled.kernelCount).toBe(1);
    const init = (seed: number, scale = 1) =>
      Object.fromEntries(
        Object.entries(shapes).map(([k, s], i) => [
          k,
          random(
            s.reduce((a, b) => a * b, 1),
            seed + i,
            scale,
          ),
        ]),
      );
    let state = { params: init(10), m: init(20, 0.1), v: Object.fromEntries(Object.entries(init(30, 0.1)).map(([k, a]) => [k, a.map(Math.abs)])) };
    compiled.set(state);
    for (let t = 1; t <= 2; t++) {
      const grads = init(40 + t);
      compiled.run({ grads, step: [t], lr: [1e-2] });
      // The reference: one step of the interpreter from the previous state.
      const inputs: Record<string, unknown> = {};
      const feeds: Record<string, Float64Array | number[]> = { step: [t], lr: [1e-2] };
      for (const group of ["params", "grads", "m", "v"]) {
        const nodes: Record<string, Tensor> = {};
        for (const [k, s] of Object.entries(shapes)) {
          nodes[k] = ops.input(`${group}/${k}`, s);
          feeds[`${group}/${k}`] = Float64Array.from(
            group === "grads" ? grads[k]! : (state as Record<string, Record<string, ArrayLike<number>>>)[group]![k]!,
          );
        }
        inputs[group] = nodes;
      }
      inputs.step = ops.input("step", []);
      inputs.lr = ops.input("lr", []);
      const want = interpret(fn(inputs) as Record<string, Record<string, Tensor>>, feeds, { precision: "native" }) as Record<
        string,
        Record<string, HostArray>
      >;
      for (const group of ["params", "m", "v"] as const)
        for (const k of Object.keys(shapes))
          expect(maxRelError(compiled.input(`${group}/${k}`), want[group]![k]!.data), `${group}/${k} after step ${t}`).toBeLessThan(1e-5);
      state = { params: {}, m: {}, v: {} } as typeof state;
      for (const group of ["params", "m", "v"] as const)
        for (const k of Object.keys(shapes)) state[group][k] = Float64Array.from(want[group]![k]!.data);
    }
    // One multi-tensor kernel, launched once per run from the captured graph.
    expect([...device.launches.values()]).toEqual([2]);
    compiled.dispose();
  });
});
