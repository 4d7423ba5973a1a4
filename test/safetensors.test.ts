// Tests of runtime/safetensors.ts: the format read from hand-built bytes, round trips, lazy reads, every error
// case, and that a failed write leaves the previous file as it was.
import * as nodeFs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  loadStateDict,
  openSafetensors,
  saveStateDict,
  writeSafetensors,
  type FileSystem,
  type SafetensorsDType,
  type TensorToWrite,
} from "../runtime/safetensors.ts";

const folder = mkdtempSync(join(tmpdir(), "kiln-safetensors-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (name = "t"): string => join(folder, `${name}-${fileCounter++}.safetensors`);

/** A file assembled byte by byte from the format definition: u64 LE header length, JSON header, data. */
function assemble(header: Record<string, unknown> | string, data: Uint8Array, pad = true): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  let json = new TextEncoder().encode(text);
  if (pad && json.length % 8 !== 0) json = new TextEncoder().encode(text + " ".repeat(8 - (json.length % 8)));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function writeBytes(bytes: Uint8Array): string {
  const path = freshPath("raw");
  writeFileSync(path, bytes);
  return path;
}

const validTensor = (path: string): void =>
  writeSafetensors(path, { a: { dtype: "F32", shape: [2], data: [1, 2] }, b: { dtype: "F32", shape: [1], data: [3] } });

describe("reading a file assembled by hand from the format definition", () => {
  // Data laid out deliberately out of alphabetical order: c (I64), a (F32), b (BF16), e (F16), d (BOOL), f (I32), z (U8, empty).
  const data = new Uint8Array(16 + 16 + 6 + 4 + 3 + 8);
  const view = new DataView(data.buffer);
  view.setBigInt64(0, -1n, true);
  view.setBigInt64(8, 1n << 40n, true);
  [1, 2, 3, 4.5].forEach((value, i) => view.setFloat32(16 + 4 * i, value, true));
  [0x3f80, 0xc000, 0x3fc0].forEach((bits, i) => view.setUint16(32 + 2 * i, bits, true)); // 1, -2, 1.5
  [0x3c00, 0xc500].forEach((bits, i) => view.setUint16(38 + 2 * i, bits, true)); // 1, -5
  data.set([1, 0, 1], 42);
  view.setInt32(45, -7, true);
  view.setInt32(49, 2147483647, true);
  // The header is written with its keys in yet another order, and with irregular spacing.
  const header = `{"b": {"dtype":"BF16","shape":[3],"data_offsets":[32,38]}, "__metadata__":{"format":"pt","note":"hand"},
    "a":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},"c":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},
    "e":{"dtype":"F16","shape":[2],"data_offsets":[38,42]},"d":{"dtype":"BOOL","shape":[3],"data_offsets":[42,45]},
    "f":{"dtype":"I32","shape":[2,1],"data_offsets":[45,53]},"z":{"dtype":"U8","shape":[0,4],"data_offsets":[53,53]}}`;
  const path = writeBytes(assemble(header, data));

  test("lists every tensor with dtype, shape and byte length in data order, and the metadata", () => {
    const file = openSafetensors(path);
    try {
      expect(file.metadata).toEqual({ format: "pt", note: "hand" });
      expect(file.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength])).toEqual([
        ["c", "I64", [2], 16],
        ["a", "F32", [2, 2], 16],
        ["b", "BF16", [3], 6],
        ["e", "F16", [2], 4],
        ["d", "BOOL", [3], 3],
        ["f", "I32", [2, 1], 8],
        ["z", "U8", [0, 4], 0],
      ]);
    } finally {
      file.close();
    }
  });

  test("reads each tensor's values as written byte by byte", () => {
    const file = openSafetensors(path);
    try {
      expect(Array.from(file.read("c").data as BigInt64Array)).toEqual([-1n, 1n << 40n]);
      expect(Array.from(file.readFloat32("a"))).toEqual([1, 2, 3, 4.5]);
      expect(Array.from(file.read("b").data as Uint16Array)).toEqual([0x3f80, 0xc000, 0x3fc0]);
      expect(Array.from(file.readFloat32("b"))).toEqual([1, -2, 1.5]);
      expect(Array.from(file.readFloat32("e"))).toEqual([1, -5]);
      expect(Array.from(file.readFloat32("d"))).toEqual([1, 0, 1]);
      expect(Array.from(file.read("f").data as Int32Array)).toEqual([-7, 2147483647]);
      expect(file.read("z").data.length).toBe(0);
    } finally {
      file.close();
    }
  });

  test("an unpadded header is accepted as well", () => {
    const unpadded = writeBytes(assemble({ x: { dtype: "U8", shape: [3], data_offsets: [0, 3] } }, new Uint8Array([7, 8, 9]), false));
    const file = openSafetensors(unpadded);
    expect(Array.from(file.read("x").data as Uint8Array)).toEqual([7, 8, 9]);
    file.close();
  });
});

describe("round trips through the writer", () => {
  const cases: Array<{ dtype: SafetensorsDType; data: TensorToWrite["data"]; expected: unknown[] }> = [
    { dtype: "F32", data: Float32Array.of(0.1, -3.5, 1e-30, 65504, -0), expected: Array.from(Float32Array.of(0.1, -3.5, 1e-30, 65504, -0)) },
    { dtype: "F64", data: [0.1, -1e300, 2 ** -1074, 7, 1 / 3], expected: [0.1, -1e300, 2 ** -1074, 7, 1 / 3] },
    { dtype: "I64", data: BigInt64Array.of(-(2n ** 63n), -1n, 0n, 5n, 2n ** 63n - 1n), expected: [-(2n ** 63n), -1n, 0n, 5n, 2n ** 63n - 1n] },
    { dtype: "U64", data: [0, 1, 2 ** 53 - 1, 3, 4], expected: [0n, 1n, 2n ** 53n - 1n, 3n, 4n] },
    { dtype: "I32", data: [-2147483648, -1, 0, 1, 2147483647], expected: [-2147483648, -1, 0, 1, 2147483647] },
    { dtype: "U32", data: [0, 1, 4294967295, 7, 8], expected: [0, 1, 4294967295, 7, 8] },
    { dtype: "I16", data: [-32768, -1, 0, 1, 32767], expected: [-32768, -1, 0, 1, 32767] },
    { dtype: "U16", data: [0, 1, 65535, 7, 8], expected: [0, 1, 65535, 7, 8] },
    { dtype: "I8", data: [-128, -1, 0, 1, 127], expected: [-128, -1, 0, 1, 127] },
    { dtype: "U8", data: [0, 1, 255, 7, 8], expected: [0, 1, 255, 7, 8] },
    { dtype: "BOOL", data: [1, 0, 0, 1, 1], expected: [1, 0, 0, 1, 1] },
    // bf16 bits of 1, -2, 0.5, 2^-133 (subnormal), +inf.
    { dtype: "BF16", data: Uint16Array.of(0x3f80, 0xc000, 0x3f00, 0x0001, 0x7f80), expected: [0x3f80, 0xc000, 0x3f00, 0x0001, 0x7f80] },
    // f16 bits of 1, -2, 65504 (max), 2^-24 (smallest subnormal), -inf.
    { dtype: "F16", data: Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00), expected: [0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00] },
  ];

  for (const { dtype, data, expected } of cases) {
    test(`${dtype} data read back equals what was written, with shape and dtype`, () => {
      const path = freshPath(dtype);
      writeSafetensors(path, { values: { dtype, shape: [5, 1], data } });
      const file = openSafetensors(path);
      const tensor = file.read("values");
      file.close();
      expect(tensor.dtype).toBe(dtype);
      expect(tensor.shape).toEqual([5, 1]);
      expect(Array.from(tensor.data as ArrayLike<unknown>)).toEqual(expected);
    });
  }

  test("f32 values written as BF16 round to nearest, ties to even, and widen back exactly", () => {
    const path = freshPath();
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1). 1 + 3·2^-8 is halfway
    // between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6. 1 + 2^-8 + 2^-20 is above halfway: rounds up.
    const values = [1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -3, 3.0e38];
    writeSafetensors(path, { w: { dtype: "BF16", shape: [5], data: Float32Array.from(values) } });
    const file = openSafetensors(path);
    const widened = file.readFloat32("w");
    file.close();
    expect(Array.from(widened)).toEqual([1, 1 + 2 ** -6, 1 + 2 ** -7, -3, 2 ** 127 * (226 / 128)]);
  });

  test("f32 values written as F16 round to nearest half, ties to even", () => {
    const path = freshPath();
    // Half has 10 mantissa bits: 1 + 2^-11 is a tie (to 1), 1 + 3·2^-11 a tie (to 1 + 2^-9); 65520 overflows to inf.
    writeSafetensors(path, { h: { dtype: "F16", shape: [4], data: [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25 + 2 ** -30] } });
    const file = openSafetensors(path);
    expect(Array.from(file.readFloat32("h"))).toEqual([1, 1 + 2 ** -9, Infinity, 2 ** -24]);
    file.close();
  });

  test("names are stored in code-unit order with contiguous offsets, integer-like names included", () => {
    const path = freshPath();
    const tensors: Record<string, TensorToWrite> = {};
    for (const name of ["b.weight", "10", "a.bias", "2", "B"]) tensors[name] = { dtype: "F32", shape: [2], data: [1, 2] };
    writeSafetensors(path, tensors);
    const bytes = readFileSync(path);
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + headerLength).toString("utf8");
    const order = ["10", "2", "B", "a.bias", "b.weight"];
    const positions = order.map((name) => headerText.indexOf(`"${name}":`));
    expect(positions.every((position, i) => position > 0 && (i === 0 || position > positions[i - 1]!))).toBe(true);
    const header = JSON.parse(headerText) as Record<string, { data_offsets: [number, number] }>;
    expect(order.map((name) => header[name]!.data_offsets)).toEqual([
      [0, 8],
      [8, 16],
      [16, 24],
      [24, 32],
      [32, 40],
    ]);
    expect(bytes.length).toBe(8 + headerLength + 40);
  });

  test('metadata defaults to {"format":"pt"} and can be replaced or left out', () => {
    const defaultPath = freshPath();
    writeSafetensors(defaultPath, { x: { dtype: "F32", shape: [], data: [1] } });
    expect(openSafetensors(defaultPath).metadata).toEqual({ format: "pt" });
    const customPath = freshPath();
    writeSafetensors(customPath, { x: { dtype: "F32", shape: [], data: [1] } }, { step: "50000" });
    expect(openSafetensors(customPath).metadata).toEqual({ step: "50000" });
    const nonePath = freshPath();
    writeSafetensors(nonePath, { x: { dtype: "F32", shape: [], data: [1] } }, null);
    expect(readFileSync(nonePath).includes("__metadata__")).toBe(false);
  });
});

/** Wraps node:fs, counting the bytes every readSync asks for. */
function countingFs(): { fs: FileSystem; bytesRead: () => number } {
  let total = 0;
  const fs: FileSystem = {
    ...(nodeFs as FileSystem),
    openSync: nodeFs.openSync,
    closeSync: nodeFs.closeSync,
    fstatSync: nodeFs.fstatSync,
    readSync: (fd, buffer, offset, length, position) => {
      total += length;
      return nodeFs.readSync(fd, buffer, offset, length, position);
    },
  };
  return { fs, bytesRead: () => total };
}

describe("lazy reading", () => {
  test("opening reads only the length and the header, and reading a tensor reads only its bytes", () => {
    const path = freshPath();
    const big = new Float32Array(1 << 20).fill(0.5);
    writeSafetensors(path, { big: { dtype: "F32", shape: [1 << 20], data: big }, small: { dtype: "F32", shape: [3], data: [1, 2, 3] } });
    const headerBytes = Number(readFileSync(path).subarray(0, 8).readBigUInt64LE(0));
    const { fs, bytesRead } = countingFs();
    const file = openSafetensors(path, fs);
    expect(bytesRead()).toBe(8 + headerBytes);
    expect(Array.from(file.readFloat32("small"))).toEqual([1, 2, 3]);
    expect(bytesRead()).toBe(8 + headerBytes + 12);
    file.close();
  });

  test("one small tensor is read from a 1 GiB (sparse) file without touching the rest", () => {
    const gib = 2 ** 30;
    const header = {
      __metadata__: { format: "pt" },
      huge: { dtype: "F32", shape: [gib / 4], data_offsets: [0, gib] },
      tail: { dtype: "BF16", shape: [2], data_offsets: [gib, gib + 4] },
    };
    const prefix = assemble(header, new Uint8Array(0));
    const path = freshPath("sparse");
    const fd = nodeFs.openSync(path, "w");
    try {
      nodeFs.writeSync(fd, prefix, 0, prefix.length, 0);
      nodeFs.writeSync(fd, Uint8Array.of(0x80, 0x3f, 0x40, 0xc0), 0, 4, prefix.length + gib); // bf16 1, -3
    } finally {
      nodeFs.closeSync(fd);
    }
    const { fs, bytesRead } = countingFs();
    const file = openSafetensors(path, fs);
    expect(file.info("huge").byteLength).toBe(gib);
    expect(Array.from(file.readFloat32("tail"))).toEqual([1, -3]);
    expect(bytesRead()).toBe(prefix.length + 4);
    file.close();
    rmSync(path);
  });
});

describe("errors name the file and the key", () => {
  const opening = (bytes: Uint8Array): (() => void) => {
    const path = writeBytes(bytes);
    return () => openSafetensors(path).close();
  };

  test("a file shorter than the 8-byte length is truncated", () => {
    expect(opening(new Uint8Array(5))).toThrow(/raw-\d+\.safetensors.*at least 8 bytes.*has 5.*truncated/);
  });

  test("a header length larger than the file is truncated", () => {
    const bytes = new Uint8Array(18);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    expect(opening(bytes)).toThrow(/raw-\d+\.safetensors.*header length is 1000 bytes but only 10 follow.*truncated/);
  });

  test("tensor offsets beyond the end of the file are truncation", () => {
    const path = freshPath();
    validTensor(path);
    truncateSync(path, nodeFs.statSync(path).size - 2);
    expect(() => openSafetensors(path)).toThrow(
      new RegExp(`${path.replace(/[.]/g, "\\.")}: key 'b': data_offsets \\[8, 12\\] reach past the end of the data, which has 10 bytes.*truncated`),
    );
  });

  test("a header that is not JSON is corrupt", () => {
    expect(opening(assemble("{not json", new Uint8Array(0)))).toThrow(/raw-\d+\.safetensors: expected a UTF-8 JSON header.*does not parse/);
    expect(opening(assemble("[1,2]", new Uint8Array(0)))).toThrow(/expected the header to be a JSON object/);
  });

  test("overlapping offsets are corrupt", () => {
    const header = { a: { dtype: "U8", shape: [4], data_offsets: [0, 4] }, b: { dtype: "U8", shape: [4], data_offsets: [2, 6] } };
    expect(opening(assemble(header, new Uint8Array(6)))).toThrow(/key 'b': data_offsets \[2, 6\] overlap 'a', which ends at 4/);
  });

  test("offsets with a gap are corrupt (not contiguous)", () => {
    const header = { a: { dtype: "U8", shape: [4], data_offsets: [0, 4] }, b: { dtype: "U8", shape: [2], data_offsets: [6, 8] } };
    expect(opening(assemble(header, new Uint8Array(8)))).toThrow(/key 'b': data_offsets \[6, 8\] leave a gap of 2 bytes after 'a'/);
  });

  test("bytes after the last tensor are corrupt", () => {
    const header = { a: { dtype: "U8", shape: [4], data_offsets: [0, 4] } };
    expect(opening(assemble(header, new Uint8Array(7)))).toThrow(/tensors cover 4 bytes of data but the file holds 7/);
  });

  test("shape × dtype size different from the byte range is corrupt", () => {
    const header = { w: { dtype: "BF16", shape: [2, 3], data_offsets: [0, 8] } };
    expect(opening(assemble(header, new Uint8Array(8)))).toThrow(
      /raw-\d+\.safetensors: key 'w': shape \[2, 3\] of BF16 needs 12 bytes, but data_offsets \[0, 8\] span 8/,
    );
  });

  test("an unknown dtype, a bad shape or bad offsets are corrupt", () => {
    expect(opening(assemble({ w: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toThrow(
      /key 'w': expected a dtype among .*found "Q4"/,
    );
    expect(opening(assemble({ w: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toThrow(
      /key 'w': expected "shape" to be an array of non-negative integers/,
    );
    expect(opening(assemble({ w: { dtype: "U8", shape: [1], data_offsets: [1, 0] } }, new Uint8Array(1)))).toThrow(
      /key 'w': expected "data_offsets" to be \[begin, end\]/,
    );
  });

  test("a dtype or shape other than the caller expects is an error", () => {
    const path = freshPath();
    validTensor(path);
    const file = openSafetensors(path);
    expect(() => file.read("a", { dtype: "BF16" })).toThrow(new RegExp(`key 'a': expected dtype BF16, found F32`));
    expect(() => file.read("a", { shape: [1, 2] })).toThrow(/key 'a': expected shape \[1, 2\], found \[2\]/);
    expect(() => file.read("missing")).toThrow(/key 'missing' is not in the file \(it has 2 tensors\)/);
    expect(file.read("a", { dtype: ["BF16", "F32"], shape: [2] }).shape).toEqual([2]);
    file.close();
    expect(() => file.read("a")).toThrow(/key 'a' read after close/);
  });

  test("the strict key check lists up to 10 missing and 10 unexpected keys and counts the rest", () => {
    const path = freshPath();
    const tensors: Record<string, TensorToWrite> = {};
    for (let i = 0; i < 11; i++) tensors[`extra.${i}`] = { dtype: "U8", shape: [1], data: [i] };
    tensors.shared = { dtype: "U8", shape: [1], data: [0] };
    writeSafetensors(path, tensors);
    const expected = ["shared", ...Array.from({ length: 12 }, (_, i) => `want.${i}`)];
    const file = openSafetensors(path);
    let message = "";
    try {
      file.expectKeys(expected);
    } catch (error) {
      message = (error as Error).message;
    }
    file.close();
    expect(message).toContain(path);
    expect(message).toMatch(/12 missing key\(s\): 'want\.0', .*'want\.9' and 2 more/);
    expect(message).toMatch(/11 unexpected key\(s\): 'extra\.0', .* and 1 more/);
    expect(message).not.toContain("'want.10'");
    expect(message).not.toContain("'shared'");
    const listed = message.match(/'extra\.\d+'/g) ?? [];
    expect(listed.length).toBe(10);
  });

  test("the writer refuses data whose length does not match the shape, naming the key", () => {
    expect(() => writeSafetensors(freshPath(), { "blocks.0.to_q.weight": { dtype: "BF16", shape: [2, 3], data: new Float32Array(5) } })).toThrow(
      /key 'blocks\.0\.to_q\.weight': shape \[2, 3\] holds 6 elements, the data has 5/,
    );
  });
});

describe("atomic writes", () => {
  const previous = { kept: { dtype: "F32" as const, shape: [3], data: [7, 8, 9] } };
  const replacement = { first: { dtype: "F32" as const, shape: [2], data: [1, 2] }, second: { dtype: "BF16" as const, shape: [2], data: [3, 4] } };

  function withEarlierFile(): { path: string; before: Buffer; folderBefore: string[] } {
    const path = freshPath("atomic");
    writeSafetensors(path, previous);
    return { path, before: readFileSync(path), folderBefore: readdirSync(folder).sort() };
  }

  test("a write that fails midway leaves the earlier file byte-identical and no temporary file", () => {
    const { path, before, folderBefore } = withEarlierFile();
    let writes = 0;
    const failing: FileSystem = {
      ...(nodeFs as FileSystem),
      writeSync: (fd, buffer, offset, length) => {
        if (++writes === 2) throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
        return nodeFs.writeSync(fd, buffer, offset, length);
      },
    };
    expect(() => writeSafetensors(path, replacement, undefined, failing)).toThrow(
      /atomic-\d+\.safetensors: writing failed \(ENOSPC.*previous file, if any, is unchanged/,
    );
    expect(writes).toBe(2);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(folderBefore);
  });

  test("a failing rename leaves the earlier file byte-identical and no temporary file", () => {
    const { path, before, folderBefore } = withEarlierFile();
    const failing: FileSystem = {
      ...(nodeFs as FileSystem),
      renameSync: () => {
        throw new Error("EACCES: permission denied, rename");
      },
    };
    expect(() => writeSafetensors(path, replacement, undefined, failing)).toThrow(/EACCES/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(folderBefore);
  });

  test("a value that cannot be encoded halfway through the data aborts without touching the earlier file", () => {
    const { path, before, folderBefore } = withEarlierFile();
    const tensors = { a: { dtype: "F32" as const, shape: [2], data: [1, 2] }, b: { dtype: "I32" as const, shape: [2], data: [1, 2 ** 31] } };
    expect(() => writeSafetensors(path, tensors)).toThrow(
      /atomic-\d+\.safetensors: key 'b': element 1 is 2147483648, not an integer in \[-2147483648, 2147483647\]/,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(folderBefore);
  });

  test("a successful write replaces the file and leaves no temporary file", () => {
    const { path, folderBefore } = withEarlierFile();
    writeSafetensors(path, replacement);
    expect(readdirSync(folder).sort()).toEqual(folderBefore);
    const file = openSafetensors(path);
    expect(file.tensors.map((t) => t.name)).toEqual(["first", "second"]);
    expect(Array.from(file.readFloat32("second"))).toEqual([3, 4]);
    file.close();
  });
});

describe("loadStateDict", () => {
  const spec = [
    { name: "proj_out.weight", shape: [2, 3] },
    { name: "proj_out.bias", shape: [2] },
  ];
  const weights = new Map([
    ["proj_out.weight", { shape: [2, 3], data: Float32Array.of(1, -2, 0.5, 0.25, 3, -4) }],
    ["proj_out.bias", { shape: [2], data: Float32Array.of(0.125, -8) }],
  ]);

  test("a bf16 checkpoint saved with format pt loads as float32 with matching keys and shapes", () => {
    const path = freshPath("ckpt");
    saveStateDict(path, weights);
    const file = openSafetensors(path);
    expect(file.metadata).toEqual({ format: "pt" });
    expect(file.tensors.every((t) => t.dtype === "BF16")).toBe(true);
    file.close();
    const loaded = loadStateDict(path, spec);
    expect([...loaded.keys()]).toEqual(["proj_out.weight", "proj_out.bias"]);
    expect(Array.from(loaded.get("proj_out.weight")!)).toEqual([1, -2, 0.5, 0.25, 3, -4]);
    expect(Array.from(loaded.get("proj_out.bias")!)).toEqual([0.125, -8]);
  });

  test("strict loading refuses a missing or an unexpected key; non-strict loads what the spec and file share", () => {
    const path = freshPath("ckpt");
    saveStateDict(path, weights);
    const bigger = [...spec, { name: "pos_embedder.text_emb", shape: [4] }];
    expect(() => loadStateDict(path, bigger)).toThrow(/ckpt-\d+\.safetensors: the keys differ.*1 missing key\(s\): 'pos_embedder\.text_emb'/);
    expect(() => loadStateDict(path, spec.slice(0, 1))).toThrow(/1 unexpected key\(s\): 'proj_out\.bias'/);
    const partial = loadStateDict(path, bigger, { strict: false });
    expect([...partial.keys()]).toEqual(["proj_out.weight", "proj_out.bias"]);
  });

  test("a shape mismatch is an error naming the file and the key, strict or not", () => {
    const path = freshPath("ckpt");
    saveStateDict(path, weights);
    const wrong = [{ name: "proj_out.weight", shape: [3, 2] }, spec[1]!];
    expect(() => loadStateDict(path, wrong, { strict: false })).toThrow(
      /ckpt-\d+\.safetensors: key 'proj_out\.weight': expected shape \[3, 2\], found \[2, 3\]/,
    );
  });
});
