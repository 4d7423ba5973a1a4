// Property: `kiln train --device cuda` runs the whole training path (encoders, the compiled step with
// donated state, CUDA graph replay) through the CUDA backend; with KILN_CUDA_EMULATE=1 the generated
// kernels run in the GPU emulator, and the first step's loss equals the CPU backend's, as do the
// moving average of the weights after two steps (written in place beside the weights: it once
// applied the update twice, the emulator's average off by ~4e-4).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { ditConfig } from "../models/dit.ts";
import { CONFIGS, type ModelConfig } from "../models/config.ts";
import { train } from "../models/train.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";
import { openSafetensors } from "../runtime/index.ts";

const config: ModelConfig = {
  ...CONFIGS.tiny!,
  name: "test-cuda",
  dit: ditConfig({ dim: 32, depth: 1, heads: 2, latentChannels: 48, textDim: 32, posGrid: 8 }),
  text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
  vae: { kind: "pixel", config: { patchSize: 4 } },
  height: 32,
  width: 32,
  batch: 2,
  ema: 0.5,
};

test("training on the (emulated) CUDA device gives the CPU's first-step loss and moving average", async () => {
  const data = mkdtempSync(path.join(tmpdir(), "kiln-cuda-data-"));
  await writeShapesDataset(data, 32, 4);
  const cpu = await train({ config, data, out: mkdtempSync(path.join(tmpdir(), "kiln-cuda-cpu-")), steps: 2, quiet: true });
  process.env.KILN_CUDA_EMULATE = "1";
  const gpu = await train({ config, data, out: mkdtempSync(path.join(tmpdir(), "kiln-cuda-gpu-")), steps: 2, quiet: true, device: "cuda" });
  expect(Math.abs(gpu.losses[0]! - cpu.losses[0]!) / cpu.losses[0]!).toBeLessThan(1e-4);
  expect(gpu.losses.every(Number.isFinite)).toBe(true);
  expect(gpu.stoppedBy).toBe("steps");
  const ema = (checkpoint: string): Map<string, Float32Array> => {
    const file = openSafetensors(checkpoint.replace(/\.safetensors$/, ".train.safetensors"));
    const tensors = new Map(file.tensors.map((t) => [t.name, file.readFloat32(t.name)]));
    file.close();
    return tensors;
  };
  const [want, got] = [ema(cpu.checkpoint), ema(gpu.checkpoint)];
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  // Adam's steps are sign-like where a gradient is near 0, so a weight may differ from the CPU's by up
  // to the rate; the average is a convex mix of the weights' history, so on average it differs less
  // than the weights do. Applying the update twice inside it made every element differ by ~(1 − d)·rate.
  const meanDiff = (group: string): number => {
    let sum = 0;
    let count = 0;
    for (const [name, w] of want) {
      if (!name.startsWith(`${group}/`)) continue;
      const g = got.get(name)!;
      for (let i = 0; i < w.length; i++) sum += Math.abs(g[i]! - w[i]!);
      count += w.length;
    }
    return sum / count;
  };
  expect(meanDiff("ema")).toBeLessThanOrEqual(meanDiff("params"));
}, 300_000);
