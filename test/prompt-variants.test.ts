// Prompt variation for training (models/data/prompt-variants.ts): a form of a prompt is the prompt
// as written, or a non-empty subset of its comma-separated parts in shuffled order, from given draws.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { seededRandom } from "../compiler/index.ts";
import { promptParts, promptVariant } from "../models/data/prompt-variants.ts";
import { trainingPrompt } from "../models/train.ts";

const PROMPT = "green, lizard, plant, Grass, Poison, seed on back, red eyes, Bulbasaur";

/** Draws from a seeded stream, indexed by k (memoised, so a draw read twice is the same). */
function draws(seed: number): (k: number) => number {
  const rand = seededRandom(seed);
  const values: number[] = [];
  return (k) => {
    while (values.length <= k) values.push(rand());
    return values[k]!;
  };
}

describe("promptVariant", () => {
  test("promptParts trims parts and drops empty ones", () => {
    expect(promptParts(" a , b c,, d ,")).toEqual(["a", "b c", "d"]);
    expect(promptParts("no commas here")).toEqual(["no commas here"]);
  });

  test("every form is the prompt itself or a non-empty set of distinct parts of it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z][a-z ]{0,8}[a-z]$/), { minLength: 1, maxLength: 12 }),
        fc.integer(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (parts, seed, variation) => {
          const unique = [...new Set(parts)];
          const prompt = unique.join(", ");
          const form = promptVariant(prompt, draws(seed), variation);
          if (form === prompt) return;
          const got = promptParts(form);
          expect(got.length).toBeGreaterThanOrEqual(1);
          expect(new Set(got).size).toBe(got.length);
          for (const part of got) expect(unique).toContain(part);
        },
      ),
    );
  });

  test("variation 0 always gives the prompt as written, and draws nothing", () => {
    const never = (): number => {
      throw new Error("drew");
    };
    expect(promptVariant(PROMPT, never, 0)).toBe(PROMPT);
  });

  test("a prompt of one part always comes back whole", () => {
    for (let seed = 0; seed < 50; seed++) expect(promptVariant("a pokemon with sharp claws", draws(seed), 1)).toBe("a pokemon with sharp claws");
  });

  test("the same draws give the same form (the training batch's draws are a pure function of seed, step and lane)", () => {
    for (let seed = 0; seed < 20; seed++) expect(promptVariant(PROMPT, draws(seed), 0.5)).toBe(promptVariant(PROMPT, draws(seed), 0.5));
  });

  test("over many draws: the whole prompt about 1 − variation of the time, every size and every part first about equally often", () => {
    const n = 8;
    const trials = 8000;
    let whole = 0;
    const sizes = new Array<number>(n + 1).fill(0);
    const firsts = new Map<string, number>();
    for (let seed = 0; seed < trials; seed++) {
      const draw = draws(seed);
      const form = promptVariant(PROMPT, draw, 0.5);
      if (draw(0) >= 0.5) {
        expect(form).toBe(PROMPT);
        whole++;
        continue;
      }
      const parts = promptParts(form);
      sizes[parts.length]!++;
      firsts.set(parts[0]!, (firsts.get(parts[0]!) ?? 0) + 1);
    }
    const varied = trials - whole;
    expect(Math.abs(whole / trials - 0.5)).toBeLessThan(0.03);
    // Sizes 1..8 uniform: each about varied/8 (±25 %); size 0 never.
    expect(sizes[0]).toBe(0);
    for (let s = 1; s <= n; s++) expect(Math.abs(sizes[s]! / (varied / n) - 1)).toBeLessThan(0.25);
    expect(firsts.size).toBe(n);
    for (const count of firsts.values()) expect(Math.abs(count / (varied / n) - 1)).toBeLessThan(0.25);
  });

  test("a variation outside [0, 1] is refused", () => {
    expect(() => promptVariant(PROMPT, draws(1), 1.5)).toThrow(/variation in \[0, 1\], found 1.5/);
  });
});

describe("trainingPrompt (the form each training lane sees)", () => {
  test("is a pure function of (seed, micro-batch, lane): the same arguments give the same form", () => {
    for (let micro = 1; micro <= 30; micro++)
      for (const lane of [0, 5, 17]) expect(trainingPrompt(PROMPT, 3, micro, lane, 0.5)).toBe(trainingPrompt(PROMPT, 3, micro, lane, 0.5));
  });

  test("varies with the micro-batch, the lane and the seed, keeping the prompt whole about half the time", () => {
    const forms = new Set<string>();
    let whole = 0;
    let draws = 0;
    for (const seed of [0, 1])
      for (let micro = 1; micro <= 100; micro++)
        for (let lane = 0; lane < 4; lane++) {
          const form = trainingPrompt(PROMPT, seed, micro, lane, 0.5);
          forms.add(form);
          if (form === PROMPT) whole++;
          draws++;
        }
    expect(Math.abs(whole / draws - 0.5)).toBeLessThan(0.07);
    expect(forms.size).toBeGreaterThan(draws / 4);
    // The lane alone changes the form for some micro-batches, and so does the seed.
    expect(
      Array.from({ length: 20 }, (_, i) => trainingPrompt(PROMPT, 0, i + 1, 0, 0.5) !== trainingPrompt(PROMPT, 0, i + 1, 1, 0.5)).some(Boolean),
    ).toBe(true);
    expect(
      Array.from({ length: 20 }, (_, i) => trainingPrompt(PROMPT, 0, i + 1, 0, 0.5) !== trainingPrompt(PROMPT, 1, i + 1, 0, 0.5)).some(Boolean),
    ).toBe(true);
  });

  test('with a dropout, that fraction of draws shows the empty prompt (what guidance\'s negative " " encodes as), the rest as without one', () => {
    let empty = 0;
    let draws = 0;
    for (let micro = 1; micro <= 200; micro++)
      for (let lane = 0; lane < 4; lane++) {
        const form = trainingPrompt(PROMPT, 2, micro, lane, 0.5, 0.1);
        if (form === "") empty++;
        else expect(form).toBe(trainingPrompt(PROMPT, 2, micro, lane, 0.5));
        draws++;
      }
    expect(Math.abs(empty / draws - 0.1)).toBeLessThan(0.03);
    expect(trainingPrompt(PROMPT, 2, 1, 0, 0.5, 1)).toBe("");
  });
});
