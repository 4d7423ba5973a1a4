// The GPU run's last step (bench/gpu/run.sh): reads what the parts wrote to the output folder
// (train.json, train-torch.json, smoke.json, nvidia-smi.csv; any may be missing), writes
// gpu-<card>-<date>.json in the CUDA issue's format (results.ts) and prints the short table.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../../bin/command.ts";
import { mergeResults, resultsFileName, resultsTable, type RunFiles } from "./results.ts";

const { flags } = parseArgs(process.argv.slice(2), []);
const outDir = flags.get("out") ?? process.env.OUT ?? "out/gpu";

const readText = (name: string): string | undefined => {
  try {
    return readFileSync(join(outDir, name), "utf8");
  } catch {
    return undefined;
  }
};

/** A JSON file, or the last line of it that parses (the torch peer's stdout may carry other lines). */
function readJson(name: string): unknown {
  const text = readText(name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    for (const line of text.trim().split("\n").reverse()) {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        // not this line
      }
    }
    console.log(`merge: ${name} is not JSON; its rows are left out`);
    return undefined;
  }
}

const files: RunFiles = {};
const train = readJson("train.json");
const torch = readJson("train-torch.json");
const smoke = readJson("smoke.json");
const smi = readText("nvidia-smi.csv");
if (train !== undefined) files.train = train;
if (torch !== undefined) files.torch = torch;
if (smoke !== undefined) files.smoke = smoke;
if (smi !== undefined) files.nvidiaSmi = smi;

const results = mergeResults(files, flags.get("date") ?? new Date().toISOString().slice(0, 10));
const path = join(outDir, resultsFileName(results));
writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\n${resultsTable(results)}\n→ ${path}`);
process.exitCode = results.rows.length > 0 ? 0 : 1;
