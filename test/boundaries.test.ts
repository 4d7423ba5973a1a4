// Properties of the folder layering (docs/ARCHITECTURE.md §2), checked on every relative import of
// compiler/, kernels/, runtime/, models/, bin/, bench/ and test/, static or a literal `import("…")`:
//
// 1. Layers. A file imports only from its own folder and the folders the table LAYERS gives it:
//    bin → models → runtime → kernels → compiler, with models/ also importing compiler/ and bin/ also
//    compiler/ (`kiln gradcheck` runs the compiler's gradient checks: a widening on purpose);
//    bench/ and test/ import everything.
// 2. Public APIs. An import that enters compiler/, kernels/, runtime/ or models/ from another folder,
//    except from bench/ and test/ (which measure and test internals), names an index.ts inside that
//    folder: the folder's own (compiler/index.ts, runtime/index.ts, models/index.ts) or that of a
//    subfolder with its own public API (kernels/cpu/index.ts, kernels/cuda/index.ts,
//    runtime/cuda/index.ts), or one of the second public APIs listed in PORTABLE: runtime/portable.ts
//    and models/portable.ts, the parts of runtime/ and models/ that need no Node module, which the
//    files that also run in a browser (the sampling pipeline, `kiln serve`'s page) import instead.
//    Inside a folder files import each other directly, never an index.ts of a folder that contains
//    them (that would be a cycle through the index).
// 3. No cycles between folders: the graph of which folder imports which is acyclic.
//
// One exception, listed in PLUGINS: bin/main.ts loads `kiln bench` from bench/index.ts by a run-time
// `import()` (bench/ imports bin/ for its command-line helpers, so a static import would be a folder
// cycle); a listed plugin must stay a dynamic import and is left out of rules 1 and 3.
// Imports with a computed path (`import(\`./commands/${name}.ts\`)`) cannot be followed and are not checked.
import { expect, test } from "vitest";
import { cycles, readImports, sourceFiles, type Import } from "./helpers/imports.ts";

type Folder = "compiler" | "kernels" | "runtime" | "models" | "bin" | "bench" | "test";
const FOLDERS: readonly Folder[] = ["compiler", "kernels", "runtime", "models", "bin", "bench", "test"];

/** The folders each folder may import (besides itself). */
const LAYERS: Readonly<Record<Folder, readonly Folder[]>> = {
  compiler: [],
  kernels: ["compiler"],
  runtime: ["compiler", "kernels"],
  models: ["compiler", "runtime"],
  bin: ["models", "runtime", "compiler"],
  bench: FOLDERS,
  test: FOLDERS,
};

/** Folders that others reach only through an index.ts, and the folders exempt from that rule. */
const PUBLIC_API_ONLY: readonly Folder[] = ["compiler", "kernels", "runtime", "models"];
const SEES_INTERNALS: readonly Folder[] = ["bench", "test"];

/** Run-time loads allowed across the layering: [importer, imported]. */
const PLUGINS: readonly (readonly [string, string])[] = [["bin/main.ts", "bench/index.ts"]];

const folderOf = (file: string): string => file.split("/")[0]!;
const isFolder = (name: string): name is Folder => (FOLDERS as readonly string[]).includes(name);
const isPlugin = (from: string, to: string): boolean => PLUGINS.some(([a, b]) => a === from && b === to);
const isIndex = (file: string): boolean => file.endsWith("/index.ts");

/** Second public APIs: what runs in a browser bundle as well as in Node (no node: module, no native library). */
const PORTABLE: readonly string[] = ["runtime/portable.ts", "models/portable.ts"];
const isPublicApi = (file: string): boolean => isIndex(file) || PORTABLE.includes(file);

/** Every broken rule, as "importer imports imported: rule". */
function boundaryViolations(graph: ReadonlyMap<string, readonly Import[]>): string[] {
  const found: string[] = [];
  const folderEdges = new Map<string, Set<string>>();
  for (const [from, imports] of graph) {
    const source = folderOf(from);
    if (!isFolder(source)) continue;
    for (const { target: to, dynamic } of imports) {
      const target = folderOf(to);
      if (isIndex(to) && from.startsWith(to.slice(0, -"index.ts".length))) {
        found.push(`${from} imports ${to}: inside a folder, files import each other directly, never the folder's index.ts`);
      }
      if (target === source || !isFolder(target)) continue;
      if (isPlugin(from, to)) {
        if (!dynamic) found.push(`${from} imports ${to}: a plugin (PLUGINS) must be loaded by a run-time import(), not statically`);
        continue;
      }
      if (!LAYERS[source].includes(target)) {
        found.push(
          `${from} imports ${to}: ${source}/ may import ${LAYERS[source].map((f) => `${f}/`).join(", ") || "nothing of ours"}, not ${target}/`,
        );
      }
      if (PUBLIC_API_ONLY.includes(target) && !SEES_INTERNALS.includes(source) && !isPublicApi(to)) {
        found.push(`${from} imports ${to}: another folder reaches ${target}/ only through an index.ts (its public API) or a portable.ts (PORTABLE)`);
      }
      folderEdges.set(source, (folderEdges.get(source) ?? new Set()).add(target));
    }
  }
  const folderGraph = new Map([...folderEdges].map(([folder, targets]) => [folder, [...targets]]));
  for (const cycle of cycles(folderGraph)) {
    // Each folder-to-folder edge on the cycle, with the first import that makes it.
    const on = new Set(cycle);
    const edges = new Map<string, string[]>();
    for (const [from, imports] of graph) {
      for (const { target: to } of imports) {
        if (!on.has(folderOf(from)) || !on.has(folderOf(to)) || folderOf(from) === folderOf(to) || isPlugin(from, to)) continue;
        const edge = `${folderOf(from)}/ → ${folderOf(to)}/`;
        edges.set(edge, [...(edges.get(edge) ?? []), `${from} imports ${to}`]);
      }
    }
    const witnesses = [...edges].map(([edge, [first, ...more]]) => `${edge} (${first}${more.length ? ` and ${more.length} more` : ""})`);
    found.push(`folders ${cycle.map((f) => `${f}/`).join(", ")} import each other (no cycles between folders): ${witnesses.join("; ")}`);
  }
  return found;
}

test("every cross-folder import follows the layers, enters compiler/, kernels/, runtime/ and models/ through an index.ts, and no folders import each other", () => {
  const graph = readImports(FOLDERS.flatMap(sourceFiles));
  expect(graph.size).toBeGreaterThan(200);
  expect(boundaryViolations(graph)).toEqual([]);
});

test("the boundary check finds a planted layer violation, an internal import, a static plugin, an import of a file's own index and a folder cycle", () => {
  const imports = (...targets: string[]): Import[] => targets.map((target) => ({ target, dynamic: false }));
  const graph = new Map<string, Import[]>([
    ["compiler/graph.ts", imports("compiler/ops.ts", "runtime/index.ts")],
    ["models/dit.ts", imports("compiler/index.ts", "runtime/safetensors.ts")],
    ["runtime/cuda/step.ts", imports("runtime/index.ts", "runtime/cuda/device.ts")],
    ["bin/main.ts", imports("bench/index.ts")],
    ["bench/a.ts", imports("test/b.ts", "runtime/cuda/device.ts")],
    ["test/b.ts", imports("bench/a.ts")],
  ]);
  expect(boundaryViolations(graph)).toEqual([
    "compiler/graph.ts imports runtime/index.ts: compiler/ may import nothing of ours, not runtime/",
    "models/dit.ts imports runtime/safetensors.ts: another folder reaches runtime/ only through an index.ts (its public API) or a portable.ts (PORTABLE)",
    "runtime/cuda/step.ts imports runtime/index.ts: inside a folder, files import each other directly, never the folder's index.ts",
    "bin/main.ts imports bench/index.ts: a plugin (PLUGINS) must be loaded by a run-time import(), not statically",
    "folders bench/, test/ import each other (no cycles between folders): bench/ → test/ (bench/a.ts imports test/b.ts); test/ → bench/ (test/b.ts imports bench/a.ts)",
  ]);
  // The same plugin loaded at run time, bench/ reaching internals and an import of a portable API are allowed.
  expect(
    boundaryViolations(
      new Map([
        ["bin/main.ts", [{ target: "bench/index.ts", dynamic: true }]],
        ["bench/a.ts", imports("runtime/cuda/device.ts")],
        ["models/pipeline.ts", imports("runtime/portable.ts")],
      ]),
    ),
  ).toEqual([]);
});
