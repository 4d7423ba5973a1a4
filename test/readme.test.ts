// Property: the README tells the truth — its first lines are the two set-up commands, and its
// example (a two-layer MLP, its gradient, run in the interpreter) runs and returns every gradient.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

test("the README starts with the install/start and test commands", () => {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split("\n");
  expect(block).toEqual(["npm install && npm start", "npm test"]);
  expect(readme.indexOf("```sh")).toBeLessThan(20);
});

test("the README's MLP example runs and gives a gradient for every parameter", async () => {
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Run the snippet as written, as a module beside the project (only the import path is rewritten).
  const dir = fileURLToPath(new URL("../.cache/readme/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "example.ts");
  writeFileSync(
    file,
    code!.replace('"./compiler/index.ts"', JSON.stringify(path.relative(dir, fileURLToPath(new URL("../compiler/index.ts", import.meta.url))))) +
      "\nexport { values };\n",
  );
  const module = await import(file);
  const values = module.values as Record<string, { shape: number[]; data: Float64Array }>;
  expect(Object.keys(values).sort()).toEqual(["b1", "b2", "w1", "w2"]);
  expect(values.w1!.shape).toEqual([8, 3]);
  expect(values.w1!.data.some((v) => v !== 0)).toBe(true);
});
