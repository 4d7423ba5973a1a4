// A model's sampling weights as one safetensors file in memory: how `kiln serve` hands a checkpoint to
// the page, which samples in the browser. The server loads the run's files as `kiln sample` does
// (models/weights.ts: the moving average when kept, the fitted VAE, the text encoder and its
// vocabulary) and sends them as float32 under the prefixes below; the browser reads them back with no
// file system.

import { encodeSafetensors, parseSafetensorsBytes, type TensorToWrite } from "../runtime/portable.ts";
import type { ModelParts } from "./config.ts";
import type { ParamValues } from "./params.ts";
import type { Weights } from "./pipeline.ts";

const PARTS = ["dit", "text", "vae"] as const;
/** The metadata key of the text encoder's training vocabulary (space-separated words). */
const VOCABULARY = "vocabulary";

/** The weights as safetensors bytes: `dit.*`, `text.*` and `vae.*` tensors in float32, the vocabulary as metadata. */
export function weightsToSafetensors(parts: ModelParts, weights: Weights): Uint8Array {
  const specs = { dit: parts.ditSpec, text: parts.text.paramSpec, vae: parts.vae.paramSpec };
  const tensors: Record<string, TensorToWrite> = {};
  for (const part of PARTS) {
    const shapes = new Map(specs[part].map((s) => [s.name, s.shape]));
    for (const [name, data] of weights[part]) {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`weights: ${part} tensor '${name}' is not in the model's ${part} parameters`);
      tensors[`${part}.${name}`] = { dtype: "F32", shape, data };
    }
  }
  const metadata: Record<string, string> = weights.vocabulary ? { [VOCABULARY]: [...weights.vocabulary].join(" ") } : {};
  return encodeSafetensors(tensors, metadata, "weights");
}

/** The inverse: Weights from the bytes weightsToSafetensors wrote (`where` names them in errors). */
export function weightsFromSafetensors(bytes: Uint8Array, where: string): Weights {
  const { metadata, tensors } = parseSafetensorsBytes(bytes, where);
  const byPart: Record<(typeof PARTS)[number], ParamValues> = { dit: new Map(), text: new Map(), vae: new Map() };
  for (const [key, data] of tensors) {
    const dot = key.indexOf(".");
    const part = key.slice(0, dot) as (typeof PARTS)[number];
    if (dot < 0 || !PARTS.includes(part))
      throw new Error(`weights ${where}: tensor '${key}' has none of the prefixes ${PARTS.map((p) => `${p}.`).join(", ")}`);
    byPart[part].set(key.slice(dot + 1), data);
  }
  const words = metadata[VOCABULARY];
  return { ...byPart, ...(words !== undefined ? { vocabulary: new Set(words.split(" ").filter((w) => w !== "")) } : {}) };
}
