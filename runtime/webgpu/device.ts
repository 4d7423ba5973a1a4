// The WebGPU device: the GPU lowering without warp shuffles (webGpuConfig, without barriers where the
// adapter runs on the CPU, as SwiftShader does), the WGSL renderer
// (compiler/codegen/wgsl.ts), one pipeline per distinct shader built when the step is prepared, one
// storage buffer as the step's arena (every buffer at a word offset), and per run one command buffer
// (one compute pass of every dispatch, then the donation copies). Results come back asynchronously
// (mapAsync), so steps on this device answer runAsync(), outputAsync() and inputAsync().

import {
  debugLog,
  type DType,
  lowerProgramForGpu,
  renderWgsl,
  SIMT_TEMPLATES,
  templatesOf,
  webGpuConfig,
  type WgslProgram,
} from "../../compiler/index.ts";
import type { Device, DeviceFacts, DeviceProgram, StepPlan } from "../device.ts";
import type { TypedArray } from "../trace.ts";
import { openWebGpu, openedWebGpu, takeUncapturedError, type OpenedGpu } from "./open.ts";

/** No subgroups assumed, no float atomics, every dtype in a 32-bit word, one binding per kernel. */
export const WEBGPU_FACTS: DeviceFacts = {
  laneWidth: null,
  floatAtomics: false,
  storableDtypes: ["f32", "i32", "bool"],
  maxBindings: 8,
  asyncReadback: true,
  templates: templatesOf(SIMT_TEMPLATES),
};

/** A step on WebGPU: its WGSL program, the GPU it runs on, and its arena. */
export interface WebGpuProgram extends DeviceProgram {
  readonly wgsl: WgslProgram;
  readonly gpu: OpenedGpu;
}

/** Host values as the arena's 32-bit words. */
function toWords(dtype: DType, values: ArrayLike<number>): Uint32Array {
  switch (dtype) {
    case "f32":
    case "bf16":
    case "f16":
      return new Uint32Array(Float32Array.from(values).buffer);
    case "i32":
      return new Uint32Array(Int32Array.from(values).buffer);
    case "bool":
      return Uint32Array.from(values, (v) => (v ? 1 : 0));
    default:
      return dtype satisfies never;
  }
}

/** Words read back as host values (bf16 and f16 are f32 already). */
function fromWords(dtype: DType, words: ArrayBuffer): TypedArray {
  switch (dtype) {
    case "f32":
    case "bf16":
    case "f16":
      return new Float32Array(words);
    case "i32":
      return new Int32Array(words);
    case "bool":
      return Uint8Array.from(new Uint32Array(words), (w) => (w ? 1 : 0));
    default:
      return dtype satisfies never;
  }
}

/** The shader compiler's errors for every module, as one error naming the launch whose shader failed. */
async function shaderErrors(name: string, modules: readonly { launch: string; module: GPUShaderModule }[]): Promise<void> {
  for (const { launch, module } of modules) {
    const info = await module.getCompilationInfo();
    const messages = info.messages.filter((m) => m.type === "error").map((m) => `  line ${m.lineNum}: ${m.message}`);
    if (messages.length) throw new Error(`webgpu: ${name}: the WGSL of ${launch} does not compile:\n${messages.join("\n")}`);
  }
}

/** The arena fits one storage binding and every workgroup fits the adapter, or a clear error. */
function checkLimits(name: string, gpu: OpenedGpu, wgsl: WgslProgram, bytes: number): void {
  const { limits } = gpu.device;
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (bytes > limit) {
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const allowed = `the adapter (${gpu.adapter}) allows ${mib(limit)} (maxStorageBufferBindingSize)`;
    throw new Error(`webgpu: ${name} needs an arena of ${mib(bytes)} in one storage binding; ${allowed}`);
  }
  for (const launch of wgsl.launches) {
    if (launch.workgroupSize > limits.maxComputeInvocationsPerWorkgroup) {
      const allowed = `the adapter allows ${limits.maxComputeInvocationsPerWorkgroup}`;
      throw new Error(`webgpu: ${launch.name} has ${launch.workgroupSize} invocations per workgroup; ${allowed}`);
    }
  }
}

/** Pipelines are built once, one per distinct shader; the shaders' compile messages are checked before the first run. */
function createPipelines(device: GPUDevice, wgsl: WgslProgram) {
  const layout = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } }] });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const pipelines = new Map<string, GPUComputePipeline>();
  const modules: { launch: string; module: GPUShaderModule }[] = [];
  for (const launch of wgsl.launches) {
    if (pipelines.has(launch.source)) continue;
    const module = device.createShaderModule({ label: launch.name, code: launch.source });
    const pipeline = device.createComputePipeline({ label: launch.name, layout: pipelineLayout, compute: { module, entryPoint: "main" } });
    pipelines.set(launch.source, pipeline);
    modules.push({ launch: launch.name, module });
  }
  return { layout, pipelines, modules };
}

/** `size` bytes of `buffer` from `offset`, through a mapped staging buffer. */
async function readBack(device: GPUDevice, buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const words = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return words;
}

/** The step's arena (one storage buffer holding every buffer at its word offset) and its one binding. */
function createArena(device: GPUDevice, name: string, wgsl: WgslProgram, layout: GPUBindGroupLayout) {
  const arena = device.createBuffer({
    label: `${name} arena`,
    size: Math.max(wgsl.arena.words * 4, 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: arena } }] });
  const offset = (id: number): number => {
    const o = wgsl.arena.offsets.get(id);
    if (o === undefined) throw new Error(`webgpu: ${name}: buffer ${id} has no place in the arena`);
    return o * 4;
  };
  return { arena, bindGroup, offset };
}

/** The plan's donation copies as byte ranges of the arena, and the bounce buffer they go through (a buffer cannot be copied into itself). */
function donationCopies(device: GPUDevice, plan: StepPlan, offset: (id: number) => number) {
  const copies = plan.copies.map((c) => ({ from: offset(c.from), to: offset(c.to), bytes: Math.max(plan.program.buffers[c.from]!.size, 1) * 4 }));
  const bounceBytes = Math.max(0, ...copies.map((c) => c.bytes));
  const bounce = bounceBytes
    ? device.createBuffer({ label: `${plan.name} donation copies`, size: bounceBytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST })
    : null;
  return { copies, bounce };
}

/** One run as one command buffer: a compute pass of every dispatch, then the donation copies. */
function submitRun(
  device: GPUDevice,
  name: string,
  bindGroup: GPUBindGroup,
  dispatches: readonly { pipeline: GPUComputePipeline; workgroups: number }[],
  arena: GPUBuffer,
  donation: ReturnType<typeof donationCopies>,
): void {
  const encoder = device.createCommandEncoder({ label: name });
  const pass = encoder.beginComputePass();
  pass.setBindGroup(0, bindGroup);
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.dispatchWorkgroups(d.workgroups);
  }
  pass.end();
  for (const c of donation.copies) {
    encoder.copyBufferToBuffer(arena, c.from, donation.bounce!, 0, c.bytes);
    encoder.copyBufferToBuffer(donation.bounce!, 0, arena, c.to, c.bytes);
  }
  device.queue.submit([encoder.finish()]);
}

/** `lowering`: the adapter's (barrier-free code where it runs on the CPU), or one forced, as tests run both on SwiftShader. */
function prepareWebGpu(plan: StepPlan, lowering: { cpu?: boolean } = {}): WebGpuProgram {
  const gpu = openedWebGpu();
  const { device } = gpu;
  const { program } = plan;
  const t0 = performance.now();
  const wgsl = renderWgsl(lowerProgramForGpu(program, webGpuConfig({ cpu: lowering.cpu ?? gpu.cpu })));
  const t1 = performance.now();
  checkLimits(plan.name, gpu, wgsl, wgsl.arena.words * 4);
  const { layout, pipelines, modules } = createPipelines(device, wgsl);
  let compiled = false;
  const t2 = performance.now();
  const { arena, bindGroup, offset } = createArena(device, plan.name, wgsl, layout);
  const dispatches = wgsl.launches.map((launch) => ({ pipeline: pipelines.get(launch.source)!, workgroups: launch.workgroups }));
  const donation = donationCopies(device, plan, offset);
  debugLog(
    2,
    () => `${plan.name}: generated WGSL (${wgsl.launches.length} launches, ${pipelines.size} pipelines)\n${[...pipelines.keys()].join("\n")}`,
  );
  let disposed = false;
  return {
    program,
    wgsl,
    gpu,
    description: `WebGPU (${gpu.adapter})`,
    launchCount: wgsl.launches.length,
    compileSeconds: { codegen: (t1 - t0) / 1e3, pipelines: (t2 - t1) / 1e3 },
    timesKernels: false,
    write(id, values) {
      device.queue.writeBuffer(arena, offset(id), toWords(program.buffers[id]!.dtype, values));
    },
    view: () => null,
    read() {
      throw new Error(`webgpu: ${plan.name}: results are read back asynchronously; use runAsync(), outputAsync() or inputAsync()`);
    },
    async readAsync(id) {
      const b = program.buffers[id]!;
      return fromWords(b.dtype, await readBack(device, arena, offset(id), Math.max(b.size, 1) * 4));
    },
    launch: () => submitRun(device, plan.name, bindGroup, dispatches, arena, donation),
    async settle() {
      if (!compiled) {
        await shaderErrors(plan.name, modules);
        compiled = true;
      }
      await device.queue.onSubmittedWorkDone();
      const error = takeUncapturedError(device);
      if (error) throw new Error(`webgpu: ${plan.name}: ${error}`);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      arena.destroy();
      donation.bounce?.destroy();
    },
  };
}

async function webGpuStatus(): Promise<{ available: boolean; lines: string[] }> {
  try {
    const gpu = await openWebGpu();
    const limits = gpu.device.limits;
    return {
      available: true,
      lines: [
        `adapter: ${gpu.adapter}`,
        `one storage binding of at most ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB per step, ${limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup`,
      ],
    };
  } catch (error) {
    return { available: false, lines: [(error as Error).message] };
  }
}

export const webGpuDevice: Device<WebGpuProgram> = {
  name: "webgpu",
  summary: "WebGPU through generated WGSL (a browser's navigator.gpu, or the 'webgpu' npm package in Node; await openWebGpu() first)",
  facts: WEBGPU_FACTS,
  status: webGpuStatus,
  prepare: (plan) => prepareWebGpu(plan),
  open: async () => {
    await openWebGpu();
  },
};

/** The webgpu device with the lowering chosen rather than taken from the adapter (`cpu: false`: workgroup memory and barriers, as for a GPU). */
export const webGpuDeviceLoweredFor = (lowering: { cpu: boolean }): Device<WebGpuProgram> => ({
  ...webGpuDevice,
  prepare: (plan) => prepareWebGpu(plan, lowering),
});
