// Property: `kiln train --device cuda` runs the whole training path (encoders, the compiled step with
// donated state, CUDA graph replay) through the CUDA backend; with KILN_CUDA_EMULATE=1 the generated
// kernels run in the GPU emulator, and the first step's loss equals the CPU backend's.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { ditConfig } from "../models/dit.ts";
import { CONFIGS, type ModelConfig } from "../models/config.ts";
import { train } from "../models/train.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

const config: ModelConfig = {
  ...CONFIGS.tiny!,
  name: "test-cuda",
  dit: ditConfig({ dim: 32, depth: 1, heads: 2, latentChannels: 48, textDim: 32, posGrid: 8 }),
  text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
  vae: { kind: "pixel", config: { patchSize: 4 } },
  height: 32,
  width: 32,
  batch: 2,
};

test("training on the (emulated) CUDA device gives the CPU's first-step loss", async () => {
  const data = mkdtempSync(path.join(tmpdir(), "kiln-cuda-data-"));
  await writeShapesDataset(data, 32, 4);
  const cpu = await train({ config, data, out: mkdtempSync(path.join(tmpdir(), "kiln-cuda-cpu-")), steps: 2, quiet: true });
  process.env.KILN_CUDA_EMULATE = "1";
  const gpu = await train({ config, data, out: mkdtempSync(path.join(tmpdir(), "kiln-cuda-gpu-")), steps: 2, quiet: true, device: "cuda" });
  expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!) / cpu.losses[0]!).toBeLessThan(1e-4);
  expect(gpu.losses.every(Number.isFinite)).toBe(true);
  expect(gpu.stoppedBy).toBe("steps");
}, 300_000);
