// The seed's recipe through the commands users run: `kiln train` with the reference configuration at
// its default batch (1), resumed, then `kiln sample` (with and without an input image) and `kiln eval`,
// on weight files shaped exactly like the real downloads (Qwen3 with lm_head and a config.json, the
// FLUX.2 VAE with its int64 BatchNorm counter, bf16) at reduced widths, so it runs in seconds.
// KILN_FULL_RECIPE=1 also runs it at the real sizes (Qwen3-0.6B, the 84M-parameter VAE, AAADiT 0.1B).

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, test } from "vitest";
import { CONFIGS } from "../models/config.ts";
import { checkpointPaths } from "../models/checkpoint.ts";
import { openSafetensors } from "../runtime/safetensors.ts";
import { QWEN3_0_6B, type Qwen3Config } from "../models/text/qwen3.ts";
import { FLUX2_VAE, type Flux2VaeConfig } from "../models/vae/flux2.ts";
import { ditParamSpec, type DitConfig } from "../models/dit.ts";
import { kiln, kilnOk as kilnCommand } from "./helpers/cli.ts";
import { writeFlux2VaeFile, writeQwen3Folder } from "./helpers/reference-files.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";

interface Recipe {
  name: string;
  qwen3: Qwen3Config;
  vae: Flux2VaeConfig;
  dit: DitConfig;
  size: number;
}

const REDUCED: Recipe = {
  name: "aaa-reduced",
  qwen3: { ...QWEN3_0_6B, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16, intermediateSize: 64 },
  vae: { blockOutChannels: [8, 8, 16, 16], layersPerBlock: 1, normGroups: 4, latentChannels: 4 },
  dit: { dim: 32, depth: 2, heads: 2, latentChannels: 16, textDim: 32, ffDim: 96, posGrid: 4 },
  size: 64,
};
const FULL: Recipe = { name: "aaa-0.1b", qwen3: QWEN3_0_6B, vae: FLUX2_VAE, dit: CONFIGS["aaa-0.1b"]!.dit, size: 256 };

async function recipeFolder(
  recipe: Recipe,
  images: number,
): Promise<{ root: string; config: string; textEncoder: string; vae: string; data: string }> {
  const root = mkdtempSync(path.join(tmpdir(), `kiln-recipe-${recipe.name}-`));
  const textEncoder = path.join(root, "Qwen3-0.6B");
  writeQwen3Folder(textEncoder, recipe.qwen3);
  const vae = path.join(root, "vae", "diffusion_pytorch_model.safetensors");
  mkdirSync(path.dirname(vae));
  writeFlux2VaeFile(vae, recipe.vae);
  // The reference configuration, except for the widths (a JSON config over "aaa-0.1b"; batch 1 stays its default).
  const config = path.join(root, `${recipe.name}.json`);
  const json =
    recipe === FULL
      ? { base: "aaa-0.1b" }
      : {
          base: "aaa-0.1b",
          name: recipe.name,
          dit: recipe.dit,
          text: { kind: "qwen3", config: recipe.qwen3 },
          vae: { kind: "flux2", config: recipe.vae },
          height: recipe.size,
          width: recipe.size,
        };
  writeFileSync(config, JSON.stringify(json));
  const data = path.join(root, "data");
  await writeShapesDataset(data, recipe.size, images);
  return { root, config, textEncoder, vae, data };
}

function runRecipe(recipe: Recipe, files: Awaited<ReturnType<typeof recipeFolder>>): void {
  // At full size a command compiles and runs Qwen3-0.6B, the FLUX.2 VAE and AAADiT 0.1B on the CPU: minutes each.
  const kilnOk = (args: readonly string[]) => kilnCommand(args, { timeoutMs: recipe === FULL ? 3_600_000 : 300_000 });
  const weights = ["--config", files.config, "--text-encoder", files.textEncoder, "--vae", files.vae];
  const run = path.join(files.root, "run");
  const first = kilnOk(["train", ...weights, "--data", files.data, "--steps", "2", "--out", run]);
  expect(first.stderr).toMatch(/batch 1,/);
  expect(JSON.parse(first.stdout.trim().split("\n").at(-1)!)).toMatchObject({ steps: 2, stoppedBy: "steps" });
  // The checkpoint holds exactly the AAADiT keys of this configuration.
  const dit = openSafetensors(checkpointPaths(run, 2).dit);
  expect(dit.tensors.map((t) => t.name).sort()).toEqual(
    ditParamSpec(recipe.dit)
      .map((s) => s.name)
      .sort(),
  );
  dit.close();

  const resumed = kilnOk(["train", ...weights, "--data", files.data, "--steps", "3", "--out", run, "--resume"]);
  expect(resumed.stderr).toMatch(/resuming from step 2/);
  expect(JSON.parse(resumed.stdout.trim().split("\n").at(-1)!)).toMatchObject({ steps: 3 });
  const log = readFileSync(path.join(run, "train-log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { step: number; loss: number });
  expect(log.map((l) => l.step)).toEqual([1, 2, 3]);
  expect(log.every((l) => Number.isFinite(l.loss))).toBe(true);

  const sample = path.join(files.root, "sample.png");
  kilnOk(["sample", "a red square", ...weights, "--checkpoint", run, "--steps", "2", "--cfg", "2", "--out", sample]);
  const edited = path.join(files.root, "edited.png");
  kilnOk([
    "sample",
    "a blue circle",
    ...weights,
    "--checkpoint",
    run,
    "--steps",
    "2",
    "--image",
    path.join(files.data, "images", "0.png"),
    "--strength",
    "0.5",
    "--out",
    edited,
  ]);

  const evaluated = kilnOk(["eval", ...weights, "--checkpoint", run, "--data", files.data, "--steps", "2", "--json"]);
  const result = JSON.parse(evaluated.stdout.trim().split("\n").at(-1)!) as { n: number; recall_at_1: number };
  expect(result.n).toBe(3);
  expect(result.recall_at_1).toBeGreaterThanOrEqual(0);
}

describe("the reference recipe through the CLI (reduced widths, real layouts)", () => {
  let files: Awaited<ReturnType<typeof recipeFolder>>;
  beforeAll(async () => void (files = await recipeFolder(REDUCED, 3)), 120_000);

  test("train at the default batch 1, resume, sample, image-to-image and eval all run", async () => {
    runRecipe(REDUCED, files);
    for (const png of ["sample.png", "edited.png"]) {
      const meta = await sharp(path.join(files.root, png)).metadata();
      expect([meta.width, meta.height]).toEqual([REDUCED.size, REDUCED.size]);
    }
    const a = await sharp(path.join(files.root, "sample.png")).raw().toBuffer();
    const b = await sharp(path.join(files.root, "edited.png")).raw().toBuffer();
    expect(a.equals(b)).toBe(false);
  }, 600_000);

  test("--vae refuses a file whose keys are not the FLUX.2 VAE's, naming the file and keys", () => {
    const wrong = path.join(files.root, "not-a-vae.safetensors");
    writeFlux2VaeFile(wrong, { ...REDUCED.vae, layersPerBlock: 2 });
    const result = kiln([
      "sample",
      "x",
      "--config",
      files.config,
      "--text-encoder",
      files.textEncoder,
      "--vae",
      wrong,
      "--random-init",
      "--steps",
      "1",
      "--out",
      path.join(files.root, "x.png"),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/not-a-vae\.safetensors.*unexpected key\(s\)/s);
  }, 120_000);

  test("--text-encoder refuses a folder whose config.json differs from the model's text encoder", () => {
    const other = path.join(files.root, "other-qwen3");
    writeQwen3Folder(other, { ...REDUCED.qwen3, numHiddenLayers: 3 });
    const result = kiln([
      "sample",
      "x",
      "--config",
      files.config,
      "--text-encoder",
      other,
      "--vae",
      files.vae,
      "--random-init",
      "--steps",
      "1",
      "--out",
      path.join(files.root, "y.png"),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/config\.json does not match the model's text encoder: num_hidden_layers is 3, expected 2/);
  }, 120_000);
});

describe.runIf(process.env.KILN_FULL_RECIPE === "1")("the reference recipe at full size (KILN_FULL_RECIPE=1)", () => {
  test("train at batch 1, resume, sample, image-to-image and eval with Qwen3-0.6B, the FLUX.2 VAE and AAADiT 0.1B", async () => {
    runRecipe(FULL, await recipeFolder(FULL, 3));
  }, 3_600_000);
});
