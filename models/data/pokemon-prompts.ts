// Text prompts for the gen-1 Pokémon data set: each species' visual description (pokemon-descriptions.ts)
// and words from the structured pokédex data of @pkmn/sim, in the comma-separated style of the
// reference's prompts ("green, lizard, plant, Grass, Poison, …").
import { createRequire } from "node:module";
import type { Dex as PkmnDex } from "@pkmn/sim";
import { pokemonDescription } from "./pokemon-descriptions.ts";
import { promptParts } from "./prompt-variants.ts";

/** National-dex numbers of generation 1: Bulbasaur (1) to Mew (151). */
export const GEN1_FIRST = 1;
export const GEN1_LAST = 151;

/** The pokédex facts a prompt is made from (modern data: Clefairy is Fairy, Magnemite Electric/Steel). */
export interface PokemonFacts {
  num: number;
  name: string;
  /** Lower-case alphanumeric id ("farfetchd", "nidoranf"), used in file names. */
  id: string;
  color: string;
  types: readonly string[];
  heightm: number;
  weightkg: number;
  eggGroups: readonly string[];
  baseStats: Readonly<Record<StatName, number>>;
  /** 1-based stage in the evolution line and the number of stages, counting gen-1 relatives only
   * (so Pikachu is stage 1 of 2 although Pichu, gen 2, exists). */
  stage: number;
  stages: number;
  /** "M" or "F" for single-gender species, "N" for genderless, "" otherwise. */
  gender: string;
  tags: readonly string[];
}

type StatName = "hp" | "atk" | "def" | "spa" | "spd" | "spe";

/** Egg group → body word. Egg groups are the closest thing in the data to a body plan. */
const EGG_GROUP_WORDS: Readonly<Record<string, string | undefined>> = {
  Monster: "monster",
  "Water 1": "amphibian",
  "Water 2": "fish",
  "Water 3": "sea invertebrate",
  Bug: "insect",
  Flying: "winged",
  Field: "beast",
  Fairy: "cute",
  Grass: "plant",
  "Human-Like": "humanoid",
  Mineral: "mineral body",
  Amorphous: "amorphous",
  Ditto: "blob",
  Dragon: "scaly",
  Undiscovered: undefined,
};

/** The highest base stat → a word about the creature's character. */
const TOP_STAT_WORDS: Readonly<Record<StatName, string>> = {
  hp: "hardy",
  atk: "strong",
  def: "armored",
  spa: "mystic",
  spd: "calm",
  spe: "fast",
};

/** Height in metres → size word; the thresholds split gen 1 (0.2 m … 8.8 m) into sensible classes. */
export function sizeWord(heightm: number): string {
  if (heightm <= 0.4) return "tiny";
  if (heightm <= 0.9) return "small";
  if (heightm <= 1.5) return "medium";
  if (heightm <= 2.5) return "large";
  return "huge";
}

/** Build word from weight and weight over height cubed (the bounding cube's density), or none for
 * the middle range: long thin creatures (Onix, Ekans) come out slender, gassy ones light as air. */
export function buildWord(heightm: number, weightkg: number): string | undefined {
  const density = weightkg / heightm ** 3;
  if (weightkg >= 100) return "heavy";
  if (density < 5 && weightkg < 2) return "light as air";
  if (density < 12) return "slender";
  if (density > 60) return "stout";
  return undefined;
}

const ORDINALS = ["first", "second", "third"];
const COUNTS = ["one", "two", "three"];

function evolutionWords(facts: PokemonFacts): string {
  if (facts.stages === 1) return "single stage";
  const position = facts.stage === facts.stages ? "final" : ORDINALS[facts.stage - 1];
  return `${position} of ${COUNTS[facts.stages - 1]} stages`;
}

let gen1Cache: readonly PokemonFacts[] | undefined;

// @pkmn/sim takes about 0.6 s to load: it is loaded when a prompt is first built, not by every command
// that imports the models.
let loadedDex: typeof PkmnDex | undefined;
const pokedex = (): typeof PkmnDex => (loadedDex ??= (createRequire(import.meta.url)("@pkmn/sim") as { Dex: typeof PkmnDex }).Dex);

/** Facts for all 151 gen-1 species, in dex order. */
export function gen1Facts(): readonly PokemonFacts[] {
  if (gen1Cache) return gen1Cache;
  const species = pokedex().species.all().filter((s) => s.num >= GEN1_FIRST && s.num <= GEN1_LAST && s.forme === "");
  const gen1ByName = new Map(species.map((s) => [s.name, s]));
  const stagesBefore = (name: string): number => {
    const prevo = gen1ByName.get(name)?.prevo;
    return prevo && gen1ByName.has(prevo) ? 1 + stagesBefore(prevo) : 0;
  };
  const stagesAfter = (name: string): number =>
    Math.max(0, ...(gen1ByName.get(name)?.evos ?? []).filter((evo) => gen1ByName.has(evo)).map((evo) => 1 + stagesAfter(evo)));
  const facts = species
    .map((s): PokemonFacts => {
      const before = stagesBefore(s.name);
      return {
        num: s.num,
        name: s.name,
        id: s.id,
        color: s.color,
        types: [...s.types],
        heightm: s.heightm,
        weightkg: s.weightkg,
        eggGroups: [...s.eggGroups],
        baseStats: { ...s.baseStats },
        stage: before + 1,
        stages: before + 1 + stagesAfter(s.name),
        gender: s.gender ?? "",
        tags: [...s.tags],
      };
    })
    .sort((a, b) => a.num - b.num);
  const expected = GEN1_LAST - GEN1_FIRST + 1;
  if (facts.length !== expected || facts.some((f, i) => f.num !== GEN1_FIRST + i)) {
    throw new Error(`@pkmn/sim: expected one base species for each of dex numbers ${GEN1_FIRST}..${GEN1_LAST}, found ${facts.length}: ${facts.map((f) => f.num).join(",")}`);
  }
  gen1Cache = facts;
  return facts;
}

/** Facts of one gen-1 species by national-dex number. */
export function pokemonFacts(num: number): PokemonFacts {
  const facts = gen1Facts()[num - GEN1_FIRST];
  if (!Number.isInteger(num) || !facts) throw new Error(`pokemonFacts: expected a gen-1 dex number ${GEN1_FIRST}..${GEN1_LAST}, found ${num}`);
  return facts;
}

/** The descriptive words of a prompt, without the name (these alone are distinct for all 151). */
export function describePokemon(facts: PokemonFacts): string[] {
  const words: string[] = [facts.color.toLowerCase(), sizeWord(facts.heightm)];
  for (const group of facts.eggGroups) {
    const word = EGG_GROUP_WORDS[group];
    if (word !== undefined && !words.includes(word)) words.push(word);
  }
  words.push(...facts.types);
  const build = buildWord(facts.heightm, facts.weightkg);
  if (build) words.push(build);
  const stats = facts.baseStats;
  const top = (Object.keys(stats) as StatName[]).reduce((best, stat) => (stats[stat] > stats[best] ? stat : best));
  words.push(TOP_STAT_WORDS[top]);
  words.push(evolutionWords(facts));
  if (facts.gender === "F") words.push("female");
  if (facts.gender === "M") words.push("male");
  if (facts.tags.some((t) => t.includes("Legendary"))) words.push("legendary");
  if (facts.tags.includes("Mythical")) words.push("mythical");
  return words;
}

/**
 * The training prompt: the visual description, then the pokédex words it does not already say, then
 * the name — "green, blue, frog, Grass, Poison, seed bulb on back, …, small, monster, mystic, first of
 * three stages, Bulbasaur" — so training's prompt variation (prompt-variants.ts) draws from both. The
 * pokédex colour is left out: it is a category (Charmander's is red), where the description's colours
 * are those of the art. Every prompt has at most 30 words, within the tiny encoder's 32 positions.
 */
export function pokemonPrompt(num: number): string {
  const facts = pokemonFacts(num);
  const description = promptParts(pokemonDescription(num));
  const said = new Set(description.map((part) => part.toLowerCase()));
  const colour = facts.color.toLowerCase();
  const attributes = describePokemon(facts).filter((word) => word !== colour && !said.has(word.toLowerCase()));
  return [...description, ...attributes, facts.name].join(", ");
}

/** The 151 prompts in dex order (index 0 is Bulbasaur). */
export function gen1Prompts(): string[] {
  return gen1Facts().map((f) => pokemonPrompt(f.num));
}
