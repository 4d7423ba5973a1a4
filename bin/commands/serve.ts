// `kiln serve`: a local page that samples a trained run in the browser on WebGPU (the compiler,
// runtime and models bundled for it), with the server's CPU as the fallback, and the run's loss
// curve and sample grids beside it.

import type { Command } from "../command.ts";
import { parseFlags, type FlagSpecs } from "../flags.ts";
import { chooseRunFolder, loadServedRun } from "../serve/run.ts";
import { startServer } from "../serve/server.ts";

export const SERVE_FLAGS = {
  checkpoint: { kind: "text" },
  port: { kind: "int", min: 0, max: 65535 },
  host: { kind: "text" },
} as const satisfies FlagSpecs;

const command: Command = {
  summary: "a local web page that samples a trained run in your browser (WebGPU; the server's CPU without it)",
  usage: `kiln serve [--checkpoint RUN_DIR] [--port N] [--host H]\n\n  --checkpoint  a training run's folder (default: the newest run under ./runs)\n  --port        the port to listen on (default 8080; 0 picks a free one)\n  --host        the address to listen on (default 127.0.0.1: this machine only)`,
  async run(argv) {
    const { flags } = parseFlags("serve", argv, SERVE_FLAGS, { max: 0 });
    const { dir, step } = chooseRunFolder(flags.checkpoint);
    const run = loadServedRun(dir, step);
    const served = await startServer(run, { port: flags.port ?? 8080, host: flags.host ?? "127.0.0.1" });
    const weights = run.weights.source ? `${run.weights.source.kind} weights of ${run.weights.source.file}` : `step ${step}`;
    console.log(`kiln serve: ${run.config.name} model from ${dir} (${weights})`);
    console.log(`kiln serve: open ${served.url} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      const stop = () => void served.close().then(resolve);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
};

export default command;
