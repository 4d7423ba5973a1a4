// Properties of the CPU runtime: compiled libraries are cached (a second compile of the same graph
// starts no compiler; a corrupt entry is rebuilt), a failing compiler is reported with the command,
// its output and the kernel source, bad inputs to run() are refused with expected and received
// shapes, donated state is updated in place, and the arena reuses memory by liveness.

import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import type { Tensor } from "../compiler/graph.ts";
import { compile } from "../runtime/compile.ts";
import { compileC, compilerInvocations } from "../runtime/cpu/toolchain.ts";
import { loadLibrary } from "../runtime/cpu/device.ts";
import { cacheTestGraph } from "./helpers/compile-graph.ts";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

let previousCache: string | undefined;
let cacheRoot: string;

beforeAll(() => {
  previousCache = process.env.KILN_CACHE_DIR;
  cacheRoot = mkdtempSync(path.join(tmpdir(), "kiln-cache-"));
  process.env.KILN_CACHE_DIR = cacheRoot;
});
afterAll(() => {
  if (previousCache === undefined) delete process.env.KILN_CACHE_DIR;
  else process.env.KILN_CACHE_DIR = previousCache;
});

// Each test builds a graph no other test builds (its own scale), so cache hits are its own.
const graph = cacheTestGraph;

test("a second compile of the same graph starts no compiler", () => {
  const before = compilerInvocations();
  const first = compile(graph(1.5), { x: { shape: [4, 8] }, w: { shape: [6, 8] } });
  expect(compilerInvocations()).toBe(before + 1);
  expect(first.backend.library.compiled).toBe(true);
  const second = compile(graph(1.5), { x: { shape: [4, 8] }, w: { shape: [6, 8] } });
  expect(compilerInvocations()).toBe(before + 1);
  expect(second.backend.library.compiled).toBe(false);
  const values = { x: Float32Array.from({ length: 32 }, (_, i) => i / 10), w: Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)) };
  expect(second.run(values)).toEqual(first.run(values));
});

test("a corrupt cache entry is rebuilt, not fatal", () => {
  const example = { x: { shape: [4, 8] }, w: { shape: [6, 8] } };
  // Another process fills the cache entry (a library this process has loaded must not be overwritten).
  const helper = fileURLToPath(new URL("./helpers/compile-graph.ts", import.meta.url));
  const library = execFileSync(process.execPath, ["--import", "tsx", helper, "--print-library", "2.5"], {
    encoding: "utf8",
    env: process.env,
  }).trim();
  writeFileSync(library, "this is not a shared library");
  const before = compilerInvocations();
  const rebuilt = compile(graph(2.5), example);
  expect(compilerInvocations()).toBe(before + 1);
  const out = rebuilt.run({ x: new Float32Array(32).fill(1), w: new Float32Array(48).fill(0.5) }) as Float32Array;
  expect(out.length).toBe(24);
  expect(Math.abs(out.slice(0, 6).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
});

test("a failing C compiler is reported with the command, its stderr and the kernel source", () => {
  const saved = process.env.KILN_CC;
  const fake = path.join(cacheRoot, "failing-cc.sh");
  writeFileSync(fake, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo fake-cc 1.0; exit 0; fi\necho 'fake-cc: error: out of cheese' >&2\nexit 3\n", {
    mode: 0o755,
  });
  process.env.KILN_CC = fake;
  try {
    let message = "";
    try {
      compile(graph(3.5), { x: { shape: [2, 8] }, w: { shape: [6, 8] } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/compiling a kernel file failed \(exit status 3\)/);
    expect(message).toContain(`command: ${fake}`);
    expect(message).toContain("out of cheese");
    const source = /source: (\S+\.c)/.exec(message)?.[1];
    expect(source).toBeDefined();
    expect(readdirSync(path.dirname(source!))).toContain(path.basename(source!));
  } finally {
    if (saved === undefined) delete process.env.KILN_CC;
    else process.env.KILN_CC = saved;
  }
});

test("a missing C compiler says so and how to fix it", () => {
  const saved = process.env.KILN_CC;
  process.env.KILN_CC = path.join(cacheRoot, "no-such-compiler");
  try {
    expect(() => compile(graph(4.5), { x: { shape: [2, 8] }, w: { shape: [6, 8] } })).toThrow(/could not be run.*Install gcc.*KILN_CC/s);
  } finally {
    if (saved === undefined) delete process.env.KILN_CC;
    else process.env.KILN_CC = saved;
  }
});

test("run() refuses inputs of the wrong shape or size, naming expected and received", () => {
  const step = compile(graph(5.5), { x: { shape: [4, 8] }, w: { shape: [6, 8] } });
  expect(() => step.run({ x: new Float32Array(30), w: new Float32Array(48) })).toThrow(
    /input 'x': expected 32 values for shape \[4,8\] \(f32\), received 30/,
  );
  expect(() => step.run({ x: { shape: [8, 4], dtype: "f32", data: new Float32Array(32) }, w: new Float32Array(48) })).toThrow(
    /input 'x': expected shape \[4,8\] \(f32\), received \[8,4\]/,
  );
  expect(() => step.run({ y: new Float32Array(32) })).toThrow(/no input 'y'/);
});

test("donated state is updated in place and stays resident between runs", () => {
  const step = compile(
    (t) => {
      const { state, grad } = t as { state: { w: Tensor }; grad: Tensor };
      return { state: { w: nn.sub(state.w, ops.mul(grad, 0.5)) }, norm: ops.sum(nn.square(state.w)) };
    },
    { state: { w: { shape: [16] } }, grad: { shape: [16] } },
    { donate: ["state"] },
  );
  step.set({ state: { w: new Float32Array(16).fill(2) } });
  const resident = step.input("state/w");
  step.run({ grad: new Float32Array(16).fill(1) });
  step.run({ grad: new Float32Array(16).fill(1) });
  expect([...resident]).toEqual(new Array(16).fill(1));
  // The update kernel writes the input buffer itself: no separate output buffer for w (outputs are
  // in sorted path order: norm, state/w).
  expect(step.program.outputs[1]).toBe(
    step.program.inputs.get([...step.program.inputs.keys()].find((n) => (n as Tensor<"input">).attrs.name === "state/w")!),
  );
});

test("the arena reuses memory: a long chain needs far less than the sum of its temporaries", () => {
  const step = compile(
    (t) => {
      let x = (t as { x: Tensor }).x;
      // Alternating the softmax axis keeps the row kernels from fusing into one.
      for (let i = 0; i < 12; i++) x = nn.softmax(ops.mul(x, 1.01), i % 2 === 0 ? -1 : 0);
      return x;
    },
    { x: { shape: [64, 64] } },
  );
  expect(step.kernelCount).toBe(12);
  expect(step.backend.arena.bytes).toBeLessThanOrEqual(2 * 64 * 64 * 4);
  expect(step.backend.arena.unplannedBytes).toBeGreaterThanOrEqual(11 * 64 * 64 * 4);
});

test("a bare tensor spec can be the whole example: run() takes the array and returns the array", () => {
  const step = compile((x) => ops.mul(x as Tensor, 3), { shape: [5] });
  const out = step.run(Float32Array.from([1, 2, 3, 4, 5]));
  expect([...(out as Float32Array)]).toEqual([3, 6, 9, 12, 15]);
  expect(step.inputPaths).toEqual([""]);
});

test("reductions over a trailing axis of length 1 compile and keep their values (sum, softmax, layer norm)", () => {
  const x = Float32Array.from([1, -2, 3, 4.5]);
  const sum = compile((t) => ops.sum(ops.mul(t as Tensor, t as Tensor), [1]), { shape: [4, 1] });
  expect([...(sum.run(x) as Float32Array)]).toEqual([1, 4, 9, 20.25]);
  // softmax over one element is 1; layer norm of one element is 0 (x − mean = 0).
  const softmax = compile((t) => nn.softmax(t as Tensor, -1), { shape: [4, 1] });
  expect([...(softmax.run(x) as Float32Array)]).toEqual([1, 1, 1, 1]);
  const norm = compile((t) => nn.layerNorm(t as Tensor, {}), { shape: [4, 1] });
  expect([...(norm.run(x) as Float32Array)]).toEqual([0, 0, 0, 0]);
});

test("on x86 a step flushes subnormal floats to zero (FTZ/DAZ), and the caller's own arithmetic keeps them", () => {
  const step = compile((t) => ops.mul((t as { x: Tensor }).x, 1e-30), { x: { shape: [2] } });
  const out = step.run({ x: Float32Array.of(1e-10, 1) }) as Float32Array;
  // 1e-10 · 1e-30 = 1e-40 is an f32 subnormal: flushed on x86, kept elsewhere; 1e-30 is normal either way.
  const x86 = process.arch === "x64" || process.arch === "ia32";
  expect(out[0]).toBe(x86 ? 0 : Math.fround(Math.fround(1e-10) * Math.fround(1e-30)));
  expect(out[1]).toBe(Math.fround(1e-30));
  // MXCSR is restored after the step: a double subnormal computed now is not flushed.
  const smallestNormal = Number(["2.2250738585072014e-308"][out.length - 2]);
  expect(smallestNormal / 4).toBeGreaterThan(0);
});

// Clears FTZ/DAZ on every thread of libgomp's pool (shared by all libraries in the process), as threads
// started by other OpenMP code would have them; returns the team size.
const CLEAR_FLUSH_C = `#include <omp.h>
#include <xmmintrin.h>
int clear_flush(void) {
  int team = 0;
  #pragma omp parallel
  {
    _mm_setcsr(_mm_getcsr() & ~0x8040u);
    #pragma omp single
    team = omp_get_num_threads();
  }
  return team;
}`;

test("the flush holds on every OpenMP thread, step after step, even on pool threads started without it", () => {
  if (process.arch !== "x64") return void console.log("not x86-64: no MXCSR to check");
  const clear = loadLibrary(compileC(CLEAR_FLUSH_C).library).func("int clear_flush(void)") as () => number;
  expect(clear()).toBeGreaterThan(0);
  const n = (1 << 18) + 3; // large enough for the loop to be split over the threads; a shape no other test compiles
  const step = compile((t) => ops.mul((t as { x: Tensor }).x, 1e-30), { x: { shape: [n] } });
  for (let run = 0; run < 3; run++) {
    const out = step.run({ x: new Float32Array(n).fill(1e-10) }) as Float32Array;
    expect(out.filter((v) => v !== 0).length).toBe(0);
  }
});
