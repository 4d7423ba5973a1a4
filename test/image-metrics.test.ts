// What evaluation reports about the pictures (models/image-metrics.ts, models/eval.ts), on hand-built
// images whose answers are worked out here: PSNR of an image off by a known constant, the speckle of
// known specks on a white background, nearest images, and the starter prompts' family hit rate.

import { describe, expect, test } from "vitest";
import { backgroundSpeckle, downscale, meanOfDefined, nearestReference, psnr } from "../models/image-metrics.ts";
import { familyHits, recallAtOne, starterFamilyImages } from "../models/eval.ts";
import { pokemonImageName } from "../models/data/pokemon.ts";
import { STARTER_FAMILIES, SEED_PROMPTS } from "../models/tutorial-prompts.ts";

/** A size×size RGB image filled with one colour. */
const filled = (size: number, rgb: readonly [number, number, number]): Uint8Array => {
  const image = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) image.set(rgb, p * 3);
  return image;
};
const paint = (image: Uint8Array, size: number, x: number, y: number, side: number, rgb: readonly [number, number, number]): void => {
  for (let dy = 0; dy < side; dy++) for (let dx = 0; dx < side; dx++) image.set(rgb, ((y + dy) * size + x + dx) * 3);
};

describe("PSNR", () => {
  test("an image off by a constant 51/255 = 0.2 everywhere has MSE 0.04, so 10·log10(25) ≈ 13.98 dB", () => {
    const reference = filled(8, [100, 20, 180]);
    const sample = filled(8, [151, 71, 231]);
    expect(psnr(sample, reference)).toBeCloseTo(10 * Math.log10(1 / 0.04), 10);
    // The sign of the difference does not matter.
    expect(psnr(reference, sample)).toBeCloseTo(13.9794, 3);
  });

  test("an error on half the pixels halves the MSE: 3 dB more", () => {
    const reference = filled(8, [0, 0, 0]);
    const sample = filled(8, [0, 0, 0]);
    paint(sample, 8, 0, 0, 8, [51, 51, 51]);
    for (let y = 4; y < 8; y++) for (let x = 0; x < 8; x++) sample.set([0, 0, 0], (y * 8 + x) * 3);
    // Half the pixels off by 0.2 in every channel: MSE = 0.5 · 0.04 = 0.02.
    expect(psnr(sample, reference)).toBeCloseTo(10 * Math.log10(1 / 0.02), 10);
  });

  test("equal images have an infinite PSNR; images of different sizes are refused", () => {
    expect(psnr(filled(4, [1, 2, 3]), filled(4, [1, 2, 3]))).toBe(Infinity);
    expect(() => psnr(filled(4, [0, 0, 0]), filled(8, [0, 0, 0]))).toThrow(/same size, got 48 and 192 bytes/);
  });
});

describe("background speckle", () => {
  // The reference: 8×8 white with a 2×2 creature (not white) in a corner, so 60 white pixels.
  const reference = filled(8, [255, 255, 255]);
  paint(reference, 8, 0, 0, 2, [200, 30, 30]);

  test("a clean white background has no speckle, whatever the creature's pixels are", () => {
    const sample = filled(8, [255, 255, 255]);
    paint(sample, 8, 0, 0, 2, [0, 0, 0]);
    expect(backgroundSpeckle(sample, reference)).toBe(0);
  });

  test("3 one-pixel magenta specks (one channel off by 1) on 60 white pixels: 3 / (3·60) = 1/60", () => {
    const sample = filled(8, [255, 255, 255]);
    for (const [x, y] of [
      [5, 5],
      [7, 0],
      [3, 6],
    ] as const)
      paint(sample, 8, x, y, 1, [255, 0, 255]);
    expect(backgroundSpeckle(sample, reference)).toBeCloseTo(1 / 60, 12);
  });

  test("2 specks of 2×2 pixels, grey 204 (0.2 off in each channel): 2·4·3·0.2 / (3·60) = 0.4/15", () => {
    const sample = filled(8, [255, 255, 255]);
    paint(sample, 8, 4, 4, 2, [204, 204, 204]);
    paint(sample, 8, 6, 0, 2, [204, 204, 204]);
    // A speck over the creature is not background: it does not count.
    paint(sample, 8, 0, 0, 2, [204, 204, 204]);
    expect(backgroundSpeckle(sample, reference)).toBeCloseTo((2 * 4 * 3 * 0.2) / (3 * 60), 12);
  });

  test("a reference without a pure white pixel has no background; the mean skips it", () => {
    expect(backgroundSpeckle(filled(4, [0, 0, 0]), filled(4, [254, 255, 255]))).toBeUndefined();
    expect(meanOfDefined([0.1, undefined, 0.3])).toBeCloseTo(0.2, 12);
    expect(meanOfDefined([undefined])).toBeUndefined();
  });
});

describe("nearest training image and recall@1", () => {
  test("downscaling averages blocks, and the nearest reference is the one at the smallest RMS distance", () => {
    const image = filled(4, [255, 255, 255]);
    paint(image, 4, 0, 0, 2, [0, 0, 0]);
    const small = downscale(image, 4, 4, 2);
    expect(Array.from(small)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const references = [Float32Array.from(small, () => 1), Float32Array.from(small, (v) => v * 0.9), Float32Array.from(small, () => 0)];
    expect(nearestReference(small, references)).toBe(1);
  });

  test("recall@1 counts the images whose nearest reference is their own", () => {
    const references = [Float32Array.of(0, 0), Float32Array.of(1, 0), Float32Array.of(0, 1)];
    // Image 0 is nearest to 0, image 1 nearest to 2 (a miss), image 2 nearest to 2.
    const generated = [Float32Array.of(0.1, 0), Float32Array.of(0.2, 0.9), Float32Array.of(0, 0.8)];
    const result = recallAtOne(generated, references);
    expect(result.recall_at_1).toBeCloseTo(2 / 3, 12);
    expect(result.n).toBe(3);
    // Mean distance to the own image: RMS over 2 values of (0.1, 0), (0.8, 0.9), (0, 0.2).
    const rms = (a: number, b: number) => Math.sqrt((a * a + b * b) / 2);
    expect(result.mean_distance).toBeCloseTo((rms(0.1, 0) + rms(0.8, 0.9) + rms(0, 0.2)) / 3, 6);
  });
});

describe("the starter prompts' family hit rate", () => {
  test("the starter families are the seed's first three prompts, dex 1–3, 4–6 and 7–9", () => {
    expect(STARTER_FAMILIES.map((f) => f.prompt)).toEqual(SEED_PROMPTS.slice(0, 3).map((p) => p.prompt));
    expect(STARTER_FAMILIES.map((f) => f.dex)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });

  test("training images are identified by the Pokémon data set's file names; another data set is skipped, naming what is missing", () => {
    const files = ["images/025-pikachu.png", ...Array.from({ length: 9 }, (_, i) => `images/${pokemonImageName(9 - i)}`)];
    const found = starterFamilyImages(files);
    expect(found).toBeInstanceOf(Map);
    // Index 1 holds #9, index 9 holds #1; Pikachu (index 0) is no starter.
    expect((found as Map<number, number>).get(1)).toBe(9);
    expect((found as Map<number, number>).get(9)).toBe(1);
    expect((found as Map<number, number>).has(0)).toBe(false);
    const shapes = starterFamilyImages(["0.png", "1.png", "2.png"]);
    expect(shapes).toEqual({
      skipped: expect.stringMatching(/not the Pokémon one: no training image is named 001-bulbasaur\.png, .*009-blastoise\.png/),
    });
  });

  test("a hit is a sample whose nearest training image belongs to the prompt's family; rates per prompt and overall", () => {
    const files = ["001-bulbasaur.png", "002-ivysaur.png", "004-charmander.png", "007-squirtle.png", "025-pikachu.png"];
    const dex = new Map([
      [0, 1],
      [1, 2],
      [2, 4],
      [3, 7],
    ]);
    // Bulbasaur's prompt: nearest Ivysaur, Bulbasaur, Charmander, Pikachu → 2 of 4. Charmander's: all Charmander → 4.
    // Squirtle's: Bulbasaur ×3 and Squirtle → 1.
    const nearest = [
      [1, 0, 2, 4],
      [2, 2, 2, 2],
      [0, 0, 0, 3],
    ];
    const result = familyHits(STARTER_FAMILIES, nearest, files, dex);
    expect(result.prompts.map((p) => [p.family, p.hits, p.hit_rate])).toEqual([
      ["Bulbasaur", 2, 0.5],
      ["Charmander", 4, 1],
      ["Squirtle", 1, 0.25],
    ]);
    expect(result).toMatchObject({ seeds: 4, hits: 7, samples: 12, hit_rate: 7 / 12 });
    expect(result.prompts[0]!.nearest).toEqual(["002-ivysaur.png", "001-bulbasaur.png", "004-charmander.png", "025-pikachu.png"]);
  });
});
