// The .safetensors checkpoint format (what the reference saves its DiT in): a lazy reader that parses only the
// header and reads one tensor at a time, and an atomic writer (temporary file, fsync, rename over the target).
import * as nodeFs from "node:fs";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { bf16Bits, f16Bits, f16FromBits } from "../compiler/index.ts";
import { requireRegularFile } from "./files.ts";

export type SafetensorsDType = "BOOL" | "U8" | "I8" | "U16" | "I16" | "F16" | "BF16" | "U32" | "I32" | "F32" | "F64" | "U64" | "I64";

const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  F64: 8,
  U64: 8,
  I64: 8,
};

const isDType = (name: unknown): name is SafetensorsDType => typeof name === "string" && Object.hasOwn(DTYPE_BYTES, name);

export const dtypeBytes = (dtype: SafetensorsDType): number => DTYPE_BYTES[dtype];

/** The typed array a tensor's bytes are viewed as: BF16 and F16 come back as their raw Uint16Array bits, BOOL as Uint8Array. */
export type RawTensorData =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | BigUint64Array | BigInt64Array;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
  byteLength: number;
}

export interface RawTensor extends TensorInfo {
  data: RawTensorData;
}

/** What the caller expects of a tensor; a mismatch is an error naming the file and the key. */
export interface TensorExpectation {
  dtype?: SafetensorsDType | readonly SafetensorsDType[];
  shape?: readonly number[];
}

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

// The reference implementation refuses headers above 100 MB; a larger length means a corrupt file.
const MAX_HEADER_BYTES = 100_000_000;

function requireLittleEndianHost(): void {
  if (endianness() !== "LE")
    throw new Error(`safetensors: the data is little-endian and this reader views it in place; this host is ${endianness()}`);
}

const elementCount = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

const formatShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

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

function parseShape(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every((size) => Number.isSafeInteger(size) && (size as number) >= 0)) {
    throw new Error(`${where}: expected "shape" to be an array of non-negative integers, found ${JSON.stringify(value)}`);
  }
  return value as number[];
}

function parseOffsets(value: unknown, where: string): [number, number] {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0) ||
    value[0] > value[1]
  ) {
    throw new Error(`${where}: expected "data_offsets" to be [begin, end] with 0 <= begin <= end, found ${JSON.stringify(value)}`);
  }
  return [value[0] as number, value[1] as number];
}

interface HeaderEntry extends TensorInfo {
  begin: number;
  end: number;
}

interface ParsedHeader {
  metadata: Record<string, string>;
  entries: HeaderEntry[];
}

/** Checks the header against the format: every tensor's byte range matches shape × dtype, ranges tile the data exactly. */
function parseHeader(json: unknown, dataBytes: number, file: string): ParsedHeader {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new Error(`safetensors: ${file}: expected the header to be a JSON object, found ${JSON.stringify(json)?.slice(0, 80)}`);
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    const where = `safetensors: ${file}: key '${name}'`;
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw new Error(`${where}: expected an object of strings, found ${JSON.stringify(value)}`);
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== "string") throw new Error(`${where}: expected metadata '${key}' to be a string, found ${JSON.stringify(text)}`);
        metadata[key] = text;
      }
      continue;
    }
    if (typeof value !== "object" || value === null)
      throw new Error(`${where}: expected {dtype, shape, data_offsets}, found ${JSON.stringify(value)}`);
    const fields = value as Record<string, unknown>;
    if (!isDType(fields.dtype))
      throw new Error(`${where}: expected a dtype among ${Object.keys(DTYPE_BYTES).join(", ")}, found ${JSON.stringify(fields.dtype)}`);
    const dtype = fields.dtype;
    const shape = parseShape(fields.shape, where);
    const [begin, end] = parseOffsets(fields.data_offsets, where);
    const byteLength = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== byteLength) {
      throw new Error(
        `${where}: shape ${formatShape(shape)} of ${dtype} needs ${byteLength} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    if (end > dataBytes) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] reach past the end of the data, which has ${dataBytes} bytes (truncated file?)`);
    }
    entries.push({ name, dtype, shape, byteLength, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = "the start of the data";
  for (const entry of entries) {
    if (entry.begin < cursor)
      throw new Error(
        `safetensors: ${file}: key '${entry.name}': data_offsets [${entry.begin}, ${entry.end}] overlap ${previous}, which ends at ${cursor}`,
      );
    if (entry.begin > cursor)
      throw new Error(
        `safetensors: ${file}: key '${entry.name}': data_offsets [${entry.begin}, ${entry.end}] leave a gap of ${entry.begin - cursor} bytes after ${previous} (offsets must be contiguous)`,
      );
    cursor = entry.end;
    previous = `'${entry.name}'`;
  }
  if (cursor !== dataBytes)
    throw new Error(
      `safetensors: ${file}: the tensors cover ${cursor} bytes of data but the file holds ${dataBytes} after the header (${dataBytes - cursor} unexplained bytes after ${previous})`,
    );
  return { metadata, entries };
}

/** The message for a key set that differs from the expected one: up to 10 missing and 10 unexpected keys. */
export function keyMismatch(file: string, found: Iterable<string>, expected: Iterable<string>): string | undefined {
  const foundSet = new Set(found);
  const expectedSet = new Set(expected);
  const missing = [...expectedSet].filter((name) => !foundSet.has(name));
  const unexpected = [...foundSet].filter((name) => !expectedSet.has(name));
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  const list = (names: string[]): string =>
    names
      .slice(0, 10)
      .map((name) => `'${name}'`)
      .join(", ") + (names.length > 10 ? ` and ${names.length - 10} more` : "");
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`${missing.length} missing key(s): ${list(missing)}`);
  if (unexpected.length > 0) parts.push(`${unexpected.length} unexpected key(s): ${list(unexpected)}`);
  return `safetensors: ${file}: the keys differ from the ${expectedSet.size} expected: ${parts.join("; ")}`;
}

function checkExpectation(file: string, info: TensorInfo, expect: TensorExpectation | undefined): void {
  if (!expect) return;
  const where = `safetensors: ${file}: key '${info.name}'`;
  if (expect.dtype !== undefined) {
    const allowed: readonly SafetensorsDType[] = typeof expect.dtype === "string" ? [expect.dtype] : expect.dtype;
    if (!allowed.includes(info.dtype)) throw new Error(`${where}: expected dtype ${allowed.join(" or ")}, found ${info.dtype}`);
  }
  if (expect.shape !== undefined) {
    const same = expect.shape.length === info.shape.length && expect.shape.every((size, axis) => size === info.shape[axis]);
    if (!same) throw new Error(`${where}: expected shape ${formatShape(expect.shape)}, found ${formatShape(info.shape)}`);
  }
}

function viewRaw(dtype: SafetensorsDType, bytes: Uint8Array): RawTensorData {
  const { buffer, byteOffset, byteLength } = bytes;
  const count = byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case "BOOL":
    case "U8":
      return bytes;
    case "I8":
      return new Int8Array(buffer, byteOffset, count);
    case "U16":
    case "F16":
    case "BF16":
      return new Uint16Array(buffer, byteOffset, count);
    case "I16":
      return new Int16Array(buffer, byteOffset, count);
    case "U32":
      return new Uint32Array(buffer, byteOffset, count);
    case "I32":
      return new Int32Array(buffer, byteOffset, count);
    case "F32":
      return new Float32Array(buffer, byteOffset, count);
    case "F64":
      return new Float64Array(buffer, byteOffset, count);
    case "U64":
      return new BigUint64Array(buffer, byteOffset, count);
    case "I64":
      return new BigInt64Array(buffer, byteOffset, count);
    default:
      return dtype satisfies never;
  }
}

/** Widens raw tensor data to float32: bf16 by a 16-bit shift (exact), f16 exactly, the rest by value. */
export function toFloat32(dtype: SafetensorsDType, data: RawTensorData): Float32Array {
  switch (dtype) {
    case "BF16": {
      const bits = data as Uint16Array;
      const out = new Float32Array(bits.length);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
      return out;
    }
    case "F16": {
      const bits = data as Uint16Array;
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = f16FromBits(bits[i]!);
      return out;
    }
    case "BOOL": {
      const bytes = data as Uint8Array;
      return Float32Array.from(bytes, (byte) => (byte !== 0 ? 1 : 0));
    }
    case "U64":
    case "I64":
      return Float32Array.from(data as BigInt64Array, (value) => Number(value));
    case "F32":
      return Float32Array.from(data as Float32Array);
    case "U8":
    case "I8":
    case "U16":
    case "I16":
    case "U32":
    case "I32":
    case "F64":
      return Float32Array.from(data as Float64Array);
    default:
      return dtype satisfies never;
  }
}

/** Opens a .safetensors file and parses its header only; tensors are read one at a time on request. */
export function openSafetensors(path: string, fs: FileSystem = defaultFs): SafetensorsReader {
  requireLittleEndianHost();
  // A FIFO would block open() forever; an injected file system has no such files.
  if (fs === defaultFs) requireRegularFile(path, "safetensors:");
  const fd = fs.openSync(path, "r");
  try {
    const fileSize = fs.fstatSync(fd).size;
    if (fileSize < 8)
      throw new Error(`safetensors: ${path}: expected at least 8 bytes (the header length), the file has ${fileSize} (truncated file?)`);
    const lengthBytes = new Uint8Array(8);
    readFully(fs, fd, lengthBytes, 0, `safetensors: ${path}: header length`);
    const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
    if (headerLength > BigInt(fileSize - 8)) {
      throw new Error(`safetensors: ${path}: the header length is ${headerLength} bytes but only ${fileSize - 8} follow it (truncated file?)`);
    }
    if (headerLength > BigInt(MAX_HEADER_BYTES))
      throw new Error(
        `safetensors: ${path}: the header length is ${headerLength} bytes, above the format's limit of ${MAX_HEADER_BYTES} (corrupt file?)`,
      );
    const headerBytes = new Uint8Array(Number(headerLength));
    readFully(fs, fd, headerBytes, 8, `safetensors: ${path}: header`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
    } catch (error) {
      throw new Error(
        `safetensors: ${path}: expected a UTF-8 JSON header of ${headerBytes.length} bytes, it does not parse: ${(error as Error).message}`,
      );
    }
    const dataStart = 8 + headerBytes.length;
    const { metadata, entries } = parseHeader(json, fileSize - dataStart, path);
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

/**
 * A tensor to write. `data` holds values, converted to `dtype` on the way out (BF16/F16 rounded ties-to-even,
 * integers checked to be in range); a Uint16Array given for BF16 or F16 is taken as raw bits, as `read` returns them.
 */
export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
}

const INTEGER_RANGES: Partial<Record<SafetensorsDType, readonly [number, number]>> = {
  U8: [0, 255],
  I8: [-128, 127],
  U16: [0, 65535],
  I16: [-32768, 32767],
  U32: [0, 4294967295],
  I32: [-2147483648, 2147483647],
};

function encodeTensor(name: string, tensor: TensorToWrite, file: string): Uint8Array {
  const { dtype, data } = tensor;
  const count = data.length;
  const where = `safetensors: ${file}: key '${name}'`;
  const bytes = new Uint8Array(count * DTYPE_BYTES[dtype]);
  const numbers = (): ArrayLike<number> => {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      throw new Error(`${where}: expected numbers for dtype ${dtype}, found a ${data.constructor.name}`);
    return data;
  };
  switch (dtype) {
    case "BF16":
    case "F16": {
      const out = new Uint16Array(bytes.buffer);
      if (data instanceof Uint16Array) out.set(data);
      else {
        const values = numbers();
        const toBits = dtype === "BF16" ? bf16Bits : f16Bits;
        for (let i = 0; i < count; i++) out[i] = toBits(values[i]!);
      }
      return bytes;
    }
    case "F32":
      new Float32Array(bytes.buffer).set(numbers());
      return bytes;
    case "F64":
      new Float64Array(bytes.buffer).set(numbers());
      return bytes;
    case "BOOL": {
      const values = numbers();
      for (let i = 0; i < count; i++) bytes[i] = values[i] !== 0 ? 1 : 0;
      return bytes;
    }
    case "I64":
    case "U64": {
      const out = dtype === "I64" ? new BigInt64Array(bytes.buffer) : new BigUint64Array(bytes.buffer);
      const wrap = dtype === "I64" ? (value: bigint) => BigInt.asIntN(64, value) : (value: bigint) => BigInt.asUintN(64, value);
      for (let i = 0; i < count; i++) {
        const value = data[i]!;
        if (typeof value === "bigint") {
          if (wrap(value) !== value) throw new Error(`${where}: element ${i} is ${value}, outside the range of ${dtype}`);
          out[i] = value;
        } else {
          if (!Number.isSafeInteger(value) || (dtype === "U64" && value < 0))
            throw new Error(`${where}: element ${i} is ${value}, not an integer ${dtype} holds exactly`);
          out[i] = BigInt(value);
        }
      }
      return bytes;
    }
    case "U8":
    case "I8":
    case "U16":
    case "I16":
    case "U32":
    case "I32": {
      const [low, high] = INTEGER_RANGES[dtype]!;
      const values = numbers();
      for (let i = 0; i < count; i++) {
        const value = values[i]!;
        if (!Number.isInteger(value) || value < low || value > high)
          throw new Error(`${where}: element ${i} is ${value}, not an integer in [${low}, ${high}] as ${dtype} needs`);
      }
      viewRaw(dtype, bytes).set(values as ArrayLike<number> & ArrayLike<bigint>);
      return bytes;
    }
    default:
      return dtype satisfies never;
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

/** The 8-byte length and the JSON header, padded with spaces to a multiple of 8 as the reference writer does. */
function encodeHeader(
  file: string,
  names: readonly string[],
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> | null,
): Uint8Array {
  // Built by hand rather than with one JSON.stringify, which would move integer-like names to the front.
  const fields: string[] = [];
  if (metadata !== null) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string")
        throw new Error(`safetensors: ${file}: expected metadata '${key}' to be a string, found ${JSON.stringify(value)}`);
    }
    fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const name of names) {
    const { dtype, shape } = tensors[name]!;
    const end = offset + elementCount(shape) * DTYPE_BYTES[dtype];
    fields.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
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
  const names = Object.keys(tensors).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const { dtype, shape, data } = tensors[name]!;
    const where = `safetensors: ${path}: key '${name}'`;
    if (name === "" || name === "__metadata__") throw new Error(`${where}: expected a tensor name, found a reserved or empty key`);
    if (!isDType(dtype)) throw new Error(`${where}: expected a dtype among ${Object.keys(DTYPE_BYTES).join(", ")}, found ${JSON.stringify(dtype)}`);
    parseShape(shape, where);
    if (data.length !== elementCount(shape))
      throw new Error(`${where}: shape ${formatShape(shape)} holds ${elementCount(shape)} elements, the data has ${data.length}`);
  }
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
