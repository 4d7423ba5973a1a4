// Finding a WebGPU device: the browser's navigator.gpu, else in Node the `webgpu` npm package
// (Dawn's Node bindings; it needs a Vulkan driver on Linux, e.g. Mesa's lavapipe or Chromium's
// SwiftShader). Requesting an adapter and a device is asynchronous, so a step can be compiled on
// `webgpu` only after openWebGpu() has resolved; the opened device is shared by every step.

/** An opened GPU: the device, and its adapter in words for messages and figures. */
export interface OpenedGpu {
  readonly device: GPUDevice;
  /** The adapter's vendor, architecture and description (SwiftShader is a CPU emulation). */
  readonly adapter: string;
  /** Whether the adapter runs on the CPU (SwiftShader, Mesa's llvmpipe/lavapipe, a fallback adapter): kernels are lowered for it (webGpuConfig). */
  readonly cpu: boolean;
  /**
   * The instance and adapter the device came from, held for the life of the device: Dawn for Node
   * tears its instance down when the GPU object is collected, and the process then aborts in a
   * worker thread ("The futex facility returned an unexpected error code").
   */
  readonly instance: GPU;
  readonly gpuAdapter: GPUAdapter;
}

let opened: OpenedGpu | null = null;
let opening: Promise<OpenedGpu> | null = null;

/** navigator.gpu where there is one (a browser, or a runtime that provides it). */
const navigatorGpu = (): GPU | null => (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null;

/** The `webgpu` package's GPU in Node, or why there is none. */
async function nodeGpu(): Promise<GPU | string> {
  try {
    const module = (await import("webgpu")) as { create(options: string[]): GPU; globals: object };
    // GPUBufferUsage, GPUMapMode and the other constants the API is used with.
    Object.assign(globalThis, module.globals);
    return module.create([]);
  } catch (error) {
    return `the 'webgpu' npm package (Dawn for Node) could not be loaded: ${(error as Error).message.split("\n")[0]}`;
  }
}

/** An adapter that emulates a GPU on the CPU, by its own account or by name. */
const runsOnCpu = (adapter: GPUAdapter): boolean => {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
};

const describeAdapter = (adapter: GPUAdapter): string => {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.description].filter((s) => s && s.length > 0);
  return parts.length ? parts.join(" / ") : "an unnamed adapter";
};

async function open(): Promise<OpenedGpu> {
  const gpu = navigatorGpu() ?? (await nodeGpu());
  if (typeof gpu === "string") throw new Error(`webgpu: no WebGPU implementation: ${gpu}`);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      "webgpu: no WebGPU adapter (navigator.gpu.requestAdapter() gave null). In a browser, enable WebGPU; in Node on Linux the 'webgpu' package needs a Vulkan driver that Dawn accepts (Debian 12's Mesa lavapipe is refused; Chromium's SwiftShader works: LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)",
    );
  }
  // A step's arena is one binding: ask for as much of it as the adapter allows.
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  // Errors not caught by a scope (a validation error of a submit, an out-of-memory) are kept for the next settle().
  device.addEventListener("uncapturederror", (event) => uncaptured.set(device, (event as GPUUncapturedErrorEvent).error.message));
  return { device, adapter: describeAdapter(adapter), cpu: runsOnCpu(adapter), instance: gpu, gpuAdapter: adapter };
}

const uncaptured = new WeakMap<GPUDevice, string>();

/** The last error the device reported outside any error scope since the previous call, or null. */
export function takeUncapturedError(device: GPUDevice): string | null {
  const message = uncaptured.get(device) ?? null;
  uncaptured.delete(device);
  return message;
}

/** The shared WebGPU device, opened on the first call. */
export function openWebGpu(): Promise<OpenedGpu> {
  if (opened) return Promise.resolve(opened);
  opening ??= open().then(
    (gpu) => (opened = gpu),
    (error: unknown) => {
      opening = null;
      throw error;
    },
  );
  return opening;
}

/** The device openWebGpu() opened; an error saying what to do when it has not resolved yet. */
export function openedWebGpu(): OpenedGpu {
  if (!opened)
    throw new Error(
      "webgpu: no WebGPU device is open; `await openWebGpu()` (runtime/webgpu/open.ts) before compiling a step on webgpu (requesting an adapter is asynchronous)",
    );
  return opened;
}
