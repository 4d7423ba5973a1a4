// Property: index simplification never changes the value of an index expression, for random
// expressions built like the ones movement ops produce (sums, products, divisions and moduli of
// loop variables) and random variable values within their extents; and it removes the div/mod
// chains of reshape round trips.

import { expect, test } from "vitest";
import fc from "fast-check";
import { evalIndex, iconst, loopVar, simplifyIndex, usesDivMod, exprKey, type Expr } from "../compiler/kernel-ir.ts";
import { viewIndex } from "../compiler/lower-expr.ts";
import * as ops from "../compiler/ops.ts";

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

test("a reshape reads each group of axes through its own flat index: the same element as the whole flat index, and a shift along one merged axis stays a sum", () => {
  // Random pairs of shapes of one size, and every element of the output: the element read is the
  // one the whole row-major flat position names.
  const shapeOf = (factors: number[], cuts: boolean[]): number[] => {
    const shape: number[] = [];
    factors.forEach((f, k) => (k > 0 && cuts[k] ? shape.push(f) : shape.length ? (shape[shape.length - 1]! *= f) : shape.push(f)));
    return shape;
  };
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      (factors, cutsIn, cutsOut) => {
        const inShape = shapeOf(factors, cutsIn);
        const outShape = shapeOf(factors, cutsOut);
        const y = ops.reshape(ops.input("x", inShape), outShape);
        if (y.op !== "reshape") return; // the same shape: no view at all
        const index = outShape.map((d, k) => loopVar(`o${k}`, d));
        const read = viewIndex(y, index);
        const size = outShape.reduce((a, b) => a * b, 1);
        for (let flat = 0; flat < size; flat++) {
          const env: Record<string, number> = {};
          let rest = flat;
          for (let k = outShape.length - 1; k >= 0; k--) {
            env[`o${k}`] = rest % outShape[k]!;
            rest = Math.floor(rest / outShape[k]!);
          }
          const got = read.reduce((acc, e, k) => acc * inShape[k]! + evalIndex(e, env), 0);
          expect(got).toBe(flat);
        }
      },
    ),
    { numRuns: 300 },
  );
  // conv2d's columns [n, c·9, h·w] read as [n, c, 9, h, w] at a window shifted by one row and column
  // (what the gradient of its input does): a sum of the loop variables, no division or remainder.
  const columns = ops.reshape(ops.input("columns", [2, 4 * 9, 8 * 8]), [2, 4, 9, 8, 8]);
  const [n, c, t, y, x] = [loopVar("n", 2), loopVar("c", 4), loopVar("t", 9), loopVar("y", 8), loopVar("x", 8)];
  const shifted = viewIndex(columns, [n, c, t, bin("add", y, iconst(-1)), bin("add", x, iconst(-1))]);
  for (const e of shifted) for (const name of ["n", "c", "t", "y", "x"]) expect(usesDivMod(e, name)).toBe(false);
});
