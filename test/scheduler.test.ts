// Tests of models/scheduler.ts against the reference numbers of spec §1.1, §1.5, §2, §3 and §4.7.
// Tolerance rule for a spec number printed as text: the larger of half a unit in its last printed digit and
// 1e-6 relative (f32 values may differ from the spec's own f32 emulation by an ulp, ~6e-8 relative: the spec
// divided e^μ by the tensor where PyTorch multiplies by its reciprocal, and its f32 exp rounded f_2 up).
import { describe, expect, test } from "vitest";
import { roundBf16 } from "../compiler/dtype.ts";
import {
  addNoise,
  computeEmpiricalMu,
  drawTrainingTimestep,
  eulerStep,
  linspaceF32,
  setTimesteps,
  timestepFrequencies,
  timestepIndex,
  timestepSinusoid,
  trainingTarget,
  trainingWeight,
} from "../models/scheduler.ts";

function expectSpec(actual: number, printed: string, where: string): void {
  const decimals = printed.includes(".") ? printed.split(".")[1]!.replace(/e.*$/i, "").length : 0;
  const exponent = /e(-?\d+)$/i.exec(printed);
  const halfUnit = 0.5 * 10 ** (-decimals + (exponent ? Number(exponent[1]) : 0));
  const tolerance = Math.max(halfUnit, 1e-6 * Math.abs(Number(printed)));
  if (!(Math.abs(actual - Number(printed)) <= tolerance)) {
    throw new Error(`${where}: expected ${printed} (±${tolerance.toExponential(2)}), found ${actual}`);
  }
}

const inference256 = setTimesteps({ steps: 30, dynamicShiftLen: 256 });
const training = setTimesteps({ steps: 1000, training: true });

describe("§1.1 set_timesteps, FLUX.2 template", () => {
  test("μ for 256 tokens and 30 steps is the spec's double to 15 digits", () => {
    expect(computeEmpiricalMu(256, 30)).toBeCloseTo(1.771155161833937, 14);
    expect(inference256.mu).toBe(computeEmpiricalMu(256, 30));
    expectSpec(Math.exp(inference256.mu), "5.87764", "e^μ");
  });

  test("μ matches the spec for (256,50), (1024,30), (4096,30), (4096,50)", () => {
    expectSpec(computeEmpiricalMu(256, 50), "1.62161", "μ(256,50)");
    expectSpec(computeEmpiricalMu(1024, 30), "1.84488", "μ(1024,30)");
    expectSpec(computeEmpiricalMu(4096, 30), "2.13980", "μ(4096,30)");
    expectSpec(computeEmpiricalMu(4096, 50), "2.02335", "μ(4096,50)");
  });

  test("μ interpolates linearly in the step count between the 10-step and 200-step lines, and ignores steps above 4300 tokens", () => {
    for (const tokens of [64, 256, 1024, 4096]) {
      expect(computeEmpiricalMu(tokens, 10)).toBeCloseTo(8.73809524e-5 * tokens + 1.89833333, 12);
      expect(computeEmpiricalMu(tokens, 200)).toBeCloseTo(0.00016927 * tokens + 0.45666666, 12);
    }
    expect(computeEmpiricalMu(5000, 30)).toBe(computeEmpiricalMu(5000, 50));
    expect(computeEmpiricalMu(5000, 30)).toBeCloseTo(0.00016927 * 5000 + 0.45666666, 12);
  });

  test("the 30-step 256px σ list has the spec's head and tail, n points and no appended 0", () => {
    const { sigmas, timesteps } = inference256;
    expect(sigmas.length).toBe(30);
    expect(timesteps.length).toBe(30);
    expect(sigmas[0]).toBe(1);
    ["0.9941675", "0.9879933", "0.9814467", "0.9744928"].forEach((printed, i) => expectSpec(sigmas[i + 1]!, printed, `σ[${i + 1}]`));
    ["0.5950449", "0.54034144", "0.47485945", "0.3950653", "0.295691", "0.16852172"].forEach((printed, i) =>
      expectSpec(sigmas[24 + i]!, printed, `σ[${24 + i}]`),
    );
    for (let k = 1; k < 30; k++) expect(sigmas[k]!).toBeLessThan(sigmas[k - 1]!);
  });

  test("the last σ is shift(1/30) and the timesteps are σ·1000", () => {
    const shift = Math.exp(inference256.mu);
    expect(inference256.sigmas[29]!).toBeCloseTo(shift / (shift + 30 - 1), 6);
    expect(inference256.timesteps[0]).toBe(1000);
    expectSpec(inference256.timesteps[1]!, "994.1675", "timesteps[1]");
    expectSpec(inference256.timesteps[2]!, "987.9933", "timesteps[2]");
    expectSpec(inference256.timesteps[28]!, "295.691", "timesteps[28]");
    expectSpec(inference256.timesteps[29]!, "168.52171", "timesteps[29]");
    inference256.sigmas.forEach((sigma, k) => expect(inference256.timesteps[k]).toBe(Math.fround(sigma * 1000)));
  });

  test("the training schedule (n = 1000, μ = 0.8) matches σ[0..4], σ[995..999] and timesteps[999]", () => {
    expect(training.mu).toBe(0.8);
    ["1.0", "0.99955034", "0.9991004", "0.9986498", "0.9981987"].forEach((printed, i) => expectSpec(training.sigmas[i]!, printed, `σ[${i}]`));
    ["0.01105993", "0.00885874", "0.00665216", "0.0044402", "0.00222282"].forEach((printed, i) =>
      expectSpec(training.sigmas[995 + i]!, printed, `σ[${995 + i}]`),
    );
    expectSpec(training.timesteps[999]!, "2.222817", "timesteps[999]");
  });

  test("denoising strength 0.5 starts at the spec's σ_0", () => {
    expectSpec(setTimesteps({ steps: 30, dynamicShiftLen: 256, denoisingStrength: 0.5 }).sigmas[0]!, "0.86269385", "σ_0 at d = 0.5");
  });

  test("linspace keeps both endpoints exact in f32", () => {
    for (const count of [2, 3, 30, 1000]) {
      const values = linspaceF32(1, 1 / count, count);
      expect(values[0]).toBe(1);
      expect(values[count - 1]).toBe(Math.fround(1 / count));
    }
  });

  test("invalid step counts and strengths are refused", () => {
    expect(() => setTimesteps({ steps: 0 })).toThrow(/positive integer step count, found 0/);
    expect(() => setTimesteps({ steps: 30, denoisingStrength: 0 })).toThrow(/denoisingStrength in \(0, 1\], found 0/);
  });
});

describe("§1.5 training weights", () => {
  test("W matches the spec at 0, 1, 100, 250, 500, 900, 999", () => {
    const weights = training.trainingWeights!;
    expect(weights[0]).toBe(0);
    const cases: Array<[number, string]> = [
      [1, "0.002346"],
      [100, "0.2474"],
      [250, "0.6635"],
      [500, "1.3930"],
      [900, "0.9764"],
      [999, "0.0116"],
    ];
    for (const [k, printed] of cases) expectSpec(weights[k]!, printed, `W[${k}]`);
  });

  test("the largest weight is 1.69257 at index 690, and the weights average 1", () => {
    const weights = Array.from(training.trainingWeights!);
    const largest = Math.max(...weights);
    expectSpec(largest, "1.69257", "max W");
    expect(weights.indexOf(largest)).toBe(690);
    expect(weights.reduce((sum, w) => sum + w, 0) / weights.length).toBeCloseTo(1, 5);
  });

  test("an inference schedule carries no weights, and asking for one is an error", () => {
    expect(inference256.trainingWeights).toBeUndefined();
    expect(() => trainingWeight(inference256, 500)).toThrow(/training: true/);
  });
});

describe("§2 the training timestep after the bf16 cast", () => {
  test("only 384 distinct indices k' occur out of 1000 draws, and E[W(k')] = 1.0000255", () => {
    const draws = Array.from({ length: 1000 }, (_, k) => drawTrainingTimestep(training, k));
    expect(new Set(draws.map((draw) => draw.index)).size).toBe(384);
    expectSpec(draws.reduce((sum, draw) => sum + draw.weight, 0) / 1000, "1.0000255", "E[W(k')]");
  });

  test("indices 0–4 collapse to t = 1000 with weight 0, and 5–13 to t = 996 at k' = 9", () => {
    for (let k = 0; k <= 4; k++) expect(drawTrainingTimestep(training, k)).toEqual({ timestep: 1000, index: 0, sigma: 1, weight: 0 });
    for (let k = 5; k <= 13; k++) {
      const draw = drawTrainingTimestep(training, k);
      expect([draw.timestep, draw.index]).toEqual([996, 9]);
      expect(draw.sigma).toBe(training.sigmas[9]);
      expect(draw.weight).toBe(training.trainingWeights![9]);
    }
  });

  test("the DiT's timestep is always a bf16 value and k' is the nearest schedule entry to it", () => {
    for (let k = 0; k < 1000; k += 37) {
      const draw = drawTrainingTimestep(training, k);
      expect(roundBf16(draw.timestep)).toBe(draw.timestep);
      const distance = Math.abs(training.timesteps[draw.index]! - draw.timestep);
      for (const t of training.timesteps) expect(Math.abs(t - draw.timestep)).toBeGreaterThanOrEqual(distance);
    }
    expect(() => drawTrainingTimestep(training, 1000)).toThrow(/k in \[0, 1000\), found 1000/);
  });
});

describe("§1.2–1.4 lookup, noising, Euler step, target", () => {
  test("timestepIndex takes the nearest entry and the first one on ties", () => {
    const schedule = { timesteps: Float32Array.of(3, 1, 1, 5) };
    expect(timestepIndex(schedule, 1)).toBe(1);
    expect(timestepIndex(schedule, 2)).toBe(0);
    expect(timestepIndex(schedule, 4)).toBe(0);
    expect(timestepIndex(schedule, 4.5)).toBe(3);
  });

  test("addNoise gives x0 at σ = 0, ε at σ = 1, and rounds each op to bf16 when asked", () => {
    const x0 = [0.25, -1.5, 3];
    const noise = [1, 0.5, -2];
    expect(Array.from(addNoise(x0, noise, 0))).toEqual(x0);
    expect(Array.from(addNoise(x0, noise, 1))).toEqual(noise);
    // bf16: (1 − 0.3)·1 → 0.69921875, 0.3·0.5 → 0.150390625, their sum 0.849609375 is a tie → 0.8515625 (even).
    expect(Array.from(addNoise([1], [0.5], 0.3, "bf16"))).toEqual([0.8515625]);
    expect(addNoise([1], [0.5], 0.3)[0]).toBeCloseTo(0.85, 6);
    expect(() => addNoise([1, 2], [1], 0.5)).toThrow(/same length, found 2 and 1/);
  });

  test("the Euler step jumps to σ = 0 from the last index, or from any index with toFinal", () => {
    const { sigmas, timesteps } = inference256;
    expect(eulerStep(inference256, [1], timesteps[0]!, [0])[0]).toBe(sigmas[1]! - 1);
    expect(eulerStep(inference256, [1], timesteps[29]!, [0])[0]).toBe(-sigmas[29]!);
    expect(eulerStep(inference256, [1], timesteps[3]!, [0.5], { toFinal: true })[0]).toBe(Math.fround(0.5 - sigmas[3]!));
  });

  test("sampling the straight path with the exact velocity ε − x0 lands on x0", () => {
    const x0 = [0.3, -0.7, 1.25, 0];
    const noise = [1.1, 0.4, -2.2, 0.9];
    const velocity = trainingTarget(x0, noise);
    expect(Array.from(velocity)).toEqual(noise.map((e, i) => Math.fround(e - x0[i]!)));
    let latents: ArrayLike<number> = addNoise(x0, noise, inference256.sigmas[0]!);
    for (const t of inference256.timesteps) latents = eulerStep(inference256, velocity, t, latents);
    Array.from(latents).forEach((value, i) => expect(value).toBeCloseTo(x0[i]!, 5));
  });
});

describe("§4.7 the timesteps the DiT sees at inference", () => {
  test("bf16 of the 30-step 256px timesteps is the spec's list", () => {
    const expected = [
      1000, 996, 988, 980, 976, 968, 960, 952, 940, 932, 920, 912, 900, 884, 872, 856, 836, 820, 796, 772, 748, 716, 680, 640, 596, 540, 474, 396,
      296, 169,
    ];
    expect(Array.from(inference256.timesteps, roundBf16)).toEqual(expected);
  });
});

describe("§3 timestep sinusoid", () => {
  const frequencies = timestepFrequencies();

  test("frequencies start at 1, match the spec's f_1..3 and f_127, with the 128 denominator", () => {
    expect(frequencies.length).toBe(128);
    expect(frequencies[0]).toBe(1);
    expectSpec(frequencies[1]!, "0.93057203", "f_1");
    expectSpec(frequencies[2]!, "0.86596435", "f_2");
    expectSpec(frequencies[3]!, "0.80584216", "f_3");
    expectSpec(frequencies[127]!, "1.0746e-4", "f_127");
  });

  test("f_2 is the correctly rounded f32 of exp(e_2) (true value 0.86596432163, computed in 40-digit decimal)", () => {
    expect(frequencies[2]).toBe(Math.fround(0.8659643216294661));
  });

  test("with the spec's frequencies the embedding at t = 1000 is its cosines then sines", () => {
    const specFrequencies = Float32Array.of(1, 0.93057203, 0.86596435, 0.80584216);
    const emb = timestepSinusoid(1000, specFrequencies);
    expect(emb.length).toBe(8);
    ["0.56237906", "0.78962666", "0.43998268"].forEach((printed, i) => expectSpec(emb[i]!, printed, `emb[${i}]`));
    ["0.82687956", "0.61358756", "-0.89800626"].forEach((printed, i) => expectSpec(emb[4 + i]!, printed, `emb[${128 + i}]`));
  });

  test("the embedding at t = 1000 is within t·ulp(f_i) of the spec's (256 values, cosines first)", () => {
    const emb = timestepSinusoid(1000);
    expect(emb.length).toBe(256);
    // A one-ulp difference in f_i (≤ 2^-23 relative) moves 1000·f_i by up to 1000·f_i·2^-23 before the product
    // is rounded to f32, which can add one ulp of the angle; sin and cos move by at most as much.
    const ulp = (x: number): number => 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
    const bound = (i: number): number => 1000 * frequencies[i]! * 2 ** -23 + ulp(1000 * frequencies[i]!) + 1e-6;
    const spec = [0.56237906, 0.78962666, 0.43998268];
    const specSin = [0.82687956, 0.61358756, -0.89800626];
    spec.forEach((value, i) => expect(Math.abs(emb[i]! - value)).toBeLessThanOrEqual(bound(i)));
    specSin.forEach((value, i) => expect(Math.abs(emb[128 + i]! - value)).toBeLessThanOrEqual(bound(i)));
    for (let i = 0; i < 128; i++) expect(emb[i]! ** 2 + emb[128 + i]! ** 2).toBeCloseTo(1, 6);
  });

  test("t = 0 gives cosines 1 and sines 0", () => {
    const emb = timestepSinusoid(0);
    expect(Array.from(emb.subarray(0, 128)).every((value) => value === 1)).toBe(true);
    expect(Array.from(emb.subarray(128)).every((value) => value === 0)).toBe(true);
  });
});
