// How the tiny text encoder reads a prompt with the words it was trained on (models/text/vocabulary.ts):
// seen words as written, an unseen word as the seen word it extends or shortens, others left out; the
// vocabulary travels with the text encoder's checkpoint file.

import { describe, expect, test } from "vitest";
import { describeReading, nearestSeenWord, promptVocabulary, readPrompt } from "../models/text/vocabulary.ts";
import { promptFeatures } from "../models/text/words.ts";

const TRAINING = ["orange, lizard, Fire, flame on tail tip, sharp claws", "blue, turtle, Water, shell, curled tail", "yellow, gold, coin, legs"];
const SEEN = new Set(promptVocabulary(TRAINING));

describe("the training vocabulary", () => {
  test("is the distinct lower-cased words of the training prompts, sorted", () => {
    expect(promptVocabulary(["B a, a", "c-b"])).toEqual(["a", "b", "c"]);
    expect(SEEN.has("fire") && SEEN.has("claws") && !SEEN.has("Fire")).toBe(true);
  });

  test("an unseen word is read as a seen word it extends or shortens by up to three letters, the nearest in length first", () => {
    expect(nearestSeenWord("claw", SEEN)).toBe("claws");
    expect(nearestSeenWord("turtles", SEEN)).toBe("turtle");
    expect(nearestSeenWord("golden", SEEN)).toBe("gold");
    expect(nearestSeenWord("leg", SEEN)).toBe("legs");
    // A stem change, a longer suffix, a word of two letters or an unrelated word: none.
    expect(nearestSeenWord("lizardlike", SEEN)).toBeUndefined();
    expect(nearestSeenWord("shel", new Set(["shell", "shells", "shellder"]))).toBe("shell");
    expect(nearestSeenWord("beige", SEEN)).toBeUndefined();
    expect(nearestSeenWord("bl", new Set(["blue"]))).toBeUndefined();
  });

  test("a prompt of seen words encodes exactly as written; unseen words are replaced or left out, and said so", () => {
    const config = { tableSize: 4096, maxLength: 32, featuresPerWord: 16 };
    for (const prompt of TRAINING) expect(promptFeatures(readPrompt(prompt, SEEN).text, config)).toEqual(promptFeatures(prompt, config));
    const reading = readPrompt("Blue, beige turtle, water type, sharp claw", SEEN);
    expect(reading).toEqual({ text: "blue turtle water sharp claws", replaced: [{ word: "claw", as: "claws" }], dropped: ["beige", "type"] });
    expect(describeReading(reading)).toBe('words the model was not trained on: read "claw" as "claws"; left out "beige", "type"');
    expect(describeReading(readPrompt("orange lizard", SEEN))).toBeUndefined();
  });
});
