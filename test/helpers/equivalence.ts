// One describe block per device for the equivalence suite (runtime/equivalence.ts): every family of
// GRAD_CASES, forward and backward, compiled as one step on the device and compared with the interpreter.
import { beforeAll, describe, expect, test } from "vitest";
import { GRAD_CASES } from "../../compiler/gradcheck-cases.ts";
import { gradCaseEquivalence, type CaseResult } from "../../runtime/equivalence.ts";
import type { Device } from "../../runtime/index.ts";

export const EQUIVALENCE_RUNS = Number(process.env.KILN_BACKEND_RUNS ?? 4);

export function describeEquivalence(device: Device, runs = EQUIVALENCE_RUNS): void {
  describe(`the ${device.name} device agrees with the interpreter`, () => {
    let results: CaseResult[] = [];
    beforeAll(() => {
      results = gradCaseEquivalence(device, { runs, name: `equivalence_${device.name.replaceAll("-", "_")}` }).cases;
    }, 600_000);
    for (const family of GRAD_CASES) {
      test(`${family.name}: ${runs} cases, forward and backward`, () => {
        const cases = results.filter((r) => r.family === family.name);
        expect(cases.length).toBe(runs);
        const failures = cases.filter((r) => !r.ok).map((r) => `${r.label}: ${r.errors.map((e) => e.toExponential(1)).join(" ")}`);
        expect(failures).toEqual([]);
      });
    }
  });
}
