// Prompt variation for training: a step shows an image's prompt as written, or as a random non-empty
// subset of its comma-separated parts in random order, so the model learns each part's meaning and
// follows partial and reordered prompts rather than only the exact training strings. Works for any
// data set whose prompts are comma-separated (the reference's style); a prompt without commas is one
// part and always comes back whole.

/** The prompt's comma-separated parts, trimmed, empty ones dropped. */
export function promptParts(prompt: string): string[] {
  return prompt
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

/**
 * One form of `prompt`, chosen by `draw(k)` (uniform in [0, 1) for k = 0, 1, 2, …; the caller makes
 * it a pure function of seed, step and lane, so a resumed run draws the same forms). With probability
 * 1 − variation (draw 0) the prompt as written; otherwise s parts, s uniform in 1..n (draw 1), taken
 * in the order of a uniform shuffle (partial Fisher–Yates, draws 2…) and joined with ", ".
 */
export function promptVariant(prompt: string, draw: (k: number) => number, variation: number): string {
  if (!(variation >= 0 && variation <= 1)) throw new Error(`promptVariant: expected a variation in [0, 1], found ${variation}`);
  if (variation === 0 || draw(0) >= variation) return prompt;
  const parts = promptParts(prompt);
  const n = parts.length;
  if (n <= 1) return prompt;
  const size = 1 + Math.min(n - 1, Math.floor(draw(1) * n));
  for (let i = 0; i < size; i++) {
    const j = i + Math.min(n - 1 - i, Math.floor(draw(2 + i) * (n - i)));
    [parts[i], parts[j]] = [parts[j]!, parts[i]!];
  }
  return parts.slice(0, size).join(", ");
}
