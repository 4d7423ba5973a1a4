// `kiln bench webgpu` in a real browser: the bench page, run in headless Chromium (WebGPU on
// SwiftShader here) on a tiny GEMM and a tiny DiT, gives a time for kiln, TensorFlow.js's webgpu
// backend and jax-js's WebGPU backend, and each peer's output matches kiln's, so the bench times the
// same computation on every library. Skipped, with the reason printed, where Chromium is missing.

import { describe, expect, test } from "vitest";
import { CONTENDERS, formatWebGpuReport, isSkippedFigure, type WebGpuReport } from "../bench/webgpu/core.ts";
import { benchWebGpu, defaultBenchOptions, embeddedDefaultDit, findChromium } from "../bench/webgpu/run.ts";
import type { AaaDitConfig } from "../bench/tiny-dit.ts";

const CHROMIUM = findChromium();

/** A DiT small enough that SwiftShader runs it in well under a second on every library. */
const MINI_DIT: AaaDitConfig = {
  dim: 32,
  depth: 1,
  heads: 2,
  ffDim: 64,
  latentChannels: 8,
  latentHeight: 4,
  latentWidth: 4,
  textTokens: 8,
  textFeatures: 16,
  timestepFeatures: 256,
  layerNormEps: 1e-5,
  rmsNormEps: 2 ** -23,
};

/** f32 on every library, differently ordered sums: agreement to 1e-4 of the output's scale. */
const RELATIVE_TOLERANCE = 1e-4;

if (!CHROMIUM) console.log("[bench-webgpu.test] skipped: no Chromium at /usr/bin/chromium or /usr/lib/chromium/chromium (apt-get install chromium)");

describe.skipIf(!CHROMIUM)("kiln bench webgpu in Chromium", () => {
  test("kiln, tfjs-webgpu and jax-js webgpu each time a GEMM and a DiT step, and each peer's output is kiln's within f32 rounding", async () => {
    const report = await benchWebGpu({
      options: { gemms: [{ m: 48, k: 40, n: 24 }], dit: { config: MINI_DIT, batch: 2, note: "test" }, warmup: 0, iters: 2 },
      log: () => {},
    });
    console.log(`[bench-webgpu.test]\n${formatWebGpuReport(report)}`);
    expect(report.adapter).not.toBe("no adapter");
    expect(report.contenders.filter((c) => c.skipped)).toEqual([]);
    expect(report.rows.map((r) => r.kind)).toEqual(["gemm", "dit_step"]);
    for (const row of report.rows) {
      for (const name of CONTENDERS) {
        const figure = row.figures[name];
        if (isSkippedFigure(figure)) throw new Error(`${row.name}: ${name} was skipped: ${figure.skipped}`);
        expect(figure.ms, `${row.name} ${name}`).toBeGreaterThan(0);
        expect(figure.samplesMs).toHaveLength(2);
        if (name === "kiln") continue;
        expect(figure.maxAbsDiff, `${row.name}: ${name} against kiln`).toBeLessThanOrEqual(RELATIVE_TOLERANCE * Math.max(1, row.outputScale!));
      }
    }
  }, 180_000);
});

describe("kiln bench webgpu's report", () => {
  test("the default rows are 512³, the DiT's ff.0 at batch 2, and the embedded default's DiT step at guidance batch 2", () => {
    const options = defaultBenchOptions(true);
    const dit = embeddedDefaultDit();
    expect(options.gemms[0]).toMatchObject({ m: 512, k: 512, n: 512 });
    expect(options.gemms[1]).toMatchObject({ m: 2 * (dit.latentHeight * dit.latentWidth + dit.textTokens), k: dit.dim, n: dit.ffDim });
    expect(options.dit).toMatchObject({ batch: 2, config: dit });
  });

  test("every figure has its adapter beside it, SwiftShader is labelled a CPU emulation, and a peer that did not load is shown skipped with its reason", () => {
    const adapter = "google / swiftshader / Google SwiftShader";
    const report: WebGpuReport = {
      browser: "HeadlessChrome/1.0",
      adapter,
      emulated: true,
      contenders: [
        { name: "kiln", describe: "kiln", adapter },
        { name: "tfjs-webgpu", describe: "tfjs", adapter },
        { name: "jaxjs-webgpu", describe: "", adapter: null, skipped: "init('webgpu') failed" },
      ],
      rows: [
        {
          name: "gemm 8×8×8 f32",
          kind: "gemm",
          flops: 1024,
          outputScale: 3,
          figures: {
            kiln: { ms: 1, samplesMs: [1], gflops: 0.001, maxAbsDiff: null },
            "tfjs-webgpu": { ms: 4, samplesMs: [4], gflops: 0.0003, maxAbsDiff: 1e-6 },
            "jaxjs-webgpu": { skipped: "did not load" },
          },
        },
      ],
      timing: { warmup: 1, iters: 1 },
    };
    const text = formatWebGpuReport(report);
    expect(text).toMatch(/adapter: google \/ swiftshader .*CPU emulation \(SwiftShader\)/);
    expect(text).toMatch(/jaxjs-webgpu\s+skipped: init\('webgpu'\) failed/);
    const rowLines = text.split("\n").filter((l) => /\b(kiln|tfjs-webgpu|jaxjs-webgpu)\s+(SwiftShader|-)/.test(l));
    expect(rowLines).toHaveLength(3);
    for (const line of rowLines.slice(0, 2)) expect(line).toContain("SwiftShader: CPU emulation");
    expect(rowLines[1]).toMatch(/4\.00\s+0\.0\s+0\.25\s+1\.0e-6/);
  });
});
