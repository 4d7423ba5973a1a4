// The on-disk cache of compiled device code (cubins), so a second run compiles nothing. Entries are
// keyed by a hash of everything that affects the binary and carry a checksum; a bad entry is rebuilt.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const MAGIC = Buffer.from("KILNBIN1");
const HEADER_BYTES = MAGIC.length + 32;

/** The cache folder: KILN_CACHE_DIR, else ~/.cache/kiln. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KILN_CACHE_DIR || join(env.HOME || homedir(), ".cache", "kiln");
}

/** The key of an entry: sha256 over the parts, each length-prefixed so that no two part lists collide. */
export function cacheKey(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest("hex");
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest();

/** The payload of a valid entry, or null when absent, truncated or corrupt. */
function readEntry(path: string): Uint8Array | null {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return null;
  }
  if (file.length < HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const payload = file.subarray(HEADER_BYTES);
  return sha256(payload).equals(file.subarray(MAGIC.length, HEADER_BYTES)) ? new Uint8Array(payload) : null;
}

/** Writes through a temp file and a rename, so readers never see half an entry. */
function writeEntry(path: string, payload: Uint8Array): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, Buffer.concat([MAGIC, sha256(payload), payload]));
  renameSync(temp, path);
}

export interface CachedBinary {
  binary: Uint8Array;
  hit: boolean;
  path: string;
}

/** Returns the cached binary for `parts`, or builds, stores and returns it. */
export function cachedBinary(parts: readonly string[], build: () => Uint8Array, options: { dir?: string; extension?: string } = {}): CachedBinary {
  const dir = join(options.dir ?? cacheDir(), "cuda");
  const path = join(dir, `${cacheKey(parts)}${options.extension ?? ".cubin"}`);
  const cached = readEntry(path);
  if (cached) return { binary: cached, hit: true, path };
  const binary = build();
  try {
    mkdirSync(dir, { recursive: true });
    writeEntry(path, binary);
  } catch {
    // A read-only or full disk only costs a recompile next time; the binary itself is fine.
  }
  return { binary, hit: false, path };
}

/** Number of entries and bytes under the cache folder (for `kiln doctor`). */
export function cacheSize(dir: string = cacheDir()): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (folder: string) => {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(folder, name);
      const info = statSync(path, { throwIfNoEntry: false });
      if (!info) continue;
      if (info.isDirectory()) walk(path);
      else {
        files++;
        bytes += info.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Removes the cuda entries (used by tests and by a user who suspects the cache). */
export function clearCudaCache(dir: string = cacheDir()): void {
  rmSync(join(dir, "cuda"), { recursive: true, force: true });
}

/** The cuda entries whose checksum does not match their payload (for `kiln doctor`; a compile rebuilds them anyway). */
export function damagedCudaEntries(dir: string = cacheDir()): string[] {
  const folder = join(dir, "cuda");
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .filter((name) => !name.endsWith(".tmp"))
    .map((name) => join(folder, name))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile() && readEntry(path) === null);
}
