// `kiln serve`'s HTTP server: the page and its bundled script, the run's description, its sampling
// weights (one safetensors file the page reads), its loss plot and grids, and sampling on this
// machine's CPU for a browser without WebGPU. Everything comes from the package and the run folder.

import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { lossPlotPng, Sampler, weightsToSafetensors } from "../../models/index.ts";
import { bundlePage } from "./bundle.ts";
import { lossPoints, presentGrids, type ServedRun } from "./run.ts";

/** What the page asks the server's CPU to sample; the same fields the page samples with on WebGPU. */
export interface SampleRequest {
  prompt: string;
  seed: number;
  steps: number;
  cfg: number;
}

/** The page's defaults: kiln sample's 30 steps, and the guidance scale the tiny config's notes measured (models/config.ts). */
export const PAGE_DEFAULTS: SampleRequest = { prompt: "a red pokemon with wings", seed: 0, steps: 30, cfg: 4 };
const MAX_STEPS = 200;

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A sampling request checked field by field, or an error naming the field. */
export function checkSampleRequest(body: unknown): SampleRequest {
  if (typeof body !== "object" || body === null) throw new HttpError(400, "expected a JSON object {prompt, seed, steps, cfg}");
  const { prompt, seed, steps, cfg } = body as Record<string, unknown>;
  if (typeof prompt !== "string" || !prompt.trim()) throw new HttpError(400, "prompt: expected a non-empty string");
  if (!Number.isSafeInteger(seed) || (seed as number) < 0 || (seed as number) > 2 ** 32 - 1)
    throw new HttpError(400, `seed: expected an integer from 0 to ${2 ** 32 - 1}, got ${JSON.stringify(seed)}`);
  if (!Number.isSafeInteger(steps) || (steps as number) < 1 || (steps as number) > MAX_STEPS)
    throw new HttpError(400, `steps: expected an integer from 1 to ${MAX_STEPS}, got ${JSON.stringify(steps)}`);
  if (typeof cfg !== "number" || !Number.isFinite(cfg) || cfg < 0)
    throw new HttpError(400, `cfg: expected a finite number ≥ 0, got ${JSON.stringify(cfg)}`);
  return { prompt, seed: seed as number, steps: steps as number, cfg };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > 65536) throw new HttpError(413, "the request body is over 64 KiB");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "the request body is not JSON");
  }
}

function send(response: ServerResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
  response.end(body);
}

/** Starts the server on host:port (port 0: any free port); a port in use is an error saying so. */
export async function startServer(run: ServedRun, options: { port: number; host: string }): Promise<RunningServer> {
  const [page, script] = await Promise.all([readFile(new URL("./page.html", import.meta.url), "utf8"), bundlePage()]);
  let weights: Uint8Array | undefined;
  let cpuSampler: Sampler | undefined;
  // The CPU samples one request at a time (a step uses every core).
  let cpuQueue: Promise<unknown> = Promise.resolve();

  const describe = () => ({
    run: path.resolve(run.dir),
    step: run.step,
    config: run.config,
    height: run.parts.latent[1] * run.parts.vae.downsample,
    width: run.parts.latent[2] * run.parts.vae.downsample,
    weights: run.weights.source?.kind ?? "raw",
    grids: presentGrids(run),
    lossEntries: lossPoints(run).length,
    defaults: PAGE_DEFAULTS,
  });

  const sampleOnCpu = (request: SampleRequest): Promise<{ rgb: Uint8Array; seconds: number }> => {
    const job = cpuQueue.then(async () => {
      cpuSampler ??= new Sampler(run.parts, run.weights, "cpu");
      const started = performance.now();
      const rgb = cpuSampler.sample({ ...request, negative: "", progress: false });
      return { rgb, seconds: (performance.now() - started) / 1e3 };
    });
    cpuQueue = job.catch(() => undefined);
    return job;
  };

  const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => Promise<void>> = {
    "GET /": async (_, response) => send(response, 200, "text/html; charset=utf-8", page),
    "GET /app.js": async (_, response) => send(response, 200, "text/javascript; charset=utf-8", script),
    // Browsers ask for one unprompted; an empty answer keeps a 404 out of the page's console.
    "GET /favicon.ico": async (_, response) => send(response, 204, "image/x-icon", ""),
    "GET /api/run": async (_, response) => send(response, 200, "application/json", JSON.stringify(describe())),
    "GET /api/weights": async (_, response) => {
      weights ??= weightsToSafetensors(run.parts, run.weights);
      send(response, 200, "application/octet-stream", weights);
    },
    "GET /api/loss.png": async (_, response) => {
      const points = lossPoints(run);
      if (!points.length) throw new HttpError(404, `${run.logFile} has no loss entries`);
      send(response, 200, "image/png", await lossPlotPng(points, { width: 640, height: 360 }));
    },
    "POST /api/sample": async (request, response) => {
      const { rgb, seconds } = await sampleOnCpu(checkSampleRequest(await readBody(request)));
      send(response, 200, "application/octet-stream", rgb, { "x-kiln-seconds": seconds.toFixed(3) });
    },
  };

  /** The route's answer; a grid is any of the run's grid PNGs by name. */
  const handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const grid = /^\/run\/([a-z-]+\.png)$/.exec(url.pathname)?.[1];
    if (request.method === "GET" && grid && presentGrids(run).some((g) => g.name === grid))
      return send(response, 200, "image/png", await readFile(path.join(run.dir, grid)));
    const route = routes[`${request.method} ${url.pathname}`];
    if (!route) throw new HttpError(404, `no ${request.method} ${url.pathname} here`);
    return route(request, response);
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    handle(request, response, url).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) process.stderr.write(`kiln serve: ${request.method} ${url.pathname}: ${(error as Error).stack ?? String(error)}\n`);
      if (!response.headersSent) send(response, status, "application/json", JSON.stringify({ error: (error as Error).message }));
      else response.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`port ${options.port} on ${options.host} is in use (another kiln serve?); pass --port N with a free port, or --port 0 for any`)
          : error,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    server,
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        cpuSampler?.dispose();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
