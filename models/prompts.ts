// Prompts to token ids for a text encoder: Qwen3 gets the chat template, right-padded to 128 with
// id 151643 (spec §6.3–6.5); the tiny encoder gets the prompt's own tokens padded to its length.

import { bundledTokenizer, padOrTruncate, tokenizePrompt, type TextTokenizer } from "./text/tokenizer.ts";
import type { TextEncoder } from "./encoders.ts";

export interface PromptIds {
  /** The encoder's input ids (table slots for the tiny encoder). */
  ids: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  mask: Int32Array;
}

export function promptIds(text: TextEncoder, prompt: string, tokenizer: TextTokenizer = bundledTokenizer()): PromptIds {
  const tokens = text.name === "qwen3" ? tokenizePrompt(prompt, text.maxLength, tokenizer) : padOrTruncate(tokenizer.encode(prompt), text.maxLength);
  return { ids: text.inputIds(tokens.ids), mask: Int32Array.from(tokens.mask) };
}

/** Several prompts stacked as [n, L] arrays. */
export function promptBatch(text: TextEncoder, prompts: readonly string[], tokenizer?: TextTokenizer): PromptIds {
  const L = text.maxLength;
  const ids = new Int32Array(prompts.length * L);
  const mask = new Int32Array(prompts.length * L);
  prompts.forEach((p, i) => {
    const one = promptIds(text, p, tokenizer);
    ids.set(one.ids, i * L);
    mask.set(one.mask, i * L);
  });
  return { ids, mask };
}
