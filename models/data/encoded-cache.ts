// The encoded data set on disk: VAE latents and (for a frozen text encoder) prompt embeddings are
// computed once per data set, encoder and resolution and reused by every later run, so training never
// re-encodes images. The key covers the metadata, each image's size and modification time, the
// encoders' configurations and a fingerprint of their weights.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { openSafetensors, writeSafetensors, type TensorToWrite } from "../../runtime/safetensors.ts";

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

export function encodedCacheKey(metadataPath: string, files: readonly string[], encoders: unknown): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(metadataPath));
  for (const f of files) {
    const st = existsSync(f) ? statSync(f) : undefined;
    hash.update(`${f}:${st?.size ?? -1}:${st?.mtimeMs ?? -1}\n`);
  }
  hash.update(JSON.stringify(encoders));
  return hash.digest("hex").slice(0, 24);
}

const cacheFile = (dataDir: string, key: string): string => path.join(dataDir, ".kiln-cache", `encoded-${key}.safetensors`);

/** The cached encodings for `key`, or undefined (absent or unreadable: then they are recomputed). */
export function readEncoded(dataDir: string, key: string): EncodedItems | undefined {
  const file = cacheFile(dataDir, key);
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

export function writeEncoded(dataDir: string, key: string, items: EncodedItems): string {
  const file = cacheFile(dataDir, key);
  mkdirSync(path.dirname(file), { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  items.latents.forEach((l, i) => (tensors[`latents/${i}`] = { dtype: "F32", shape: [l.length], data: l }));
  items.embeds.forEach((e, i) => (tensors[`embeds/${i}`] = { dtype: "F32", shape: [e.length], data: e }));
  writeSafetensors(file, tensors, { format: "kiln-encoded", items: JSON.stringify({ prompts: items.prompts, files: items.files }) });
  return file;
}
