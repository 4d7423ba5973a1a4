// Properties of the command line: every command's flags are parsed strictly before it does any work —
// unknown flags are refused naming the nearest valid one, values are typed and range-checked (integers,
// finite numbers, 32-bit seeds), a flag that swallows the next flag is refused — and main exits with 2.

import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parseFlags, SEED_FLAG } from "../bin/flags.ts";
import type { Command } from "../bin/command.ts";
import { kiln } from "./helpers/cli.ts";

// `kiln bench` lives in bench/ (bin/main.ts loads it from bench/index.ts); the others in bin/commands/.
const load = async (name: string): Promise<Command> =>
  (name === "bench" ? await import("../bench/index.ts") : await import(`../bin/commands/${name}.ts`)).default as Command;
const COMMANDS = ["start", "train", "sample", "serve", "eval", "info", "data", "gradcheck", "bench", "doctor", "cache"];

describe("parseFlags", () => {
  const specs = {
    steps: { kind: "int", min: 1 },
    lr: { kind: "number", above: 0 },
    cfg: { kind: "number", min: 0 },
    seed: SEED_FLAG,
    out: { kind: "text" },
    resume: { kind: "switch" },
    mode: { kind: "choice", values: ["a", "b"] },
  } as const;
  const parse = (...argv: string[]) => parseFlags("test", argv, specs).flags;

  test("typed values from --flag value, --flag=value and switches", () => {
    expect(parse("--steps", "5", "--lr=0.001", "--resume", "--seed", "4294967295", "--mode", "b")).toEqual({
      steps: 5,
      lr: 0.001,
      cfg: undefined,
      seed: 4294967295,
      out: undefined,
      resume: true,
      mode: "b",
    });
    expect(parse("--steps", "1e3").steps).toBe(1000);
  });

  test("an unknown flag is refused with the nearest valid one", () => {
    expect(() => parse("--stpes", "5")).toThrow(/unknown flag --stpes \(did you mean --steps\?\)/);
    expect(() => parse("--step", "5")).toThrow(/did you mean --steps\?/);
    expect(() => parse("--bogus", "1")).toThrow(/unknown flag --bogus; kiln test takes --steps, --lr/);
    expect(() => parse("-s", "1")).toThrow(/unknown flag -s/);
  });

  test("integers, finite numbers and seeds are range-checked, naming the flag, the value and what is allowed", () => {
    for (const bad of ["0", "-1", "2.5", "abc", "", " ", "0x10", "Infinity", "NaN", "1e400"])
      expect(() => parse("--steps", bad), bad).toThrow(/--steps .*expected an integer ≥ 1/);
    for (const bad of ["-1", "0", "NaN", "abc", "Infinity"]) expect(() => parse("--lr", bad), bad).toThrow(/--lr .*expected a finite number > 0/);
    expect(() => parse("--cfg", "NaN")).toThrow(/--cfg "NaN": expected a finite number ≥ 0/);
    for (const bad of ["4294967296", "-1", "1.5", "abc"])
      expect(() => parse("--seed", bad), bad).toThrow(/--seed .*expected an integer from 0 to 4294967295/);
    expect(() => parse("--mode", "c")).toThrow(/--mode "c": expected one of a, b/);
    expect(() => parse("--out", "")).toThrow(/--out "": expected a non-empty value/);
  });

  test("a flag without its value, a repeated flag, a switch with a value and a stray positional are refused", () => {
    expect(() => parse("--steps", "--lr", "4")).toThrow(/--steps needs a value, found the flag --lr after it/);
    expect(() => parse("--steps")).toThrow(/--steps needs a value/);
    expect(() => parse("--steps", "5", "--steps", "6")).toThrow(/--steps is given twice/);
    expect(() => parse("--resume=yes")).toThrow(/--resume is a switch and takes no value/);
    expect(() => parse("5")).toThrow(/unexpected argument '5' \(a value without its --flag\?\)/);
    expect(parseFlags("test", ["a", "--", "--b"], specs, { min: 1 }).positional).toEqual(["a", "--b"]);
  });
});

describe("the commands", () => {
  test("every flag a command's usage line names is one it declares, and an unknown flag fails before any work", async () => {
    const cwd = process.cwd();
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-flags-"));
    process.chdir(dir);
    try {
      for (const name of COMMANDS) {
        const command = await load(name);
        const named = [...command.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
        for (const flag of named) {
          // A declared flag passes parsing and fails later, or on its value; an undeclared one is "unknown flag".
          const failure = await command.run([`--${flag}=§`, "--zz-unknown"]).then(
            () => undefined,
            (error: Error) => error.message,
          );
          expect(failure ?? "", `${name} --${flag}`).not.toMatch(new RegExp(`unknown flag --${flag}\\b`));
        }
        await expect(command.run(["--zz-unknown", "1"]), name).rejects.toThrow(/unknown flag --zz-unknown/);
      }
      // Nothing was written: no run folder, no data set, no image.
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  test("train refuses bad values before building a data set or creating its run folder", async () => {
    const train = await load("train");
    const out = path.join(mkdtempSync(path.join(tmpdir(), "kiln-flags-")), "run");
    const data = path.join(path.dirname(out), "data");
    for (const argv of [
      ["--steps", "--batch", "4"],
      ["--batch", "0"],
      ["--batch", "-4"],
      ["--batch", "2.5"],
      ["--batch", "1e6"],
      ["--lr", "-1"],
      ["--steps", "0"],
      ["--steps", "-1"],
      ["--save-steps", "0.5"],
      ["--save-steps", "-1"],
      ["--minutes", "0"],
      ["--seed", "abc"],
      ["--seed", "4294967296"],
      ["--stpes", "5"],
    ])
      await expect(train.run([...argv, "--out", out]), argv.join(" ")).rejects.toThrow(/--(steps|batch|lr|save-steps|minutes|seed|stpes)/);
    await expect(train.run(["--resume", "--overwrite", "--out", out])).rejects.toThrow(/--resume and --overwrite contradict/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(data)).toBe(false);
  });

  test("sample and eval refuse garbage guidance, sizes, prompts and outputs before sampling", async () => {
    const sample = await load("sample");
    const evaluate = await load("eval");
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-flags-"));
    const out = path.join(dir, "x.png");
    await expect(sample.run(["hi", "--cfg", "NaN", "--out", out])).rejects.toThrow(/--cfg "NaN"/);
    await expect(sample.run(["hi", "--cfg", "abc", "--out", out])).rejects.toThrow(/--cfg "abc"/);
    await expect(sample.run(["hi", "--width", "0", "--out", out])).rejects.toThrow(/--width "0": expected an integer from 16/);
    await expect(sample.run(["  ", "--out", out])).rejects.toThrow(/the prompt is empty/);
    await expect(sample.run(["hi", "--out", path.join(dir, "x.jpg")])).rejects.toThrow(/ending in \.png/);
    await expect(sample.run(["hi", "--random-init", "--out", path.join(dir, "missing", "x.png")])).rejects.toThrow(/folder .*missing does not exist/);
    await expect(evaluate.run(["--checkpoint", dir, "--cfg", "NaN"])).rejects.toThrow(/--cfg "NaN"/);
    await expect(evaluate.run(["--checkpoint", dir, "--grid", path.join(dir, "missing", "g.png")])).rejects.toThrow(/does not exist/);
    // Not an image: the error names the file.
    const notImage = path.join(dir, "notes.png");
    writeFileSync(notImage, "not an image");
    await expect(sample.run(["hi", "--random-init", "--image", notImage, "--out", out])).rejects.toThrow(
      new RegExp(`--image ${notImage}: not an image`),
    );
    expect(existsSync(out)).toBe(false);
  });

  test("kiln exits with status 2 on a usage error and says which flag", () => {
    const result = kiln(["info", "--bogus", "1"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/kiln info: unknown flag --bogus/);
  });
});
