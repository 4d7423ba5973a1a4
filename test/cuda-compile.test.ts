// Every kernel of the CUDA corpus renders and compiles with nvcc for sm_90a (no GPU needed); the GEMM and
// attention templates keep all their state in registers (zero spill stores); the generated sources are
// snapshotted under test/__snapshots__/cuda/ so any change in generated code shows up in a diff.
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, test } from "vitest";
import { corpusKernels } from "../kernels/cuda/corpus.ts";
import { PREAMBLE } from "../kernels/cuda/kernel.ts";
import { compileWithNvccAsync, type KernelResources } from "../runtime/cuda/nvcc.ts";

const nvccPresent = (() => {
  try {
    execFileSync("nvcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const kernels = corpusKernels();
const PREAMBLE_STAND_IN = "// (PREAMBLE of kernels/cuda/kernel.ts: snapshotted once as preamble.cu)\n";

describe("CUDA kernel sources (no compiler needed)", () => {
  test("kernel names in the corpus are unique and each source defines its kernel once", () => {
    expect(new Set(kernels.map((k) => k.kernel.name)).size).toBe(kernels.length);
    for (const { kernel } of kernels)
      expect(kernel.source.split(`void __launch_bounds__`).filter((s) => s.includes(` ${kernel.name}(`)).length).toBe(1);
  });

  test("the shared preamble matches its snapshot", async () => {
    await expect(PREAMBLE).toMatchFileSnapshot("__snapshots__/cuda/preamble.cu");
  });

  test.each(kernels.map((k) => [k.kernel.name, k.kernel] as const))("%s matches its source snapshot", async (_, kernel) => {
    expect(kernel.source.startsWith(PREAMBLE)).toBe(true);
    await expect(PREAMBLE_STAND_IN + kernel.source.slice(PREAMBLE.length)).toMatchFileSnapshot(`__snapshots__/cuda/${kernel.name}.cu`);
  });
});

describe.skipIf(!nvccPresent)(`nvcc -cubin -arch=sm_90a over the corpus${nvccPresent ? "" : " (skipped: nvcc is not on the PATH)"}`, () => {
  const resources = new Map<string, KernelResources>();

  beforeAll(async () => {
    // A few translation units of several kernels each (the preamble and helpers are include-guarded),
    // two nvcc processes at a time: far faster than one nvcc per kernel.
    const batches: string[][] = [[], [], [], []];
    kernels.forEach(({ kernel }, i) => batches[i % batches.length]!.push(kernel.source));
    for (let i = 0; i < batches.length; i += 2) {
      const outputs = await Promise.all(batches.slice(i, i + 2).map((sources) => compileWithNvccAsync(sources.join("\n"))));
      for (const output of outputs) for (const r of output.resources) resources.set(r.name, r);
    }
    const table = kernels.map(({ kernel }) => {
      const r = resources.get(kernel.name);
      return `  ${kernel.name.padEnd(76)} ${String(r?.registers ?? "-").padStart(4)} regs  ${String(r?.spillStoreBytes ?? "-").padStart(4)} B spill st  ${String(r?.spillLoadBytes ?? "-").padStart(4)} B spill ld  ${String(kernel.smemBytes).padStart(6)} B smem`;
    });
    console.log(`sm_90a resources of the CUDA corpus:\n${table.join("\n")}`);
  }, 600_000);

  test.each(kernels.map((k) => [k.kernel.name, k.kind] as const))("%s compiles for sm_90a", (name, kind) => {
    const r = resources.get(name);
    expect(r, `ptxas reported nothing for ${name}`).toBeDefined();
    if (kind === "gemm" || kind === "attention") expect(r!.spillStoreBytes, `${name} spills ${r!.spillStoreBytes} bytes`).toBe(0);
    expect(r!.registers).toBeLessThanOrEqual(255);
  });
});
