// Weight files shaped exactly like the reference's downloads, with random values: a Qwen3 folder
// (Hugging Face config.json and model.safetensors in bf16, lm_head.weight included) and a FLUX.2 VAE
// diffusion_pytorch_model.safetensors (bf16, the BatchNorm counter a 0-d int64). Widths come from a
// config, so a test can keep them small while the key lists, dtypes and layouts stay the real ones.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initParams } from "../../models/params.ts";
import { qwen3ParamSpec, type Qwen3Config } from "../../models/text/qwen3.ts";
import { flux2VaeParamSpec, type Flux2VaeConfig } from "../../models/vae/flux2.ts";
import { writeSafetensors, type TensorToWrite } from "../../runtime/safetensors.ts";

/** A local Qwen3 folder as `huggingface-cli download Qwen/Qwen3-0.6B` lays it out (weights and config). */
export function writeQwen3Folder(dir: string, config: Qwen3Config, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  const hf = {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    num_key_value_heads: config.numKeyValueHeads,
    head_dim: config.headDim,
    intermediate_size: config.intermediateSize,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    vocab_size: config.vocabSize,
    hidden_act: "silu",
    attention_bias: false,
    rope_scaling: null,
    use_sliding_window: false,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
  };
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(hf, null, 2));
  const spec = qwen3ParamSpec(config);
  const values = initParams(spec, seed);
  const tensors: Record<string, TensorToWrite> = Object.fromEntries(
    spec.map((s) => [s.name, { dtype: "BF16", shape: s.shape, data: values.get(s.name)! }]),
  );
  tensors["lm_head.weight"] = { dtype: "BF16", shape: [config.vocabSize, config.hiddenSize], data: values.get("model.embed_tokens.weight")! };
  writeSafetensors(path.join(dir, "model.safetensors"), tensors, { format: "pt" });
}

/** A FLUX.2 VAE file as diffusers saves it: bf16 weights, BatchNorm running stats, an int64 step counter. */
export function writeFlux2VaeFile(file: string, config: Flux2VaeConfig, seed = 2): void {
  const spec = flux2VaeParamSpec(config);
  const values = initParams(spec, seed);
  const tensors: Record<string, TensorToWrite> = Object.fromEntries(
    spec.map((s) => [
      s.name,
      s.name === "bn.num_batches_tracked" ? { dtype: "I64", shape: [], data: [1000] } : { dtype: "BF16", shape: s.shape, data: values.get(s.name)! },
    ]),
  );
  writeSafetensors(file, tensors, { format: "pt" });
}
