// The WebGPU backend. Everywhere: the lowering without warp shuffles (shared-memory trees), run by the
// GPU emulator (which reports races and divergent barriers), computes what the interpreter computes
// for every gradient family, forward and backward; the WGSL of a small program is snapshotted, binds
// one buffer, and what WGSL cannot do yet is an error naming it. Where a WebGPU adapter opens (Node's
// `webgpu` package over a Vulkan driver; set VK_ICD_FILENAMES to Chromium's SwiftShader ICD on a
// machine without a GPU), every gradient family also runs on the `webgpu` device against the
// interpreter; elsewhere those tests are skipped with the reason printed.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { GRAD_CASES, type GradCase } from "../compiler/gradcheck-cases.ts";
import { backward } from "../compiler/autodiff.ts";
import { interpret, type HostArray } from "../compiler/interpret.ts";
import { isFloat } from "../compiler/dtype.ts";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { seededRandom } from "../compiler/gradcheck.ts";
import type { Tensor } from "../compiler/graph.ts";
import { lowerSchedule } from "../compiler/lower.ts";
import { schedule } from "../compiler/schedule.ts";
import { lowerProgramForGpu, type GpuConfig } from "../compiler/codegen/gpu-lower.ts";
import type { GpuKernel } from "../compiler/codegen/gpu-ir.ts";
import { renderWgsl, renderWgslKernel, webGpuConfig, WGSL_PRELUDE } from "../compiler/codegen/wgsl.ts";
import { compileStep } from "../runtime/step.ts";
import { webGpuDevice, webGpuDeviceLoweredFor } from "../runtime/webgpu/device.ts";
import { openWebGpu, type OpenedGpu } from "../runtime/webgpu/open.ts";
import { philoxUniform } from "../compiler/philox.ts";
import { runEmulated } from "./helpers/gpu-emulate.ts";

const TOLERANCE = 2e-4;

/** webGpuConfig with 64-thread blocks and at most 3 of them: loops wrap, rows take both strategies, GEMM tiles are ragged. */
const SMALL: GpuConfig = {
  ...webGpuConfig(),
  threads: 64,
  maxBlocks: 3,
  rowThreads: (n) => (n <= 4 ? 1 : 64),
  gemmTile: { bm: 16, bn: 8, bk: 4, tm: 2, tn: 2 },
  attentionThreads: 32,
};

/** The forward output and the gradients of sum(output · cotangent), with their input nodes and values. */
function caseGraph(c: GradCase, seed: number) {
  const xs = c.inputs.map((h, i) => ops.input(`x${i}`, h.shape, h.dtype));
  const out = c.fn(...xs);
  const rand = seededRandom(seed);
  const cot: HostArray = {
    shape: out.shape,
    dtype: "f32",
    data: Float64Array.from({ length: out.shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1),
  };
  const cotangent = ops.input("cotangent", out.shape, "f32");
  const loss = ops.sum(ops.mul(out, cotangent));
  const outputs = [
    out,
    ...backward(
      loss,
      xs.filter((x) => isFloat(x.dtype)),
      ops.scalar(1, loss.dtype),
    ),
  ];
  const feeds = new Map<Tensor, HostArray>([[cotangent, cot]]);
  xs.forEach((x, i) => feeds.set(x, c.inputs[i]!));
  return { outputs, inputs: [...xs, cotangent], feeds };
}

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, Number.isNaN(d) ? (Number.isNaN(want[i]!) && Number.isNaN(got[i]!) ? 0 : Infinity) : d);
  }
  return worst / scale;
}

const expectedOf = (outputs: readonly Tensor[], feeds: Map<Tensor, HostArray>): HostArray[] => {
  const byName: Record<string, HostArray> = {};
  for (const [node, value] of feeds) byName[(node as Tensor<"input">).attrs.name] = value;
  return interpret([...outputs], byName, { precision: "native" }) as HostArray[];
};

const cases = GRAD_CASES.map((family) => ({ family, c: fc.sample(family.arb, { numRuns: 1, seed: 23 })[0]! }));

describe("the GPU lowering without shuffles (shared-memory trees), emulated, agrees with the interpreter", () => {
  for (const config of [
    { name: "webgpu", value: webGpuConfig() },
    { name: "small", value: SMALL },
    // An adapter on the CPU: rows walked by one invocation, the GEMM without workgroup memory; ragged 3×2 tiles.
    {
      name: "cpu adapter",
      value: { ...webGpuConfig({ cpu: true }), threads: 64, maxBlocks: 3, gemmTile: { ...SMALL.gemmTile, tm: 3, staging: "none" as const } },
    },
  ]) {
    test(`every gradient family, forward and backward (${config.name} configuration)`, () => {
      for (const { family, c } of cases) {
        const { outputs, inputs, feeds } = caseGraph(c, 31);
        const got = runEmulated(outputs, inputs, feeds, config.value);
        expectedOf(outputs, feeds).forEach((ref, o) =>
          expect(relativeError(got.outputs[o]!, ref.data), `${family.name} (${c.label}) output ${o}`).toBeLessThanOrEqual(TOLERANCE),
        );
      }
    }, 120_000);
  }
});

describe("the attention forward with several query rows a thread (a CPU adapter's lowering), emulated", () => {
  test("agrees with the interpreter for 4, 2 and 1 rows a thread, causal or with a key mask, grouped heads", () => {
    const config = webGpuConfig({ cpu: true });
    for (const { sq, causal, masked } of [
      { sq: 8, causal: false, masked: false },
      { sq: 6, causal: true, masked: false },
      { sq: 5, causal: false, masked: true },
    ]) {
      const [b, sk, heads, kvHeads, d] = [2, sq, 4, 2, 3];
      const q = ops.input("q", [b, sq, heads * d]);
      const k = ops.input("k", [b, sk, kvHeads * d]);
      const v = ops.input("v", [b, sk, kvHeads * d]);
      const mask = ops.input("mask", [b, sk], "bool");
      const out = nn.attention(q, k, v, { heads, kvHeads, causal, ...(masked ? { keyMask: mask } : {}) });
      const rand = seededRandom(sq);
      const host = (t: Tensor): HostArray => ({
        shape: t.shape,
        dtype: t.dtype,
        data: Float64Array.from({ length: t.shape.reduce((x, y) => x * y, 1) }, (_, n) =>
          t.dtype === "bool" ? Number(n % 3 !== 1) : rand() * 2 - 1,
        ),
      });
      const inputs = masked ? [q, k, v, mask] : [q, k, v];
      const feeds = new Map<Tensor, HostArray>(inputs.map((t) => [t, host(t)]));
      const launches = lowerProgramForGpu(lowerSchedule(schedule([out], inputs)), config).kernels.flatMap((l) => l.step.launches);
      expect(
        launches.some((l) => l.arrays.some((a) => a.name === "q_rows")),
        `sq ${sq}: several rows a thread`,
      ).toBe(sq % 2 === 0);
      const got = runEmulated([out], inputs, feeds, config);
      expect(relativeError(got.outputs[0]!, expectedOf([out], feeds)[0]!.data), `sq ${sq}`).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe("the WGSL renderer", () => {
  const x = ops.input("x", [4, 300]);
  const w = ops.input("w", [6, 300]);
  const program = lowerSchedule(schedule([nn.softmax(x, -1), ops.sum(nn.linear(x, w), [0])], [x, w]));
  const wgsl = renderWgsl(lowerProgramForGpu(program, webGpuConfig()));

  test("a softmax over rows of 300 and a GEMM with a column sum match their snapshot", async () => {
    const text = wgsl.launches
      .map((l) => `// launch ${l.name}: ${l.workgroups} × ${l.workgroupSize}\n${l.source.replace(WGSL_PRELUDE, "")}`)
      .join("\n");
    await expect(`${WGSL_PRELUDE}\n// arena: ${wgsl.arena.words} words\n${text}`).toMatchFileSnapshot("__snapshots__/wgsl/softmax-gemm.wgsl");
  });

  test("every shader binds the one arena, the block-per-row reduction is a barriered tree, nothing CUDA leaks in", () => {
    for (const l of wgsl.launches) {
      expect(l.source.match(/@binding\(/g)).toHaveLength(1);
      expect(l.source).not.toMatch(/__shfl|__syncthreads|float |int |\?/);
      expect(l.workgroupSize).toBeLessThanOrEqual(256);
    }
    const softmax = wgsl.launches.find((l) => l.source.includes("var<workgroup> tree_"));
    expect(softmax, "a reduction over rows of 300 uses the whole workgroup").toBeDefined();
    // log2(256) folding levels, each followed by a barrier, plus the publish and the final read.
    expect(softmax!.source.match(/workgroupBarrier\(\);/g)!.length).toBeGreaterThanOrEqual(2 * 10);
    // Each buffer is at its own word offset; offsets are multiples of 64 words (256 bytes).
    const offsets = [...wgsl.arena.offsets.values()];
    expect(new Set(offsets).size).toBe(offsets.length);
    for (const o of offsets) expect(o % 64).toBe(0);
  });

  const tid = { op: "var" as const, name: "tid", type: "i32" as const, extent: 64 };
  const kernel = (body: GpuKernel["body"]): GpuKernel => ({
    name: "k",
    comment: "",
    params: [{ id: 0, dtype: "f32", size: 64, role: "readwrite" }],
    arrays: [],
    threads: 64,
    blocks: 1,
    body,
  });
  const arena = { offsets: new Map([[0, 0]]), words: 64 };
  const one = { op: "const" as const, value: 1, type: "f32" as const };

  test("a scatter-add binds the arena as atomic words and adds by compare-and-swap; a warp shuffle is an error naming it", () => {
    const adding = renderWgslKernel(kernel([{ s: "store", buffer: 0, index: tid, value: one, atomic: true }]), arena);
    expect(adding).toContain("var<storage, read_write> arena: array<atomic<u32>>;");
    expect(adding).toMatch(/kiln_atomic_add\(p0 \+ tid, 1\.0\S*, 0\);/);
    expect(adding).toContain("atomicCompareExchangeWeak(&arena[i], old, bitcast<u32>(sum))");
    const plain = renderWgslKernel(kernel([{ s: "store", buffer: 0, index: tid, value: one }]), arena);
    expect(plain).toContain("var<storage, read_write> arena: array<u32>;");
    expect(plain).not.toContain("kiln_atomic_add");
    expect(() =>
      renderWgslKernel(
        kernel([
          { s: "declare", name: "v", type: "f32", init: one },
          { s: "shuffle_xor", name: "v", value: one, lanes: 1 },
        ]),
        arena,
      ),
    ).toThrow(/warp shuffle; lower for WebGPU with webGpuConfig/);
  });

  test("random numbers call the prelude's Philox with the seed and index as u32", () => {
    const philox = {
      op: "philox" as const,
      seed: { op: "const" as const, value: 7, type: "i32" as const },
      index: tid,
      offset: 3,
      type: "f32" as const,
    };
    expect(renderWgslKernel(kernel([{ s: "store", buffer: 0, index: tid, value: philox }]), arena)).toContain(
      "kiln_philox(bitcast<u32>(7), 3u, bitcast<u32>(tid))",
    );
  });

  test("special values: infinities and NaN are made at run time, the i32 minimum is spelled as an expression", () => {
    const store = (value: number, type: "f32" | "i32") =>
      renderWgslKernel(kernel([{ s: "store", buffer: 0, index: tid, value: { op: "const", value, type } }]), arena);
    expect(store(-Infinity, "f32")).toContain("(-kiln_f32_bits(0x7f800000u))");
    expect(store(Number.NaN, "f32")).toContain("kiln_f32_bits(0x7fc00000u)");
    expect(store(-2147483648, "i32")).toContain("i32(-2147483647 - 1)");
  });
});

// --- on a WebGPU adapter ---------------------------------------------------------------------------

const opened: OpenedGpu | string = await openWebGpu().catch((error: unknown) => (error as Error).message);
const skipReason = typeof opened === "string" ? opened : null;
if (skipReason) console.log(`[webgpu.test] execution tests skipped: ${skipReason}`);
else console.log(`[webgpu.test] WebGPU adapter: ${(opened as OpenedGpu).adapter}`);

describe.skipIf(skipReason !== null)("the webgpu device", () => {
  // The adapter's lowering (on SwiftShader: without barriers), and the one for a GPU (workgroup memory, barriers, unrolled loops).
  test.each([
    { lowering: "the adapter's", device: webGpuDevice },
    { lowering: "a GPU's", device: webGpuDeviceLoweredFor({ cpu: false }) },
  ])(
    "every gradient family runs forward and backward and agrees with the interpreter ($lowering lowering)",
    async ({ device: webgpu }) => {
      const ran: string[] = [];
      for (const { family, c } of cases) {
        const { outputs, inputs, feeds } = caseGraph(c, 31);
        const program = lowerSchedule(schedule(outputs, inputs));
        const device = webgpu.prepare({ name: family.name, program, copies: [] });
        for (const [node, id] of program.inputs) device.write(id, feeds.get(node)!.data);
        device.launch(null);
        await device.settle();
        const expected = expectedOf(outputs, feeds);
        for (let o = 0; o < expected.length; o++) {
          const got = await device.readAsync(program.outputs[o]!);
          expect(relativeError(got, expected[o]!.data), `${family.name} (${c.label}) output ${o}`).toBeLessThanOrEqual(TOLERANCE);
        }
        device.dispose();
        ran.push(family.name);
      }
      console.log(`[webgpu.test] ${ran.length} families ran on WebGPU`);
      expect(ran.length).toBe(cases.length);
    },
    300_000,
  );

  test("random numbers on WebGPU are bit-equal to compiler/philox.ts (multiply-high from 16-bit halves)", async () => {
    const seed = ops.input("seed", [], "i32");
    const program = lowerSchedule(schedule([ops.random(seed, [1001], 0x9e37)], [seed]));
    const device = webGpuDevice.prepare({ name: "philox", program, copies: [] });
    const want = new Float32Array(1001);
    for (const s of [0, 12345, -7]) {
      device.write(program.inputs.get(seed)!, [s]);
      device.launch(null);
      await device.settle();
      philoxUniform(want, s, 0x9e37);
      expect(Array.from(await device.readAsync(program.outputs[0]!))).toEqual(Array.from(want));
    }
    device.dispose();
  }, 60_000);

  test("a compiled step on webgpu: donated state, runAsync twice, the synchronous readers refused", async () => {
    const fn = (t: unknown) => {
      const { x, w, state } = t as { x: Tensor; w: Tensor; state: Tensor };
      const y = nn.softmax(nn.linear(x, w), -1);
      return { y, state: ops.add(state, ops.sum(y, [0])) };
    };
    const example = { x: { shape: [4, 40] }, w: { shape: [6, 40] }, state: { shape: [6] } };
    const r = seededRandom(5);
    const values = {
      x: Float32Array.from({ length: 160 }, () => r() * 2 - 1),
      w: Float32Array.from({ length: 240 }, () => r() * 2 - 1),
      state: new Float32Array(6),
    };
    const cpu = compileStep(fn, example, { device: "cpu", donate: ["state"], name: "webgpu_ref_cpu" }).run(values) as {
      y: Float32Array;
      state: Float32Array;
    };
    const step = compileStep(fn, example, { device: "webgpu", donate: ["state"], name: "webgpu_step" });
    const first = (await step.runAsync(values)) as { y: Float32Array; state: Float32Array };
    const second = (await step.runAsync()) as { y: Float32Array; state: Float32Array };
    expect(relativeError(first.y, cpu.y)).toBeLessThan(1e-5);
    expect(
      relativeError(
        second.state,
        Array.from(cpu.state, (v) => 2 * v),
      ),
    ).toBeLessThan(1e-5);
    expect(() => step.run()).toThrow(/reads results back asynchronously/);
    step.dispose();
  }, 120_000);
});
