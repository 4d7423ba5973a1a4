// The tiny text encoder's input (host side, before the graph): a prompt as lower-case words, each
// word as up to K hashed features — the whole word and the character trigrams of "<word>" (fastText's
// sub-words) — so "claw" and "claws", or "Water" and "water type", share table rows.

import { fnv1a32 } from "../../compiler/index.ts";

/** Slot of an empty feature: no word, or a word with fewer than K features. Real features never land there. */
export const EMPTY_SLOT = 0;

/** Marks a word's start and end, so "<cat>" (the word) differs from "cat" (a trigram of "scatter"). */
const WORD_START = "<";
const WORD_END = ">";

export interface WordFeatureConfig {
  /** Rows of the hashed table; row EMPTY_SLOT is never a feature's. */
  tableSize: number;
  /** Word positions per prompt; words past it are cut off. */
  maxLength: number;
  /** K: feature slots per word (the whole word, then its first K − 1 trigrams). */
  featuresPerWord: number;
}

/**
 * The prompt's words: lower-cased and split at anything that is not a letter or a digit (spaces,
 * commas, hyphens, apostrophes), so "Mr. Mime, Psychic" gives mr, mime, psychic. The commas that
 * separate a prompt's parts are dropped rather than kept as a token: the 32 positions are needed
 * for the words of a full Pokémon prompt, and the parts' words already sit next to each other.
 */
export function promptWords(prompt: string): string[] {
  return prompt
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== "");
}

/** The features of one word, whole word first: "claw" → <claw>, <cl, cla, law, aw> (duplicates dropped). */
export function wordFeatures(word: string): string[] {
  const marked = WORD_START + word + WORD_END;
  const features = [marked];
  for (let i = 0; i + 3 <= marked.length; i++) features.push(marked.slice(i, i + 3));
  return [...new Set(features)];
}

/**
 * A 32-bit hash → a table row in 1..tableSize−1: the high part of hash·(tableSize−1) (Lemire's
 * reduction), which keeps the hash's well-mixed high bits where a modulo would keep its low ones.
 */
export function tableSlot(hash: number, tableSize: number): number {
  if (!Number.isInteger(tableSize) || tableSize < 2 || tableSize > 2 ** 31) {
    throw new Error(`tableSlot: expected an integer table size in 2..2^31 (row ${EMPTY_SLOT} is the empty feature's), found ${tableSize}`);
  }
  return 1 + Math.floor(((hash >>> 0) * (tableSize - 1)) / 2 ** 32);
}

/** A feature's row: FNV-1a (the project's stable string hash) reduced into the table. */
export const featureSlot = (feature: string, tableSize: number): number => tableSlot(fnv1a32(feature), tableSize);

/** One prompt as the encoder takes it: features [maxLength, K] (EMPTY_SLOT where none) and mask [maxLength]. */
export interface WordFeatures {
  features: Int32Array;
  /** 1 for a position with a word, 0 after the last one. */
  mask: Int32Array;
  /** Words in the prompt, before cutting to maxLength. */
  words: number;
}

export function promptFeatures(prompt: string, c: WordFeatureConfig): WordFeatures {
  const { maxLength, featuresPerWord: k, tableSize } = c;
  if (!Number.isInteger(k) || k < 1) throw new Error(`promptFeatures: expected a positive integer featuresPerWord, found ${k}`);
  const words = promptWords(prompt);
  const features = new Int32Array(maxLength * k).fill(EMPTY_SLOT);
  const mask = new Int32Array(maxLength);
  words.slice(0, maxLength).forEach((word, position) => {
    mask[position] = 1;
    wordFeatures(word)
      .slice(0, k)
      .forEach((feature, j) => (features[position * k + j] = featureSlot(feature, tableSize)));
  });
  return { features, mask, words: words.length };
}
