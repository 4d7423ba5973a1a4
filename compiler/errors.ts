// Build-time errors: an ill-typed node throws at the line of model code that built it, naming the
// op, the operands' dtypes and shapes, and what would have fitted.

import { describe, type Tensor } from "./graph.ts";

// Plain string work on paths and file URLs (no node:path or node:url): the compiler also runs in a browser bundle.
const compilerDir = new URL(".", import.meta.url).pathname;
const cwd = (): string => (globalThis as { process?: { cwd(): string } }).process?.cwd() ?? "";

/** The first stack frame outside compiler/ — the user's `file:line:column` — or "unknown location". */
export function callerSite(): string {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  for (const line of stack) {
    const match = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!match) continue;
    const file = match[1]!.startsWith("file://") ? decodeURIComponent(new URL(match[1]!).pathname) : match[1]!;
    if (file.startsWith(decodeURIComponent(compilerDir)) || file.includes("/node_modules/")) continue;
    const here = cwd();
    return `${here && file.startsWith(`${here}/`) ? file.slice(here.length + 1) : file}:${match[2]}:${match[3]}`;
  }
  return "unknown location";
}

export class GraphError extends Error {
  constructor(
    readonly op: string,
    readonly problem: string,
    readonly operands: readonly Tensor[],
    readonly expected: string,
    readonly site: string = callerSite(),
  ) {
    const given = operands.length ? ` Operands: ${operands.map(describe).join(", ")}.` : "";
    super(`${op}: ${problem}.${given} Expected: ${expected}. (at ${site})`);
    this.name = "GraphError";
  }
}

export function check(condition: boolean, op: string, problem: () => string, operands: readonly Tensor[], expected: string): asserts condition {
  if (!condition) throw new GraphError(op, problem(), operands, expected);
}
