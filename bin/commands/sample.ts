// `kiln sample "PROMPT"`: generate an image with a trained (or freshly initialised) model.

import { loadConfig, modelParts } from "../../models/config.ts";
import { fromRgbBytes, Sampler, savePng } from "../../models/pipeline.ts";
import { loadWeights } from "../../models/weights.ts";
import { loadImageRgb } from "../../models/data/load-image.ts";
import { parseArgs, type Command } from "../command.ts";
import { deviceFlag, deviceHelp, deviceUsage } from "../device-flag.ts";

const command: Command = {
  summary: "generate an image from a prompt (classifier-free guidance, image-to-image, seeds)",
  usage: `kiln sample "PROMPT" [--config tiny|aaa-0.1b] [--checkpoint F|RUN_DIR] [--text-encoder DIR] [--vae FILE] [--seed N] [--steps N] [--cfg X] [--negative P] [--image F --strength X] [--width W --height H] [--out F.png] [--random-init] ${deviceUsage()}\n\ndevices:\n${deviceHelp()}`,
  async run(argv) {
    const { flags, positional } = parseArgs(argv, ["random-init"]);
    const prompt = positional.join(" ");
    if (!prompt) throw new Error(`a prompt is required: ${command.usage}`);
    const config = loadConfig(flags.get("config") ?? "tiny");
    const height = Number(flags.get("height") ?? config.height);
    const width = Number(flags.get("width") ?? config.width);
    if (!Number.isInteger(height) || !Number.isInteger(width) || height % 16 !== 0 || width % 16 !== 0)
      throw new Error(`--width ${width} --height ${height}: height and width must be positive multiples of 16`);
    const parts = modelParts(config, height, width);
    const weights = loadWeights(parts, {
      ...(flags.has("checkpoint") ? { checkpoint: flags.get("checkpoint")! } : {}),
      ...(flags.has("text-encoder") ? { textEncoderDir: flags.get("text-encoder")! } : {}),
      ...(flags.has("vae") ? { vaeFile: flags.get("vae")! } : {}),
      randomInit: flags.has("random-init"),
    });
    const device = deviceFlag(flags);
    const sampler = new Sampler(parts, weights, device);
    let image: Float32Array | undefined;
    if (flags.has("image")) {
      const rgb = await loadImageRgb(flags.get("image")!, height, width);
      image = fromRgbBytes(rgb.pixels, height, width);
    }
    const started = performance.now();
    const rgb = sampler.sample({
      prompt,
      negative: flags.get("negative") ?? "",
      cfg: Number(flags.get("cfg") ?? 1),
      steps: Number(flags.get("steps") ?? 30),
      seed: Number(flags.get("seed") ?? 0),
      ...(image ? { image, strength: Number(flags.get("strength") ?? 0.7) } : {}),
    });
    const out = flags.get("out") ?? "sample.png";
    await savePng(out, rgb, height, width);
    sampler.dispose();
    console.log(`${out} (${width}×${height}, ${((performance.now() - started) / 1000).toFixed(2)} s including compilation)`);
  },
};

export default command;
