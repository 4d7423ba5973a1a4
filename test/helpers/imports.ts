// The import graph of kiln's own source files, for the structure tests (import-cycles.test.ts,
// boundaries.test.ts): each file's relative imports as repository paths, and the cycles of a graph.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** One relative import of a file: the imported file as a repository path, and whether it is an `import("…")` at run time. */
export interface Import {
  readonly target: string;
  readonly dynamic: boolean;
}

/** `import … from "./x"`, `export … from "./x"` (type-only included) and `import "./x"`. */
const STATIC = /^(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"|^import\s+"(\.{1,2}\/[^"]+)"/gms;
/** `import("./x")` with a literal path; a computed path (a template with `${…}`) cannot be followed. */
const DYNAMIC = /\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The .ts files under a top-level folder, as repository paths ("runtime/cuda/step.ts"). */
export function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const file = path.posix.join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(file);
    return entry.name.endsWith(".ts") ? [file] : [];
  });
}

/** The relative imports in the text of `file` (a repository path). */
export function importsIn(file: string, text: string): Import[] {
  const resolve = (specifier: string) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  return [
    ...[...text.matchAll(STATIC)].map((m) => ({ target: resolve(m[1] ?? m[2]!), dynamic: false })),
    ...[...text.matchAll(DYNAMIC)].map((m) => ({ target: resolve(m[1]!), dynamic: true })),
  ];
}

/** Each file's relative imports, static and dynamic. */
export function readImports(files: readonly string[]): Map<string, Import[]> {
  return new Map(files.map((file) => [file, importsIn(file, readFileSync(path.join(ROOT, file), "utf8"))]));
}

/** Strongly connected components of more than one node (Tarjan), each sorted: the cycles of the graph. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}
