/// <reference lib="dom" />
// The page's script, bundled for the browser by bin/serve/bundle.ts: it reads the run's description
// and weights from the server, compiles the sampling pipeline for WebGPU in the browser and runs it
// there; without WebGPU it says so and asks the server's CPU to sample. It imports only the portable
// APIs (no Node module). `window.kiln` holds the last result, for tests that drive the page.

import { modelParts, Sampler, weightsFromSafetensors, describeReading, type ModelConfig } from "../../models/portable.ts";
import { openWebGpu, webGpuDevice } from "../../runtime/portable.ts";

interface RunInfo {
  run: string;
  step: number;
  config: ModelConfig;
  height: number;
  width: number;
  weights: string;
  grids: { name: string; caption: string }[];
  lossEntries: number;
  defaults: { prompt: string; seed: number; steps: number; cfg: number };
}

/** The last generation, for people (the page) and tests (window.kiln). */
interface PageState {
  state: "loading" | "ready" | "sampling" | "done" | "error";
  device?: "webgpu" | "server-cpu";
  adapter?: string;
  error?: string;
  /** RGB bytes, H × W × 3, of the last image. */
  rgb?: number[];
  width?: number;
  height?: number;
  /** Seconds of the last generation, and of compiling the steps on the first one. */
  seconds?: number;
  compileSeconds?: number;
}

const kiln: PageState = { state: "loading" };
(window as unknown as { kiln: PageState }).kiln = kiln;

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`page: no element #${id}`);
  return found as T;
};

function setStatus(text: string, isError = false): void {
  const status = element("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

/** The image on the canvas (one canvas pixel per image pixel; CSS enlarges it without smoothing). */
function draw(rgb: Uint8Array, width: number, height: number): void {
  const canvas = element<HTMLCanvasElement>("image");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("page: the canvas has no 2D context");
  const pixels = context.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    pixels.data.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    pixels.data[p * 4 + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}

/** Why this browser cannot sample on WebGPU, or null when it can (the adapter is then open). */
async function webGpuProblem(): Promise<string | null> {
  if (!("gpu" in navigator)) return "this browser has no WebGPU (navigator.gpu is missing)";
  try {
    kiln.adapter = (await openWebGpu()).adapter;
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

async function fetchOk(url: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    throw new Error(`${init?.method ?? "GET"} ${url}: ${response.status} ${body.error ?? response.statusText}`);
  }
  return response;
}

function showFigures(info: RunInfo): void {
  if (info.lossEntries > 0) element("loss").innerHTML = `<img src="/api/loss.png" alt="training loss against step (${info.lossEntries} steps)" />`;
  if (info.grids.length)
    element("grids").innerHTML = info.grids
      .map(({ name, caption }) => `<figure><img src="/run/${name}" alt="${caption}" /><figcaption>${name}: ${caption}</figcaption></figure>`)
      .join("");
}

async function main(): Promise<void> {
  const info = (await (await fetchOk("/api/run")).json()) as RunInfo;
  element("run").textContent = `${info.config.name} model, step ${info.step} (${info.weights} weights) — ${info.run}`;
  showFigures(info);
  const fields = {
    prompt: element<HTMLInputElement>("prompt"),
    seed: element<HTMLInputElement>("seed"),
    steps: element<HTMLInputElement>("steps"),
    cfg: element<HTMLInputElement>("cfg"),
  };
  fields.prompt.value = info.defaults.prompt;
  fields.seed.value = String(info.defaults.seed);
  fields.steps.value = String(info.defaults.steps);
  fields.cfg.value = String(info.defaults.cfg);

  const problem = await webGpuProblem();
  const deviceNote = element("device");
  if (problem) {
    kiln.device = "server-cpu";
    deviceNote.className = "fallback";
    deviceNote.textContent = `No WebGPU here (${problem}): images are sampled on the server's CPU instead.`;
  } else {
    kiln.device = "webgpu";
    deviceNote.textContent = `Sampling in this browser on WebGPU (${kiln.adapter}).`;
  }

  let sampler: Sampler | undefined;
  const progress = element<HTMLProgressElement>("progress");
  const button = element<HTMLButtonElement>("generate");

  const generate = async (): Promise<void> => {
    const request = {
      prompt: fields.prompt.value,
      seed: Number(fields.seed.value),
      steps: Number(fields.steps.value),
      cfg: Number(fields.cfg.value),
    };
    kiln.state = "sampling";
    kiln.error = undefined;
    progress.value = 0;
    progress.max = request.steps;
    const started = performance.now();
    let rgb: Uint8Array;
    const compiles = kiln.device === "webgpu" && !sampler;
    if (kiln.device === "webgpu") {
      if (!sampler) {
        setStatus("downloading the weights and compiling the steps for WebGPU…");
        const bytes = new Uint8Array(await (await fetchOk("/api/weights")).arrayBuffer());
        sampler = new Sampler(modelParts(info.config, info.height, info.width), weightsFromSafetensors(bytes, "/api/weights"), webGpuDevice);
      }
      const reading = describeReading(sampler.reading(request.prompt));
      setStatus(`sampling on WebGPU…${reading ? ` (${reading})` : ""}`);
      rgb = await sampler.sampleAsync({
        ...request,
        negative: "",
        progress: false,
        onStep: (done, total) => {
          progress.value = done;
          setStatus(`sampling on WebGPU: step ${done} of ${total}, ${((performance.now() - started) / 1e3).toFixed(1)} s`);
        },
      });
    } else {
      setStatus("sampling on the server's CPU…");
      const response = await fetchOk("/api/sample", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      rgb = new Uint8Array(await response.arrayBuffer());
      progress.value = request.steps;
    }
    const seconds = (performance.now() - started) / 1e3;
    draw(rgb, info.width, info.height);
    Object.assign(kiln, { state: "done", rgb: Array.from(rgb), width: info.width, height: info.height, seconds });
    setStatus(
      `${info.width}×${info.height}, seed ${request.seed}, ${request.steps} steps, guidance ${request.cfg}: ${seconds.toFixed(1)} s on ${kiln.device === "webgpu" ? "WebGPU" : "the server's CPU"}${compiles ? " (including compiling the steps, once)" : ""}`,
    );
  };

  element<HTMLFormElement>("form").addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    generate()
      .catch((error: unknown) => {
        Object.assign(kiln, { state: "error", error: (error as Error).message });
        setStatus((error as Error).message, true);
      })
      .finally(() => (button.disabled = false));
  });
  button.disabled = false;
  kiln.state = "ready";
  setStatus("ready");
}

main().catch((error: unknown) => {
  Object.assign(kiln, { state: "error", error: (error as Error).message });
  setStatus((error as Error).message, true);
});
