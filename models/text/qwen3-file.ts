// Reading a local Qwen3 folder as Hugging Face ships it (config.json, model.safetensors): Node only,
// apart from the encoder itself (models/text/qwen3.ts), which also runs in a browser bundle.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { readUtf8File, keyMismatch, openSafetensors } from "../../runtime/index.ts";
import { numel, type ParamValues } from "../params.ts";
import { qwen3ParamSpec, QWEN3_0_6B, type Qwen3Config } from "./qwen3.ts";

/** Keys of Qwen3-0.6B's model.safetensors that the encoder does not use (DiffSynth's converter drops them). */
const DROPPED_KEYS: ReadonlySet<string> = new Set(["lm_head.weight"]);

/** Hugging Face config.json field → our config field. */
const CONFIG_FIELDS: readonly (readonly [string, keyof Qwen3Config])[] = [
  ["hidden_size", "hiddenSize"],
  ["num_hidden_layers", "numHiddenLayers"],
  ["num_attention_heads", "numAttentionHeads"],
  ["num_key_value_heads", "numKeyValueHeads"],
  ["head_dim", "headDim"],
  ["intermediate_size", "intermediateSize"],
  ["rms_norm_eps", "rmsNormEps"],
  ["rope_theta", "ropeTheta"],
  ["vocab_size", "vocabSize"],
];

/** Reads a Hugging Face Qwen3 config.json, refusing settings this implementation does not compute. */
export function qwen3ConfigFromJson(text: string, path: string): Qwen3Config {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`loadQwen3: ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null) throw new Error(`loadQwen3: ${path}: expected a JSON object`);
  const fields = json as Record<string, unknown>;
  const config: Qwen3Config = { ...QWEN3_0_6B };
  for (const [key, field] of CONFIG_FIELDS) {
    const value = fields[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new Error(`loadQwen3: ${path}: expected "${key}" to be a number, found ${JSON.stringify(value)}`);
    config[field] = value;
  }
  const refuse = (key: string, ok: (v: unknown) => boolean, expected: string): void => {
    if (key in fields && !ok(fields[key]))
      throw new Error(`loadQwen3: ${path}: "${key}" is ${JSON.stringify(fields[key])}; only ${expected} is implemented`);
  };
  refuse("hidden_act", (v) => v === "silu", '"silu"');
  refuse("attention_bias", (v) => v === false, "false");
  refuse("rope_scaling", (v) => v === null, "null (default RoPE)");
  refuse("use_sliding_window", (v) => v === false, "false");
  return config;
}

/**
 * Loads a local Qwen3 folder (Qwen3-0.6B's layout): config.json if present (else `expected`, by
 * default the 0.6B config), and model.safetensors, strictly: the keys must be the spec's, except that
 * lm_head.weight, which the file carries, is skipped. bf16/f16 weights are widened to float32. With
 * `expected` (the model's configuration), a config.json that differs from it is refused.
 */
export function loadQwen3(dir: string, expected?: Qwen3Config): { config: Qwen3Config; params: ParamValues } {
  const configPath = join(dir, "config.json");
  const hasConfig = existsSync(configPath);
  const config = hasConfig ? qwen3ConfigFromJson(readUtf8File(configPath, "--text-encoder"), configPath) : (expected ?? QWEN3_0_6B);
  const assumed = hasConfig
    ? ""
    : ` (there is no ${configPath}, so the ${expected ? "model's text encoder" : "Qwen3-0.6B"} configuration was assumed)`;
  if (expected) {
    const differing = CONFIG_FIELDS.filter(([, field]) => config[field] !== expected[field]);
    if (differing.length)
      throw new Error(
        `loadQwen3: ${configPath} does not match the model's text encoder: ${differing.map(([key, field]) => `${key} is ${config[field]}, expected ${expected[field]}`).join("; ")}`,
      );
  }
  const weightsPath = join(dir, "model.safetensors");
  if (!existsSync(weightsPath)) {
    const sharded = existsSync(join(dir, "model.safetensors.index.json"));
    throw new Error(
      `loadQwen3: expected ${weightsPath} (Qwen3-0.6B ships one file)${sharded ? "; this folder has a sharded checkpoint (model.safetensors.index.json), which is not supported" : ""}`,
    );
  }
  const spec = qwen3ParamSpec(config);
  const file = openSafetensors(weightsPath);
  try {
    const kept = file.tensors.map((t) => t.name).filter((name) => !DROPPED_KEYS.has(name));
    const message = keyMismatch(
      weightsPath,
      kept,
      spec.map((s) => s.name),
    );
    if (message) throw new Error(`loadQwen3: ${message}${assumed}`);
    const params: ParamValues = new Map();
    for (const { name, shape } of spec) {
      let data: Float32Array;
      try {
        data = file.readFloat32(name, { shape, dtype: ["BF16", "F16", "F32"] });
      } catch (error) {
        throw new Error(`loadQwen3: ${(error as Error).message}${assumed}`);
      }
      if (data.length !== numel(shape))
        throw new Error(`loadQwen3: ${weightsPath}: key '${name}' holds ${data.length} values, expected ${numel(shape)}`);
      params.set(name, data);
    }
    return { config, params };
  } finally {
    file.close();
  }
}
