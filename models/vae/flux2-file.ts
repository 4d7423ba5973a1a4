// Reading the reference's FLUX.2 VAE file: Node only, apart from the VAE itself (models/vae/flux2.ts),
// which also runs in a browser bundle.

import { openSafetensors, keyMismatch } from "../../runtime/index.ts";
import { numel, type ParamValues } from "../params.ts";
import { flux2VaeParamSpec, FLUX2_VAE, type Flux2VaeConfig } from "./flux2.ts";

/**
 * Loads a local `diffusion_pytorch_model.safetensors` (e.g. FLUX.2-klein-4B's `vae/`) strictly: the
 * keys must be exactly the spec's and every shape must match. Floats of any width become float32;
 * the integer `bn.num_batches_tracked` is read by value (the forward ignores it).
 */
export function loadFlux2Vae(path: string, c: Flux2VaeConfig = FLUX2_VAE): ParamValues {
  const spec = flux2VaeParamSpec(c);
  const file = openSafetensors(path);
  try {
    const message = keyMismatch(
      path,
      file.tensors.map((t) => t.name),
      spec.map((s) => s.name),
    );
    if (message) throw new Error(`loadFlux2Vae: ${message}`);
    const values: ParamValues = new Map();
    for (const { name, shape } of spec) {
      const floats = name === "bn.num_batches_tracked" ? undefined : (["BF16", "F16", "F32", "F64"] as const);
      const data = file.readFloat32(name, { shape, ...(floats ? { dtype: floats } : {}) });
      if (data.length !== numel(shape)) throw new Error(`loadFlux2Vae: ${path}: key '${name}' holds ${data.length} values, expected ${numel(shape)}`);
      values.set(name, data);
    }
    return values;
  } finally {
    file.close();
  }
}
