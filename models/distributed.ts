// Data-parallel training over a World (runtime/collective): every rank holds the whole model and takes
// its own lanes of each global batch of the seeded shuffle; the gradients of every rank are summed
// in one flat allreduce before the (identical, deterministic) AdamW step on every rank. Rank 0 alone
// writes logs and checkpoints. The noise and timesteps are those of the global lanes, so N ranks with
// batch B train exactly as one process with batch N·B (up to summation order).
import { createHash } from "node:crypto";
import type { Nccl, Step, World } from "../runtime/index.ts";
import type { ParamSpec, ParamValues } from "./params.ts";
import type { TrainingState } from "./checkpoint.ts";

/** This rank's lanes of the global batch: [first, first + batch) of `total`. */
export const shardLanes = (world: World, batch: number): { first: number; total: number } => ({
  first: world.rank * batch,
  total: world.size * batch,
});

/** This rank's part of the global batch's item indices (the global batch is `lanes.total` long). */
export const shardOf = <T>(global: readonly T[], lanes: { first: number }, batch: number): T[] => global.slice(lanes.first, lanes.first + batch);

/**
 * Refuses to start when the ranks disagree on anything that must be equal (configuration, data, per
 * rank batch, seed, optimizer settings): every rank gets the same error naming the settings and ranks.
 */
export function checkSameSettings(world: World, settings: Readonly<Record<string, unknown>>): void {
  if (world.size === 1) return;
  const mine = new TextEncoder().encode(JSON.stringify(settings));
  const lengths = new Float64Array(world.size);
  lengths[world.rank] = mine.length;
  world.allreduceSum(lengths, "the settings check (lengths)");
  const width = Math.max(...lengths);
  const padded = new Uint8Array(width);
  padded.set(mine);
  const all = world.allgather(padded, "the settings check");
  const decoder = new TextDecoder();
  const ofRank = (r: number): Record<string, unknown> =>
    JSON.parse(decoder.decode(all.subarray(r * width, r * width + lengths[r]!))) as Record<string, unknown>;
  const reference = ofRank(0);
  const differences: string[] = [];
  for (let r = 1; r < world.size; r++) {
    const other = ofRank(r);
    for (const key of new Set([...Object.keys(reference), ...Object.keys(other)]))
      if (JSON.stringify(reference[key]) !== JSON.stringify(other[key]))
        differences.push(`${key}: rank 0 has ${JSON.stringify(reference[key])}, rank ${r} has ${JSON.stringify(other[key])}`);
  }
  if (differences.length > 0)
    throw new Error(`train: the ${world.size} ranks were started with different settings, refusing to train:\n  ${differences.join("\n  ")}`);
}

/** A short fingerprint of the encoded data set (every latent), to check that all ranks train on the same data. */
export function dataFingerprint(latents: readonly Float32Array[]): string {
  const hash = createHash("sha256");
  for (const l of latents) hash.update(new Uint8Array(l.buffer, l.byteOffset, l.byteLength));
  return `${latents.length} items, sha256 ${hash.digest("hex").slice(0, 16)}`;
}

/** Rank 0's training state on every rank (a fresh initialisation or a resumed checkpoint alike). */
export function broadcastState(world: World, state: TrainingState, specs: readonly ParamSpec[]): TrainingState {
  if (world.size === 1) return state;
  const step = Float64Array.of(state.step);
  world.broadcast(step, 0, "the broadcast of the starting step");
  const next: TrainingState = { step: step[0]!, params: new Map(), m: new Map(), v: new Map(), ...(state.ema ? { ema: new Map() } : {}) };
  // Every rank runs the same configuration, so either all keep a moving average of the weights or none does.
  for (const group of ["params", "m", "v", ...(state.ema ? ["ema" as const] : [])] as const) {
    const flat = flatten(state[group], specs);
    const what = group === "params" ? "weights" : group === "ema" ? "moving average of the weights" : `AdamW ${group}`;
    world.broadcast(flat.buffer, 0, `the broadcast of the initial ${what}`);
    next[group] = flat.views;
  }
  return next;
}

/** The values of `specs` laid end to end in one buffer, with a view per name into it. */
function flatten(values: ParamValues | undefined, specs: readonly ParamSpec[]): { buffer: Float32Array; views: ParamValues } {
  const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const buffer = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  const views: ParamValues = new Map();
  let offset = 0;
  specs.forEach((s, i) => {
    const view = buffer.subarray(offset, offset + sizes[i]!);
    const value = values?.get(s.name);
    if (value) view.set(value);
    views.set(s.name, view);
    offset += sizes[i]!;
  });
  return { buffer, views };
}

export interface GradientReducer {
  /** Where each micro-batch's gradients are summed: one view per trained tensor, all in one buffer. */
  grads: ParamValues;
  /**
   * Sums the gradients, the loss sums and the stop requests over every rank (one allreduce), in place.
   * Returns the global loss sum and why the job stops after this step, if any rank asked: "interrupt"
   * when any rank saw Ctrl-C (mpirun forwards the signal to the ranks one at a time, so the others may
   * not have seen it yet), else "minutes" when any rank reached --minutes.
   */
  reduce(lossSum: number, wantsStop: StopRequest, step: number): { lossSum: number; stop: StopRequest };
  /** Seconds spent in reduce so far: the allreduce itself plus waiting for the slowest rank. */
  seconds(): number;
}

/** Why a rank wants training to stop after the current step (null: it does not). */
export type StopRequest = "interrupt" | "minutes" | null;

/** The loss sum and the stop request in the three slots from `at` of an allreduced buffer (summed: any rank's request counts). */
function writeTail(buffer: Float32Array, at: number, lossSum: number, wantsStop: StopRequest): void {
  buffer[at] = lossSum;
  buffer[at + 1] = wantsStop === "interrupt" ? 1 : 0;
  buffer[at + 2] = wantsStop === "minutes" ? 1 : 0;
}

/** writeTail's slots after the allreduce: the global loss sum, and "interrupt" before "minutes" if any rank asked. */
const readTail = (buffer: Float32Array, at: number): { lossSum: number; stop: StopRequest } => ({
  lossSum: buffer[at]!,
  stop: buffer[at + 1]! > 0 ? "interrupt" : buffer[at + 2]! > 0 ? "minutes" : null,
});

/** Gradient sums in one flat buffer, with three more slots carried by the same allreduce (loss, interrupts, deadlines). */
export function gradientReducer(world: World, specs: readonly ParamSpec[]): GradientReducer {
  const flat = flatten(undefined, specs);
  const n = flat.buffer.length;
  const carrier = new Float32Array(n + 3);
  carrier.set(flat.buffer);
  let seconds = 0;
  const grads: ParamValues = new Map(
    [...flat.views].map(([name, view]) => [name, carrier.subarray(view.byteOffset / 4, view.byteOffset / 4 + view.length)]),
  );
  return {
    grads,
    reduce: (lossSum, wantsStop, step) => {
      if (world.size === 1) return { lossSum, stop: wantsStop };
      writeTail(carrier, n, lossSum, wantsStop);
      const started = performance.now();
      world.allreduceSum(carrier, `the gradient allreduce of step ${step}`);
      seconds += (performance.now() - started) / 1000;
      return readTail(carrier, n);
    },
    seconds: () => seconds,
  };
}

/** NCCL with a communicator over every rank, for gradients that stay in device memory. */
export interface NcclRanks {
  nccl: Nccl;
  comm: bigint;
}

export interface DeviceExchange {
  /** Copies the weights from the update step into the gradient step (before each gradient step). */
  prepare(): void;
  /** Sums the gradients over the ranks into the update step's inputs, and the loss sums and stop requests as GradientReducer.reduce does. */
  reduce(lossSum: number, wantsStop: StopRequest, step: number): { lossSum: number; stop: StopRequest };
  /** Seconds spent in reduce so far. */
  seconds(): number;
}

/**
 * One optimizer step's gradient exchange in device memory (CUDA ranks, one micro-batch a step): the
 * weights are copied from the update step into the gradient step on the device, and after the
 * gradient step each gradient is summed over the ranks in place — by NCCL on the launches' stream (one group),
 * or, without NCCL, staged through the host and summed by MPI in one call with the loss and the stop
 * requests (which, with NCCL, go through MPI alone) — then copied into the update step's inputs. Null
 * when a step's memory is host memory (CPU) or a tensor is not f32 in both steps (pure bf16): the host
 * path then serves.
 */
export function deviceGradientExchange(
  world: World,
  gradStep: Step,
  applyStep: Step,
  specs: readonly ParamSpec[],
  ranks: NcclRanks | null,
): DeviceExchange | null {
  const grad = gradStep.backend.memory;
  const apply = applyStep.backend.memory;
  if (!grad || !apply) return null;
  const f32 = (step: Step, buffer: number): boolean => step.backend.program.buffers[buffer]!.dtype === "f32";
  const tensors = specs.map((s) => {
    const ends = {
      params: [applyStep.inputBuffer(`state/params/${s.name}`), gradStep.inputBuffer(`params/${s.name}`)] as const,
      grads: [gradStep.outputBuffer(`grads/${s.name}`), applyStep.inputBuffer(`grads/${s.name}`)] as const,
    };
    const ok = f32(applyStep, ends.params[0]) && f32(gradStep, ends.params[1]) && f32(gradStep, ends.grads[0]) && f32(applyStep, ends.grads[1]);
    const count = s.shape.reduce((a, b) => a * b, 1);
    return ok
      ? {
          count,
          params: [apply.pointer(ends.params[0]), grad.pointer(ends.params[1])],
          grads: [grad.pointer(ends.grads[0]), apply.pointer(ends.grads[1])],
        }
      : null;
  });
  if (tensors.some((t) => t === null)) return null;
  const ready = tensors as { count: number; params: bigint[]; grads: bigint[] }[];
  // Without NCCL every gradient is staged at its offset in one host buffer, summed with the loss and
  // stop slots in one MPI call (as the host path does); with NCCL only the three slots go through MPI.
  const offsets: number[] = [];
  let total = 0;
  for (const t of ready) (offsets.push(total), (total += t.count));
  const tail = ranks ? 0 : total;
  const host = new Float32Array(tail + 3);
  let seconds = 0;
  return {
    prepare() {
      for (const t of ready) grad.copy(t.params[1]!, t.params[0]!, 4 * t.count);
      grad.synchronize();
    },
    reduce(lossSum, wantsStop, step) {
      const started = performance.now();
      const staged = !ranks && world.size > 1;
      if (ranks)
        ranks.nccl.group(() => {
          for (const t of ready) ranks.nccl.allReduce(ranks.comm, t.grads[0]!, t.grads[0]!, t.count, "f32", "sum", grad.stream);
        });
      else if (staged) ready.forEach((t, i) => grad.download(t.grads[0]!, host.subarray(offsets[i]!, offsets[i]! + t.count)));
      writeTail(host, tail, lossSum, wantsStop);
      if (world.size > 1) world.allreduceSum(host, `the gradient allreduce of step ${step}`);
      if (staged) ready.forEach((t, i) => grad.upload(t.grads[0]!, host.subarray(offsets[i]!, offsets[i]! + t.count)));
      // The two steps may run on different streams: the sums are done before the update step's stream copies them.
      grad.synchronize();
      for (const t of ready) apply.copy(t.grads[1]!, t.grads[0]!, 4 * t.count);
      apply.synchronize();
      seconds += (performance.now() - started) / 1000;
      return readTail(host, tail);
    },
    seconds: () => seconds,
  };
}
