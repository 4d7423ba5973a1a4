// `kiln sample "PROMPT"`: generate an image with a trained (or freshly initialised) model.

import {
  checkpointConfig,
  modelParts,
  fromRgbBytes,
  Sampler,
  savePng,
  loadWeights,
  WEIGHTS_KINDS,
  type WeightsKind,
  loadImageRgb,
  describeReading,
} from "../../models/index.ts";
import { deviceNamed, requireRegularFile } from "../../runtime/index.ts";
import type { Command } from "../command.ts";
import { parseFlags, SEED_FLAG, usageError, type FlagSpecs } from "../flags.ts";
import { requireWritablePng } from "../output.ts";
import { deviceFlag, deviceHelp, deviceUsage } from "../device-flag.ts";

export const SAMPLE_FLAGS = {
  config: { kind: "text" },
  checkpoint: { kind: "text" },
  weights: { kind: "choice", values: WEIGHTS_KINDS },
  "text-encoder": { kind: "text" },
  vae: { kind: "text" },
  seed: SEED_FLAG,
  steps: { kind: "int", min: 1, max: 1000 },
  cfg: { kind: "number", min: 0 },
  negative: { kind: "text", empty: true },
  image: { kind: "text" },
  strength: { kind: "number", above: 0, max: 1 },
  width: { kind: "int", min: 16, max: 4096 },
  height: { kind: "int", min: 16, max: 4096 },
  out: { kind: "text" },
  "random-init": { kind: "switch" },
  device: { kind: "text" },
} as const satisfies FlagSpecs;

const command: Command = {
  summary: "generate an image from a prompt (classifier-free guidance, image-to-image, seeds)",
  usage: `kiln sample "PROMPT" [--config tiny|aaa-0.1b] [--checkpoint F|RUN_DIR [--weights ema|raw]] [--text-encoder DIR] [--vae FILE] [--seed N] [--steps N] [--cfg X] [--negative P] [--image F --strength X] [--width W --height H] [--out F.png] [--random-init] ${deviceUsage()}\n\ndevices:\n${deviceHelp()}`,
  async run(argv) {
    const { flags, positional } = parseFlags("sample", argv, SAMPLE_FLAGS, { min: 1, name: "prompt" });
    const prompt = positional.join(" ");
    if (!prompt.trim()) throw usageError(`the prompt is empty: ${command.usage}`);
    if (flags.strength !== undefined && flags.image === undefined)
      throw usageError(`--strength applies to image-to-image only: give --image F as well`);
    const device = deviceFlag(flags.device);
    const out = flags.out ?? "sample.png";
    requireWritablePng("--out", out);
    if (flags.image !== undefined) requireRegularFile(flags.image, "--image");
    const config = checkpointConfig(flags.config, flags.checkpoint);
    const height = flags.height ?? config.height;
    const width = flags.width ?? config.width;
    if (height % 16 !== 0 || width % 16 !== 0)
      throw usageError(`--width ${width} --height ${height}: height and width must be positive multiples of 16`);
    const parts = modelParts(config, height, width);
    const weights = loadWeights(parts, {
      ...(flags.checkpoint !== undefined ? { checkpoint: flags.checkpoint } : {}),
      ...(flags.weights !== undefined ? { weights: flags.weights as WeightsKind } : {}),
      ...(flags["text-encoder"] !== undefined ? { textEncoderDir: flags["text-encoder"] } : {}),
      ...(flags.vae !== undefined ? { vaeFile: flags.vae } : {}),
      randomInit: flags["random-init"],
    });
    let image: Float32Array | undefined;
    if (flags.image !== undefined) {
      const file = flags.image;
      const rgb = await loadImageRgb(file, height, width).catch((error: unknown) => {
        throw new Error(`--image ${file}: not an image kiln can read (${(error as Error).message})`);
      });
      image = fromRgbBytes(rgb.pixels, height, width);
    }
    // WebGPU requests its adapter asynchronously, before any step is compiled on it.
    await deviceNamed(device).open?.();
    const sampler = new Sampler(parts, weights, device);
    for (const [which, text] of [
      ["prompt", prompt],
      ["negative prompt", flags.negative ?? ""],
    ] as const) {
      const note = describeReading(sampler.reading(text));
      if (note) process.stderr.write(`kiln sample: ${which}: ${note}\n`);
    }
    const cfg = flags.cfg ?? 1;
    const started = performance.now();
    // sampleAsync runs on every device (WebGPU reads its results back asynchronously); on the CPU it is sample()'s work.
    const rgb = await sampler.sampleAsync({
      prompt,
      negative: flags.negative ?? "",
      cfg,
      steps: flags.steps ?? 30,
      seed: flags.seed ?? 0,
      ...(image ? { image, strength: flags.strength ?? 0.7 } : {}),
    });
    await savePng(out, rgb, height, width);
    sampler.dispose();
    const from = weights.source ? `, ${weights.source.kind} weights of ${weights.source.file}` : "";
    const guidance =
      cfg === 1
        ? ""
        : `, guidance ${cfg}${config.guidanceMinSigma ? ` on the steps above σ ${config.guidanceMinSigma} (config guidanceMinSigma)` : ""}`;
    console.log(`${out} (${width}×${height}${from}${guidance}, ${((performance.now() - started) / 1000).toFixed(2)} s including compilation)`);
  },
};

export default command;
