// The .safetensors checkpoint format (what the reference saves its DiT in): a lazy reader that parses only the
// header and reads one tensor at a time, and an atomic writer (temporary file, fsync, rename over the target).
import * as nodeFs from "node:fs";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { requireRegularFile } from "./files.ts";
import {
  checkExpectation,
  encodeHeader,
  encodeTensor,
  keyMismatch,
  parseLayout,
  tensorNamesToWrite,
  toFloat32,
  viewRaw,
  type HeaderEntry,
  type RawTensor,
  type TensorExpectation,
  type TensorInfo,
  type TensorToWrite,
} from "./safetensors-format.ts";

export {
  dtypeBytes,
  encodeSafetensors,
  keyMismatch,
  parseSafetensorsBytes,
  toFloat32,
  type RawTensor,
  type RawTensorData,
  type SafetensorsDType,
  type TensorExpectation,
  type TensorInfo,
  type TensorToWrite,
} from "./safetensors-format.ts";

/** The part of node:fs this module uses, so tests can count reads or inject a failing write. */
export interface FileSystem {
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): { size: number };
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

const defaultFs: FileSystem = nodeFs;

export interface SafetensorsReader {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor, in the order of its bytes in the file. */
  readonly tensors: readonly TensorInfo[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** Reads this tensor's bytes only, viewed as its raw typed array (bf16/f16 as Uint16Array bits). */
  read(name: string, expect?: TensorExpectation): RawTensor;
  /** Reads this tensor and widens it to float32 (bf16 and f16 exactly; f64 and 64-bit ints rounded). */
  readFloat32(name: string, expect?: TensorExpectation): Float32Array;
  /** Throws unless the file's keys are exactly `expected`, listing the missing and unexpected ones. */
  expectKeys(expected: Iterable<string>): void;
  close(): void;
}

function requireLittleEndianHost(): void {
  if (endianness() !== "LE")
    throw new Error(`safetensors: the data is little-endian and this reader views it in place; this host is ${endianness()}`);
}

function readFully(fs: FileSystem, fd: number, target: Uint8Array, position: number, where: string): void {
  let done = 0;
  while (done < target.length) {
    const got = fs.readSync(fd, target, done, target.length - done, position + done);
    if (got <= 0)
      throw new Error(
        `${where}: expected ${target.length} bytes at file offset ${position}, the file ended after ${done} (truncated or changed while open?)`,
      );
    done += got;
  }
}

/** Opens a .safetensors file and parses its header only; tensors are read one at a time on request. */
export function openSafetensors(path: string, fs: FileSystem = defaultFs): SafetensorsReader {
  requireLittleEndianHost();
  // A FIFO would block open() forever; an injected file system has no such files.
  if (fs === defaultFs) requireRegularFile(path, "safetensors:");
  const fd = fs.openSync(path, "r");
  try {
    const { metadata, entries, dataStart } = parseLayout(
      fs.fstatSync(fd).size,
      (position, length, what) => {
        const bytes = new Uint8Array(length);
        readFully(fs, fd, bytes, position, `safetensors: ${path}: ${what}`);
        return bytes;
      },
      path,
    );
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    let open = true;

    const entry = (name: string): HeaderEntry => {
      const found = byName.get(name);
      if (!found) throw new Error(`safetensors: ${path}: key '${name}' is not in the file (it has ${entries.length} tensors)`);
      return found;
    };
    const publicInfo = ({ name, dtype, shape, byteLength }: HeaderEntry): TensorInfo => ({ name, dtype, shape, byteLength });

    const read = (name: string, expect?: TensorExpectation): RawTensor => {
      if (!open) throw new Error(`safetensors: ${path}: key '${name}' read after close()`);
      const found = entry(name);
      checkExpectation(path, found, expect);
      const bytes = new Uint8Array(found.byteLength);
      readFully(fs, fd, bytes, dataStart + found.begin, `safetensors: ${path}: key '${name}'`);
      return { ...publicInfo(found), data: viewRaw(found.dtype, bytes) };
    };

    return {
      path,
      metadata,
      tensors: entries.map(publicInfo),
      has: (name) => byName.has(name),
      info: (name) => publicInfo(entry(name)),
      read,
      readFloat32: (name, expect) => {
        const raw = read(name, expect);
        return toFloat32(raw.dtype, raw.data);
      },
      expectKeys: (expected) => {
        const message = keyMismatch(path, byName.keys(), expected);
        if (message) throw new Error(message);
      },
      close: () => {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function writeFully(fs: FileSystem, fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const wrote = fs.writeSync(fd, bytes, done, bytes.length - done);
    if (wrote <= 0) throw new Error(`write returned ${wrote} with ${bytes.length - done} bytes left`);
    done += wrote;
  }
}

/**
 * Writes `tensors` (names in code-unit order, data contiguous) to `path` atomically: a temporary file in the same
 * folder is written and fsynced, then renamed over `path`. On any failure the temporary file is removed and
 * whatever was at `path` before is untouched. Metadata defaults to the reference's `{"format":"pt"}`.
 */
export function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> | null = { format: "pt" },
  fs: FileSystem = defaultFs,
): void {
  requireLittleEndianHost();
  const names = tensorNamesToWrite(tensors, path);
  const header = encodeHeader(path, names, tensors, metadata);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temporary, "wx", 0o644);
    writeFully(fs, fd, header);
    for (const name of names) writeFully(fs, fd, encodeTensor(name, tensors[name]!, path));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing; the original error is the one to report.
      }
    }
    try {
      fs.unlinkSync(temporary);
    } catch {
      // The temporary file may never have been created.
    }
    const reason = (error as Error).message;
    throw new Error(
      reason.startsWith("safetensors:") ? reason : `safetensors: ${path}: writing failed (${reason}); the previous file, if any, is unchanged`,
      { cause: error },
    );
  }
  syncFolder(fs, dirname(path));
}

// Makes the rename itself durable. Some platforms refuse to open or fsync a folder; the data is safe either way.
function syncFolder(fs: FileSystem, folder: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(folder, "r");
    fs.fsyncSync(fd);
  } catch {
    // Best effort only.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface StateDictEntry {
  name: string;
  shape: readonly number[];
}

/**
 * Loads a checkpoint as float32 arrays, checking every tensor's shape against `spec`. With `strict` (the
 * reference's `load_state_dict(strict=True)`) the file's keys must equal the spec's; otherwise only the spec
 * names present in the file are loaded. Any float dtype is accepted and widened, as the reference casts on load.
 */
export function loadStateDict(
  path: string,
  spec: readonly StateDictEntry[],
  options: { strict?: boolean; fs?: FileSystem } = {},
): Map<string, Float32Array> {
  const { strict = true, fs = defaultFs } = options;
  const file = openSafetensors(path, fs);
  try {
    if (strict) file.expectKeys(spec.map((entry) => entry.name));
    const loaded = new Map<string, Float32Array>();
    for (const { name, shape } of spec) {
      if (!file.has(name)) continue;
      loaded.set(name, file.readFloat32(name, { dtype: ["BF16", "F16", "F32", "F64"], shape }));
    }
    return loaded;
  } finally {
    file.close();
  }
}

/** Saves float32 parameters as one checkpoint, bf16 by default like the reference's, with `{"format":"pt"}`. */
export function saveStateDict(
  path: string,
  params: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
  dtype: "BF16" | "F16" | "F32" = "BF16",
  fs: FileSystem = defaultFs,
): void {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, { shape, data }] of params) tensors[name] = { dtype, shape, data };
  writeSafetensors(path, tensors, { format: "pt" }, fs);
}
