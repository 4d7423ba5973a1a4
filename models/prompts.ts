// Several prompts as one batch of text-encoder inputs: each encoder turns a prompt into its own ids
// (TextEncoder.promptIds: Qwen3's templated tokens, or the tiny encoder's hashed word features).

import type { PromptIds, TextEncoder } from "./encoders.ts";
import type { TextTokenizer } from "./text/tokenizer.ts";

/** Several prompts stacked as ids [n, ...idsShape] and mask [n, maxLength]. */
export function promptBatch(text: TextEncoder, prompts: readonly string[], tokenizer?: TextTokenizer): PromptIds {
  const idsSize = text.idsShape.reduce((a, b) => a * b, 1);
  const L = text.maxLength;
  const ids = new Int32Array(prompts.length * idsSize);
  const mask = new Int32Array(prompts.length * L);
  prompts.forEach((p, i) => {
    const one = text.promptIds(p, tokenizer);
    ids.set(one.ids, i * idsSize);
    mask.set(one.mask, i * L);
  });
  return { ids, mask };
}
