// Property: a data folder laid out as the tutorial's download (`images/` + `metadata_merged.csv`,
// spec §7) trains, resumes and evaluates through `kiln train` / `kiln eval` run as a user runs them,
// named by --data DIR or by --metadata FILE --images DIR, with an extra column ignored and a bad row
// reported and skipped. A small model is given as a --config FILE.json so the compiles stay short;
// the data handling is the same for every configuration.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import evalCommand from "../bin/commands/eval.ts";
import trainCommand from "../bin/commands/train.ts";
import { CONFIGS, type ModelConfig } from "../models/config.ts";
import { formatCsv } from "../models/data/csv.ts";
import { readEncoded } from "../models/data/encoded-cache.ts";
import { buildPokemonDataset, pokemonImageName, pokemonPrompt } from "../models/data/pokemon.ts";
import { ditConfig } from "../models/dit.ts";
import { kilnOk } from "./helpers/cli.ts";

const SIZE = 32;
const IDS = [1, 4, 7, 25];
/** A prompt the CSV must carry intact: a comma, doubled quotes and a line break inside quotes. */
const QUOTED_PROMPT = 'yellow, mouse, Electric, says "pika",\nred cheeks, Pikachu';

let root = "";
let data = "";
let configFile = "";

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "kiln-reference-folder-"));
  // The Pokémon set, then moved under the reference's names: images/ and metadata_merged.csv.
  const built = path.join(root, "built");
  await buildPokemonDataset(built, { size: SIZE, ids: IDS });
  data = path.join(root, "pokemon-gen1");
  mkdirSync(data);
  renameSync(path.join(built, "images"), path.join(data, "images"));
  const rows = [
    ["image", "prompt", "dex"],
    ...IDS.map((num) => [pokemonImageName(num), num === 25 ? QUOTED_PROMPT : pokemonPrompt(num), String(num)]),
    [pokemonImageName(1), "", "bad row: no prompt"],
  ];
  writeFileSync(path.join(data, "metadata_merged.csv"), formatCsv(rows));
  const config: ModelConfig = {
    ...CONFIGS.tiny!,
    name: "reference-folder",
    dit: ditConfig({ dim: 32, depth: 1, heads: 2, latentChannels: 48, textDim: 32, posGrid: 8 }),
    text: { kind: "tiny", config: { tableSize: 256, dim: 32, layers: 1, heads: 2, ffDim: 64, maxLength: 16 } },
    vae: { kind: "pixel", config: { patchSize: 4 } },
    height: SIZE,
    width: SIZE,
  };
  configFile = path.join(root, "config.json");
  writeFileSync(configFile, JSON.stringify(config));
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the tutorial's data folder", () => {
  test("trains with --data DIR, resumes with --metadata FILE --images DIR, and evaluates", () => {
    const run = path.join(root, "run");
    const metadata = path.join(data, "metadata_merged.csv");
    const lastLine = (stdout: string): unknown => JSON.parse(stdout.trim().split("\n").at(-1)!);
    const first = kilnOk(["train", "--config", configFile, "--data", data, "--steps", "2", "--batch", "2", "--save-steps", "1", "--out", run]);
    expect(lastLine(first.stdout)).toMatchObject({ steps: 2, stoppedBy: "steps" });
    // The bad row is reported with its file, row number and what is missing; the extra column is not.
    expect(first.stderr).toContain(`skipped: ${metadata}: row 4 (line 7): expected a non-empty prompt in 'prompt', found an empty cell`);
    expect(first.stderr.match(/skipped:/g)).toHaveLength(1);
    // Every good row was encoded, the quoted prompt intact, beside the data.
    const cacheDir = path.join(data, ".kiln-cache");
    const [entry] = readdirSync(cacheDir);
    const encoded = readEncoded([cacheDir], entry!.replace(/^encoded-|\.safetensors$/g, ""));
    expect(encoded?.prompts).toEqual(IDS.map((num) => (num === 25 ? QUOTED_PROMPT : pokemonPrompt(num))));
    expect(encoded?.files).toEqual(IDS.map((num) => path.join(data, "images", pokemonImageName(num))));

    const resumed = kilnOk([
      "train",
      "--config",
      configFile,
      "--metadata",
      metadata,
      "--images",
      path.join(data, "images"),
      "--steps",
      "3",
      "--batch",
      "2",
      "--out",
      run,
      "--resume",
    ]);
    expect(lastLine(resumed.stdout)).toMatchObject({ steps: 3, checkpoint: path.join(run, "step-3.safetensors") });
    expect(resumed.stderr).toContain("resuming from step 2");
    // Naming the same files the other way finds the same encodings.
    expect(resumed.stderr).toContain(`encoded data from the cache (${IDS.length} images)`);
    expect(readdirSync(cacheDir)).toEqual([entry]);
    const log = readFileSync(path.join(run, "train-log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { step: number }).step);
    expect(log).toEqual([1, 2, 3]);

    const evaluated = kilnOk(["eval", "--checkpoint", run, "--config", configFile, "--data", data, "--limit", "2", "--steps", "2", "--json"]);
    const result = lastLine(evaluated.stdout) as { n: number; recall_at_1: number; mean_distance: number };
    expect(result.n).toBe(2);
    expect(Number.isFinite(result.mean_distance)).toBe(true);
    expect(evaluated.stderr).toContain(`${metadata}: row 4 (line 7)`);

    // Without --config, eval and a resumed run read the configuration the run saved (not tiny's).
    const ownConfig = kilnOk(["eval", "--checkpoint", run, "--data", data, "--limit", "2", "--steps", "2", "--json"]);
    expect(lastLine(ownConfig.stdout)).toEqual(result);
    const continued = kilnOk(["train", "--data", data, "--steps", "4", "--batch", "2", "--out", run, "--resume"]);
    expect(lastLine(continued.stdout)).toMatchObject({ steps: 4, checkpoint: path.join(run, "step-4.safetensors") });
    expect(continued.stderr).toContain("kiln train: reference-folder,");
  }, 300_000);

  // The commands' own checks, run in this process (a child process per case would only add start-up time).
  test("a folder with several metadata files is refused with the list; a bad --limit or data folder is refused before any work", async () => {
    const crowded = path.join(root, "crowded");
    mkdirSync(crowded);
    writeFileSync(path.join(crowded, "metadata.csv"), "image,prompt\n");
    writeFileSync(path.join(crowded, "metadata_merged.csv"), "image,prompt\n");
    await expect(trainCommand.run(["--config", configFile, "--data", crowded, "--steps", "1", "--out", path.join(root, "unused")])).rejects.toThrow(
      /several metadata files \(metadata\.csv, metadata_merged\.csv\).*--metadata/,
    );
    await expect(
      evalCommand.run(["--checkpoint", path.join(root, "no-run"), "--config", configFile, "--data", crowded, "--limit", "0"]),
    ).rejects.toThrow(/^--limit "0": expected an integer ≥ 1$/);
    // The data folder is checked before the checkpoint is read (here it does not exist) and the sampler compiled.
    await expect(evalCommand.run(["--checkpoint", path.join(root, "no-run"), "--config", configFile, "--data", crowded])).rejects.toThrow(
      /several metadata files/,
    );
  });
});
