// The on-disk cache of compiled modules (~/.cache/kiln or KILN_CACHE_DIR), keyed by a hash of
// everything that determines the binary. Entries are written atomically (temporary file, then
// rename), so a crash never leaves a half-written entry under a real key.

import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export function cacheDir(kind: string): string {
  const root = process.env.KILN_CACHE_DIR || path.join(homedir(), ".cache", "kiln");
  const dir = path.join(root, kind);
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
