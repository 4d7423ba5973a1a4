// The gen-1 Pokémon data set builder (models/data/pokemon.ts): a few species rendered into a temp
// folder (never the full set), and the prompts of all 151 checked against the pokédex data.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dex } from "@pkmn/sim";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseCsv } from "../models/data/csv.ts";
import {
  buildPokemonDataset,
  describePokemon,
  gen1Prompts,
  isPokemonDatasetComplete,
  marginFor,
  pokemonFacts,
  pokemonImageName,
} from "../models/data/pokemon.ts";
import { pokemonDescription } from "../models/data/pokemon-descriptions.ts";
import { sizeWord } from "../models/data/pokemon-prompts.ts";

let dir = "";
const SIZE = 64;
const IDS = [1, 4, 7];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-pokemon-"));
  await buildPokemonDataset(dir, { size: SIZE, ids: IDS });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("pokemon images", () => {
  test("each image is a size×size 8-bit RGB PNG without alpha", async () => {
    for (const num of IDS) {
      const meta = await sharp(join(dir, "images", pokemonImageName(num))).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels, meta.hasAlpha, meta.depth]).toEqual(["png", SIZE, SIZE, 3, false, "uchar"]);
    }
  });

  test("the background is white and the creature is centred inside the margin", async () => {
    for (const num of IDS) {
      const { data } = await sharp(join(dir, "images", pokemonImageName(num)))
        .raw()
        .toBuffer({ resolveWithObject: true });
      const isWhite = (x: number, y: number): boolean => [0, 1, 2].every((c) => data[(y * SIZE + x) * 3 + c] === 255);
      let [minX, minY, maxX, maxY] = [SIZE, SIZE, -1, -1];
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          if (isWhite(x, y)) continue;
          [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
        }
      }
      for (const [x, y] of [
        [0, 0],
        [SIZE - 1, 0],
        [0, SIZE - 1],
        [SIZE - 1, SIZE - 1],
      ] as const)
        expect(isWhite(x, y)).toBe(true);
      const margin = marginFor(SIZE);
      expect(maxX).toBeGreaterThan(minX);
      expect(Math.min(minX, minY)).toBeGreaterThanOrEqual(margin);
      expect(Math.max(maxX, maxY)).toBeLessThan(SIZE - margin);
      // Fitted: the longer side of the drawing spans (nearly) the whole inner square.
      expect(Math.max(maxX - minX, maxY - minY) + 1).toBeGreaterThanOrEqual(SIZE - 2 * margin - 2);
      expect(Math.abs((minX + maxX) / 2 - (SIZE - 1) / 2)).toBeLessThanOrEqual(2);
      expect(Math.abs((minY + maxY) / 2 - (SIZE - 1) / 2)).toBeLessThanOrEqual(2);
    }
  });
});

describe("pokemon metadata", () => {
  test("metadata.csv parses back to image,prompt rows naming the image files", async () => {
    const records = parseCsv(await readFile(join(dir, "metadata.csv"), "utf8")).map((r) => r.fields);
    expect(records[0]).toEqual(["image", "prompt"]);
    expect(records.slice(1).map((r) => r[0])).toEqual(IDS.map(pokemonImageName));
    expect(records.every((r) => r.length === 2)).toBe(true);
  });

  test("prompts carry the words of the tutorial's starter prompts that say what each art shows (Bulbasaur, Charmander, Squirtle)", async () => {
    const prompts = parseCsv(await readFile(join(dir, "metadata.csv"), "utf8"))
      .slice(1)
      .map((r) => r.fields[1]!.split(", "));
    const expected = [
      ["green", "Grass", "Poison", "red eyes", "Bulbasaur"],
      ["orange", "lizard", "Fire", "flame on tail tip", "Charmander"],
      ["blue", "brown", "turtle", "shell", "curled tail", "Squirtle"],
    ];
    prompts.forEach((words, i) => {
      for (const word of expected[i]!) expect(words).toContain(word);
    });
  });

  test("a folder whose metadata.csv holds an older kiln's prompts gets today's, and keeps its images", async () => {
    const other = await mkdtemp(join(tmpdir(), "kiln-pokemon-old-"));
    try {
      const first = await buildPokemonDataset(other, { size: SIZE, ids: [25] });
      expect([first.rendered, first.promptsRewritten]).toEqual([1, false]);
      const current = await readFile(join(other, "metadata.csv"), "utf8");
      await writeFile(join(other, "metadata.csv"), `image,prompt\n${pokemonImageName(25)},"yellow, small, Electric, Pikachu"\n`);
      expect(await isPokemonDatasetComplete(other, SIZE, [25])).toBe(false);
      const again = await buildPokemonDataset(other, { size: SIZE, ids: [25] });
      expect([again.rendered, again.promptsRewritten]).toEqual([0, true]);
      expect(await readFile(join(other, "metadata.csv"), "utf8")).toBe(current);
      expect((await buildPokemonDataset(other, { size: SIZE, ids: [25] })).promptsRewritten).toBe(false);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("a second build keeps a complete data set; --force or another size renders again", async () => {
    expect(await isPokemonDatasetComplete(dir, SIZE, IDS)).toBe(true);
    expect(await isPokemonDatasetComplete(dir, 32, IDS)).toBe(false);
    expect((await buildPokemonDataset(dir, { size: SIZE, ids: IDS })).rendered).toBe(0);
    expect((await buildPokemonDataset(dir, { size: SIZE, ids: [1], force: true })).rendered).toBe(1);
    // metadata.csv now lists only #1, so the three-species set is no longer complete.
    expect(await isPokemonDatasetComplete(dir, SIZE, IDS)).toBe(false);
    expect((await buildPokemonDataset(dir, { size: SIZE, ids: IDS })).rendered).toBe(0);
    expect(await isPokemonDatasetComplete(dir, SIZE, IDS)).toBe(true);
  });
});

describe("pokemon prompts", () => {
  const prompts = gen1Prompts();
  const species = Array.from({ length: 151 }, (_, i) => Dex.species.all().find((s) => s.num === i + 1 && s.forme === "")!);

  test("all 151 prompts are distinct, and so are their descriptions without the name", () => {
    expect(prompts.length).toBe(151);
    expect(new Set(prompts).size).toBe(151);
    const descriptions = species.map((s) => describePokemon(pokemonFacts(s.num)).join(", "));
    expect(new Set(descriptions).size).toBe(151);
  });

  test("every prompt starts with the visual description, has the types and size, ends with the name, and fits 32 words", () => {
    prompts.forEach((prompt, i) => {
      const parts = prompt.split(", ");
      const s = species[i]!;
      expect(prompt.startsWith(pokemonDescription(s.num) + ", "), prompt).toBe(true);
      for (const type of s.types) expect(parts).toContain(type);
      expect(parts).toContain(sizeWord(s.heightm));
      expect(parts.at(-1)).toBe(s.name);
      // The pokédex words after the description repeat none of its parts (in any case) nor each other.
      const description = pokemonDescription(s.num).toLowerCase().split(", ");
      const described = new Set(description);
      const added = parts.slice(description.length).map((p) => p.toLowerCase());
      expect(
        added.filter((p) => described.has(p)),
        prompt,
      ).toEqual([]);
      expect(new Set(added).size, prompt).toBe(added.length);
      expect(prompt.split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "").length, prompt).toBeLessThanOrEqual(32);
    });
  });

  test("size words follow height: Diglett (0.2 m) tiny, Onix (8.8 m) huge", () => {
    expect(sizeWord(0.2)).toBe("tiny");
    expect(sizeWord(8.8)).toBe("huge");
    expect(prompts[50 - 1]!.split(", ")).toContain("tiny");
    expect(prompts[95 - 1]!.split(", ")).toContain("huge");
  });
});
