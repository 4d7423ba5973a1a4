// `kiln data pokemon`: builds the gen-1 Pokémon training set (images + metadata.csv) from registry packages.
import type { Command } from "../command.ts";
import { parseFlags, usageError, type FlagSpecs } from "../flags.ts";
import { buildPokemonDataset, stderrProgress } from "../../models/index.ts";

const usage = `usage: kiln data pokemon [--out DIR] [--size 256] [--ids 1,4,7] [--force]

  Writes DIR/images/<nnn>-<name>.png (white background, RGB, size×size) and DIR/metadata.csv
  (columns image,prompt) for Bulbasaur (1) … Mew (151). An existing complete data set is kept
  unless --force. Default DIR: data/pokemon-gen1.`;

const FLAGS = {
  out: { kind: "text" },
  size: { kind: "int", min: 8, max: 4096 },
  ids: { kind: "text" },
  force: { kind: "switch" },
} as const satisfies FlagSpecs;

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
    const { flags, positional } = parseFlags("data", argv, FLAGS, { min: 1, max: 1, name: "data set name (pokemon)" });
    if (positional[0] !== "pokemon") throw usageError(`unknown data set '${positional[0]}' (only 'pokemon' is built here)\n${usage}`);
    const dir = flags.out ?? "data/pokemon-gen1";
    const size = flags.size ?? 256;
    const ids = flags.ids !== undefined ? parseIds(flags.ids) : undefined;
    const started = performance.now();
    const result = await buildPokemonDataset(dir, { size, ids, force: flags.force, onProgress: stderrProgress("pokemon") });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const what = result.rendered === 0 ? "already complete" : `rendered ${result.rendered} images`;
    console.log(`${result.metadataPath}: ${result.count} rows at ${size}×${size}, ${what} (${seconds} s)`);
    return 0;
  },
};

export default command;
