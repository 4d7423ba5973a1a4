// Property: every registered device this machine has (cpu and cuda-emulated everywhere; cuda where
// a GPU is present) computes what the interpreter computes, within f32 tolerance, for every family
// of GRAD_CASES (primitives, composites, random graphs), forward and backward: one compiled step per
// device (runtime/equivalence.ts). The emulated CUDA device under a small launch configuration is
// test/equivalence-small-launch.test.ts (its own file, so vitest runs it beside this one).
import { registeredDevices, type Device } from "../runtime/index.ts";
import { describeEquivalence } from "./helpers/equivalence.ts";

// Registered devices are checked only where they are available (the module loads before tests run).
const available = await Promise.all(registeredDevices().map(async (device) => ((await device.status()).available ? device : null)));
for (const device of available.filter((d): d is Device => d !== null)) {
  // The suite runs synchronously and as one step; webgpu reads back asynchronously, so
  // test/webgpu.test.ts runs the same families on it, family by family.
  if (device.facts.asyncReadback)
    console.log(`[equivalence.test] ${device.name}: asynchronous readback; its equivalence runs family by family in test/webgpu.test.ts`);
  else describeEquivalence(device);
}
