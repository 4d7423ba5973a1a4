// `train-log.jsonl`: one JSON line per optimizer step. A resumed run continues the log from its
// checkpoint's step — the lines of steps after it (trained, then lost to a kill) are dropped, so each
// step appears once — and the loss plot is drawn from the whole log, not only the resumed part.

import { existsSync, readFileSync } from "node:fs";
import { writeAtomic } from "../runtime/index.ts";

export interface LogEntry {
  step: number;
  loss: number;
  [key: string]: unknown;
}

/** The log's entries in file order; lines that do not parse (a line cut by a kill) are skipped. */
export function readTrainLog(file: string): LogEntry[] {
  if (!existsSync(file)) return [];
  const entries: LogEntry[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as Partial<LogEntry>;
      if (typeof entry.step === "number" && typeof entry.loss === "number") entries.push(entry as LogEntry);
    } catch {
      // A partial last line.
    }
  }
  return entries;
}

/** Rewrites the log to hold each step up to `step` once (its latest line), in step order. */
export function truncateTrainLog(file: string, step: number): void {
  const byStep = new Map<number, LogEntry>();
  for (const entry of readTrainLog(file)) if (entry.step <= step) byStep.set(entry.step, entry);
  const kept = [...byStep.values()].sort((a, b) => a.step - b.step);
  writeAtomic(file, kept.map((e) => JSON.stringify(e) + "\n").join(""));
}
