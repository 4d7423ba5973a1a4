// Property: index simplification never changes the value of an index expression, for random
// expressions built like the ones movement ops produce (sums, products, divisions and moduli of
// loop variables) and random variable values within their extents; and it removes the div/mod
// chains of reshape round trips.

import { expect, test } from "vitest";
import fc from "fast-check";
import { evalIndex, iconst, loopVar, simplifyIndex, usesDivMod, exprKey, type Expr } from "../compiler/kernel-ir.ts";

const vars = [loopVar("i", 7), loopVar("j", 5), loopVar("k", 12)];
const bin = (fn: "add" | "mul" | "idiv" | "mod", a: Expr, b: Expr): Expr => ({ op: "binary", fn, a, b, type: "i32" });

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...vars),
    fc.integer({ min: 0, max: 9 }).map(iconst),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => bin("add", a, b)),
    fc.tuple(tie("e"), fc.integer({ min: 0, max: 6 })).map(([a, c]) => bin("mul", a, iconst(c))),
    fc.tuple(tie("e"), fc.integer({ min: 1, max: 8 })).map(([a, c]) => bin("idiv", a, iconst(c))),
    fc.tuple(tie("e"), fc.integer({ min: 1, max: 8 })).map(([a, c]) => bin("mod", a, iconst(c))),
  ),
})).e;

test("simplification preserves the value of random index expressions for all in-range variables", () => {
  fc.assert(
    fc.property(exprArb, fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 11 }), (e, i, j, k) => {
      const env = { i, j, k };
      expect(evalIndex(simplifyIndex(e), env)).toBe(evalIndex(e, env));
    }),
    { numRuns: 3000 },
  );
});

test("simplification preserves values with negative offsets (as padding produces)", () => {
  fc.assert(
    fc.property(
      exprArb,
      fc.integer({ min: -5, max: 0 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 11 }),
      (e, offset, d, i, j, k) => {
        const env = { i, j, k };
        for (const fn of ["idiv", "mod"] as const) {
          const shifted = bin(fn, bin("add", e, iconst(offset)), iconst(d));
          expect(evalIndex(simplifyIndex(shifted), env)).toBe(evalIndex(shifted, env));
        }
      },
    ),
    { numRuns: 1000 },
  );
});

test("a reshape split then merge collapses to the loop variable", () => {
  const v = loopVar("v", 60);
  // [60] -> [5, 12] -> [60]: (v div 12)·12 + v mod 12
  const merged = bin("add", bin("mul", bin("idiv", v, iconst(12)), iconst(12)), bin("mod", v, iconst(12)));
  expect(exprKey(simplifyIndex(merged))).toBe("v");
  // Index of element (i, j) of a [7, 5] view, flattened then split again: ((i·5 + j) div 5, (i·5 + j) mod 5)
  const flat = bin("add", bin("mul", vars[0]!, iconst(5)), vars[1]!);
  expect(exprKey(simplifyIndex(bin("idiv", flat, iconst(5))))).toBe("i");
  expect(exprKey(simplifyIndex(bin("mod", flat, iconst(5))))).toBe("j");
  expect(usesDivMod(simplifyIndex(bin("idiv", flat, iconst(5))), "i")).toBe(false);
});
