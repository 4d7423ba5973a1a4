// The seed's own sampling prompts (what `npm start` samples), and the evolution family each starter
// prompt describes, so that evaluation (models/eval.ts) can check that they give the Pokémon they describe.

export interface SeedPrompt {
  prompt: string;
  seed: number;
  /** The sample's file name in the run folder. */
  file: string;
}

/** The seed's sampling prompts: the starter trio (seeds 0–2) and "sharp claws" (seeds 4–6). */
export const SEED_PROMPTS: readonly SeedPrompt[] = [
  {
    prompt: "green, lizard, plant, Grass, Poison, seed on back, red eyes, smiling expression, short stout limbs, sharp claws",
    seed: 0,
    file: "image_0.png",
  },
  {
    prompt: "orange, cream, lizard, Fire, flame on tail tip, large eyes, smiling expression, cream-colored belly patch, sharp claws",
    seed: 1,
    file: "image_1.png",
  },
  { prompt: "blue, beige, brown, turtle, water type, shell, big eyes, short limbs, curled tail", seed: 2, file: "image_2.png" },
  { prompt: "sharp claws", seed: 4, file: "image_sharp_claws_0.png" },
  { prompt: "sharp claws", seed: 5, file: "image_sharp_claws_1.png" },
  { prompt: "sharp claws", seed: 6, file: "image_sharp_claws_2.png" },
];

export interface StarterFamily {
  prompt: string;
  /** The family's first member, naming it in reports. */
  family: string;
  /** National Pokédex numbers of the family's members. */
  dex: readonly number[];
}

/** The three starter prompts (SEED_PROMPTS[0..2]) and the evolution family each one describes. */
export const STARTER_FAMILIES: readonly StarterFamily[] = [
  { prompt: SEED_PROMPTS[0]!.prompt, family: "Bulbasaur", dex: [1, 2, 3] },
  { prompt: SEED_PROMPTS[1]!.prompt, family: "Charmander", dex: [4, 5, 6] },
  { prompt: SEED_PROMPTS[2]!.prompt, family: "Squirtle", dex: [7, 8, 9] },
];
