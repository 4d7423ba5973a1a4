// Property: no two source files import each other, directly or through others (type-only imports
// included), so every file can be read and tested after the files it builds on. A cycle is reported
// as the files on it. (Folders, and which folder may import which: boundaries.test.ts.)
import { expect, test } from "vitest";
import { cycles, readImports, sourceFiles } from "./helpers/imports.ts";

const FOLDERS = ["compiler", "kernels", "runtime", "models", "bin", "bench"];

/** Each file's static relative imports. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  return new Map([...readImports(files)].map(([file, imports]) => [file, imports.filter((i) => !i.dynamic).map((i) => i.target)]));
}

test("the import graph of compiler/, kernels/, runtime/, models/, bin/ and bench/ has no cycles", () => {
  const graph = importGraph(FOLDERS.flatMap(sourceFiles));
  expect(graph.size).toBeGreaterThan(100);
  expect(cycles(graph)).toEqual([]);
});

test("the cycle check finds a cycle", () => {
  expect(
    cycles(
      new Map([
        ["a.ts", ["b.ts"]],
        ["b.ts", ["c.ts"]],
        ["c.ts", ["a.ts"]],
        ["d.ts", ["a.ts"]],
      ]),
    ),
  ).toEqual([["a.ts", "b.ts", "c.ts"]]);
});
