// Raw access to a compiled CUDA step's resident buffers, for the training benchmark's 0.1B state.
// Step.set() rounds and converts bf16 values element by element (Float64Array.from with roundBf16,
// then Uint16Array.from with bf16Bits): about 30 s per 10^8 values on a development machine, so the
// parameters and both AdamW moments (3 × 128.8 M bf16 values) would cost over a minute of a GPU
// session's few minutes. Here the values are converted with one integer loop and uploaded as storage
// bits, through the step's buffer of a leaf and the CUDA program's pointer of a buffer.
import { itemSize } from "../../compiler/index.ts";
import type { CudaStep } from "../../runtime/cuda/step.ts";
import type { Handle } from "../../runtime/cuda/driver.ts";

/** The device pointer of an input (`kind` "input") or output leaf of `step`, by its path. */
export function leafPointer(step: CudaStep, kind: "input" | "output", path: string): Handle {
  return step.backend.pointer(kind === "input" ? step.inputBuffer(path) : step.outputBuffer(path));
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

/** Uploads f32 values into an input leaf of dtype `dtype` (bf16 as storage bits). */
export function uploadLeaf(step: CudaStep, path: string, dtype: string, values: Float32Array): void {
  writeInput(step, path, dtype === "bf16" ? bf16Storage(values) : values);
}

/** bf16 storage bits as numbers. */
export function bf16Values(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) view[i] = bits[i]! << 16;
  return out;
}

/** Writes storage (bf16 bits, f32, i32) into a resident input leaf; the byte size must match the leaf's. */
export function writeInput(step: CudaStep, path: string, storage: Uint16Array | Float32Array | Int32Array): void {
  const leaf = step.program.buffers[step.inputBuffer(path)];
  const bytes = leaf ? leaf.size * itemSize(leaf.dtype) : -1;
  if (bytes !== storage.byteLength) throw new Error(`${step.name}: input '${path}' holds ${bytes} bytes, ${storage.byteLength} given`);
  step.backend.device.upload(leafPointer(step, "input", path), storage);
}

/** The first `count` bf16 values of an output leaf, read as raw storage (no whole-buffer conversion). */
export function readBf16Output(step: CudaStep, path: string, count: number): Float32Array {
  const bits = new Uint16Array(count);
  step.backend.device.download(leafPointer(step, "output", path), bits);
  return bf16Values(bits);
}
