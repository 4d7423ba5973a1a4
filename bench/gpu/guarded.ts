// The GPU parts' shared way of running: each piece of work is a guarded step. A failure is recorded
// in the part's report and the run goes on; past the deadline steps are skipped (and listed); the
// report file is rewritten after every step, so a run cut off by the machine's time limit still
// leaves what it measured.
import { writeFileSync } from "node:fs";

export interface GuardedReport {
  failures: { step: string; error: string }[];
  skipped: string[];
}

export type GuardedStep = <T>(name: string, work: () => T | Promise<T>) => Promise<T | undefined>;

export function guardedSteps(report: GuardedReport, file: string, deadline: number): { step: GuardedStep; save: () => void } {
  const save = () => writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const step: GuardedStep = async (name, work) => {
    if (Date.now() > deadline) {
      report.skipped.push(name);
      console.log(`  skip  ${name} (time budget)`);
      return undefined;
    }
    const started = Date.now();
    try {
      const result = await work();
      console.log(`  ok    ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      report.failures.push({ step: name, error: message });
      console.log(`  FAIL  ${name}: ${message.split("\n").slice(0, 6).join("\n        ")}`);
      return undefined;
    } finally {
      save();
    }
  };
  return { step, save };
}
