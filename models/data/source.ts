// Where a data set's metadata file and images are: the reference names them separately
// (metadata_path, base_path; spec §7); kiln also takes one folder (--data DIR) laid out as the
// tutorial's download: DIR/images/ and one metadata file (metadata.csv, or metadata_merged.csv).

import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** What the user named: a data folder, and/or the metadata file and the images folder themselves. */
export interface DataLocation {
  /** A folder holding images/ and one metadata*.csv|json|jsonl file. */
  data?: string;
  /** The metadata file (the reference's metadata_path); overrides the search in `data`. */
  metadata?: string;
  /** The folder image names are relative to (the reference's base_path); default `images/` beside the metadata. */
  images?: string;
}

export interface DataSource {
  metadataPath: string;
  imagesDir: string;
  /** The folder the encoded-data cache is kept under: `data`, else the metadata file's folder. */
  home: string;
}

/** A metadata file by name: metadata.csv, metadata_merged.csv, metadata-train.jsonl, … */
const METADATA_NAME = /^metadata.*\.(csv|json|jsonl)$/i;

/**
 * The one metadata file in `dir`. Several candidates are an error, not a guess: picking
 * metadata.csv over metadata_merged.csv could silently train on other prompts.
 */
export function findMetadataFile(dir: string): string {
  if (!existsSync(dir)) throw new Error(`data folder ${dir} does not exist (build the Pokémon set with 'kiln data pokemon --out ${dir}', or name the files with --metadata FILE --images DIR)`);
  if (!statSync(dir).isDirectory()) throw new Error(`--data ${dir}: expected a folder, found a file (a metadata file is named with --metadata FILE)`);
  const names = readdirSync(dir).sort();
  const candidates = names.filter((name) => METADATA_NAME.test(name) && statSync(path.join(dir, name)).isFile());
  if (candidates.length === 1) return path.join(dir, candidates[0]!);
  if (candidates.length > 1) {
    throw new Error(`${dir} holds several metadata files (${candidates.join(", ")}); name the one to use with --metadata ${path.join(dir, candidates[0]!)}`);
  }
  const expected = `${dir}: expected a metadata file (metadata.csv, metadata_merged.csv, metadata.json or metadata.jsonl)`;
  if (names.length === 0) throw new Error(`${expected}, found an empty folder (build the Pokémon set there with 'kiln data pokemon --out ${dir}')`);
  throw new Error(`${expected}, found ${names.slice(0, 12).join(", ")}${names.length > 12 ? `, … (${names.length} entries)` : ""}; name it with --metadata FILE`);
}

/** Resolves the metadata file, the images folder and the cache's home from what the user named. */
export function resolveDataSource(location: DataLocation): DataSource {
  const { data, metadata, images } = location;
  if (data === undefined && metadata === undefined) throw new Error("a data set is needed: --data DIR, or --metadata FILE (with --images DIR)");
  if (metadata !== undefined && !existsSync(metadata)) throw new Error(`--metadata ${metadata}: no such file`);
  const metadataPath = metadata ?? findMetadataFile(data!);
  const home = data ?? path.dirname(metadataPath);
  return { metadataPath, imagesDir: images ?? path.join(home, "images"), home };
}

/** One line for logs and messages: the metadata file and the images folder. */
export function describeDataSource(source: DataSource): string {
  return `${source.metadataPath} (images in ${source.imagesDir})`;
}

/** What the user named, with `defaultDir` as the data folder when they named neither a folder nor a metadata file. */
export function withDefaultData(named: DataLocation, defaultDir: string): DataLocation {
  return named.data === undefined && named.metadata === undefined ? { ...named, data: defaultDir } : named;
}
