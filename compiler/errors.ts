// Build-time errors: an ill-typed node throws at the line of model code that built it, naming the
// op, the operands' dtypes and shapes, and what would have fitted.

import { fileURLToPath } from "node:url";
import path from "node:path";
import { describe, type Tensor } from "./graph.ts";

const compilerDir = path.dirname(fileURLToPath(import.meta.url));

/** The first stack frame outside compiler/ — the user's `file:line:column` — or "unknown location". */
export function callerSite(): string {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  for (const line of stack) {
    const match = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!match) continue;
    const file = match[1]!.startsWith("file://") ? fileURLToPath(match[1]!) : match[1]!;
    if (file.startsWith(compilerDir + path.sep) || file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    return `${path.relative(process.cwd(), file) || file}:${match[2]}:${match[3]}`;
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
