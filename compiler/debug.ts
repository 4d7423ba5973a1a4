// KILN_DEBUG levels (ARCHITECTURE.md §10): 1 kernels with time and rates, 2 adds generated source,
// 3 adds each IR stage as canonical text. Everything goes to stderr so stdout stays machine-readable.

/** Node's process where there is one; a browser has none, and there KILN_DEBUG is unset and messages go to the console. */
const nodeProcess = (globalThis as { process?: { env: Record<string, string | undefined>; stderr: { write(text: string): void } } }).process;

export function debugLevel(): number {
  const raw = nodeProcess?.env.KILN_DEBUG;
  const level = raw === undefined || raw === "" ? 0 : Number(raw);
  return Number.isFinite(level) ? level : 0;
}

export function debugLog(level: number, message: string | (() => string)): void {
  if (debugLevel() < level) return;
  const line = `[kiln:${level}] ${typeof message === "function" ? message() : message}`;
  if (nodeProcess) nodeProcess.stderr.write(`${line}\n`);
  else console.error(line);
}
