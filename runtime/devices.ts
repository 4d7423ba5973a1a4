// The devices kiln ships, registered by name (runtime/device.ts). A new device adds its line here.
import { registerDevice } from "./device.ts";
import { cpuDevice } from "./cpu/device.ts";
import { cudaEmulated, cudaGpu } from "./cuda/devices.ts";
import { webGpuDevice } from "./webgpu/device.ts";

for (const device of [cpuDevice, cudaGpu, cudaEmulated, webGpuDevice]) registerDevice(device);
