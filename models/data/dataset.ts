// The training data set: the reference's UnifiedDataset (spec §7) over a metadata file and an image
// folder, yielding model-ready images and prompts; bad rows and bad images are reported and skipped.
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { loadImageRgb, rgbToModelInput, type AlphaMode, type InputPrecision, type RgbImage } from "./load-image.ts";
import { readMetadata, type DatasetWarning, type MetadataRow } from "./metadata.ts";
import { shuffled, xoshiro128 } from "./shuffle.ts";

export type { DatasetWarning } from "./metadata.ts";
export { formatWarning } from "./metadata.ts";
export type { AlphaMode, InputPrecision, RgbImage } from "./load-image.ts";

export interface DatasetOptions {
  /** metadata.csv / .json / .jsonl (spec §7.1). */
  metadataPath: string;
  /** Folder the image column is relative to (the reference's base_path); absolute names are kept. */
  basePath: string;
  /** Output size; the tutorial trains at 256 × 256. */
  height: number;
  width: number;
  /** Transparency: "white" (default, our choice) or "drop" (the reference's convert("RGB")). */
  alpha?: AlphaMode;
  /** f32 (default) or bf16-rounded preprocessing (spec §4.2). */
  precision?: InputPrecision;
  imageKey?: string;
  promptKey?: string;
  /** Epoch length override (spec §7.2): indices wrap modulo the number of rows. */
  maxDataItems?: number;
  /** Epoch length = rows × repeat when maxDataItems is not set (default 1). */
  repeat?: number;
  /** Keep decoded, cropped images in memory (151 images at 256² are about 30 MB). */
  cache?: boolean;
  /** Called once per skipped row or image; all warnings are also kept in `dataset.warnings`. */
  onWarning?: (warning: DatasetWarning) => void;
}

/** One usable metadata row: where the image is, its prompt, and every other column unchanged. */
export interface DatasetEntry {
  row: number;
  line: number | undefined;
  /** The image path as resolved against basePath. */
  file: string;
  prompt: string;
  fields: Readonly<Record<string, unknown>>;
}

/** A training example: CHW float image in [-1, 1] (3 × height × width) and its prompt. */
export interface DatasetItem {
  image: Float32Array;
  height: number;
  width: number;
  prompt: string;
  row: number;
  file: string;
  fields: Readonly<Record<string, unknown>>;
}

/** The same example as 8-bit HWC RGB, before scaling to [-1, 1]. */
export interface DatasetRgbItem extends RgbImage {
  prompt: string;
  row: number;
  file: string;
}

export interface IterateOptions {
  /** Shuffle seed; each pass over the rows is a fresh permutation from one seeded stream. */
  seed?: number;
  /** false keeps metadata order (default true). */
  shuffle?: boolean;
  /** Items to yield (default: the epoch length); passes over the rows repeat until that many are
   * yielded, skipping bad images. Stops early only if a whole pass yields nothing. */
  count?: number;
}

export interface Dataset {
  entries: readonly DatasetEntry[];
  /** Every skipped row or image so far (grows as images fail to load). */
  warnings: readonly DatasetWarning[];
  /** The epoch length (spec §7.2 __len__). */
  length: number;
  /** Item i (modulo the number of entries) as 8-bit RGB, or undefined if its image is bad (warned). */
  loadRgb(index: number): Promise<DatasetRgbItem | undefined>;
  /** Item i (modulo the number of entries) as model input, or undefined if its image is bad (warned). */
  load(index: number): Promise<DatasetItem | undefined>;
  /** Items in seeded-shuffled (or metadata) order, skipping bad images; never throws for a bad row or image. */
  items(options?: IterateOptions): AsyncGenerator<DatasetItem>;
}

/** What a bad cell holds, for a message: an empty (or NA) CSV cell, or the JSON value. */
const describeCell = (value: unknown): string => (value === undefined ? "an empty cell (or one pandas reads as missing: NA, None, null, …)" : JSON.stringify(value));

/** Checks a row for an image name and a non-empty prompt; returns the entry or the reason it is bad. */
function toEntry(row: MetadataRow, options: DatasetOptions): DatasetEntry | string {
  const imageKey = options.imageKey ?? "image";
  const promptKey = options.promptKey ?? "prompt";
  const image = row.fields[imageKey];
  const prompt = row.fields[promptKey];
  if (!(imageKey in row.fields)) return `expected a column '${imageKey}', found columns ${Object.keys(row.fields).join(",") || "(none)"}`;
  if (typeof image !== "string" || image.trim() === "") return `expected an image file name in '${imageKey}', found ${describeCell(image)}`;
  if (!(promptKey in row.fields)) return `expected a column '${promptKey}', found columns ${Object.keys(row.fields).join(",")}`;
  if (typeof prompt !== "string" || prompt.trim() === "") return `expected a non-empty prompt in '${promptKey}', found ${describeCell(prompt)}`;
  const file = isAbsolute(image) ? image : join(options.basePath, image);
  return { row: row.row, line: row.line, file, prompt, fields: row.fields };
}

/**
 * Problems of the whole file rather than of a row: a column no row has (a misspelt header would
 * otherwise report every row), and a missing images folder that relative image names point into.
 */
function checkWhole(rows: readonly MetadataRow[], entries: readonly DatasetEntry[], path: string, options: DatasetOptions): void {
  for (const key of [options.imageKey ?? "image", options.promptKey ?? "prompt"]) {
    if (rows.length > 0 && rows.every((row) => !(key in row.fields))) {
      const columns = [...new Set(rows.flatMap((row) => Object.keys(row.fields)))];
      throw new Error(`${path}: expected a column '${key}', found columns ${columns.join(",") || "(none)"}`);
    }
  }
  if (entries.some((entry) => !isAbsolute(entry.fields[options.imageKey ?? "image"] as string)) && !existsSync(options.basePath)) {
    throw new Error(`${path}: image names are relative to the images folder ${options.basePath}, which does not exist (name it with --images DIR)`);
  }
}

/** Opens a data set: reads and checks the metadata now, loads images on demand. */
export async function openDataset(options: DatasetOptions): Promise<Dataset> {
  if (!(Number.isInteger(options.height) && options.height > 0 && Number.isInteger(options.width) && options.width > 0)) {
    throw new Error(`openDataset: expected positive integer height and width, found ${options.height}×${options.width}`);
  }
  const metadata = await readMetadata(options.metadataPath);
  const warnings: DatasetWarning[] = [];
  const warn = (warning: DatasetWarning): void => {
    warnings.push(warning);
    options.onWarning?.(warning);
  };
  metadata.warnings.forEach(warn);
  const entries: DatasetEntry[] = [];
  const badRows: { row: MetadataRow; reason: string }[] = [];
  for (const row of metadata.rows) {
    const entry = toEntry(row, options);
    if (typeof entry === "string") badRows.push({ row, reason: entry });
    else entries.push(entry);
  }
  checkWhole(metadata.rows, entries, metadata.path, options);
  for (const { row, reason } of badRows) warn({ file: metadata.path, row: row.row, line: row.line, reason });
  const alpha = options.alpha ?? "white";
  const precision = options.precision ?? "f32";
  const length = options.maxDataItems ?? entries.length * (options.repeat ?? 1);
  const bad = new Set<number>();
  const cache = new Map<number, RgbImage>();

  const loadRgb = async (index: number): Promise<DatasetRgbItem | undefined> => {
    if (entries.length === 0) return undefined;
    const slot = ((index % entries.length) + entries.length) % entries.length;
    const entry = entries[slot]!;
    if (bad.has(slot)) return undefined;
    let image = cache.get(slot);
    if (!image) {
      try {
        image = await loadImageRgb(entry.file, options.height, options.width, alpha);
      } catch (error) {
        bad.add(slot);
        const reason = error instanceof Error ? error.message : String(error);
        warn({ file: entry.file, row: entry.row, line: entry.line, reason: `cannot load image: ${reason}` });
        return undefined;
      }
      if (options.cache) cache.set(slot, image);
    }
    return { ...image, prompt: entry.prompt, row: entry.row, file: entry.file };
  };

  const load = async (index: number): Promise<DatasetItem | undefined> => {
    const rgb = await loadRgb(index);
    if (!rgb) return undefined;
    const slot = ((index % entries.length) + entries.length) % entries.length;
    return { image: rgbToModelInput(rgb, precision), height: rgb.height, width: rgb.width, prompt: rgb.prompt, row: rgb.row, file: rgb.file, fields: entries[slot]!.fields };
  };

  async function* items(iterate: IterateOptions = {}): AsyncGenerator<DatasetItem> {
    const count = iterate.count ?? length;
    const random = xoshiro128(iterate.seed ?? 0);
    const slots = entries.map((_, slot) => slot);
    let yielded = 0;
    while (yielded < count) {
      const order = iterate.shuffle === false ? slots : shuffled(slots, random);
      let yieldedThisPass = 0;
      for (const slot of order) {
        if (yielded >= count) return;
        const item = await load(slot);
        if (!item) continue;
        yielded++;
        yieldedThisPass++;
        yield item;
      }
      if (yieldedThisPass === 0) return;
    }
  }

  return { entries, warnings, length, loadRgb, load, items };
}
