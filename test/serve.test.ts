// `kiln serve` in a real browser: a tiny checkpoint trained in seconds, the server started on it as a
// user starts it, and the system Chromium (headless, driven by puppeteer-core, WebGPU on its
// SwiftShader) generating an image on the page. The browser's WebGPU pixels must match the CPU
// Sampler's for the same prompt, seed, steps and guidance within 2 levels of 255; a page without
// WebGPU says so and gets the CPU's image from the server. A screenshot of the page is written to
// the OS temp folder (its path is printed). Skipped, with the reason printed, where Chromium is missing.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser, Page } from "puppeteer-core";
import { kiln, kilnOk } from "./helpers/cli.ts";
import { writeShapesDataset } from "./helpers/tiny-data.ts";
import { saveGrid } from "../models/png.ts";
import { CONFIGS } from "../models/config.ts";

const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((file) => existsSync(file));
const KILN = path.join(import.meta.dirname, "..", "bin", "kiln");
/** What the page generates: few steps, since SwiftShader runs a step in seconds. */
const REQUEST = { prompt: "red circle", seed: 7, steps: 2, cfg: 4 };
const MAX_LEVELS = 2;
const TINY_VAE = CONFIGS.tiny!.vae;
const TINY_PCA = TINY_VAE.kind === "pca" ? TINY_VAE.config : undefined;

/** `kiln serve` as a child process; resolves with its URL once it prints it. */
function startServe(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [KILN, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      printed += chunk.toString();
      const url = /open (http:\/\/\S+\/)/.exec(printed)?.[1];
      if (url) resolve({ child, url });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`kiln serve exited ${code} before printing its URL:\n${printed}`)));
  });
}

/** Chromium flags and environment for WebGPU on a machine without a GPU: SwiftShader's Vulkan from Chromium's folder. */
async function launchChromium(executablePath: string): Promise<Browser> {
  const { launch } = await import("puppeteer-core");
  const folder = path.dirname(executablePath === "/usr/bin/chromium" ? "/usr/lib/chromium/chromium" : executablePath);
  return launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--enable-unsafe-webgpu"],
    env: { ...process.env, LD_LIBRARY_PATH: folder, VK_ICD_FILENAMES: path.join(folder, "vk_swiftshader_icd.json") },
  });
}

interface PageResult {
  state: string;
  device?: string;
  adapter?: string;
  error?: string;
  rgb?: number[];
  seconds?: number;
}

const pageState = (page: Page): Promise<PageResult> => page.evaluate(() => (window as unknown as { kiln: PageResult }).kiln);

/** Fills the form, presses Generate and waits for the image. */
async function generate(page: Page): Promise<PageResult> {
  await page.waitForFunction(() => (window as unknown as { kiln: PageResult }).kiln?.state !== "loading", { timeout: 60_000 });
  for (const [id, value] of Object.entries(REQUEST)) {
    await page.$eval(`#${id}`, (input, v) => ((input as HTMLInputElement).value = String(v)), value);
  }
  await page.click("#generate");
  await page.waitForFunction(() => ["done", "error"].includes((window as unknown as { kiln: PageResult }).kiln.state), { timeout: 200_000 });
  return pageState(page);
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

if (!CHROMIUM) console.log("[serve.test] skipped: no Chromium at /usr/bin/chromium or /usr/lib/chromium/chromium (apt-get install chromium)");

describe.skipIf(!CHROMIUM)("kiln serve in Chromium", () => {
  let run: string;
  let server: { child: ChildProcess; url: string };
  let browser: Browser;
  let cpu: Uint8Array;

  beforeAll(async () => {
    const started = performance.now();
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-serve-"));
    run = path.join(dir, "run");
    await writeShapesDataset(path.join(dir, "data"), 64, 4);
    // The tiny configuration with a short fit of its VAE's refinement (the default's takes about 2 min);
    // serve reads the configuration the run saved.
    const config = path.join(dir, "config.json");
    const refine = { width: 8, steps: 20, noise: 0.15 };
    writeFileSync(config, JSON.stringify({ base: "tiny", name: "serve-test", vae: { kind: "pca", config: { ...TINY_PCA, refine } } }));
    kilnOk(["train", "--config", config, "--data", path.join(dir, "data"), "--steps", "2", "--batch", "2", "--out", run]);
    const trained = performance.now();
    server = await startServe(["--checkpoint", run, "--port", "0"]);
    browser = await launchChromium(CHROMIUM!);
    // The CPU Sampler's image, from the server's fallback endpoint (kiln serve's own CPU Sampler on the same weights).
    const response = await fetch(new URL("api/sample", server.url), { method: "POST", body: JSON.stringify(REQUEST) });
    expect(response.status).toBe(200);
    cpu = new Uint8Array(await response.arrayBuffer());
    // A sample grid in the run folder, as npm start leaves one, for the page to show.
    await saveGrid(path.join(run, "grid.png"), [cpu, cpu.map((v) => 255 - v)], 64, 64, 2);
    const ready = performance.now();
    console.log(
      `[serve.test] trained the tiny checkpoint in ${((trained - started) / 1e3).toFixed(1)} s; server, Chromium and the CPU image in ${((ready - trained) / 1e3).toFixed(1)} s`,
    );
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill("SIGTERM");
  });

  test("the page samples on WebGPU in the browser, and its pixels are the CPU Sampler's within 2 levels of 255", async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 860 });
    await page.goto(server.url);
    const result = await generate(page);
    expect(result.error).toBeUndefined();
    expect(result.device, `the page found no WebGPU (adapter: ${result.adapter})`).toBe("webgpu");
    expect(result.rgb).toHaveLength(cpu.length);
    const max = maxDifference(result.rgb!, cpu);
    console.log(
      `[serve.test] WebGPU (${result.adapter}): ${REQUEST.steps} steps in ${result.seconds!.toFixed(1)} s including compilation; max pixel difference from the CPU Sampler ${max} of 255`,
    );
    expect(max).toBeLessThanOrEqual(MAX_LEVELS);
    // The loss curve and the grid are served and shown.
    for (const selector of ["#loss img", "#grids img"])
      expect(await page.$eval(selector, (img) => (img as HTMLImageElement).naturalWidth), selector).toBeGreaterThan(0);
    // Again, with the steps compiled: the same image, in the time sampling alone takes on SwiftShader.
    const again = await generate(page);
    expect(again.rgb).toEqual(result.rgb);
    console.log(`[serve.test] the same request again (steps compiled): ${again.seconds!.toFixed(1)} s for ${REQUEST.steps} steps and the decode`);
    const screenshot = path.join(mkdtempSync(path.join(tmpdir(), "kiln-serve-shot-")), "kiln-serve.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`[serve.test] screenshot of the page after generating: ${screenshot}`);
    await page.close();
    // Two generations on SwiftShader, the first compiling: about a minute on a loaded 2-core machine.
  }, 240_000);

  test("without WebGPU the page says so and shows the server CPU's image", async () => {
    const page = await browser.newPage();
    await page.evaluateOnNewDocument(() => delete (Navigator.prototype as { gpu?: unknown }).gpu);
    await page.goto(server.url);
    const result = await generate(page);
    expect(result.device).toBe("server-cpu");
    expect(await page.$eval("#device", (note) => note.textContent)).toMatch(/No WebGPU here \(this browser has no WebGPU.*server's CPU/);
    expect(Uint8Array.from(result.rgb!)).toEqual(cpu);
    await page.close();
  });

  test("a port in use, and no run under ./runs, are errors that say what to do", async () => {
    const port = new URL(server.url).port;
    const taken = kiln(["serve", "--checkpoint", run, "--port", port]);
    expect(taken.status).not.toBe(0);
    expect(taken.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use .*--port`));
    const empty = mkdtempSync(path.join(tmpdir(), "kiln-serve-empty-"));
    const none = spawn(process.execPath, [KILN, "serve"], { cwd: empty });
    let stderr = "";
    none.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => none.once("exit", resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no training run under .*runs: train one first \('npx kiln train'/);
  });
});
