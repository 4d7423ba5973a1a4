// Algebraic properties of the op set, on random shapes and values: movement round trips, concat and
// shrink as inverses, softmax rows summing to one.

import { expect, test } from "vitest";
import fc from "fast-check";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import { evaluateTensor, hostArray } from "../compiler/interpret.ts";
import { seededRandom } from "../compiler/gradcheck.ts";
import { sizeOf } from "../compiler/graph.ts";

const shape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });
const valuesFor = (s: number[], seed: number) => {
  const rand = seededRandom(seed);
  return hostArray(s, () => rand() * 10 - 5);
};
const evalWith = (t: Parameters<typeof evaluateTensor>[0], x: ReturnType<typeof valuesFor>) => [...evaluateTensor(t, { x }).data];

test("reshape there and back is the identity", () => {
  fc.assert(
    fc.property(shape, fc.nat(), (s, seed) => {
      const x = ops.input("x", s);
      const v = valuesFor(s, seed);
      expect(evalWith(ops.reshape(ops.reshape(x, [sizeOf(s)]), s), v)).toEqual([...v.data]);
      expect(evalWith(ops.reshape(x, [...s].reverse()), v)).toEqual([...v.data]);
    }),
    { numRuns: 50 },
  );
});

test("permute by p then by p's inverse is the identity, and permute moves elements", () => {
  fc.assert(
    fc.property(
      shape.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length }))),
      fc.nat(),
      ([s, perm], seed) => {
        const x = ops.input("x", s);
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const v = valuesFor(s, seed);
        expect(evalWith(ops.permute(ops.permute(x, perm), inverse), v)).toEqual([...v.data]);
        // The first element never moves; the last element never moves either.
        const moved = evalWith(ops.permute(x, perm), v);
        expect(moved[0]).toBe(v.data[0]);
        expect(moved[moved.length - 1]).toBe(v.data[v.data.length - 1]);
      },
    ),
    { numRuns: 50 },
  );
});

test("shrink undoes concat, and concat of the shrunk pieces rebuilds the input", () => {
  fc.assert(
    fc.property(shape, fc.nat(), fc.nat(), (s, axisPick, seed) => {
      const axis = axisPick % s.length;
      const x = ops.input("x", s);
      const v = valuesFor(s, seed);
      const doubled = ops.concat([x, ops.neg(x)], axis);
      const back = ops.shrink(
        doubled,
        s.map((d, i) => [0, d] as const),
      );
      expect(evalWith(back, v)).toEqual([...v.data]);
      const cut = Math.floor(s[axis]! / 2);
      const pieces = [
        ops.shrink(
          x,
          s.map((d, i) => (i === axis ? ([0, cut] as const) : ([0, d] as const))),
        ),
        ops.shrink(
          x,
          s.map((d, i) => (i === axis ? ([cut, d] as const) : ([0, d] as const))),
        ),
      ];
      expect(
        evalWith(
          ops.concat(
            pieces.filter((p) => sizeOf(p.shape) > 0 || s.length > 0),
            axis,
          ),
          v,
        ),
      ).toEqual([...v.data]);
    }),
    { numRuns: 50 },
  );
});

test("pad then shrink by the same amounts is the identity", () => {
  fc.assert(
    fc.property(shape, fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 4, maxLength: 4 }), fc.nat(), (s, pads, seed) => {
      const p = s.map((_, i) => pads[i]!);
      const x = ops.input("x", s);
      const v = valuesFor(s, seed);
      const padded = ops.pad(x, p);
      expect(
        evalWith(
          ops.shrink(
            padded,
            s.map((d, i) => [p[i]![0], p[i]![0] + d] as const),
          ),
          v,
        ),
      ).toEqual([...v.data]);
      expect(evaluateTensor(ops.sum(padded), { x: v }).data[0]).toBeCloseTo(
        v.data.reduce((a, b) => a + b, 0),
        9,
      );
    }),
    { numRuns: 50 },
  );
});

test("softmax rows are positive and sum to 1", () => {
  fc.assert(
    fc.property(shape, fc.nat(), (s, seed) => {
      const x = ops.input("x", s);
      const v = valuesFor(s, seed);
      const rows = evaluateTensor(ops.sum(nn.softmax(ops.mul(x, 20), -1), -1), { x: v }).data;
      for (const r of rows) expect(r).toBeCloseTo(1, 12);
      for (const p of evaluateTensor(nn.softmax(x, -1), { x: v }).data) expect(p).toBeGreaterThan(0);
    }),
    { numRuns: 50 },
  );
});

test("dot is associative and distributes over add", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      fc.nat(),
      ([m, k, n, p], seed) => {
        const [a, b, c] = [ops.input("a", [m, k]), ops.input("b", [k, n]), ops.input("c", [n, p])];
        const feeds = { a: valuesFor([m, k], seed), b: valuesFor([k, n], seed + 1), c: valuesFor([n, p], seed + 2), b2: valuesFor([k, n], seed + 3) };
        const left = evaluateTensor(ops.dot(ops.dot(a, b), c), feeds).data;
        const right = evaluateTensor(ops.dot(a, ops.dot(b, c)), feeds).data;
        left.forEach((x, i) => expect(x).toBeCloseTo(right[i]!, 9));
        const b2 = ops.input("b2", [k, n]);
        const sum = evaluateTensor(ops.dot(a, ops.add(b, b2)), feeds).data;
        const split = evaluateTensor(ops.add(ops.dot(a, b), ops.dot(a, b2)), feeds).data;
        sum.forEach((x, i) => expect(x).toBeCloseTo(split[i]!, 9));
      },
    ),
    { numRuns: 40 },
  );
});
