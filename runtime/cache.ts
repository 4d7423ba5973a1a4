// The on-disk cache of compiled modules (~/.cache/kiln or KILN_CACHE_DIR), keyed by a hash of
// everything that determines the binary. Entries are written atomically (temporary file, then
// rename), so a crash never leaves a half-written entry under a real key.

import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** The cache's root folder: KILN_CACHE_DIR, else ~/.cache/kiln. */
export const cacheRoot = (): string => process.env.KILN_CACHE_DIR || path.join(homedir(), ".cache", "kiln");

/** The kinds of entry under the root, each in its own folder (what `kiln cache clear` removes). */
export const CACHE_KINDS = ["cpu", "cuda", "cuda-tune", "encoded"] as const;

export function cacheDir(kind: (typeof CACHE_KINDS)[number]): string {
  const dir = path.join(cacheRoot(), kind);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const cacheKey = (...parts: readonly string[]): string => createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);

/** Write `data` to `file` atomically. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
