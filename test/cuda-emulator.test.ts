// Property: the CUDA lowering (GPU L2 of compiler/codegen/gpu-lower.ts), run by the GPU emulator
// with thread, block, shared-memory and barrier semantics, computes what the interpreter computes
// for the programs of the CUDA corpus, through the SIMT GEMM and through the tensor-core plans.
// (GRAD_CASES on the emulated device, under the production and a small launch configuration, are in
// the one equivalence suite, test/equivalence.test.ts.) The emulator itself reports races,
// out-of-bounds indices, divergent barriers and partial-warp shuffles (checked on broken kernels below).

import { describe, expect, test } from "vitest";
import { interpret, type HostArray } from "../compiler/interpret.ts";
import type { Tensor } from "../compiler/graph.ts";
import { gpuConfig, type GpuConfig } from "../compiler/codegen/gpu-lower.ts";
import { emulateKernel, EmulationError, storageArray } from "../compiler/codegen/gpu-emulator.ts";
import type { GpuKernel } from "../compiler/codegen/gpu-ir.ts";
import { corpusTolerance, cudaProgramCorpus, outputError, programValues } from "../bench/gpu/programs.ts";
import { runEmulated } from "./helpers/gpu-emulate.ts";

function checkAgainstInterpreter(
  outputs: readonly Tensor[],
  inputs: readonly Tensor[],
  feeds: Map<Tensor, HostArray>,
  config: GpuConfig,
  compare: { error: (got: ArrayLike<number>, want: ArrayLike<number>) => number; tolerance: number },
  tensorCores = false,
): void {
  const byName: Record<string, HostArray> = {};
  for (const [node, value] of feeds) byName[(node as Tensor<"input">).attrs.name] = value;
  const expected = interpret([...outputs], byName, { precision: "native" }) as HostArray[];
  const got = runEmulated(outputs, inputs, feeds, config, tensorCores);
  expected.forEach((ref, o) =>
    expect(compare.error(got.outputs[o]!, ref.data), `output ${o} (${o === 0 ? "forward" : `gradient ${o - 1}`})`).toBeLessThanOrEqual(
      compare.tolerance,
    ),
  );
}

describe("emulated CUDA lowering of the corpus programs agrees with the interpreter", () => {
  // The d1024 blocks are for compiling only; bf16 results compare at bf16 resolution.
  for (const program of cudaProgramCorpus().filter((p) => !p.name.includes("d1024"))) {
    const { tolerance, floor } = corpusTolerance(program);
    const compare = { error: (got: ArrayLike<number>, want: ArrayLike<number>) => outputError(got, want, floor), tolerance };
    test(`${program.name} (SIMT GEMMs)`, () => {
      checkAgainstInterpreter(program.outputs, program.inputs, programValues(program, 5), gpuConfig(), compare);
    });
    // The tensor-core plans: operand packing, the split epilogue, offsets and strides as the template gets them.
    if (program.inputs.some((t) => t.dtype === "bf16"))
      test(`${program.name} (tensor-core GEMM plans)`, () => {
        checkAgainstInterpreter(program.outputs, program.inputs, programValues(program, 5), gpuConfig(), compare, true);
      });
  }
});

describe("the emulator reports what a GPU would not", () => {
  const i = (value: number) => ({ op: "const" as const, value, type: "i32" as const });
  const tid = { op: "var" as const, name: "tid", type: "i32" as const, extent: 64 };
  const shared = [{ id: -1, name: "cells", space: "shared" as const, type: "f32" as const, size: 64 }];
  const out = { id: 0, dtype: "f32" as const, size: 64, role: "write" as const };
  const kernel = (body: GpuKernel["body"], arrays = shared): GpuKernel => ({
    name: "broken",
    comment: "",
    params: [out],
    arrays,
    threads: 64,
    blocks: 1,
    body,
  });
  const run = (k: GpuKernel) => emulateKernel(k, () => storageArray("f32", 64));
  const reverse = {
    op: "binary" as const,
    fn: "add" as const,
    a: { op: "binary" as const, fn: "mul" as const, a: tid, b: i(-1), type: "i32" as const },
    b: i(63),
    type: "i32" as const,
  };
  const publish = { s: "store" as const, buffer: -1, index: tid, value: { op: "const" as const, value: 1, type: "f32" as const } };
  const readBack = { s: "store" as const, buffer: 0, index: tid, value: { op: "load" as const, buffer: -1, index: reverse, type: "f32" as const } };

  test("reading another thread's shared-memory write without a barrier is a race", () => {
    expect(() => run(kernel([publish, readBack]))).toThrow(EmulationError);
    expect(() => run(kernel([publish, { s: "barrier" }, readBack]))).not.toThrow();
  });
  test("a barrier inside a branch taken by some threads is reported", () => {
    const cond = { op: "binary" as const, fn: "lt" as const, a: tid, b: i(10), type: "bool" as const };
    expect(() => run(kernel([{ s: "if", cond, then: [{ s: "barrier" }] }]))).toThrow(/divergent/);
  });
  test("a shuffle with part of the warp inactive is reported", () => {
    const cond = { op: "binary" as const, fn: "lt" as const, a: tid, b: i(40), type: "bool" as const };
    const shuffle = { s: "shuffle_xor" as const, name: "x", value: tid, lanes: 1 };
    expect(() =>
      run(
        kernel([
          { s: "declare", name: "x", type: "i32", init: i(0) },
          { s: "if", cond, then: [shuffle] },
        ]),
      ),
    ).toThrow(/inactive/);
  });
  test("an index outside a buffer is reported", () => {
    const past = { op: "binary" as const, fn: "add" as const, a: tid, b: i(1), type: "i32" as const };
    expect(() => run(kernel([{ s: "store", buffer: 0, index: past, value: { op: "const", value: 0, type: "f32" } }]))).toThrow(/outside/);
  });
  test("two threads writing one global element in a launch is a race", () => {
    expect(() => run(kernel([{ s: "store", buffer: 0, index: i(3), value: { op: "const", value: 0, type: "f32" } }]))).toThrow(/race/);
  });
});
