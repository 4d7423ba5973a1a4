// Reads a data set's metadata the way the reference's UnifiedDataset does (spec §7.1): `.json` is a
// list of objects, `.jsonl` one object per line, anything else CSV with a header row.
import { readUtf8File } from "../../runtime/index.ts";
import { parseCsv } from "./csv.ts";

/** One metadata row: its 0-based index among the data rows, the file line it starts on, its columns. */
export interface MetadataRow {
  row: number;
  line: number | undefined;
  fields: Readonly<Record<string, unknown>>;
}

/** A problem with one row or one image; the row is skipped, never thrown. */
export interface DatasetWarning {
  /** The file the problem is in: the metadata file for a bad row, the image file for a bad image. */
  file: string;
  row: number;
  line: number | undefined;
  reason: string;
}

export function formatWarning(warning: DatasetWarning): string {
  const line = warning.line === undefined ? "" : ` (line ${warning.line})`;
  return `${warning.file}: row ${warning.row}${line}: ${warning.reason}`;
}

export interface Metadata {
  path: string;
  rows: MetadataRow[];
  /** Rows that could not be read at all (malformed JSONL line, CSV record with too many fields). */
  warnings: DatasetWarning[];
}

export type MetadataFormat = "json" | "jsonl" | "csv";

/** The format the reference would pick from the file name. */
export function metadataFormat(path: string): MetadataFormat {
  if (path.endsWith(".jsonl")) return "jsonl";
  if (path.endsWith(".json")) return "json";
  return "csv";
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads and parses a metadata file. Throws only when the file as a whole is unusable. */
export async function readMetadata(path: string): Promise<Metadata> {
  // Invalid UTF-8 is refused with its line (as Python's strict decoding in the reference does), not read as U+FFFD.
  let text: string;
  try {
    text = readUtf8File(path, "metadata file");
  } catch (error) {
    throw new Error(`readMetadata: cannot read metadata file ${path}: ${(error as Error).message}`);
  }
  return parseMetadata(text, path);
}

/** Parses metadata text; `path` picks the format and names the file in messages. */
export function parseMetadata(text: string, path: string): Metadata {
  const format = metadataFormat(path);
  switch (format) {
    case "json":
      return parseJsonMetadata(text, path);
    case "jsonl":
      return parseJsonlMetadata(text, path);
    case "csv":
      return parseCsvMetadata(text, path);
    default:
      return format satisfies never;
  }
}

function parseJsonMetadata(text: string, path: string): Metadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new Error(`${path}: expected a JSON list of objects, found text that does not parse: ${String(error)}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON list of objects, found ${typeof parsed}`);
  const rows: MetadataRow[] = [];
  const warnings: DatasetWarning[] = [];
  parsed.forEach((entry: unknown, row) => {
    if (isObject(entry)) rows.push({ row, line: undefined, fields: entry });
    else warnings.push({ file: path, row, line: undefined, reason: `expected an object, found ${JSON.stringify(entry)}` });
  });
  return { path, rows, warnings };
}

function parseJsonlMetadata(text: string, path: string): Metadata {
  const rows: MetadataRow[] = [];
  const warnings: DatasetWarning[] = [];
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r?\n/);
  let row = 0;
  lines.forEach((content, index) => {
    if (content.trim() === "") return;
    const line = index + 1;
    try {
      const entry: unknown = JSON.parse(content);
      if (isObject(entry)) rows.push({ row, line, fields: entry });
      else warnings.push({ file: path, row, line, reason: `expected a JSON object, found ${content.slice(0, 80)}` });
    } catch (error) {
      warnings.push({ file: path, row, line, reason: `expected a JSON object, found text that does not parse (${String(error)})` });
    }
    row++;
  });
  return { path, rows, warnings };
}

/**
 * The cells pandas' read_csv reads as NaN by default (its STR_NA_VALUES, with the empty cell; "None"
 * since pandas 2.0), quoted or not. A prompt "None" or "NA" is missing to the reference, so it is
 * missing here too.
 */
const PANDAS_NA = new Set(["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]);

/**
 * CSV as pandas reads it, minus type inference: every cell stays a string, an empty cell (or one of
 * pandas' NA strings) becomes undefined (pandas' NaN), a short record leaves its last columns
 * undefined, and a long record is a bad row (pandas refuses the whole file there; we skip the row).
 * Repeated header names get ".1", ".2" suffixes, as in pandas.
 */
function parseCsvMetadata(text: string, path: string): Metadata {
  const records = parseCsv(text, path);
  const header = records[0];
  if (!header) throw new Error(`${path}: expected a CSV header row (e.g. "image,prompt"), found an empty file`);
  const seen = new Map<string, number>();
  const columns = header.fields.map((name) => {
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    return count === 0 ? name : `${name}.${count}`;
  });
  const rows: MetadataRow[] = [];
  const warnings: DatasetWarning[] = [];
  records.slice(1).forEach((record, row) => {
    if (record.fields.length > columns.length) {
      warnings.push({ file: path, row, line: record.line, reason: `expected at most ${columns.length} fields (${columns.join(",")}), found ${record.fields.length}` });
      return;
    }
    const fields: Record<string, unknown> = {};
    columns.forEach((column, i) => {
      const value = record.fields[i];
      fields[column] = value === undefined || PANDAS_NA.has(value) ? undefined : value;
    });
    rows.push({ row, line: record.line, fields });
  });
  return { path, rows, warnings };
}
