// The device registry and the one Step class: devices are found by name (an unknown name is an error
// listing the registered ones), the same step runs on every registered device with the same results,
// runAsync() gives what run() gives, a device that reads back asynchronously refuses the synchronous
// readers with a message naming the asynchronous ones, and a device registered from outside is used
// by compileStep with no other change.
import { describe, expect, test } from "vitest";
import * as ops from "../compiler/ops.ts";
import * as nn from "../compiler/nn.ts";
import type { Tensor } from "../compiler/graph.ts";
import { seededRandom } from "../compiler/gradcheck.ts";
import { compileStep, deviceNamed, deviceNames, registerDevice, type Device } from "../runtime/step.ts";
import { cpuDevice } from "../runtime/cpu/device.ts";
import { deviceFlag } from "../bin/device-flag.ts";

const random = (n: number, seed: number) => {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};

const fn = (t: unknown) => {
  const { x, w, state } = t as { x: Tensor; w: Tensor; state: Tensor };
  const y = nn.softmax(nn.linear(x, w), -1);
  return { y, state: ops.add(state, ops.sum(y, [0])) };
};
const example = { x: { shape: [4, 8] }, w: { shape: [6, 8] }, state: { shape: [6] } };
const values = { x: random(32, 1), w: random(48, 2), state: new Float32Array(6) };

describe("the device registry", () => {
  test("kiln's devices are registered by name, and an unknown name is an error listing them", () => {
    expect(deviceNames()).toEqual(expect.arrayContaining(["cpu", "cuda", "cuda-emulated", "webgpu"]));
    expect(deviceNamed("cpu").facts.asyncReadback).toBe(false);
    expect(() => deviceNamed("tpu")).toThrow(/unknown device 'tpu': expected one of cpu, cuda, cuda-emulated, webgpu/);
    expect(() => compileStep(fn, example, { device: "tpu" })).toThrow(/unknown device 'tpu'/);
    expect(() => deviceFlag(new Map([["device", "tpu"]]))).toThrow(/--device tpu: expected one of cpu, cuda, cuda-emulated, webgpu/);
    expect(deviceFlag(new Map())).toBe("cpu");
    expect(() => registerDevice(cpuDevice)).toThrow(/'cpu' is registered already/);
  });

  test("one step gives the same outputs and donated state on the cpu and the emulated CUDA device, through run() and runAsync()", async () => {
    const results = [];
    for (const device of ["cpu", "cuda-emulated"]) {
      const step = compileStep(fn, example, { device, donate: ["state"], name: `registry_${device.replace("-", "_")}` });
      const first = step.run(values) as { y: Float32Array; state: Float32Array };
      const second = (await step.runAsync()) as { y: Float32Array; state: Float32Array };
      expect(Array.from(second.y)).toEqual(Array.from(first.y));
      // The state is donated: the second run adds the column sums again.
      for (let i = 0; i < 6; i++) expect(second.state[i]).toBeCloseTo(2 * first.state[i]!, 5);
      expect(Array.from(await step.outputAsync("state"))).toEqual(Array.from(step.output("state")));
      expect(Array.from(await step.inputAsync("state"))).toEqual(Array.from(step.input("state")));
      step.dispose();
      expect(() => step.run()).toThrow(/used after dispose/);
      results.push(first);
    }
    for (let i = 0; i < results[0]!.y.length; i++) expect(results[1]!.y[i]).toBeCloseTo(results[0]!.y[i]!, 5);
  }, 120_000);

  test("a device registered from outside is used by name; one that reads back asynchronously only answers the async readers", async () => {
    // A device that is the CPU but claims asynchronous readback and has no zero-copy views.
    const asyncCpu: Device = {
      ...cpuDevice,
      name: "test-async-cpu",
      facts: { ...cpuDevice.facts, asyncReadback: true },
      prepare(plan) {
        const inner = cpuDevice.prepare(plan);
        return {
          ...inner,
          view: () => null,
          read: () => {
            throw new Error("read() on an asynchronous device");
          },
        };
      },
    };
    registerDevice(asyncCpu);
    expect(deviceNames()).toContain("test-async-cpu");
    const step = compileStep(fn, example, { device: "test-async-cpu", donate: ["state"], name: "registry_async" });
    expect(() => step.run(values)).toThrow(/reads results back asynchronously/);
    const out = (await step.runAsync(values)) as { y: Float32Array };
    expect(out.y.length).toBe(24);
    expect(() => step.output("y")).toThrow(
      /the test-async-cpu device reads results back asynchronously; use runAsync\(\), outputAsync\(\) or inputAsync\(\)/,
    );
    expect(Array.from(await step.outputAsync("y"))).toEqual(Array.from(out.y));
    step.dispose();
  }, 60_000);
});
