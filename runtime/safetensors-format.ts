// The .safetensors format itself, over bytes in memory and with no file system, so a browser can read
// checkpoints too: dtypes, the header's checks, viewing and widening tensor data, and encoding
// tensors and headers. runtime/safetensors.ts reads and writes files with these.
import { bf16Bits, f16Bits, f16FromBits } from "../compiler/index.ts";

export type SafetensorsDType = "BOOL" | "U8" | "I8" | "U16" | "I16" | "F16" | "BF16" | "U32" | "I32" | "F32" | "F64" | "U64" | "I64";

export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
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

export const isDType = (name: unknown): name is SafetensorsDType => typeof name === "string" && Object.hasOwn(DTYPE_BYTES, name);

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

// The reference implementation refuses headers above 100 MB; a larger length means a corrupt file.
export const MAX_HEADER_BYTES = 100_000_000;

export const elementCount = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

export const formatShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

export function parseShape(value: unknown, where: string): number[] {
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

export interface HeaderEntry extends TensorInfo {
  begin: number;
  end: number;
}

interface ParsedHeader {
  metadata: Record<string, string>;
  entries: HeaderEntry[];
}

/** Checks the header against the format: every tensor's byte range matches shape × dtype, ranges tile the data exactly. */
export function parseHeader(json: unknown, dataBytes: number, file: string): ParsedHeader {
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

export function checkExpectation(file: string, info: TensorInfo, expect: TensorExpectation | undefined): void {
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

export function viewRaw(dtype: SafetensorsDType, bytes: Uint8Array): RawTensorData {
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

export function encodeTensor(name: string, tensor: TensorToWrite, file: string): Uint8Array {
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

/** The 8-byte length and the JSON header, padded with spaces to a multiple of 8 as the reference writer does. */
export function encodeHeader(
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

/** A parsed header: where the data starts, the metadata, and every tensor's place in the data. */
export interface SafetensorsLayout extends ParsedHeader {
  readonly dataStart: number;
}

/** The header of a safetensors file of `fileSize` bytes from its first 8 bytes and the header bytes that `read` returns. */
export function parseLayout(fileSize: number, read: (position: number, length: number, what: string) => Uint8Array, file: string): SafetensorsLayout {
  if (fileSize < 8)
    throw new Error(`safetensors: ${file}: expected at least 8 bytes (the header length), the file has ${fileSize} (truncated file?)`);
  const headerLength = new DataView(read(0, 8, "header length").slice().buffer).getBigUint64(0, true);
  if (headerLength > BigInt(fileSize - 8)) {
    throw new Error(`safetensors: ${file}: the header length is ${headerLength} bytes but only ${fileSize - 8} follow it (truncated file?)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    throw new Error(
      `safetensors: ${file}: the header length is ${headerLength} bytes, above the format's limit of ${MAX_HEADER_BYTES} (corrupt file?)`,
    );
  const headerBytes = read(8, Number(headerLength), "header");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new Error(
      `safetensors: ${file}: expected a UTF-8 JSON header of ${headerBytes.length} bytes, it does not parse: ${(error as Error).message}`,
    );
  }
  const dataStart = 8 + headerBytes.length;
  return { ...parseHeader(json, fileSize - dataStart, file), dataStart };
}

/** A whole safetensors file held in memory (a browser's fetch): its metadata and every tensor widened to float32. */
export function parseSafetensorsBytes(bytes: Uint8Array, file: string): { metadata: Record<string, string>; tensors: Map<string, Float32Array> } {
  const { metadata, entries, dataStart } = parseLayout(bytes.length, (position, length) => bytes.subarray(position, position + length), file);
  const tensors = new Map<string, Float32Array>();
  for (const entry of entries) {
    // slice(): a typed array view needs its element alignment, which a tensor's offset in the file need not have.
    const raw = bytes.slice(dataStart + entry.begin, dataStart + entry.end);
    tensors.set(entry.name, toFloat32(entry.dtype, viewRaw(entry.dtype, raw)));
  }
  return { metadata, tensors };
}

/** Checks tensors to write (names, dtypes, shapes against data lengths) and returns their names in code-unit order. */
export function tensorNamesToWrite(tensors: Readonly<Record<string, TensorToWrite>>, file: string): string[] {
  const names = Object.keys(tensors).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const { dtype, shape, data } = tensors[name]!;
    const where = `safetensors: ${file}: key '${name}'`;
    if (name === "" || name === "__metadata__") throw new Error(`${where}: expected a tensor name, found a reserved or empty key`);
    if (!isDType(dtype)) throw new Error(`${where}: expected a dtype among ${Object.keys(DTYPE_BYTES).join(", ")}, found ${JSON.stringify(dtype)}`);
    parseShape(shape, where);
    if (data.length !== elementCount(shape))
      throw new Error(`${where}: shape ${formatShape(shape)} holds ${elementCount(shape)} elements, the data has ${data.length}`);
  }
  return names;
}

/** A whole safetensors file as bytes in memory (what `kiln serve` sends a browser). */
export function encodeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> | null,
  file: string,
): Uint8Array {
  const names = tensorNamesToWrite(tensors, file);
  const parts = [encodeHeader(file, names, tensors, metadata), ...names.map((name) => encodeTensor(name, tensors[name]!, file))];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
