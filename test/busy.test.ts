// The busy-machine benchmark's harness (bench/busy.ts): quiet and busy blocks alternate, a busy
// process runs exactly during the busy blocks and is gone afterwards, and the slowdown is the ratio
// of the medians. (Timings themselves are measured by `kiln bench cpu`, never asserted.)

import { readFileSync, readdirSync } from "node:fs";
import { expect, test } from "vitest";
import { quietVersusBusy } from "../bench/busy.ts";

/** Pids of `yes` processes whose parent is a `timeout` started by this process. */
function ourBusyProcesses(): number[] {
  const parentOf = (pid: string): number | undefined => {
    try {
      return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    } catch {
      return undefined; // the process ended while we looked
    }
  };
  const commandOf = (pid: string | number): string => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      return "";
    }
  };
  return readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid) && commandOf(pid) === "yes")
    .filter((pid) => {
      const parent = parentOf(pid);
      return parent !== undefined && commandOf(parent) === "timeout" && parentOf(String(parent)) === process.pid;
    })
    .map(Number);
}

test.skipIf(process.platform !== "linux")(
  "blocks alternate quiet, busy; the busy process runs only in busy blocks; slowdown = busy median / quiet median",
  async () => {
    const seen: number[] = [];
    let block = 0;
    const result = await quietVersusBusy(async () => {
      seen.push(ourBusyProcesses().length);
      const busy = block++ % 2 === 1;
      return busy ? [30, 10, 20] : [5, 15, 10];
    }, 2);
    expect(seen).toEqual([0, 1, 0, 1]);
    expect(result.quietSamplesMs).toEqual([5, 15, 10, 5, 15, 10]);
    expect(result.busySamplesMs).toEqual([30, 10, 20, 30, 10, 20]);
    expect(result.quietMs).toBe(10);
    expect(result.busyMs).toBe(20);
    expect(result.slowdown).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ourBusyProcesses()).toEqual([]);
  },
  30_000,
);
