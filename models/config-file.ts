// Configurations by name or from a JSON file with the fields of models/config.ts's ModelConfig,
// checked field by field (Node only: it reads files).

import { existsSync } from "node:fs";
import { readJsonFile, nearestName } from "../runtime/index.ts";
import { CONFIGS, type ModelConfig } from "./config.ts";
import type { DitConfig } from "./dit.ts";

type ConfigFile = Partial<Omit<ModelConfig, "dit">> & { dit?: Partial<DitConfig>; base?: string };

const TOP_KEYS = [
  "name",
  "base",
  "dit",
  "text",
  "trainText",
  "vae",
  "height",
  "width",
  "batch",
  "lr",
  "timestepWeights",
  "promptVariation",
  "ema",
  "prediction",
  "lrCooldown",
  "promptDropout",
  "guidanceChannels",
  "guidanceMinSigma",
] as const;
const DIT_KEYS = ["dim", "depth", "heads", "latentChannels", "textDim", "ffDim", "posGrid"] as const;

/** Checks a JSON configuration's fields (names, types, ranges), naming the file and the field; unknown fields are refused with the nearest known one. */
function checkConfigFile(parsed: unknown, file: string): asserts parsed is ConfigFile {
  const fail = (message: string): never => {
    throw new Error(`config ${file}: ${message}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const unknownKeys = (object: Record<string, unknown>, known: readonly string[], where: string): void => {
    for (const key of Object.keys(object))
      if (!known.includes(key)) {
        const near = nearestName(key, known);
        fail(`unknown field ${where}${key}${near ? ` (did you mean ${where}${near}?)` : ""}; known: ${known.join(", ")}`);
      }
  };
  const positiveInt = (value: unknown, where: string, multipleOf = 1): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0 && (value as number) % multipleOf === 0))
      fail(`${where} must be a positive integer${multipleOf > 1 ? ` multiple of ${multipleOf}` : ""}, found ${JSON.stringify(value)}`);
  };
  if (!isObject(parsed)) return fail(`expected a JSON object, found ${Array.isArray(parsed) ? "an array" : typeof parsed}`);
  unknownKeys(parsed, TOP_KEYS, "");
  for (const key of ["name", "base"] as const)
    if (parsed[key] !== undefined && (typeof parsed[key] !== "string" || !parsed[key])) fail(`${key} must be a non-empty string`);
  if (parsed.base !== undefined && !CONFIGS[parsed.base as string])
    fail(`base '${String(parsed.base)}' is not a configuration (expected one of ${Object.keys(CONFIGS).join(", ")})`);
  if (parsed.dit !== undefined) {
    if (!isObject(parsed.dit)) fail(`dit must be an object`);
    const dit = parsed.dit as Record<string, unknown>;
    unknownKeys(dit, DIT_KEYS, "dit.");
    for (const key of DIT_KEYS) positiveInt(dit[key], `dit.${key}`);
  }
  positiveInt(parsed.height, "height", 16);
  positiveInt(parsed.width, "width", 16);
  positiveInt(parsed.batch, "batch");
  if (parsed.lr !== undefined && !(typeof parsed.lr === "number" && Number.isFinite(parsed.lr) && parsed.lr > 0))
    fail(`lr must be a finite number > 0, found ${JSON.stringify(parsed.lr)}`);
  const variation = parsed.promptVariation;
  if (variation !== undefined && !(typeof variation === "number" && variation >= 0 && variation <= 1))
    fail(`promptVariation must be a number in [0, 1], found ${JSON.stringify(variation)}`);
  for (const key of ["lrCooldown", "promptDropout"] as const) {
    const value = parsed[key];
    if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= 1))
      fail(`${key} must be a number in [0, 1], found ${JSON.stringify(value)}`);
  }
  positiveInt(parsed.guidanceChannels, "guidanceChannels");
  const minSigma = parsed.guidanceMinSigma;
  if (minSigma !== undefined && !(typeof minSigma === "number" && minSigma >= 0 && minSigma < 1))
    fail(`guidanceMinSigma must be a number in [0, 1), found ${JSON.stringify(minSigma)}`);
  if (parsed.trainText !== undefined && typeof parsed.trainText !== "boolean") fail(`trainText must be true or false`);
  if (parsed.ema !== undefined && parsed.ema !== false && !(typeof parsed.ema === "number" && parsed.ema >= 0 && parsed.ema < 1))
    fail(`ema must be false or a decay from 0 (none) up to, not including, 1, found ${JSON.stringify(parsed.ema)}`);
  if (parsed.prediction !== undefined && parsed.prediction !== "velocity" && parsed.prediction !== "image")
    fail(`prediction must be "velocity" or "image", found ${JSON.stringify(parsed.prediction)}`);
  if (parsed.timestepWeights !== undefined && parsed.timestepWeights !== "reference" && parsed.timestepWeights !== "uniform")
    fail(`timestepWeights must be "reference" or "uniform"`);
  for (const [key, kinds] of [
    ["text", ["qwen3", "tiny"]],
    ["vae", ["flux2", "pixel", "pca"]],
  ] as const) {
    const part = parsed[key];
    if (part === undefined) continue;
    if (!isObject(part) || !kinds.includes(part.kind as never)) fail(`${key} must be an object with "kind" one of ${kinds.join(", ")}`);
    const nested = (part as Record<string, unknown>).config;
    if (nested !== undefined && !isObject(nested)) fail(`${key}.config must be an object`);
    for (const [field, value] of Object.entries((nested ?? {}) as Record<string, unknown>))
      if (typeof value === "number" && !(Number.isFinite(value) && value > 0))
        fail(`${key}.config.${field} must be a finite number > 0, found ${value}`);
  }
}

/** A configuration by name, or from a JSON file with the same fields (missing fields from "tiny"). */
export function loadConfig(nameOrFile: string): ModelConfig {
  const named = CONFIGS[nameOrFile];
  if (named) return named;
  if (nameOrFile.endsWith(".json")) {
    if (!existsSync(nameOrFile)) throw new Error(`config: ${nameOrFile} does not exist`);
    return configFromObject(readJsonFile(nameOrFile, "config"), nameOrFile);
  }
  throw new Error(`config: unknown configuration '${nameOrFile}' (expected one of ${Object.keys(CONFIGS).join(", ")} or a .json file)`);
}

/**
 * A configuration from a parsed JSON object with ModelConfig's fields (a config file's, or the one a
 * checkpoint's step-N.json records), checked field by field; missing fields come from its `base` (or
 * the configuration its `name` names, else tiny). `where` names the file in errors.
 */
export function configFromObject(parsed: unknown, where: string): ModelConfig {
  checkConfigFile(parsed, where);
  const base = CONFIGS[parsed.base ?? parsed.name ?? "tiny"] ?? CONFIGS.tiny!;
  const config = { ...base, ...parsed, dit: { ...base.dit, ...parsed.dit } } as ModelConfig;
  if (config.dit.dim % config.dit.heads !== 0)
    throw new Error(`config ${where}: dit.dim ${config.dit.dim} must be a multiple of dit.heads ${config.dit.heads}`);
  return config;
}
