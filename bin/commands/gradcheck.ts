// `kiln gradcheck`: the property-based gradient checks as a user-facing report — for every
// primitive and composite, random cases checked against central finite differences in float64.

import fc from "fast-check";
import { GRAD_CASES, gradcheck } from "../../compiler/index.ts";
import type { Command } from "../command.ts";
import { parseFlags, SEED_FLAG, type FlagSpecs } from "../flags.ts";

const FLAGS = {
  runs: { kind: "int", min: 1 },
  seed: SEED_FLAG,
  tolerance: { kind: "number", above: 0 },
  json: { kind: "switch" },
} as const satisfies FlagSpecs;

interface OpReport {
  name: string;
  kind: string;
  cases: number;
  maxRelErr: number;
  passed: boolean;
  failure?: string;
}

const command: Command = {
  summary: "check every op's gradient against finite differences (random shapes and values)",
  usage: "kiln gradcheck [--runs N] [--seed S] [--tolerance T] [--json]",
  async run(argv) {
    const { flags } = parseFlags("gradcheck", argv, FLAGS);
    const runs = flags.runs ?? 20;
    const seed = flags.seed ?? 1;
    const tolerance = flags.tolerance ?? 1e-5;
    const json = flags.json;
    const started = performance.now();
    const reports: OpReport[] = [];
    for (const family of GRAD_CASES) {
      const report: OpReport = { name: family.name, kind: family.kind, cases: 0, maxRelErr: 0, passed: true };
      for (const c of fc.sample(family.arb, { numRuns: runs, seed: seed + reports.length })) {
        let result;
        try {
          result = gradcheck(c.fn, c.inputs, { tolerance });
        } catch (error) {
          report.passed = false;
          report.failure = `${c.label}: ${(error as Error).message}`;
          break;
        }
        report.cases++;
        report.maxRelErr = Math.max(report.maxRelErr, result.maxRelErr);
        if (!result.passed && report.passed) {
          report.passed = false;
          report.failure = `${c.label}: relative error ${result.maxRelErr.toExponential(2)}`;
        }
      }
      reports.push(report);
      if (!json) process.stderr.write(`\r${reports.length}/${GRAD_CASES.length} ${family.name}`.padEnd(40));
    }
    const failed = reports.filter((r) => !r.passed);
    if (json) console.log(JSON.stringify({ ops: reports.map(({ name, cases, maxRelErr, passed }) => ({ name, cases, maxRelErr, passed })) }));
    else {
      process.stderr.write("\r".padEnd(42) + "\r");
      console.log(`${"op".padEnd(18)}${"kind".padEnd(11)}${"cases".padStart(6)}  ${"worst rel err".padStart(13)}  result`);
      for (const r of reports)
        console.log(
          `${r.name.padEnd(18)}${r.kind.padEnd(11)}${String(r.cases).padStart(6)}  ${r.maxRelErr.toExponential(2).padStart(13)}  ${r.passed ? "pass" : "FAIL  " + r.failure}`,
        );
      const total = reports.reduce((s, r) => s + r.cases, 0);
      console.log(
        `\n${reports.length} ops, ${total} cases, tolerance ${tolerance}, ${failed.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    return failed.length ? 1 : 0;
  },
};

export default command;
