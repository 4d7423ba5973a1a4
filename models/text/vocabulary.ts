// The words a jointly trained text encoder has seen, and how a prompt is read with them. A word the
// training prompts never had reaches the tiny encoder as its character trigrams only, and trigrams
// borrowed from unrelated words steer the image somewhere arbitrary: measured on `npm start`'s model,
// "blue, beige, brown, turtle, water type, …" came out cream and orange ("beige" shares "ge>" with
// "orange"), and "smiling expression" turned a green prompt pink; without those words both prompts
// gave their colours. So before encoding, an unseen word is read as the seen word it extends or
// shortens (claw → claws, golden → gold), or else left out, and the caller can say which.

import { promptWords } from "./words.ts";

/** The distinct words of the training prompts, sorted (what a checkpoint records). */
export function promptVocabulary(prompts: Iterable<string>): string[] {
  const words = new Set<string>();
  for (const prompt of prompts) for (const word of promptWords(prompt)) words.add(word);
  return [...words].sort();
}

/** A prompt as the encoder will read it: `text`, and what happened to the words it had not seen. */
export interface PromptReading {
  text: string;
  /** Unseen words read as a seen word. */
  replaced: { word: string; as: string }[];
  /** Unseen words with no seen word like them: left out. */
  dropped: string[];
}

/** Letters a word may gain or lose and still be read as a seen word (claw → claws, golden → gold). */
const MAX_AFFIX = 3;

/**
 * The seen word an unseen one extends or shortens, if any: one of the two begins with the other, the
 * shorter has at least 3 letters, and they differ by at most MAX_AFFIX letters (claw → claws, turtles →
 * turtle, golden → gold, horned → horn; not smiling → smile, which would need a stem, nor cat →
 * catch). Among several, the nearest in length, then the shorter, then the first alphabetically.
 */
export function nearestSeenWord(word: string, vocabulary: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const seen of vocabulary) {
    const [short, long] = seen.length <= word.length ? [seen, word] : [word, seen];
    if (short.length < 3 || long.length - short.length > MAX_AFFIX || !long.startsWith(short)) continue;
    const gap = Math.abs(seen.length - word.length);
    const bestGap = best === undefined ? Infinity : Math.abs(best.length - word.length);
    if (gap < bestGap || (gap === bestGap && best !== undefined && (seen.length < best.length || (seen.length === best.length && seen < best))))
      best = seen;
  }
  return best;
}

/** `prompt` read with the encoder's vocabulary: its words, each seen, read as a seen word, or left out. */
export function readPrompt(prompt: string, vocabulary: ReadonlySet<string>): PromptReading {
  const kept: string[] = [];
  const replaced: PromptReading["replaced"] = [];
  const dropped: string[] = [];
  for (const word of promptWords(prompt)) {
    if (vocabulary.has(word)) kept.push(word);
    else {
      const as = nearestSeenWord(word, vocabulary);
      if (as === undefined) dropped.push(word);
      else {
        kept.push(as);
        replaced.push({ word, as });
      }
    }
  }
  return { text: kept.join(" "), replaced, dropped };
}

/** One line for a person: which words of a prompt the model had not seen, and what it read instead. */
export function describeReading(reading: PromptReading): string | undefined {
  if (!reading.replaced.length && !reading.dropped.length) return undefined;
  const parts = [
    ...(reading.replaced.length ? [`read ${reading.replaced.map((r) => `"${r.word}" as "${r.as}"`).join(", ")}`] : []),
    ...(reading.dropped.length ? [`left out ${reading.dropped.map((w) => `"${w}"`).join(", ")}`] : []),
  ];
  return `words the model was not trained on: ${parts.join("; ")}`;
}
