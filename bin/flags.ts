// Strict command-line flags for every `kiln` command: each command declares its flags as data (kind,
// range), and parseFlags checks the whole command line — unknown flags (with the nearest valid one),
// missing or repeated values, integers, finite numbers, ranges — before the command does any work.
// Tokenising is node:util's parseArgs; the checks and the messages are ours.

import { parseArgs } from "node:util";
import { nearestName } from "../runtime/index.ts";

export type FlagSpec =
  | { kind: "switch"; help?: string }
  /** Any non-empty text (a path, a name); `empty: true` also allows "". */
  | { kind: "text"; empty?: boolean }
  | { kind: "int"; min: number; max?: number }
  /** A finite number; `above` is an exclusive lower bound. */
  | { kind: "number"; min?: number; above?: number; max?: number }
  | { kind: "choice"; values: readonly string[] };

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S extends { kind: "switch" }
  ? boolean
  : S extends { kind: "int" | "number" }
    ? number | undefined
    : string | undefined;
export type Flags<S extends FlagSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Seeds are 32-bit everywhere (Philox keys, MT19937 as torch.manual_seed uses it): larger ones would wrap silently. */
export const SEED_FLAG = { kind: "int", min: 0, max: 2 ** 32 - 1 } as const satisfies FlagSpec;

/** How many positional arguments a command takes, and what they are called in messages. */
export interface Positionals {
  min?: number;
  max?: number;
  name?: string;
}

/** A usage error: main.ts prints it and exits with status 2. */
export function usageError(message: string): Error {
  return Object.assign(new Error(message), { exitCode: 2 });
}

// Decimal numbers only: no hex, no "Infinity", no "" (which Number() reads as 0).
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function rangeText(spec: { min?: number; above?: number; max?: number }): string {
  if (spec.above === undefined && spec.min !== undefined && spec.max !== undefined) return `from ${spec.min} to ${spec.max}`;
  const low = spec.above !== undefined ? `> ${spec.above}` : spec.min !== undefined ? `≥ ${spec.min}` : "";
  const high = spec.max !== undefined ? `≤ ${spec.max}` : "";
  return [low, high].filter(Boolean).join(" and ");
}

function checkValue(flag: string, spec: Exclude<FlagSpec, { kind: "switch" }>, raw: string): string | number {
  const bad = (expected: string) => usageError(`--${flag} ${JSON.stringify(raw)}: expected ${expected}`);
  switch (spec.kind) {
    case "text":
      if (!spec.empty && raw.trim() === "") throw bad("a non-empty value");
      return raw;
    case "choice":
      if (!spec.values.includes(raw)) throw bad(`one of ${spec.values.join(", ")}`);
      return raw;
    case "int": {
      const value = NUMBER.test(raw.trim()) ? Number(raw) : Number.NaN;
      const range = rangeText(spec);
      if (!Number.isSafeInteger(value) || value < spec.min || (spec.max !== undefined && value > spec.max)) throw bad(`an integer ${range}`);
      return value;
    }
    case "number": {
      const value = NUMBER.test(raw.trim()) ? Number(raw) : Number.NaN;
      const range = rangeText(spec);
      const inRange =
        (spec.min === undefined || value >= spec.min) &&
        (spec.above === undefined || value > spec.above) &&
        (spec.max === undefined || value <= spec.max);
      if (!Number.isFinite(value) || !inRange) throw bad(`a finite number${range ? ` ${range}` : ""}`);
      return value;
    }
    default:
      return spec satisfies never;
  }
}

/**
 * Parses `argv` against `specs`: `--flag value`, `--flag=value`, bare `--switch`, positionals, `--`.
 * Throws a usage error naming the flag, the value and what is allowed.
 */
export function parseFlags<S extends FlagSpecs>(
  command: string,
  argv: readonly string[],
  specs: S,
  positionals: Positionals = { max: 0 },
): { flags: Flags<S>; positional: string[] } {
  const names = Object.keys(specs);
  const options = Object.fromEntries(
    names.map((name) => [name, { type: specs[name]!.kind === "switch" ? ("boolean" as const) : ("string" as const) }]),
  );
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string | number | boolean>();
  const positional: string[] = [];
  const valid = names.map((n) => `--${n}`).join(", ");
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      positional.push(token.value);
      continue;
    }
    const spec = specs[token.name];
    if (!spec || !token.rawName.startsWith("--")) {
      const near = nearestName(token.name, names);
      throw usageError(`unknown flag ${token.rawName}${near ? ` (did you mean --${near}?)` : ""}; kiln ${command} takes ${valid || "no flags"}`);
    }
    if (values.has(token.name)) throw usageError(`--${token.name} is given twice; give it once`);
    if (spec.kind === "switch") {
      if (token.value !== undefined) throw usageError(`--${token.name} is a switch and takes no value (found --${token.name}=${token.value})`);
      values.set(token.name, true);
      continue;
    }
    const raw = token.value;
    if (raw === undefined) throw usageError(`--${token.name} needs a value`);
    // parseArgs takes the next word as the value even when it is another flag ("--steps --batch 4").
    if (!token.inlineValue && raw.startsWith("--")) throw usageError(`--${token.name} needs a value, found the flag ${raw} after it`);
    values.set(token.name, checkValue(token.name, spec, raw));
  }
  const { min = 0, max = Number.POSITIVE_INFINITY, name = "argument" } = positionals;
  if (positional.length > max) {
    const extra = positional.slice(max);
    const looksLikeValue = extra.find((p) => NUMBER.test(p));
    throw usageError(
      `unexpected ${max === 0 ? "argument" : "extra argument"} '${extra[0]}'${looksLikeValue !== undefined ? " (a value without its --flag?)" : ""}`,
    );
  }
  if (positional.length < min) throw usageError(`expected ${min === 1 ? `a ${name}` : `${min} ${name}s`}`);
  const flags = Object.fromEntries(names.map((n) => [n, values.get(n) ?? (specs[n]!.kind === "switch" ? false : undefined)])) as Flags<S>;
  return { flags, positional };
}
