// `npm start` / `kiln start`: the embedded default end to end on the CPU — build the Pokémon data
// set if missing, train the tiny configuration from scratch, sample the seed's prompts (with the moving
// average of the weights when the run kept one), evaluate.

import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  CONFIGS,
  modelParts,
  ensurePokemonDataset,
  train,
  Sampler,
  saveGrid,
  savePng,
  loadWeights,
  describeEval,
  evaluate,
  SEED_PROMPTS,
  planTraining,
  describeReading,
} from "../../models/index.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagSpecs } from "../flags.ts";

const FLAGS = {
  minutes: { kind: "number", above: 0 },
  out: { kind: "text" },
  data: { kind: "text" },
  cfg: { kind: "number", min: 0 },
  "no-eval": { kind: "switch" },
  overwrite: { kind: "switch" },
} as const satisfies FlagSpecs;

const command: Command = {
  summary: "the embedded default: build the data set, train the tiny model on the CPU, sample, evaluate",
  usage: "kiln start [--minutes M] [--out DIR] [--overwrite] [--data DIR] [--cfg X] [--no-eval]",
  async run(argv) {
    const { flags } = parseFlags("start", argv, FLAGS);
    const started = performance.now();
    const config = CONFIGS.tiny!;
    // 11 minutes of steps: with the data set, the VAE's fit (its refinement: about 50 s), compiling, the
    // samples and the evaluation, npm start stays under 15 minutes on 2 cores (12.3 on the development machine).
    const minutes = flags.minutes ?? 11;
    const out = flags.out ?? "runs/start";
    const data = flags.data ?? `data/pokemon-${config.height}`;
    const cfg = flags.cfg ?? 4;
    const trainOptions = { config, data, out, minutes, overwrite: flags.overwrite };
    // An earlier run in the same folder is refused (or, with --overwrite, replaced) before any work.
    planTraining(trainOptions);
    console.log(`kiln start: the tiny text-to-image model (${config.width}×${config.height}), trained from scratch for ${minutes} min on the CPU`);
    await ensurePokemonDataset(data, config.height);
    const result = await train(trainOptions);
    const parts = modelParts(config);
    const weights = loadWeights(parts, { checkpoint: result.checkpoint });
    const sampler = new Sampler(parts, weights);
    console.log(
      `sampling with the ${weights.source?.kind === "ema" ? "moving average of the weights" : "weights as trained"} (${weights.source?.file ?? result.checkpoint}), guidance ${cfg}`,
    );
    for (const prompt of new Set(SEED_PROMPTS.map((p) => p.prompt))) {
      const note = describeReading(sampler.reading(prompt));
      if (note) console.log(`  "${prompt}": ${note}`);
    }
    const images = sampler.sampleMany(SEED_PROMPTS.map((p) => ({ prompt: p.prompt, seed: p.seed, negative: " ", cfg, steps: 30 })));
    for (const [i, p] of SEED_PROMPTS.entries()) await savePng(path.join(out, p.file), images[i]!, sampler.height, sampler.width);
    await saveGrid(path.join(out, "grid.png"), images, sampler.height, sampler.width, 3);
    const summary: Record<string, unknown> = {
      steps: result.steps,
      finalLoss: result.losses.at(-1),
      imagesPerSecond: Number(result.imagesPerSecond.toFixed(2)),
      checkpoint: result.checkpoint,
      weights: weights.source?.kind ?? "raw",
      sampledFrom: weights.source?.file ?? result.checkpoint,
    };
    if (!flags["no-eval"]) {
      const evaluation = await evaluate(sampler, {
        data,
        steps: 30,
        cfg,
        grid: path.join(out, "eval-grid.png"),
        familyGrid: path.join(out, "starter-grid.png"),
      });
      summary.eval = evaluation;
      for (const line of describeEval(evaluation)) console.log(line);
    }
    sampler.dispose();
    summary.minutes = Number(((performance.now() - started) / 60000).toFixed(2));
    writeFileSync(path.join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    console.log(`\nwrote to ${out}/:`);
    console.log(`  ${SEED_PROMPTS.map((p) => p.file).join(", ")}`);
    console.log(`  grid.png (the six samples), eval-grid.png, starter-grid.png (a row per starter prompt), loss.png, train-log.jsonl, summary.json`);
    console.log(
      `  ${path.basename(result.checkpoint)} (DiT, reference keys) with its text encoder, its moving average (.ema.) and training state beside it`,
    );
    console.log(`total ${((performance.now() - started) / 60000).toFixed(1)} min`);
  },
};

export default command;
