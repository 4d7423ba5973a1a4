// `kiln data pokemon`: builds the gen-1 Pokémon training set (images + metadata.csv) from registry packages.
import type { Command } from "../command.ts";
import { parseArgs } from "../command.ts";
import { buildPokemonDataset, stderrProgress } from "../../models/data/pokemon.ts";

const usage = `usage: kiln data pokemon [--out DIR] [--size 256] [--ids 1,4,7] [--force]

  Writes DIR/images/<nnn>-<name>.png (white background, RGB, size×size) and DIR/metadata.csv
  (columns image,prompt) for Bulbasaur (1) … Mew (151). An existing complete data set is kept
  unless --force. Default DIR: data/pokemon-gen1.`;

function parseIds(text: string): number[] {
  return text.split(",").map((part) => {
    const num = Number(part.trim());
    if (!Number.isInteger(num)) throw new Error(`kiln data: --ids expects comma-separated dex numbers, found '${part}'`);
    return num;
  });
}

const command: Command = {
  summary: "build the gen-1 Pokémon data set (images + metadata.csv)",
  usage,
  async run(argv) {
    const { flags, positional } = parseArgs(argv, ["force", "help"]);
    if (flags.has("help") || positional[0] !== "pokemon") {
      (flags.has("help") ? console.log : console.error)(usage);
      return flags.has("help") ? 0 : 2;
    }
    const dir = flags.get("out") ?? "data/pokemon-gen1";
    const size = Number(flags.get("size") ?? "256");
    if (!Number.isInteger(size) || size < 8) {
      console.error(`kiln data: --size expects an integer >= 8, found '${flags.get("size")}'`);
      return 2;
    }
    const ids = flags.has("ids") ? parseIds(flags.get("ids")!) : undefined;
    const started = performance.now();
    const result = await buildPokemonDataset(dir, { size, ids, force: flags.has("force"), onProgress: stderrProgress("pokemon") });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const what = result.rendered === 0 ? "already complete" : `rendered ${result.rendered} images`;
    console.log(`${result.metadataPath}: ${result.count} rows at ${size}×${size}, ${what} (${seconds} s)`);
    return 0;
  },
};

export default command;
