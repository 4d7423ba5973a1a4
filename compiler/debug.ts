// KILN_DEBUG levels (ARCHITECTURE.md §10): 1 kernels with time and rates, 2 adds generated source,
// 3 adds each IR stage as canonical text. Everything goes to stderr so stdout stays machine-readable.

export function debugLevel(): number {
  const raw = process.env.KILN_DEBUG;
  const level = raw === undefined || raw === "" ? 0 : Number(raw);
  return Number.isFinite(level) ? level : 0;
}

export function debugLog(level: number, message: string | (() => string)): void {
  if (debugLevel() >= level) process.stderr.write(`[kiln:${level}] ${typeof message === "function" ? message() : message}\n`);
}
