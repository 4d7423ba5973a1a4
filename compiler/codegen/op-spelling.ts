// How C-family renderers spell L2's scalar operations: one table shared by the C, CUDA and WGSL
// renderers (through c-family.ts), with each target overriding only the entries it spells differently.

import type { BinaryOp, ScalarType, UnaryOp } from "../kernel-ir.ts";

export interface OpSpelling {
  unary: Record<UnaryOp, (a: string) => string>;
  binary: Record<BinaryOp, (a: string, b: string, type: ScalarType) => string>;
}

export const C_FAMILY: OpSpelling = {
  unary: {
    neg: (a) => `(-${a})`,
    exp2: (a) => `exp2f(${a})`,
    log2: (a) => `log2f(${a})`,
    sin: (a) => `sinf(${a})`,
    sqrt: (a) => `sqrtf(${a})`,
    recip: (a) => `(1.0f / ${a})`,
    round_bf16: (a) => `kiln_round_bf16(${a})`,
    round_f16: (a) => `kiln_round_f16(${a})`,
  },
  binary: {
    add: (a, b) => `(${a} + ${b})`,
    mul: (a, b) => `(${a} * ${b})`,
    idiv: (a, b) => `(${a} / ${b})`,
    mod: (a, b) => `(${a} % ${b})`,
    max: (a, b, type) => (type === "f32" ? `kiln_maxf(${a}, ${b})` : `max(${a}, ${b})`),
    min: (a, b) => `min(${a}, ${b})`,
    lt: (a, b) => `(${a} < ${b})`,
    eq: (a, b) => `(${a} == ${b})`,
    and: (a, b) => `(${a} && ${b})`,
  },
};

export const spelling = (overrides: { unary?: Partial<OpSpelling["unary"]>; binary?: Partial<OpSpelling["binary"]> }): OpSpelling => ({
  unary: { ...C_FAMILY.unary, ...overrides.unary },
  binary: { ...C_FAMILY.binary, ...overrides.binary },
});

/**
 * A scalar literal in a C-family language: integers truncated; floats rounded to f32 and printed with
 * 9 significant digits (enough to round-trip), NaN and infinities by the target's names for them.
 */
export function cFamilyLiteral(value: number, type: ScalarType, special: { readonly nan: string; readonly inf: string }): string {
  if (type !== "f32") return String(Math.trunc(value));
  if (Number.isNaN(value)) return special.nan;
  const f = Math.fround(value);
  if (f === Infinity) return special.inf;
  if (f === -Infinity) return `(-${special.inf})`;
  const text = f.toPrecision(9);
  return `${text.includes(".") || text.includes("e") ? text : text + ".0"}f`;
}
