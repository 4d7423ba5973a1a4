// The FLUX.2 flow-matching scheduler of the reference (spec §1), its training-timestep draw (§2) and the
// sinusoidal timestep features (§3), as plain numbers with float32 emulated wherever the reference computes in f32.
import { roundBf16, roundTo, type DType } from "../compiler/index.ts";

const f32 = Math.fround;

export const NUM_TRAIN_TIMESTEPS = 1000;

/** μ when no image sequence length is given; training always uses it (the reference: "it trained better"). */
export const DEFAULT_MU = 0.8;

export interface Schedule {
  /** Noise levels σ_k, decreasing from σ_start; there is no appended 0 (the last Euler step jumps to 0). */
  sigmas: Float32Array;
  /** σ_k · 1000: the 0…1000 scale the DiT is conditioned on. */
  timesteps: Float32Array;
  /** The per-timestep loss weights of §1.5, only for a training schedule. */
  trainingWeights?: Float32Array;
  /** The log-shift used: σ = e^μ / (e^μ + 1/s − 1). */
  mu: number;
}

export interface ScheduleOptions {
  steps: number;
  denoisingStrength?: number;
  training?: boolean;
  /** (H/16)·(W/16) latent tokens; selects μ by `computeEmpiricalMu`. Omitted: μ = 0.8. */
  dynamicShiftLen?: number;
}

/** The empirical μ of FLUX.2 for `imageSeqLen` tokens and `steps` steps, in double as the reference does. */
export function computeEmpiricalMu(imageSeqLen: number, steps: number): number {
  const a1 = 8.73809524e-5;
  const b1 = 1.89833333;
  const a2 = 0.00016927;
  const b2 = 0.45666666;
  if (imageSeqLen > 4300) return a2 * imageSeqLen + b2;
  const mu200 = a2 * imageSeqLen + b2;
  const mu10 = a1 * imageSeqLen + b1;
  const slope = (mu200 - mu10) / 190;
  const intercept = mu200 - 200 * slope;
  return slope * steps + intercept;
}

/**
 * PyTorch's CPU float32 `linspace`: the first half counts up from `start`, the second half down from `end`,
 * so both endpoints are exact.
 */
export function linspaceF32(start: number, end: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (count === 1) {
    out[0] = start;
    return out;
  }
  const first = f32(start);
  const last = f32(end);
  const step = f32(f32(last - first) / (count - 1));
  const halfway = Math.floor(count / 2);
  for (let k = 0; k < count; k++) out[k] = k < halfway ? f32(first + f32(step * k)) : f32(last - f32(step * (count - 1 - k)));
  return out;
}

/**
 * The loss weights of §1.5: a Gaussian bump over the 0…1000 timestep scale, shifted to zero at its minimum
 * and scaled to mean 1 (for a 1000-step schedule).
 */
export function trainingWeights(timesteps: Float32Array): Float32Array {
  const steps = NUM_TRAIN_TIMESTEPS;
  const bump = timesteps.map((t) => {
    const centred = f32(f32(t - steps / 2) / steps);
    return f32(Math.exp(f32(-2 * f32(centred * centred))));
  });
  const lowest = bump.reduce((low, y) => Math.min(low, y), Infinity);
  const shifted = bump.map((y) => f32(y - lowest));
  // torch sums in f32 with a cascade; its result is the correctly rounded sum to within an ulp, as is this.
  const total = f32(shifted.reduce((sum, y) => sum + y, 0));
  // `steps / tensor` in PyTorch is reciprocal(tensor) · steps.
  const scale = f32(f32(1 / total) * steps);
  let weights = shifted.map((y) => f32(y * scale));
  if (timesteps.length !== steps) {
    // The reference's empirical rescale for other schedule lengths (unused by the tutorial).
    const rescaled = weights.map((w) => f32(w * f32(timesteps.length / steps)));
    const offset = rescaled[1] ?? 0;
    weights = rescaled.map((w) => f32(w + offset));
  }
  return weights;
}

/** `set_timesteps` of the FLUX.2 template (§1.1). */
export function setTimesteps(options: ScheduleOptions): Schedule {
  const { steps, denoisingStrength = 1, training = false, dynamicShiftLen } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`setTimesteps: expected a positive integer step count, found ${steps}`);
  if (!(denoisingStrength > 0 && denoisingStrength <= 1))
    throw new Error(`setTimesteps: expected denoisingStrength in (0, 1], found ${denoisingStrength}`);
  const sigmaMin = 1 / steps;
  const sigmaMax = 1;
  const sigmaStart = sigmaMin + (sigmaMax - sigmaMin) * denoisingStrength;
  const unshifted = linspaceF32(sigmaStart, sigmaMin, steps);
  const mu = dynamicShiftLen === undefined ? DEFAULT_MU : computeEmpiricalMu(dynamicShiftLen, steps);
  const shift = f32(Math.exp(mu));
  // The reference writes e^μ / (e^μ + (1/s − 1)) over a tensor; PyTorch evaluates `scalar / tensor` as
  // reciprocal(tensor) · scalar and rounds every step to f32.
  const sigmas = unshifted.map((s) => f32(f32(1 / f32(shift + f32(f32(1 / s) - 1))) * shift));
  const timesteps = sigmas.map((sigma) => f32(sigma * NUM_TRAIN_TIMESTEPS));
  return training ? { sigmas, timesteps, trainingWeights: trainingWeights(timesteps), mu } : { sigmas, timesteps, mu };
}

/** argmin_k |timesteps[k] − t| in f32, the first index on ties (how every scheduler method finds its σ). */
export function timestepIndex(schedule: Pick<Schedule, "timesteps">, timestep: number): number {
  const t = f32(timestep);
  let best = 0;
  let bestDistance = Infinity;
  schedule.timesteps.forEach((candidate, k) => {
    const distance = Math.abs(f32(candidate - t));
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  });
  return best;
}

/**
 * x_t = (1 − σ)·x0 + σ·ε (§1.2). Each product and the sum are computed in f32 and rounded to `dtype`, as
 * the reference's bf16 tensors do with an f32 scalar σ.
 */
export function addNoise(x0: ArrayLike<number>, noise: ArrayLike<number>, sigma: number, dtype: DType = "f32"): Float32Array {
  requireSameLength("addNoise", x0, noise);
  const s = f32(sigma);
  const keep = f32(1 - s);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < out.length; i++) out[i] = roundTo(dtype, f32(roundTo(dtype, f32(keep * x0[i]!)) + roundTo(dtype, f32(s * noise[i]!))));
  return out;
}

/** The Euler update x + v·(σ' − σ) (§1.3); σ' = 0 at the last index or when `toFinal`. */
export function eulerStep(
  schedule: Pick<Schedule, "sigmas" | "timesteps">,
  velocity: ArrayLike<number>,
  timestep: number,
  sample: ArrayLike<number>,
  options: { toFinal?: boolean; dtype?: DType } = {},
): Float32Array {
  const { toFinal = false, dtype = "f32" } = options;
  requireSameLength("eulerStep", velocity, sample);
  const index = timestepIndex(schedule, timestep);
  const sigma = schedule.sigmas[index]!;
  const next = toFinal || index + 1 >= schedule.sigmas.length ? 0 : schedule.sigmas[index + 1]!;
  const delta = f32(next - sigma);
  const out = new Float32Array(sample.length);
  for (let i = 0; i < out.length; i++) out[i] = roundTo(dtype, f32(sample[i]! + roundTo(dtype, f32(velocity[i]! * delta))));
  return out;
}

/** The velocity target v = ε − x0 (§1.4). */
export function trainingTarget(x0: ArrayLike<number>, noise: ArrayLike<number>, dtype: DType = "f32"): Float32Array {
  requireSameLength("trainingTarget", x0, noise);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < out.length; i++) out[i] = roundTo(dtype, f32(noise[i]! - x0[i]!));
  return out;
}

/** W[argmin |timesteps − t|] (§1.5); needs a training schedule. */
export function trainingWeight(schedule: Schedule, timestep: number): number {
  if (!schedule.trainingWeights) throw new Error("trainingWeight: expected a schedule made with training: true, found one without trainingWeights");
  return schedule.trainingWeights[timestepIndex(schedule, timestep)]!;
}

export interface TrainingTimestep {
  /** bf16(timesteps[k]): what the DiT is conditioned on. */
  timestep: number;
  /** The index the scheduler re-derives from the rounded timestep; can differ from k. */
  index: number;
  sigma: number;
  weight: number;
}

/** §2 step 3: the timestep a training step with uniform draw k actually uses, after the bf16 cast. */
export function drawTrainingTimestep(schedule: Schedule, k: number): TrainingTimestep {
  if (!Number.isInteger(k) || k < 0 || k >= schedule.timesteps.length)
    throw new Error(`drawTrainingTimestep: expected k in [0, ${schedule.timesteps.length}), found ${k}`);
  const timestep = roundBf16(schedule.timesteps[k]!);
  const index = timestepIndex(schedule, timestep);
  return { timestep, index, sigma: schedule.sigmas[index]!, weight: trainingWeight(schedule, timestep) };
}

export const TIMESTEP_EMBED_DIM = 256;

/** f_i = exp(−ln(10000)·i/128) in f32, i = 0..127: the frequencies of the timestep sinusoid. */
export function timestepFrequencies(dim: number = TIMESTEP_EMBED_DIM, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const negLogPeriod = f32(-Math.log(maxPeriod));
  return Float32Array.from({ length: half }, (_, i) => f32(Math.exp(f32(f32(negLogPeriod * i) / half))));
}

const FREQUENCIES = timestepFrequencies();

/**
 * The sinusoidal timestep features of §3 in f32: [cos(t·f_0..127), sin(t·f_0..127)], cosines first.
 * `frequencies` defaults to the correctly rounded f_i; an exp that is off by an ulp (as some f32 exp
 * implementations are for f_2) moves the features at t ≈ 1000 by up to ~6e-5.
 */
export function timestepSinusoid(timestep: number, frequencies: Float32Array = FREQUENCIES): Float32Array {
  const half = frequencies.length;
  const out = new Float32Array(2 * half);
  const t = f32(timestep);
  for (let i = 0; i < half; i++) {
    const angle = f32(t * frequencies[i]!);
    out[i] = Math.cos(angle);
    out[half + i] = Math.sin(angle);
  }
  return out;
}

function requireSameLength(op: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`${op}: expected two arrays of the same length, found ${a.length} and ${b.length}`);
}
