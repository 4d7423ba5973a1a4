// Property: a step compiled for the CPU computes what the interpreter computes (float32 tolerance),
// for every primitive and composite, forward and backward, and for random composed graphs. All
// cases go into one compiled step, so the suite starts the C compiler once.

import { beforeAll, describe, expect, test } from "vitest";
import fc from "fast-check";
import { GRAD_CASES, type GradCase } from "../compiler/gradcheck-cases.ts";
import { backward } from "../compiler/autodiff.ts";
import { interpret, type HostArray } from "../compiler/interpret.ts";
import { isFloat } from "../compiler/dtype.ts";
import * as ops from "../compiler/ops.ts";
import { seededRandom } from "../compiler/gradcheck.ts";
import type { Tensor } from "../compiler/graph.ts";
import { compile, type TypedArray } from "../runtime/compile.ts";

/** Largest accepted |compiled − interpreted| / max(1, max |interpreted|) per output. */
const TOLERANCE = 2e-4;
const RUNS = Number(process.env.KILN_BACKEND_RUNS ?? 4);

interface Entry {
  family: string;
  c: GradCase;
  key: string;
}

const entries: Entry[] = GRAD_CASES.flatMap((family) =>
  fc.sample(family.arb, { numRuns: RUNS, seed: 7 }).map((c, i) => ({ family: family.name, c, key: `${family.name}_${i}` })),
);

/** The forward output and the gradients of sum(output · cotangent) for one case. */
function caseGraph(c: GradCase, xs: Tensor[], cotangent: Tensor): Tensor[] {
  const out = c.fn(...xs);
  const wrt = xs.filter((x) => isFloat(x.dtype));
  const loss = ops.sum(ops.mul(out, cotangent));
  return [out, ...backward(loss, wrt, ops.scalar(1, loss.dtype))];
}

let results: Record<string, TypedArray[]>;
const feeds = new Map<string, Record<string, HostArray>>();

beforeAll(() => {
  const example: Record<string, { shape: readonly number[]; dtype: HostArray["dtype"] }[]> = {};
  const values = new Map<string, unknown>();
  for (const { c, key } of entries) {
    const outShape = c.fn(...c.inputs.map((h, i) => ops.input(`probe${i}`, h.shape, h.dtype))).shape;
    const rand = seededRandom(key.length * 7919);
    const cot: HostArray = { shape: outShape, dtype: "f32", data: Float64Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1) };
    example[key] = [...c.inputs.map((h) => ({ shape: h.shape, dtype: h.dtype })), { shape: outShape, dtype: "f32" }];
    const caseFeeds: Record<string, HostArray> = {};
    [...c.inputs, cot].forEach((h, i) => {
      values.set(`${key}/${i}`, h);
      caseFeeds[`${key}/${i}`] = h;
    });
    feeds.set(key, caseFeeds);
  }
  const step = compile((tree) => {
    const t = tree as Record<string, Tensor[]>;
    const out: Record<string, Tensor[]> = {};
    for (const { c, key } of entries) {
      const xs = t[key]!;
      out[key] = caseGraph(c, xs.slice(0, -1), xs[xs.length - 1]!);
    }
    return out;
  }, example, { name: "equivalence" });
  results = step.run(values) as Record<string, TypedArray[]>;
  step.dispose();
}, 600_000);

describe("CPU backend agrees with the interpreter", () => {
  for (const { family, c, key } of entries) {
    test(`${family}: ${c.label} (forward and backward)`, () => {
      const xs = c.inputs.map((h, i) => ops.input(`${key}/${i}`, h.shape, h.dtype));
      const cot = ops.input(`${key}/${c.inputs.length}`, c.fn(...xs).shape, "f32");
      const expected = interpret(caseGraph(c, xs, cot), feeds.get(key)!, { precision: "native" }) as HostArray[];
      const got = results[key]!;
      expect(got.length).toBe(expected.length);
      expected.forEach((ref, o) => {
        const scale = Math.max(1, ...Array.from(ref.data, Math.abs));
        let worst = 0;
        ref.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[o]![i]! - v))));
        expect(worst / scale, `output ${o} (${o === 0 ? "forward" : `gradient of input ${o - 1}`})`).toBeLessThanOrEqual(TOLERANCE);
      });
    });
  }
});
