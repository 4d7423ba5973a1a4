// Every corpus kernel compiles with the real NVRTC through runtime/cuda's koffi bindings, for sm_90a and
// sm_80, with the options the cuda device uses — no GPU needed. NVRTC comes from the usual search
// (KILN_NVRTC_PATH, toolkits, wheels) or, failing that, from the NVRTC wheel this machine image keeps on disk.
import { describe, expect, test } from "vitest";
import { corpusKernels } from "../kernels/cuda/corpus.ts";
import { locateNvrtc } from "./helpers/nvrtc.ts";
import { parseResourceUsage } from "../runtime/cuda/nvcc.ts";
import { archFor, loadNvrtc, nvrtcOptions } from "../runtime/cuda/nvrtc.ts";

const nvrtcPath = locateNvrtc();
const kernels = corpusKernels();

describe.skipIf(!nvrtcPath)(
  `NVRTC over the corpus${nvrtcPath ? ` (${nvrtcPath})` : " (skipped: no libnvrtc found and no NVRTC wheel on disk)"}`,
  () => {
    test("Hopper compute capability 9.0 compiles for sm_90a, others for their own sm", () => {
      expect(archFor({ major: 9, minor: 0 })).toBe("sm_90a");
      expect(archFor({ major: 8, minor: 0 })).toBe("sm_80");
      expect(archFor({ major: 8, minor: 9 })).toBe("sm_89");
    });

    test.each(kernels.map((k) => [k.kernel.name, k] as const))("%s compiles with NVRTC for sm_90a without warnings", (name, { kernel, kind }) => {
      const nvrtc = loadNvrtc(nvrtcPath!);
      const { binary, log } = nvrtc.compile(kernel.source, `${name}.cu`, [...nvrtcOptions("sm_90a"), "--ptxas-options=-v"]);
      expect(Buffer.from(binary.subarray(0, 4)).toString("latin1")).toBe("\x7fELF");
      expect(log).not.toMatch(/warning/);
      const resources = parseResourceUsage(log).find((r) => r.name === name);
      expect(resources, `no ptxas report for ${name}`).toBeDefined();
      if (kind === "gemm" || kind === "attention") expect(resources!.spillStoreBytes).toBe(0);
    });

    test("the mma.sync templates also compile for Ampere (sm_80)", () => {
      const nvrtc = loadNvrtc(nvrtcPath!);
      for (const { kernel } of kernels.filter((k) => !k.kernel.name.startsWith("gemm_wgmma"))) {
        const { binary } = nvrtc.compile(kernel.source, `${kernel.name}.cu`, nvrtcOptions("sm_80"));
        expect(binary.length, kernel.name).toBeGreaterThan(0);
      }
    });

    test("a compile error comes back with NVRTC's log naming the file and line", () => {
      const nvrtc = loadNvrtc(nvrtcPath!);
      expect(() => nvrtc.compile('extern "C" __global__ void broken() { undeclared_name = 1; }\n', "broken.cu", nvrtcOptions("sm_90a"))).toThrow(
        /NVRTC_ERROR_COMPILATION[\s\S]*broken\.cu\(1\)[\s\S]*undeclared_name/,
      );
    });
  },
);
