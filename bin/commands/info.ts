// `kiln info --config C`: the parameter count, tensor count and key list of a configuration's DiT
// (and its text encoder and VAE).

import { loadConfig, modelParts, paramCount } from "../../models/index.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagSpecs } from "../flags.ts";

const FLAGS = { config: { kind: "text" }, json: { kind: "switch" } } as const satisfies FlagSpecs;

const command: Command = {
  summary: "print a configuration's parameter count, tensor count and key list",
  usage: "kiln info [--config tiny|aaa-0.1b|FILE.json] [--json]",
  async run(argv) {
    const { flags } = parseFlags("info", argv, FLAGS);
    const config = loadConfig(flags.config ?? "aaa-0.1b");
    const parts = modelParts(config);
    const part = (specs: readonly { name: string; shape: readonly number[] }[]) => ({
      tensors: specs.length,
      parameters: paramCount(specs as never),
    });
    if (flags.json) {
      console.log(
        JSON.stringify({
          config: config.name,
          dit: { ...part(parts.ditSpec), keys: parts.ditSpec.map((s) => ({ name: s.name, shape: s.shape })) },
          textEncoder: { name: parts.text.name, ...part(parts.text.paramSpec) },
          vae: { name: parts.vae.name, ...part(parts.vae.paramSpec) },
        }),
      );
      return;
    }
    const dit = part(parts.ditSpec);
    console.log(
      `config ${config.name}: DiT dim ${config.dit.dim}, depth ${config.dit.depth}, heads ${config.dit.heads}, latent ${parts.latent.join("×")} at ${config.width}×${config.height}`,
    );
    console.log(`DiT: ${dit.tensors} tensors, ${dit.parameters.toLocaleString("en-US")} parameters`);
    for (const s of parts.ditSpec) console.log(`  ${s.name.padEnd(48)} [${s.shape.join(", ")}]`);
    console.log(
      `text encoder ${parts.text.name}: ${part(parts.text.paramSpec).tensors} tensors, ${part(parts.text.paramSpec).parameters.toLocaleString("en-US")} parameters${config.trainText ? " (trained with the DiT)" : " (frozen, loaded from a local folder)"}`,
    );
    console.log(
      `VAE ${parts.vae.name}: ${part(parts.vae.paramSpec).tensors} tensors, ${part(parts.vae.paramSpec).parameters.toLocaleString("en-US")} parameters`,
    );
  },
};

export default command;
