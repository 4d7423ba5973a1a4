// The gen-1 Pokémon data set builder (models/data/pokemon.ts): a few species rendered into a temp
// folder (never the full set), and the prompts of all 151 checked against the pokédex data.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dex } from "@pkmn/sim";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseCsv } from "../models/data/csv.ts";
import { buildPokemonDataset, describePokemon, gen1Prompts, isPokemonDatasetComplete, marginFor, pokemonFacts, pokemonImageName } from "../models/data/pokemon.ts";
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
      const { data } = await sharp(join(dir, "images", pokemonImageName(num))).raw().toBuffer({ resolveWithObject: true });
      const isWhite = (x: number, y: number): boolean => [0, 1, 2].every((c) => data[(y * SIZE + x) * 3 + c] === 255);
      let [minX, minY, maxX, maxY] = [SIZE, SIZE, -1, -1];
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          if (isWhite(x, y)) continue;
          [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
        }
      }
      for (const [x, y] of [[0, 0], [SIZE - 1, 0], [0, SIZE - 1], [SIZE - 1, SIZE - 1]] as const) expect(isWhite(x, y)).toBe(true);
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

  test("prompts carry each species' colour and types (Bulbasaur, Charmander, Squirtle)", async () => {
    const prompts = parseCsv(await readFile(join(dir, "metadata.csv"), "utf8")).slice(1).map((r) => r.fields[1]!.split(", "));
    const expected = [
      ["green", "Grass", "Poison"],
      ["red", "Fire"],
      ["blue", "Water"],
    ];
    prompts.forEach((words, i) => {
      for (const word of expected[i]!) expect(words).toContain(word);
    });
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

  test("every prompt has the pokédex colour and types and is more than the name", () => {
    prompts.forEach((prompt, i) => {
      const words = prompt.split(", ");
      const s = species[i]!;
      expect(words).toContain(s.color.toLowerCase());
      for (const type of s.types) expect(words).toContain(type);
      expect(words.at(-1)).toBe(s.name);
      expect(words.length).toBeGreaterThanOrEqual(5);
    });
  });

  test("size words follow height: Diglett (0.2 m) tiny, Onix (8.8 m) huge", () => {
    expect(sizeWord(0.2)).toBe("tiny");
    expect(sizeWord(8.8)).toBe("huge");
    expect(prompts[50 - 1]!.split(", ")).toContain("tiny");
    expect(prompts[95 - 1]!.split(", ")).toContain("huge");
  });
});
