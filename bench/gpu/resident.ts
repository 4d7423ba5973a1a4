// Raw access to a compiled CUDA step's resident buffers, for the training benchmark's 0.1B state.
// CudaStep.set() rounds and converts bf16 values element by element (Float64Array.from with roundBf16,
// then Uint16Array.from with bf16Bits): about 30 s per 10^8 values on a development machine, so the
// parameters and both AdamW moments (3 × 128.8 M bf16 values) would cost over a minute of a GPU
// session's few minutes. Here the values are converted with one integer loop and uploaded as storage
// bits. CudaStep exposes no pointer of a leaf, so this reads its private maps; if they change, the
// lookup fails with a message naming them and the caller falls back to set().
import { itemSize } from "../../compiler/index.ts";
import type { CudaStep } from "../../runtime/cuda/step.ts";
import type { Handle } from "../../runtime/cuda/driver.ts";

/** CudaStep's internals are not what this file expects (the runtime changed): use set() instead. */
export class ResidentAccessError extends Error {}

interface StepInternals {
  inputByPath?: Map<string, { buffer: number }>;
  outputLeaves?: { path: string; buffer: number }[];
  pointers?: Map<number, Handle>;
}

/** The device pointer of an input (`kind` "input") or output leaf of `step`, by its path. */
export function leafPointer(step: CudaStep, kind: "input" | "output", path: string): Handle {
  const internals = step as unknown as StepInternals;
  const buffer = kind === "input" ? internals.inputByPath?.get(path)?.buffer : internals.outputLeaves?.find((o) => o.path === path)?.buffer;
  const pointer = buffer === undefined ? undefined : internals.pointers?.get(buffer);
  if (pointer === undefined) throw new ResidentAccessError(`${step.name}: no device pointer for ${kind} '${path}' (CudaStep's inputByPath / outputLeaves / pointers maps are missing or lack it)`);
  return pointer;
}

/** f32 values as bf16 storage bits, rounded to nearest even (finite values; as bf16Bits, one integer loop). */
export function bf16Storage(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Uploads f32 values into an input leaf of dtype `dtype` (bf16 as storage bits); when CudaStep's internals
 * are not as expected, through set() (correct, only slow), saying so once per step.
 */
export function uploadLeaf(step: CudaStep, path: string, dtype: string, values: Float32Array): void {
  try {
    writeInput(step, path, dtype === "bf16" ? bf16Storage(values) : values);
  } catch (error) {
    if (!(error instanceof ResidentAccessError)) throw error;
    if (!slowSteps.has(step)) console.log(`  note  ${error.message}: uploading through set(), which is slow for large bf16 leaves`);
    slowSteps.add(step);
    step.set(new Map([[path, values]]));
  }
}
const slowSteps = new WeakSet<CudaStep>();

/** bf16 storage bits as numbers. */
export function bf16Values(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) view[i] = bits[i]! << 16;
  return out;
}

/** Writes storage (bf16 bits, f32, i32) into a resident input leaf; the byte size must match the leaf's. */
export function writeInput(step: CudaStep, path: string, storage: Uint16Array | Float32Array | Int32Array): void {
  const leaf = step.program.buffers[(step as unknown as StepInternals).inputByPath?.get(path)?.buffer ?? -1];
  const bytes = leaf ? leaf.size * itemSize(leaf.dtype) : -1;
  if (bytes !== storage.byteLength) throw new Error(`${step.name}: input '${path}' holds ${bytes} bytes, ${storage.byteLength} given`);
  step.device.upload(leafPointer(step, "input", path), storage);
}

/** The first `count` bf16 values of an output leaf, read as raw storage (no whole-buffer conversion; else through output()). */
export function readBf16Output(step: CudaStep, path: string, count: number): Float32Array {
  let pointer: Handle;
  try {
    pointer = leafPointer(step, "output", path);
  } catch (error) {
    if (!(error instanceof ResidentAccessError)) throw error;
    return Float32Array.from(step.output(path).subarray(0, count));
  }
  const bits = new Uint16Array(count);
  step.device.download(pointer, bits);
  return bf16Values(bits);
}
