// The hand-written visual descriptions of models/data/pokemon-descriptions.ts: shape of every entry,
// agreement with the @pkmn/sim types, distinctness, family words, and that each fits the text encoder.
import { describe, expect, test } from "vitest";
import { POKEMON_DESCRIPTIONS, pokemonDescription } from "../models/data/pokemon-descriptions.ts";
import { GEN1_FIRST, GEN1_LAST, pokemonFacts } from "../models/data/pokemon-prompts.ts";
import { MAX_PROMPT_TOKENS, tokenizePrompt } from "../models/text/tokenizer.ts";

/** The colour words an entry may start with; chosen here, independent of the data file. */
const COLOUR_WORDS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "gray", "black", "white", "cream"];

const dexNumbers = Array.from({ length: GEN1_LAST - GEN1_FIRST + 1 }, (_, i) => GEN1_FIRST + i);
const partsOf = (num: number): string[] => pokemonDescription(num).split(", ");

describe("pokemon descriptions", () => {
  test("there is one description per gen-1 species, and pokemonDescription(n) is entry n-1", () => {
    expect(POKEMON_DESCRIPTIONS).toHaveLength(151);
    for (const num of dexNumbers) expect(pokemonDescription(num)).toBe(POKEMON_DESCRIPTIONS[num - 1]);
  });

  test('each entry has 6–12 parts separated by ", ", none empty, padded or repeated', () => {
    for (const num of dexNumbers) {
      const parts = partsOf(num);
      const where = `#${num} "${pokemonDescription(num)}"`;
      expect(parts.length, where).toBeGreaterThanOrEqual(6);
      expect(parts.length, where).toBeLessThanOrEqual(12);
      // A part starts and ends with a visible character and holds no comma (which would be a bad separator).
      for (const part of parts) expect(part, where).toMatch(/^[^\s,](?:[^,]*[^\s,])?$/);
      expect(new Set(parts).size, where).toBe(parts.length);
    }
  });

  test("each entry names all of its @pkmn/sim types as capitalised parts, and no other capitalised part", () => {
    for (const num of dexNumbers) {
      const { name, types } = pokemonFacts(num);
      const parts = partsOf(num);
      for (const type of types) expect(parts, `#${num} ${name}`).toContain(type);
      const capitalised = parts.filter((part) => part[0] !== part[0]!.toLowerCase());
      expect([...capitalised].sort(), `#${num} ${name}: capitalised parts`).toEqual([...types].sort());
    }
  });

  test("each entry starts with a colour word from the fixed list", () => {
    for (const num of dexNumbers) expect(COLOUR_WORDS, `#${num} "${pokemonDescription(num)}"`).toContain(partsOf(num)[0]);
  });

  test("all 151 descriptions are distinct", () => {
    expect(new Set(POKEMON_DESCRIPTIONS).size).toBe(151);
  });

  test("starter families share their family words: seed/flower on back, flame on tail tip, shell", () => {
    const families: readonly [readonly number[], RegExp][] = [
      [[1, 2, 3], /\b(seed|bulb|bud|flower)\b.* on back$/],
      [[4, 5, 6], /^flame on tail tip$/],
      [[7, 8, 9], /^shell$/],
    ];
    for (const [members, familyWord] of families) {
      for (const num of members)
        expect(
          partsOf(num).some((part) => familyWord.test(part)),
          `#${num} ${familyWord}`,
        ).toBe(true);
    }
  });

  test("each description with its species name fits the text encoder's token window untruncated", () => {
    for (const num of dexNumbers) {
      const tokenized = tokenizePrompt(`${pokemonDescription(num)}, ${pokemonFacts(num).name}`);
      expect(tokenized.truncated, `#${num}`).toBe(false);
      expect(tokenized.length, `#${num}`).toBeLessThan(MAX_PROMPT_TOKENS);
    }
  });

  test("numbers outside 1..151 throw an error naming the number", () => {
    expect(() => pokemonDescription(0)).toThrow(/found 0\b/);
    expect(() => pokemonDescription(152)).toThrow(/found 152\b/);
    expect(() => pokemonDescription(1.5)).toThrow(/found 1\.5\b/);
  });
});
