// Reading the files a person points kiln at: each loader checks that a path is a regular file before
// opening it (a FIFO would block forever, a folder gives EISDIR), and names the file in every error;
// a failed write is explained by its cause (read-only file system, permission, full disk).

import { readFileSync, statSync } from "node:fs";

/** What a path is, in words, for messages. */
function kindOf(stats: ReturnType<typeof statSync>): string {
  if (!stats) return "missing";
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Throws unless `file` exists and is a regular file (following symbolic links). `what` names it ("--checkpoint"). */
export function requireRegularFile(file: string, what = "file"): void {
  const stats = statSync(file, { throwIfNoEntry: false });
  if (!stats) throw new Error(`${what} ${file}: no such file`);
  if (!stats.isFile()) throw new Error(`${what} ${file}: expected a regular file, found ${kindOf(stats)}`);
}

/** A UTF-8 text file, refused (with the line) when it is not valid UTF-8 rather than read with U+FFFD in place. */
export function readUtf8File(file: string, what = "file"): string {
  requireRegularFile(file, what);
  const bytes = readFileSync(file);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, bad).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 1);
    throw new Error(`${what} ${file}: not valid UTF-8 (line ${line}, byte offset ${bad}); save it as UTF-8`);
  }
}

/** A JSON file, with the file named when it does not parse. */
export function readJsonFile(file: string, what = "file"): unknown {
  const text = readUtf8File(file, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} ${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** Offset of the first byte that breaks UTF-8 (the decoder says only that one does). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (length === 0) return i;
    const decoded = (() => {
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, i + length));
        return true;
      } catch {
        return false;
      }
    })();
    if (!decoded) return i;
    i += length;
  }
  return bytes.length;
}

/** Why a write into `dir` failed, in words a person can act on. */
export function describeWriteError(dir: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    EROFS: "the file system is read-only",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOSPC: "the disk is full",
    ENOTDIR: "a part of the path is a file, not a folder",
    EEXIST: "a file of that name is in the way",
  };
  return `cannot write to ${dir}: ${(code && why[code]) ?? (error as Error).message}${code ? ` (${code})` : ""}`;
}
