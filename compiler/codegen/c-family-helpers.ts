// The helper functions every C-family file starts with (kiln's Philox uniform, bf16/f16 rounding,
// NaN-propagating max), written once and printed in each language's syntax: C, CUDA C++ and WGSL
// differ only in the facts of a HelperSyntax (qualifiers, type names, multiply-high, bit casts).

import { PHILOX_CONSTANTS } from "../philox.ts";

export type HelperType = "f32" | "u32";
export type HelperParams = readonly (readonly [name: string, type: HelperType])[];
export type HelperDecls = readonly (readonly [name: string, value: string])[];

/** How a language writes the statements of the helpers. */
export interface HelperSyntax {
  /** A function's signature: `static inline float f(float x)`, `fn f(x: f32) -> f32`. */
  signature(ret: HelperType, name: string, params: HelperParams): string;
  /** Mutable u32 locals, in one declaration where the language allows it. */
  vars(decls: HelperDecls): string;
  /** Constants of one type, in one declaration where the language allows it. */
  lets(type: HelperType, decls: HelperDecls): string;
  /** The lines that open a loop of `count` iterations over `name` (an unroll pragma included), ending with `{`. */
  loop(name: string, count: number): string[];
  /** The high 32 bits of the 64-bit product of two u32 values. */
  mulhi(a: string, b: string): string;
  /** `cond ? a : b`, without parentheses around it. */
  select(cond: string, a: string, b: string): string;
  /** A u32 as the f32 of the same value. */
  toF32(text: string): string;
  /** An f32's bits as a u32, and back. */
  bitsOf(text: string): string;
  fromBits(text: string): string;
  /** The suffix of an f32 literal (`f` in C, none in WGSL). */
  floatSuffix: string;
}

/** The helper syntax of a C-style language: C's declarations and loops, with the target's qualifiers and type names. */
export function cStyleHelpers(facts: {
  readonly qualifiers: string;
  readonly types: Readonly<Record<HelperType, string>>;
  readonly unroll: readonly string[];
  readonly mulhi: (a: string, b: string) => string;
  readonly bitsOf: (text: string) => string;
  readonly fromBits: (text: string) => string;
}): HelperSyntax {
  const list = (decls: HelperDecls): string => decls.map(([name, value]) => `${name} = ${value}`).join(", ");
  return {
    signature: (ret, name, params) =>
      `${facts.qualifiers} ${facts.types[ret]} ${name}(${params.map(([p, type]) => `${facts.types[type]} ${p}`).join(", ")})`,
    vars: (decls) => `${facts.types.u32} ${list(decls)};`,
    lets: (type, decls) => `const ${facts.types[type]} ${list(decls)};`,
    loop: (name, count) => [...facts.unroll, `for (int ${name} = 0; ${name} < ${count}; ++${name}) {`],
    mulhi: facts.mulhi,
    select: (cond, a, b) => `${cond} ? ${a} : ${b}`,
    toF32: (text) => `(${facts.types.f32})(${text})`,
    bitsOf: facts.bitsOf,
    fromBits: facts.fromBits,
    floatSuffix: "f",
  };
}

/** A function whose body is one return statement, on one line. */
export const oneLineHelper = (x: HelperSyntax, ret: HelperType, name: string, params: HelperParams, value: string): string =>
  `${x.signature(ret, name, params)} { return ${value}; }`;

/** NaN-propagating max: the first operand's NaN wins (the semantics of every backend's max). */
export const maxfHelper = (x: HelperSyntax): string =>
  oneLineHelper(
    x,
    "f32",
    "kiln_maxf",
    [
      ["a", "f32"],
      ["b", "f32"],
    ],
    x.select("(a > b || a != a)", "a", "b"),
  );

/**
 * kiln_round_bf16 and kiln_round_f16: f32 → bf16/f16 (nearest even) → f32. `bf16` and `f16` are a
 * target's own conversion (a hardware instruction, a native type); without `bf16`, bf16 rounding is
 * done on the bits, NaN left as it is.
 */
export function roundingHelpers(x: HelperSyntax, own: { readonly bf16?: string; readonly f16: string }): string {
  const bf16 = own.bf16
    ? oneLineHelper(x, "f32", "kiln_round_bf16", [["x", "f32"]], own.bf16)
    : [
        `${x.signature("f32", "kiln_round_bf16", [["x", "f32"]])} {`,
        `  ${x.lets("u32", [["bits", x.bitsOf("x")]])}`,
        "  if ((bits & 0x7fffffffu) > 0x7f800000u) { return x; }",
        `  return ${x.fromBits("(bits + 0x7fffu + ((bits >> 16u) & 1u)) & 0xffff0000u")};`,
        "}",
      ].join("\n");
  return `${bf16}\n${oneLineHelper(x, "f32", "kiln_round_f16", [["x", "f32"]], own.f16)}`;
}

const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}u`;

/**
 * The ten rounds of Philox4x32-10 on counter words `c` (assignable names) with key words `k`, as in
 * compiler/philox.ts: each round multiplies c0 and c2, mixes the halves with c1, c3 and the key, and
 * bumps the key by the Weyl constants.
 */
export function philoxRounds(x: HelperSyntax, c: readonly [string, string, string, string], k: readonly [string, string]): string[] {
  const { M0, M1, W0, W1 } = PHILOX_CONSTANTS;
  return [
    ...x.loop("round", 10),
    `  ${x.lets("u32", [
      ["hi0", x.mulhi(hex(M0), c[0])],
      ["lo0", `${hex(M0)} * ${c[0]}`],
    ])}`,
    `  ${x.lets("u32", [
      ["hi1", x.mulhi(hex(M1), c[2])],
      ["lo1", `${hex(M1)} * ${c[2]}`],
    ])}`,
    `  ${c[0]} = hi1 ^ ${c[1]} ^ ${k[0]};`,
    `  ${c[1]} = lo1;`,
    `  ${c[2]} = hi0 ^ ${c[3]} ^ ${k[1]};`,
    `  ${c[3]} = lo0;`,
    `  ${k[0]} += ${hex(W0)};`,
    `  ${k[1]} += ${hex(W1)};`,
    "}",
  ];
}

/** kiln_philox(seed, offset, i): the uniform of element i of random node (seed, offset), compiler/philox.ts's definition. */
export function philoxHelper(x: HelperSyntax): string {
  const lane = (n: number): string => `(i & 3u) == ${n}u`;
  return [
    "// kiln's Philox4x32-10 uniform (compiler/philox.ts): key (seed, 0), counter (i >> 2, offset, 0, 0),",
    "// word i & 3, (bits >> 8) · 2^-24.",
    `${x.signature("f32", "kiln_philox", [
      ["seed", "u32"],
      ["offset", "u32"],
      ["i", "u32"],
    ])} {`,
    `  ${x.vars([
      ["c0", "i >> 2"],
      ["c1", "offset"],
      ["c2", "0u"],
      ["c3", "0u"],
      ["k0", "seed"],
      ["k1", "0u"],
    ])}`,
    ...philoxRounds(x, ["c0", "c1", "c2", "c3"], ["k0", "k1"]).map((line) => `  ${line}`),
    `  ${x.lets("u32", [["w", x.select(lane(0), "c0", x.select(lane(1), "c1", x.select(lane(2), "c2", "c3")))]])}`,
    `  return ${x.toF32("w >> 8")} * 5.9604644775390625e-8${x.floatSuffix};`,
    "}",
  ].join("\n");
}
