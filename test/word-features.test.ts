// The tiny text encoder's input (models/text/words.ts): words, their whole-word and trigram features,
// the FNV-1a hash reduced into the table, and the [maxLength, K] layout, so reworded prompts share rows.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EMPTY_SLOT, featureSlot, promptFeatures, promptWords, tableSlot, wordFeatures, type WordFeatureConfig } from "../models/text/words.ts";

const CONFIG: WordFeatureConfig = { tableSize: 8192, maxLength: 32, featuresPerWord: 16 };

/** The set of table rows a prompt's features fill (empty slots left out). */
const rowsOf = (prompt: string, c: WordFeatureConfig = CONFIG): Set<number> =>
  new Set(Array.from(promptFeatures(prompt, c).features).filter((slot) => slot !== EMPTY_SLOT));
const shared = (a: Set<number>, b: Set<number>): number => [...a].filter((slot) => b.has(slot)).length;

describe("words and their features", () => {
  test("a prompt is lower-cased and split at anything but letters and digits, commas included", () => {
    expect(promptWords("Green, lizard,plant , Mr. Mime, seed-on-back, 2 eyes,,")).toEqual([
      "green",
      "lizard",
      "plant",
      "mr",
      "mime",
      "seed",
      "on",
      "back",
      "2",
      "eyes",
    ]);
    expect(promptWords("Flabébé")).toEqual(["flabébé"]);
    expect(promptWords(" , ")).toEqual([]);
  });

  test("a word's features are the marked word and the trigrams of <word>", () => {
    expect(wordFeatures("claw")).toEqual(["<claw>", "<cl", "cla", "law", "aw>"]);
    expect(wordFeatures("ab")).toEqual(["<ab>", "<ab", "ab>"]);
    // "<a>" is both the whole word and its one trigram: kept once.
    expect(wordFeatures("a")).toEqual(["<a>"]);
  });

  test('"claws" and "claw" share rows, and so do "Water" and "water type"; unrelated words share none', () => {
    const claw = rowsOf("claw");
    const claws = rowsOf("claws");
    expect(shared(claw, claws)).toBeGreaterThanOrEqual(3); // <cl, cla, law
    const water = rowsOf("Water");
    expect(shared(water, rowsOf("water type"))).toBe(water.size); // every feature of "water"
    expect(shared(rowsOf("sharp claws"), rowsOf("Sharp claw"))).toBeGreaterThanOrEqual(9);
    expect(shared(rowsOf("turtle"), rowsOf("flame"))).toBe(0);
  });

  test("the same word in another place or case gives the same rows at its own position", () => {
    const k = CONFIG.featuresPerWord;
    const a = promptFeatures("shell, Turtle", CONFIG).features;
    const b = promptFeatures("turtle", CONFIG).features;
    expect(Array.from(a.subarray(k, 2 * k))).toEqual(Array.from(b.subarray(0, k)));
  });
});

describe("hashing into the table", () => {
  test("tableSlot is the high part of hash·(tableSize − 1), plus 1 (checked with BigInt)", () => {
    const reference = (hash: number, tableSize: number): number => Number((BigInt(hash >>> 0) * BigInt(tableSize - 1)) >> 32n) + 1;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 2, max: 2 ** 20 }), (hash, tableSize) => {
        expect(tableSlot(hash, tableSize)).toBe(reference(hash, tableSize));
      }),
    );
    expect(() => tableSlot(5, 1)).toThrow(/table size in 2\.\.2\^31.*found 1/);
  });

  test("a feature's row is FNV-1a 32 of its UTF-16 code units (offset basis 2166136261, prime 16777619), reduced", () => {
    // FNV-1a written out with BigInt, independent of compiler/graph.ts.
    const fnv = (text: string): number => {
      let h = 2166136261n;
      for (const unit of Array.from({ length: text.length }, (_, i) => text.charCodeAt(i))) h = ((h ^ BigInt(unit)) * 16777619n) % 2n ** 32n;
      return Number(h);
    };
    for (const feature of ["<claw>", "<cl", "law", "é>", ""]) expect(featureSlot(feature, 8192)).toBe(tableSlot(fnv(feature), 8192));
  });

  test("real features never land in the empty row, for any word and table size", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 2, max: 100_000 }), (word, tableSize) => {
        for (const feature of wordFeatures(word)) {
          const slot = featureSlot(feature, tableSize);
          expect(slot >= 1 && slot < tableSize).toBe(true);
        }
      }),
    );
  });
});

describe("promptFeatures", () => {
  test("words past maxLength are cut off and features past K are dropped, whole word first", () => {
    const c: WordFeatureConfig = { tableSize: 1024, maxLength: 3, featuresPerWord: 4 };
    const { features, mask, words } = promptFeatures("one two three four five, butterfree", c);
    expect(words).toBe(6);
    expect(Array.from(mask)).toEqual([1, 1, 1]);
    expect(features.length).toBe(12);
    // "one": <one>, <on, one, ne> — exactly K = 4 features.
    expect(Array.from(features.subarray(0, 4))).toEqual(["<one>", "<on", "one", "ne>"].map((f) => featureSlot(f, 1024)));
    const long = promptFeatures("butterfree", c).features;
    expect(Array.from(long.subarray(0, 4))).toEqual(["<butterfree>", "<bu", "but", "utt"].map((f) => featureSlot(f, 1024)));
  });

  test("a prompt without words is all empty, with a zero mask", () => {
    const { features, mask } = promptFeatures(", ,", CONFIG);
    expect(features.every((slot) => slot === EMPTY_SLOT)).toBe(true);
    expect(mask.every((m) => m === 0)).toBe(true);
  });
});
