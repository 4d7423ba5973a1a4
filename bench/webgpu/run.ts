// `kiln bench webgpu`, the Node side: bundles bench/webgpu/page.ts with esbuild (this checkout's
// code, tfjs and jax-js from node_modules; nothing from a CDN), serves it on 127.0.0.1, opens it in
// headless Chromium with WebGPU (driven by puppeteer-core) and returns what the page measured.
// Without a GPU, Chromium's WebGPU runs on SwiftShader (Vulkan on the CPU); the report says so.

import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import { CONFIGS, modelParts } from "../../models/config.ts";
import type { AaaDitConfig } from "../tiny-dit.ts";
import type { GemmShape, WebGpuBenchOptions, WebGpuReport } from "./core.ts";

/** The system Chromium (.ci/run installs Debian's), or KILN_CHROMIUM. */
export function findChromium(): string | null {
  const candidates = [process.env.KILN_CHROMIUM, "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((file): file is string => file !== undefined && existsSync(file)) ?? null;
}

/** The DiT of the embedded default (models/config.ts "tiny") at its training resolution, in the bench models' terms. */
export function embeddedDefaultDit(): AaaDitConfig {
  const parts = modelParts(CONFIGS.tiny!);
  const { dit } = parts.config;
  const [channels, height, width] = parts.latent;
  if (dit.posGrid !== height || height !== width)
    throw new Error(`bench webgpu: expected the tiny config's position grid (${dit.posGrid}) to be its square latent grid, found ${height}×${width}`);
  return {
    dim: dit.dim,
    depth: dit.depth,
    heads: dit.heads,
    ffDim: dit.ffDim,
    latentChannels: channels,
    latentHeight: height,
    latentWidth: width,
    textTokens: parts.text.maxLength,
    textFeatures: dit.textDim,
    timestepFeatures: 256,
    layerNormEps: 1e-5,
    rmsNormEps: 2 ** -23,
  };
}

/** The rows: 512³, the DiT's largest product at guidance batch 2 (ff.0 over every token), and one sampling step. */
export function defaultBenchOptions(quick: boolean): WebGpuBenchOptions {
  const config = embeddedDefaultDit();
  const tokens = 2 * (config.latentHeight * config.latentWidth + config.textTokens);
  const gemms: GemmShape[] = [
    { m: 512, k: 512, n: 512 },
    { m: tokens, k: config.dim, n: config.ffDim, note: "DiT ff.0, batch 2" },
  ];
  return {
    gemms,
    dit: { config, batch: 2, note: "tiny config" },
    warmup: quick ? 1 : 3,
    iters: quick ? 3 : 9,
  };
}

/** The page's script: bench/webgpu/page.ts and everything it imports, for the browser. */
export async function bundleBenchPage(): Promise<string> {
  const result = await build({
    entryPoints: [new URL("./page.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: false,
    // runtime/webgpu/open.ts loads the `webgpu` package (Dawn for Node) only where there is no navigator.gpu.
    external: ["webgpu"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>kiln bench webgpu</title></head>
<body><p>kiln bench webgpu: driven by the command that opened this page.</p><script type="module" src="/bench.js"></script></body></html>`;

/** Chromium's environment and flags for WebGPU: without a Vulkan driver of the user's choosing, SwiftShader's from Chromium's folder. */
function chromiumLaunch(executablePath: string) {
  const folder = path.dirname(executablePath === "/usr/bin/chromium" ? "/usr/lib/chromium/chromium" : executablePath);
  const swiftShader = path.join(folder, "vk_swiftshader_icd.json");
  const env: Record<string, string | undefined> = { ...process.env };
  if (!env.VK_ICD_FILENAMES && existsSync(swiftShader)) {
    env.VK_ICD_FILENAMES = swiftShader;
    env.LD_LIBRARY_PATH = [folder, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  }
  return { executablePath, headless: true, args: ["--no-sandbox", "--enable-unsafe-webgpu"], env, protocolTimeout: 0 };
}

export interface BenchWebGpuOptions {
  options: WebGpuBenchOptions;
  log?: (line: string) => void;
}

/** Runs the bench page once in headless Chromium and returns its report; throws when there is no Chromium or the page fails. */
export async function benchWebGpu({ options, log = (line) => process.stderr.write(line + "\n") }: BenchWebGpuOptions): Promise<WebGpuReport> {
  const chromium = findChromium();
  if (!chromium)
    throw new Error(
      "kiln bench webgpu: no Chromium at /usr/bin/chromium or /usr/lib/chromium/chromium (apt-get install chromium), nor KILN_CHROMIUM",
    );
  const script = await bundleBenchPage();
  const server = createServer((request, response) => {
    if (request.url === "/bench.js") response.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (request.url === "/") response.writeHead(200, { "content-type": "text/html" }).end(PAGE_HTML);
    else if (request.url === "/favicon.ico") response.writeHead(204).end();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const { launch } = await import("puppeteer-core");
  const browser = await launch(chromiumLaunch(chromium));
  try {
    const page = await browser.newPage();
    page.on("console", (m) => {
      if (m.text().startsWith("[bench]") || m.type() === "error" || m.type() === "warn") log(m.text());
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push((error as Error).message));
    await page.goto(url);
    await page
      .waitForFunction(() => "kilnBench" in window, { timeout: 60_000 })
      .catch(() => {
        throw new Error(`kiln bench webgpu: the page did not start${errors.length ? `: ${errors.join("; ")}` : ""}`);
      });
    return await page.evaluate(
      (o) => (window as unknown as { kilnBench: { run(o: WebGpuBenchOptions): Promise<WebGpuReport> } }).kilnBench.run(o),
      options,
    );
  } finally {
    await browser.close();
    server.close();
  }
}
