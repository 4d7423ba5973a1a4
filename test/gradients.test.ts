// Property: for every primitive and composite, and for random composed graphs, kiln's autodiff
// equals central finite differences in float64 (the interpreter), on random shapes and values.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { GRAD_CASES } from "../compiler/gradcheck-cases.ts";
import { gradcheck } from "../compiler/gradcheck.ts";
import { OPS } from "../compiler/graph.ts";

/** Relative error accepted between autodiff and central differences (h = 1e-6·max(1,|x|), float64). */
const TOLERANCE = 1e-5;
const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 15);

describe("gradients match central finite differences", () => {
  for (const family of GRAD_CASES) {
    test(`grad of ${family.name} (${family.kind}) matches finite differences for random shapes and values`, () => {
      fc.assert(
        fc.property(family.arb, (c) => {
          const result = gradcheck(c.fn, c.inputs, { tolerance: TOLERANCE });
          if (!result.passed) throw new Error(`${c.label}: max relative error ${result.maxRelErr} (worst ${JSON.stringify(result.worst)})`);
        }),
        { numRuns: family.kind === "graph" ? RUNS * 3 : RUNS, seed: 20261126 },
      );
    });
  }
});

test("every primitive in the op table has a gradient property", () => {
  const covered = new Set(GRAD_CASES.filter((f) => f.kind === "primitive").flatMap((f) => f.covers));
  const missing = OPS.filter((op) => !covered.has(op));
  expect(missing).toEqual([]);
});

test("gradcheck fails a wrong gradient (the check can fail)", () => {
  // A custom VJP that is off by a factor of 2 must be caught.
  const result = gradcheck(
    (x) => ops.call("double_wrong", (a) => ops.mul(a, a), [x], { vjp: (args, _o, ct) => [ops.mul(ct, ops.mul(args[0]!, 4))] }),
    [hostArray([3], [0.5, -1.2, 2])],
  );
  expect(result.passed).toBe(false);
  expect(result.maxRelErr).toBeGreaterThan(0.3);
});

import * as ops from "../compiler/ops.ts";
import { hostArray } from "../compiler/interpret.ts";
