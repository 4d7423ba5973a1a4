// The data set loader (models/data/dataset.ts and its parts): CSV/JSON/JSONL metadata, image
// decoding with alpha handling, cover-resize + centre-crop geometry, bad-row reporting, shuffling.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bf16Bits } from "../compiler/dtype.ts";
import { formatCsv, parseCsv } from "../models/data/csv.ts";
import { openDataset, type DatasetWarning } from "../models/data/dataset.ts";
import { coverCrop, decodeRgb, loadImageRgb, rgbToModelInput, roundHalfEven, targetSize } from "../models/data/load-image.ts";
import { encodedCacheKey, readEncoded, writeEncoded } from "../models/data/encoded-cache.ts";
import { parseMetadata } from "../models/data/metadata.ts";
import { findMetadataFile, resolveDataSource, withDefaultData } from "../models/data/source.ts";
import { shuffled, uniformBelow, xoshiro128, xoshiro128FromState } from "../models/data/shuffle.ts";

let dir = "";

/** A width×height RGB PNG whose pixel (x, y) is colour(x, y). */
async function writeRgb(name: string, width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Promise<void> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 3);
  await sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(join(dir, name));
}

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];
const bands = (i: number, n: number): [number, number, number] => (i < n / 4 ? RED : i < (3 * n) / 4 ? GREEN : BLUE);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-dataset-"));
  await writeRgb("solid.png", 8, 8, () => [200, 100, 50]);
  await writeRgb("wide.png", 40, 20, (x) => bands(x, 40));
  await writeRgb("tall.png", 20, 40, (_, y) => bands(y, 40));
  // 8×8 RGBA: left half opaque blue, right half fully transparent over a stored green-ish colour,
  // and pixel (0, 7) half-transparent black.
  const rgba = Buffer.alloc(8 * 8 * 4);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) rgba.set(x < 4 ? [0, 0, 255, 255] : [10, 200, 30, 0], (y * 8 + x) * 4);
  }
  rgba.set([0, 0, 0, 128], 7 * 8 * 4);
  await sharp(rgba, { raw: { width: 8, height: 8, channels: 4 } })
    .png()
    .toFile(join(dir, "rgba.png"));
  // A noisy image, so its PNG is large enough that cutting it in half loses pixel rows.
  const noisy = Buffer.alloc(64 * 64 * 3);
  let state = 1;
  for (let i = 0; i < noisy.length; i++) noisy[i] = (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  const png = await sharp(noisy, { raw: { width: 64, height: 64, channels: 3 } })
    .png()
    .toBuffer();
  await writeFile(join(dir, "truncated.png"), png.subarray(0, png.length >> 1));
  await writeFile(join(dir, "garbage.png"), "this is not an image");
  const solid = sharp(Buffer.alloc(8 * 8 * 3, 0).fill(Buffer.from([40, 160, 220])), { raw: { width: 8, height: 8, channels: 3 } });
  await solid.clone().jpeg({ quality: 95 }).toFile(join(dir, "solid.jpg"));
  await solid.clone().webp({ lossless: true }).toFile(join(dir, "solid.webp"));
  // A two-frame GIF: red frame first, blue second; only the first may be read.
  const frames = Buffer.concat([Buffer.alloc(4 * 4 * 3).fill(Buffer.from(RED)), Buffer.alloc(4 * 4 * 3).fill(Buffer.from(BLUE))]);
  await sharp(frames, { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } })
    .gif()
    .toFile(join(dir, "two-frames.gif"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("CSV", () => {
  test("quoted fields keep commas, doubled quotes and newlines; CRLF and a BOM are accepted", () => {
    const text = '\ufeffimage,prompt\r\na.png,"red, round, ""quoted"""\r\nb.png,"first line\r\nsecond line"\r\n';
    const records = parseCsv(text);
    expect(records.map((r) => r.fields)).toEqual([
      ["image", "prompt"],
      ["a.png", 'red, round, "quoted"'],
      ["b.png", "first line\r\nsecond line"],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
  });

  test("a record after a multi-line field reports the line it starts on", () => {
    const records = parseCsv('h\n"a\nb\nc"\nnext\n');
    expect(records.map((r) => [r.fields[0], r.line])).toEqual([
      ["h", 1],
      ["a\nb\nc", 2],
      ["next", 5],
    ]);
  });

  test("a quote left open at the end of the file is an error naming its line", () => {
    expect(() => parseCsv('image,prompt\na.png,"never closed\n', "meta.csv")).toThrow(/meta\.csv.*line 2/);
  });

  test("formatCsv then parseCsv gives back any table of strings", () => {
    const cell = fc.string({ unit: fc.constantFrom("a", "b", " ", ",", '"', "\n", "\r", "é", "\r\n") });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }), (rows) => {
        expect(parseCsv(formatCsv(rows)).map((r) => r.fields)).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });
});

describe("metadata", () => {
  test("CSV rows become objects of all columns, with empty cells undefined as pandas' NaN", () => {
    const metadata = parseMetadata("image,prompt,extra\na.png,hello,\nb.png,,x\n", "m.csv");
    expect(metadata.rows.map((r) => r.fields)).toEqual([
      { image: "a.png", prompt: "hello", extra: undefined },
      { image: "b.png", prompt: undefined, extra: "x" },
    ]);
  });

  test("cells pandas reads as NaN (NA, None, null, …) are missing, quoted or not; other text is kept", () => {
    const metadata = parseMetadata('image,prompt\na.png,None\nb.png,"NA"\nc.png,null\nd.png,nan\ne.png, NA\nf.png,Nonesuch\n', "m.csv");
    expect(metadata.rows.map((r) => r.fields.prompt)).toEqual([undefined, undefined, undefined, undefined, " NA", "Nonesuch"]);
  });

  test("a CSV record with more fields than the header is reported and skipped", () => {
    const metadata = parseMetadata("image,prompt\na.png,p,surplus\nb.png,q\n", "m.csv");
    expect(metadata.rows.map((r) => r.fields.image)).toEqual(["b.png"]);
    expect(metadata.warnings).toEqual([{ file: "m.csv", row: 0, line: 2, reason: expect.stringMatching(/at most 2 fields.*found 3/) }]);
  });

  test("JSON lists and JSONL lines give the same rows; non-objects and broken lines are reported", () => {
    const json = parseMetadata('[{"image":"a.png","prompt":"p"}, 5, {"image":"b.png","prompt":"q","n":3}]', "m.json");
    const jsonl = parseMetadata('{"image":"a.png","prompt":"p"}\n{broken\n\n{"image":"b.png","prompt":"q","n":3}\n', "m.jsonl");
    for (const metadata of [json, jsonl]) {
      expect(metadata.rows.map((r) => r.fields)).toEqual([
        { image: "a.png", prompt: "p" },
        { image: "b.png", prompt: "q", n: 3 },
      ]);
      expect(metadata.warnings.map((w) => w.row)).toEqual([1]);
    }
    expect(jsonl.warnings[0]!.line).toBe(2);
    expect(jsonl.rows.map((r) => r.line)).toEqual([1, 4]);
  });
});

describe("image geometry", () => {
  test("roundHalfEven matches Python's round on ties and elsewhere", () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [3.5, 4],
      [4.5, 4],
      [2.4999, 2],
      [2.5001, 3],
      [7, 7],
    ];
    for (const [x, expected] of cases) expect(roundHalfEven(x)).toBe(expected);
  });

  test("coverCrop follows spec §7.3: scale to cover, banker's rounding, centred crop", () => {
    // Worked by hand from the spec's formulas.
    expect(coverCrop(300, 200, 256, 256)).toEqual({ resizedWidth: 384, resizedHeight: 256, left: 64, top: 0 });
    expect(coverCrop(4, 6, 3, 3)).toEqual({ resizedWidth: 3, resizedHeight: 4, left: 0, top: 0 }); // round(4.5) = 4
    expect(coverCrop(101, 100, 100, 100)).toEqual({ resizedWidth: 101, resizedHeight: 100, left: 0, top: 0 }); // round(0.5) = 0
    expect(coverCrop(103, 100, 100, 100)).toEqual({ resizedWidth: 103, resizedHeight: 100, left: 2, top: 0 }); // round(1.5) = 2
    expect(coverCrop(20, 40, 16, 16)).toEqual({ resizedWidth: 16, resizedHeight: 32, left: 0, top: 8 });
  });

  test("targetSize without height and width caps the pixel count and floors to multiples of 16", () => {
    // sqrt(3000·2000/(1920·1080)) = 1.7010…; int(3000/1.7010) = 1763, int(2000/1.7010) = 1175.
    expect(targetSize(3000, 2000)).toEqual({ width: 1760, height: 1168 });
    expect(targetSize(100, 50)).toEqual({ width: 96, height: 48 });
    expect(targetSize(100, 50, { height: 256, width: 256 })).toEqual({ width: 256, height: 256 });
  });

  test("a wide image keeps its middle columns and a tall image its middle rows", async () => {
    const isGreen = (pixels: Uint8Array, i: number): boolean => pixels[i * 3]! < 16 && pixels[i * 3 + 1]! > 239 && pixels[i * 3 + 2]! < 16;
    const wide = await loadImageRgb(join(dir, "wide.png"), 16, 16);
    const tall = await loadImageRgb(join(dir, "tall.png"), 16, 16);
    for (const image of [wide, tall]) {
      expect([image.width, image.height, image.pixels.length]).toEqual([16, 16, 16 * 16 * 3]);
    }
    // The crop edge sits on the band edge, so only the first and last line may be blended.
    for (let y = 0; y < 16; y++) for (let x = 1; x < 15; x++) expect(isGreen(wide.pixels, y * 16 + x)).toBe(true);
    for (let y = 1; y < 15; y++) for (let x = 0; x < 16; x++) expect(isGreen(tall.pixels, y * 16 + x)).toBe(true);
  });
});

describe("image decoding", () => {
  test("alpha 'white' composites transparent pixels on white, 'drop' keeps the stored colour", async () => {
    const white = await decodeRgb(join(dir, "rgba.png"), "white");
    const drop = await decodeRgb(join(dir, "rgba.png"), "drop");
    const at = (pixels: Uint8Array, x: number, y: number): number[] => Array.from(pixels.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(at(white.pixels, 1, 1)).toEqual([0, 0, 255]);
    expect(at(drop.pixels, 1, 1)).toEqual([0, 0, 255]);
    expect(at(white.pixels, 6, 2)).toEqual([255, 255, 255]);
    expect(at(drop.pixels, 6, 2)).toEqual([10, 200, 30]);
    // Half-transparent black over white: 255·(1 − 128/255) = 127.
    expect(at(white.pixels, 0, 7)).toEqual([127, 127, 127]);
    expect(at(drop.pixels, 0, 7)).toEqual([0, 0, 0]);
  });

  test("JPEG, WebP and the first frame of a GIF decode to RGB", async () => {
    const jpeg = await decodeRgb(join(dir, "solid.jpg"));
    const webp = await decodeRgb(join(dir, "solid.webp"));
    const gif = await decodeRgb(join(dir, "two-frames.gif"));
    for (let i = 0; i < 3; i++) expect(Math.abs(jpeg.pixels[i]! - [40, 160, 220][i]!)).toBeLessThanOrEqual(4);
    expect(Array.from(webp.pixels.subarray(0, 3))).toEqual([40, 160, 220]);
    expect([gif.width, gif.height]).toEqual([4, 4]);
    for (let p = 0; p < 16; p++) expect(Array.from(gif.pixels.subarray(p * 3, p * 3 + 3))).toEqual(RED);
  });

  test("model input is CHW with x·2/255 − 1, exact at 0 and 255; bf16 mode rounds to bf16", () => {
    const image = { pixels: new Uint8Array([0, 128, 255, 200, 100, 50]), height: 1, width: 2 };
    const f32 = rgbToModelInput(image);
    const expected = [0, 200, 128, 100, 255, 50].map((v) => Math.fround((v * 2) / 255 - 1));
    expect(Array.from(f32)).toEqual(expected);
    expect([f32[0], f32[4]]).toEqual([-1, 1]);
    const bf16 = rgbToModelInput(image, "bf16");
    for (let i = 0; i < 6; i++) {
      // A bf16 value is an f32 whose low 16 bits are zero; 2^-7 is bf16's spacing just below 1.
      const bits = new Uint32Array(new Float32Array([bf16[i]!]).buffer)[0]!;
      expect(bits & 0xffff).toBe(0);
      expect(bf16Bits(bf16[i]!) << 16).toBe(bits | 0);
      expect(Math.abs(bf16[i]! - f32[i]!)).toBeLessThanOrEqual(2 ** -7);
    }
    expect([bf16[0], bf16[4]]).toEqual([-1, 1]);
  });
});

describe("dataset", () => {
  const csv =
    "image,prompt\n" +
    'solid.png,"red, round, ""quoted"" thing"\n' +
    'rgba.png,"first line\nsecond line"\n' +
    "nope.png,a file that is missing\n" +
    "truncated.png,a truncated PNG\n" +
    ",a row without an image\n" +
    "wide.png,\n" +
    "garbage.png,not an image at all\n";

  test("bad rows and bad images are reported with file, row and reason, and skipped", async () => {
    const metadataPath = join(dir, "metadata.csv");
    await writeFile(metadataPath, csv);
    const reported: DatasetWarning[] = [];
    const dataset = await openDataset({ metadataPath, basePath: dir, height: 8, width: 8, onWarning: (w) => reported.push(w) });
    expect(dataset.entries.map((e) => e.row)).toEqual([0, 1, 2, 3, 6]);
    expect(reported.map((w) => [w.row, w.line])).toEqual([
      [4, 7],
      [5, 8],
    ]);
    expect(reported[0]!.reason).toMatch(/image/);
    expect(reported[1]!.reason).toMatch(/prompt/);
    const items = [];
    // The epoch still has 5 items (one per usable row); bad images are skipped, so passes wrap.
    for await (const item of dataset.items({ shuffle: false })) items.push(item);
    expect(items.map((i) => i.row)).toEqual([0, 1, 0, 1, 0]);
    expect(items.slice(0, 2).map((i) => i.prompt)).toEqual(['red, round, "quoted" thing', "first line\nsecond line"]);
    const imageWarnings = reported.slice(2);
    expect(imageWarnings.map((w) => [w.file, w.row])).toEqual([
      [join(dir, "nope.png"), 2],
      [join(dir, "truncated.png"), 3],
      [join(dir, "garbage.png"), 6],
    ]);
    for (const w of imageWarnings) expect(w.reason).toMatch(/cannot load image/);
    expect(dataset.warnings).toEqual(reported);
  });

  test("a column no row has, or a missing images folder, is one error for the file", async () => {
    const misspelt = join(dir, "misspelt.csv");
    await writeFile(misspelt, "image,caption,extra\nsolid.png,red,x\nwide.png,bands,y\n");
    await expect(openDataset({ metadataPath: misspelt, basePath: dir, height: 4, width: 4 })).rejects.toThrow(
      /misspelt\.csv: expected a column 'prompt', found columns image,caption,extra/,
    );
    const good = join(dir, "good.csv");
    await writeFile(good, "image,prompt\nsolid.png,red\n");
    await expect(openDataset({ metadataPath: good, basePath: join(dir, "no-such-folder"), height: 4, width: 4 })).rejects.toThrow(
      /good\.csv: image names are relative to the images folder .*no-such-folder, which does not exist/,
    );
    const absolute = join(dir, "absolute.csv");
    await writeFile(absolute, `image,prompt\n${join(dir, "solid.png")},red\n`);
    expect((await openDataset({ metadataPath: absolute, basePath: join(dir, "no-such-folder"), height: 4, width: 4 })).entries).toHaveLength(1);
  });

  test("an item is a 3×H×W float image in [-1, 1] with its prompt; loadRgb gives the HWC bytes", async () => {
    const metadataPath = join(dir, "one.json");
    await writeFile(metadataPath, JSON.stringify([{ image: "solid.png", prompt: "orange square", tag: "t" }]));
    const dataset = await openDataset({ metadataPath, basePath: dir, height: 4, width: 6 });
    const item = await dataset.load(0);
    const rgb = await dataset.loadRgb(0);
    expect(item && rgb).toBeTruthy();
    expect([item!.height, item!.width, item!.image.length, item!.prompt, item!.fields.tag]).toEqual([4, 6, 3 * 4 * 6, "orange square", "t"]);
    const plane = 4 * 6;
    [200, 100, 50].forEach((level, c) => {
      for (let p = 0; p < plane; p++) expect(item!.image[c * plane + p]).toBeCloseTo((level * 2) / 255 - 1, 5);
    });
    expect(Array.from(rgb!.pixels.subarray(0, 6))).toEqual([200, 100, 50, 200, 100, 50]);
  });

  test("the alpha option reaches the loaded items", async () => {
    const metadataPath = join(dir, "rgba.jsonl");
    await writeFile(metadataPath, '{"image":"rgba.png","prompt":"half blue"}\n');
    const white = await (await openDataset({ metadataPath, basePath: dir, height: 8, width: 8 })).loadRgb(0);
    const drop = await (await openDataset({ metadataPath, basePath: dir, height: 8, width: 8, alpha: "drop" })).loadRgb(0);
    expect(Array.from(white!.pixels.subarray(7 * 3, 8 * 3))).toEqual([255, 255, 255]);
    expect(Array.from(drop!.pixels.subarray(7 * 3, 8 * 3))).toEqual([10, 200, 30]);
  });

  test("epoch length follows maxDataItems, then rows × repeat; indices wrap", async () => {
    const metadataPath = join(dir, "three.csv");
    await writeFile(metadataPath, "image,prompt\nsolid.png,a\nsolid.png,b\nsolid.png,c\n");
    const base = { metadataPath, basePath: dir, height: 4, width: 4 };
    expect((await openDataset(base)).length).toBe(3);
    expect((await openDataset({ ...base, repeat: 4 })).length).toBe(12);
    expect((await openDataset({ ...base, repeat: 4, maxDataItems: 7 })).length).toBe(7);
    const dataset = await openDataset(base);
    expect((await dataset.load(4))!.prompt).toBe("b");
  });

  test("the same seed gives the same order, each pass is a permutation, other seeds differ", async () => {
    const metadataPath = join(dir, "twenty.csv");
    await writeFile(metadataPath, "image,prompt\n" + Array.from({ length: 20 }, (_, i) => `solid.png,p${i}\n`).join(""));
    const dataset = await openDataset({ metadataPath, basePath: dir, height: 2, width: 2, cache: true });
    const order = async (seed: number, count = 40): Promise<number[]> => {
      const rows: number[] = [];
      for await (const item of dataset.items({ seed, count })) rows.push(item.row);
      return rows;
    };
    const first = await order(7);
    expect(await order(7)).toEqual(first);
    const all = Array.from({ length: 20 }, (_, i) => i);
    expect([...first.slice(0, 20)].sort((a, b) => a - b)).toEqual(all);
    expect([...first.slice(20)].sort((a, b) => a - b)).toEqual(all);
    expect(first.slice(0, 20)).not.toEqual(first.slice(20));
    expect(await order(8)).not.toEqual(first);
    expect(first.slice(0, 20)).not.toEqual(all);
    const inOrder: number[] = [];
    for await (const item of dataset.items({ shuffle: false, count: 5 })) inOrder.push(item.row);
    expect(inOrder).toEqual([0, 1, 2, 3, 4]);
  });

  test("iteration ends instead of spinning when every image is bad", async () => {
    const metadataPath = join(dir, "allbad.csv");
    await writeFile(metadataPath, "image,prompt\nnope.png,a\ngarbage.png,b\n");
    const dataset = await openDataset({ metadataPath, basePath: dir, height: 4, width: 4 });
    const rows: number[] = [];
    for await (const item of dataset.items({ count: 100 })) rows.push(item.row);
    expect(rows).toEqual([]);
    expect(dataset.warnings.length).toBe(2);
  });
});

describe("data source", () => {
  const folder = async (name: string, files: readonly string[]): Promise<string> => {
    const where = join(dir, name);
    await mkdir(join(where, "images"), { recursive: true });
    for (const file of files) await writeFile(join(where, file), "image,prompt\n");
    return where;
  };

  test("--data DIR finds its one metadata file, metadata_merged.csv included, and images/ beside it", async () => {
    for (const name of ["metadata.csv", "metadata_merged.csv", "metadata.jsonl"]) {
      const where = await folder(`one-${name}`, [name, "notes.txt", "prompts.csv"]);
      expect(resolveDataSource({ data: where })).toEqual({ metadataPath: join(where, name), imagesDir: join(where, "images"), home: where });
    }
  });

  test("several metadata files, none, or a missing folder are errors that say what was found", async () => {
    const several = await folder("several", ["metadata.csv", "metadata_merged.csv"]);
    expect(() => findMetadataFile(several)).toThrow(
      /several metadata files \(metadata\.csv, metadata_merged\.csv\); name the one to use with --metadata/,
    );
    const none = await folder("none", ["captions.csv"]);
    expect(() => findMetadataFile(none)).toThrow(/none: expected a metadata file .*found captions\.csv, images; name it with --metadata FILE/);
    expect(() => findMetadataFile(join(dir, "absent"))).toThrow(/data folder .*absent does not exist/);
    expect(() => resolveDataSource({ metadata: join(dir, "absent.csv") })).toThrow(/--metadata .*absent\.csv: no such file/);
  });

  test("--metadata FILE and --images DIR name the two places apart; the cache lives by the metadata or --data", async () => {
    const where = await folder("apart", ["metadata_merged.csv"]);
    const metadataPath = join(where, "metadata_merged.csv");
    expect(resolveDataSource({ metadata: metadataPath })).toEqual({ metadataPath, imagesDir: join(where, "images"), home: where });
    expect(resolveDataSource({ metadata: metadataPath, images: "/elsewhere/pics" })).toEqual({
      metadataPath,
      imagesDir: "/elsewhere/pics",
      home: where,
    });
    expect(resolveDataSource({ data: "/somewhere", metadata: metadataPath })).toEqual({
      metadataPath,
      imagesDir: "/somewhere/images",
      home: "/somewhere",
    });
    expect(withDefaultData({ images: "/x" }, "data/pokemon-64")).toEqual({ images: "/x", data: "data/pokemon-64" });
    expect(withDefaultData({ metadata: metadataPath }, "data/pokemon-64")).toEqual({ metadata: metadataPath });
  });
});

describe("encoded-data cache", () => {
  const items = { prompts: ["p"], files: ["a.png"], latents: [Float32Array.of(1, 2, 3)], embeds: [] };

  test("the same metadata and image names under another images folder get another key", async () => {
    const metadataPath = join(dir, "key.csv");
    await writeFile(metadataPath, "image,prompt\nsolid.png,a\n");
    const here = encodedCacheKey(metadataPath, [join(dir, "solid.png")], {});
    expect(encodedCacheKey(metadataPath, [join(dir, "solid.png")], {})).toBe(here);
    expect(encodedCacheKey(metadataPath, [join(dir, "copy", "solid.png")], {})).not.toBe(here);
  });

  test("a folder that cannot be written is skipped for the next, and reading finds the entry there", async () => {
    const blocked = join(dir, "blocked");
    await writeFile(blocked, "a file where the cache folder would go"); // mkdir fails, even for root
    const fallback = join(dir, "fallback-cache");
    const written = writeEncoded([join(blocked, ".kiln-cache"), fallback], "k1", items);
    expect(written.file).toBe(join(fallback, "encoded-k1.safetensors"));
    expect(written.failed).toEqual([expect.stringContaining(join(blocked, ".kiln-cache"))]);
    expect(readEncoded([join(blocked, ".kiln-cache"), fallback], "k1")).toEqual(items);
    expect(readEncoded([join(blocked, ".kiln-cache"), fallback], "k2")).toBeUndefined();
    const nowhere = writeEncoded([join(blocked, "a"), join(blocked, "b")], "k1", items);
    expect([nowhere.file, nowhere.failed.length]).toEqual([undefined, 2]);
  });
});

describe("shuffle", () => {
  test("xoshiro128** reproduces the reference algorithm's outputs", () => {
    // From a separate C implementation of xoshiro128** (state {1, 2, 3, 4}) and of the
    // splitmix32 seeding (seed 42).
    const fromState = xoshiro128FromState([1, 2, 3, 4]);
    expect(Array.from({ length: 8 }, fromState)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
    const seeded = xoshiro128(42);
    expect(Array.from({ length: 4 }, seeded)).toEqual([2837322924, 544945897, 479756282, 3500138142]);
  });

  test("uniformBelow stays in range and shuffled returns a permutation", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 50 }), (seed, n) => {
        const random = xoshiro128(seed);
        for (let i = 0; i < 20; i++) {
          const value = uniformBelow(random, n);
          expect(value >= 0 && value < n && Number.isInteger(value)).toBe(true);
        }
        const items = Array.from({ length: n }, (_, i) => i);
        expect(shuffled(items, random).sort((a, b) => a - b)).toEqual(items);
      }),
    );
  });
});
