// The encoded data set on disk: VAE latents and (for a frozen text encoder) prompt embeddings are
// computed once per data set, encoder and resolution and reused by every later run, so training never
// re-encodes images. The key covers the metadata, each image's size and modification time, the
// encoders' configurations and a fingerprint of their weights. The entry lives beside the data
// (DATA/.kiln-cache); where that folder cannot be written (a read-only download), in the user's
// cache folder (KILN_CACHE_DIR or ~/.cache/kiln, under encoded/), which the key makes safe to share.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { cacheDir, openSafetensors, writeSafetensors, type TensorToWrite } from "../../runtime/index.ts";

export interface EncodedItems {
  prompts: string[];
  files: string[];
  latents: Float32Array[];
  embeds: Float32Array[];
}

/** A cheap fingerprint of weights: every tensor's length and a few of its values. */
export function weightsFingerprint(weights: ReadonlyMap<string, Float32Array>): string {
  const hash = createHash("sha256");
  for (const name of [...weights.keys()].sort()) {
    const w = weights.get(name)!;
    hash.update(`${name}:${w.length}:`);
    const step = Math.max(1, Math.floor(w.length / 16));
    for (let i = 0; i < w.length; i += step) hash.update(String(w[i]));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * The key of a data set's encodings: the metadata's bytes, each image's absolute path, size and
 * modification time (so metadata and images from different places, or the same relative names
 * under another folder, never share an entry), and the encoders.
 */
export function encodedCacheKey(metadataPath: string, files: readonly string[], encoders: unknown): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(metadataPath));
  for (const f of files) {
    const st = existsSync(f) ? statSync(f) : undefined;
    hash.update(`${path.resolve(f)}:${st?.size ?? -1}:${st?.mtimeMs ?? -1}\n`);
  }
  hash.update(JSON.stringify(encoders));
  return hash.digest("hex").slice(0, 24);
}

/** The folders an entry is looked for in, in order: beside the data, then the user's cache. */
export function encodedCacheFolders(dataDir: string): string[] {
  const user = (() => {
    try {
      return [cacheDir("encoded")];
    } catch {
      return []; // No writable home either: the data folder is the only place.
    }
  })();
  return [path.join(dataDir, ".kiln-cache"), ...user];
}

const cacheFile = (folder: string, key: string): string => path.join(folder, `encoded-${key}.safetensors`);

/** The cached encodings for `key` from the first folder that has them, or undefined (then they are recomputed). */
export function readEncoded(folders: readonly string[], key: string): EncodedItems | undefined {
  for (const folder of folders) {
    const items = readEncodedFile(cacheFile(folder, key));
    if (items) return items;
  }
  return undefined;
}

/** One entry, or undefined when absent or unreadable. */
function readEncodedFile(file: string): EncodedItems | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const reader = openSafetensors(file);
    try {
      const meta = JSON.parse(reader.metadata.items ?? "null") as { prompts: string[]; files: string[] } | null;
      if (!meta) return undefined;
      const n = meta.prompts.length;
      const read = (prefix: string): Float32Array[] => (reader.has(`${prefix}/0`) ? Array.from({ length: n }, (_, i) => reader.readFloat32(`${prefix}/${i}`)) : []);
      return { prompts: meta.prompts, files: meta.files, latents: read("latents"), embeds: read("embeds") };
    } finally {
      reader.close();
    }
  } catch {
    return undefined;
  }
}

/** Where an entry was written, or why no folder would take it (training goes on without a cache). */
export interface WriteEncodedResult {
  file: string | undefined;
  /** "folder: reason" for each folder that refused it. */
  failed: string[];
}

/** Writes the entry into the first folder that takes it; a folder that cannot be written is skipped. */
export function writeEncoded(folders: readonly string[], key: string, items: EncodedItems): WriteEncodedResult {
  const tensors: Record<string, TensorToWrite> = {};
  items.latents.forEach((l, i) => (tensors[`latents/${i}`] = { dtype: "F32", shape: [l.length], data: l }));
  items.embeds.forEach((e, i) => (tensors[`embeds/${i}`] = { dtype: "F32", shape: [e.length], data: e }));
  const failed: string[] = [];
  for (const folder of folders) {
    const file = cacheFile(folder, key);
    try {
      mkdirSync(folder, { recursive: true });
      writeSafetensors(file, tensors, { format: "kiln-encoded", items: JSON.stringify({ prompts: items.prompts, files: items.files }) });
      return { file, failed };
    } catch (error) {
      failed.push(`${folder}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { file: undefined, failed };
}
