// The CUDA renderer over a fixed corpus of whole programs (bench/gpu/programs.ts: the AAA block at
// dim 64 and at the real 1024 with 32 heads, forward and forward + backward in bf16; AdamW over a
// parameter tree; attention on the flash and SIMT paths; an f32 MLP; a bf16 embedding gradient):
// every kernel compiles with nvcc -cubin -arch=sm_90a, GEMM and attention kernels without spill
// stores, every GEMM tile configuration of the templates is exercised, one program compiles with the
// real NVRTC, and each program's generated code is snapshotted under __snapshots__/cuda-renderer/.
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, test } from "vitest";
import { lowerSchedule } from "../compiler/lower.ts";
import { schedule } from "../compiler/schedule.ts";
import { CUDA_PRELUDE, programSource, type CudaProgram } from "../compiler/codegen/cuda.ts";
import { gemmKernelName } from "../kernels/cuda/gemm-mma.ts";
import { compileWithNvccAsync, parseResourceUsage, type KernelResources } from "../runtime/cuda/nvcc.ts";
import { packKernelArgs } from "../runtime/cuda/launch-args.ts";
import { loadNvrtc, nvrtcOptions } from "../runtime/cuda/nvrtc.ts";
import { cudaProgramOf } from "../runtime/cuda/step.ts";
import { GEMM_TILE_ORDER } from "../runtime/cuda/templates.ts";
import { cudaProgramCorpus } from "../bench/gpu/programs.ts";
import { locateNvrtc } from "./helpers/nvrtc.ts";

const nvccPresent = (() => {
  try {
    execFileSync("nvcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const programs = cudaProgramCorpus().map((p) => ({ name: p.name, cuda: cudaProgramOf(lowerSchedule(schedule(p.outputs, p.inputs))).cuda }));

/** A program as text for its snapshot: the launch list, generated kernels in full, template kernels by name and epilogue. */
function snapshotText(p: CudaProgram): string {
  const generated = new Set(p.launches.filter((l) => l.simt).map((l) => l.kernel));
  const lines = [`// ${p.kernels.length} kernels, ${p.launches.length} launches, workspace ${p.workspaceBytes} bytes`];
  for (const l of p.launches) {
    const k = p.kernels.find((x) => x.name === l.kernel)!;
    const args = Object.entries(l.args).map(
      ([name, a]) => `${name}=${a.kind === "scalar" ? a.value : `b${a.id}${a.byteOffset ? `+${a.byteOffset}` : ""}`}`,
    );
    lines.push(`// launch ${l.kernel} <<<${k.grid.join("x")}, ${k.block.join("x")}, ${k.smemBytes}>>> (${args.join(", ")})`);
  }
  for (const k of p.kernels) {
    if (generated.has(k.name)) {
      lines.push("", k.source.slice(CUDA_PRELUDE.length).trim());
      continue;
    }
    const epilogue = new RegExp(`__device__ __forceinline__ float ${k.name}_epilogue\\([\\s\\S]*?\\n}\\n`).exec(k.source);
    lines.push("", `// template kernel ${k.name}${epilogue ? ", its epilogue:" : ""}`, ...(epilogue ? [epilogue[0].trim()] : []));
  }
  return lines.join("\n") + "\n";
}

describe("CUDA renderer output (no compiler needed)", () => {
  test("the generated prelude matches its snapshot", async () => {
    await expect(CUDA_PRELUDE).toMatchFileSnapshot("__snapshots__/cuda-renderer/prelude.cu");
  });

  test.each(programs.map((p) => [p.name, p.cuda] as const))("%s matches its snapshot", async (name, cuda) => {
    await expect(snapshotText(cuda)).toMatchFileSnapshot(`__snapshots__/cuda-renderer/${name}.cu`);
  });

  test("every GEMM tile configuration of the templates is used by the corpus", () => {
    const names = programs.flatMap((p) => p.cuda.kernels.map((k) => k.name));
    for (const t of GEMM_TILE_ORDER) {
      const tag = gemmKernelName({ m: 1, n: 1, k: 1, layout: "tn", out: "bf16" }, t).split("_m1n1k1")[0]!.replace("_tn_", "_");
      expect(
        names.some((n) => n.replace(/_(tn|nn)_/, "_").startsWith(tag)),
        `a kernel with tile ${tag}`,
      ).toBe(true);
    }
  });

  test("every launch's arguments pack into its kernel's parameter list (names, kinds, nothing missing or extra)", () => {
    for (const p of programs)
      for (const l of p.cuda.launches) {
        const k = p.cuda.kernels.find((x) => x.name === l.kernel)!;
        const args = Object.fromEntries(
          Object.entries(l.args).map(([name, a]) => [name, a.kind === "scalar" ? a.value : 0x10000n + BigInt(a.id * 4096 + a.byteOffset)]),
        );
        expect(() => packKernelArgs(k.name, k.params, args), `${p.name}: ${k.name}`).not.toThrow();
      }
  });

  test("the AAA block's GEMMs and its attention use the tensor-core templates", () => {
    const train = programs.find((p) => p.name === "aaa_block_d64_train")!.cuda;
    // All 21 GEMMs (7 forward, 14 backward), the weight gradients after packing their transposed operand.
    expect(train.launches.filter((l) => l.template?.kind === "gemm").length).toBe(21);
    expect(train.launches.filter((l) => l.simt && /^gemm_\d+x\d+_\d+$/.test(l.kernel)).length).toBe(0);
    expect(
      train.launches.filter((l) => l.template?.kind === "attention").map((l) => (l.template?.kind === "attention" ? l.template.part : null)),
    ).toEqual(["forward", "forward", "delta", "main", "convert"]);
  });
});

describe.skipIf(!nvccPresent)(`nvcc -cubin -arch=sm_90a over the program corpus${nvccPresent ? "" : " (skipped: nvcc is not on the PATH)"}`, () => {
  const resources = new Map<string, KernelResources>();
  const key = (program: string, kernel: string) => `${program}/${kernel}`;

  beforeAll(async () => {
    // Translation units of up to 16 kernels (the preludes are include-guarded), two nvcc at a time.
    const units: { program: string; source: string }[] = [];
    for (const p of programs)
      for (let i = 0; i < p.cuda.kernels.length; i += 16)
        units.push({
          program: p.name,
          source: p.cuda.kernels
            .slice(i, i + 16)
            .map((k) => k.source)
            .join("\n"),
        });
    for (let i = 0; i < units.length; i += 2) {
      const batch = units.slice(i, i + 2);
      const outputs = await Promise.all(batch.map((u) => compileWithNvccAsync(u.source)));
      outputs.forEach((output, j) => output.resources.forEach((r) => resources.set(key(batch[j]!.program, r.name), r)));
    }
    const table = programs.flatMap((p) =>
      p.cuda.kernels.map((k) => {
        const r = resources.get(key(p.name, k.name));
        return `  ${`${p.name}/${k.name}`.padEnd(100)} ${String(r?.registers ?? "-").padStart(4)} regs ${String(r?.spillStoreBytes ?? "-").padStart(4)} B spill st ${String(r?.stackFrameBytes ?? "-").padStart(5)} B stack`;
      }),
    );
    console.log(`sm_90a resources of the CUDA renderer's corpus:\n${table.join("\n")}`);
  }, 600_000);

  test.each(programs.map((p) => [p.name, p] as const))("every kernel of %s compiles; GEMM and attention kernels do not spill", (name, p) => {
    for (const k of p.cuda.kernels) {
      const r = resources.get(key(name, k.name));
      expect(r, `ptxas reported nothing for ${k.name}`).toBeDefined();
      expect(r!.registers).toBeLessThanOrEqual(255);
      if (/^(gemm|attention)/.test(k.name)) expect(r!.spillStoreBytes, `${k.name} spills`).toBe(0);
    }
  });
});

const nvrtcPath = locateNvrtc();
describe.skipIf(!nvrtcPath)(`NVRTC over a program${nvrtcPath ? "" : " (skipped: no libnvrtc)"}`, () => {
  test("the AAA block's forward + backward compiles with the real NVRTC for sm_90a, with the device's options", () => {
    const nvrtc = loadNvrtc(nvrtcPath!);
    const program = programs.find((p) => p.name === "aaa_block_d64_train")!.cuda;
    const { binary, log } = nvrtc.compile(programSource(program), "aaa_block_d64_train.cu", [...nvrtcOptions("sm_90a"), "--ptxas-options=-v"]);
    expect(Buffer.from(binary.subarray(0, 4)).toString("latin1")).toBe("\x7fELF");
    expect(log).not.toMatch(/warning/);
    const reported = new Set(parseResourceUsage(log).map((r) => r.name));
    for (const k of program.kernels) expect(reported.has(k.name), k.name).toBe(true);
  });
});
