// What a person sees in a sample, as numbers (models/eval.ts reports them): PSNR against the prompt's
// own training image, the speckle on the background that is pure white in the training image, and the
// nearest training image in downscaled pixel space. Images are H×W×3 bytes unless said otherwise.

/** Average an H×W×3 byte image down to size×size, values in [0, 1]. */
export function downscale(rgb: Uint8Array, height: number, width: number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const counts = new Float32Array(size * size);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y * size) / height) * size + Math.floor((x * size) / width);
      counts[cell]!++;
      for (let c = 0; c < 3; c++) out[cell * 3 + c]! += rgb[(y * width + x) * 3 + c]! / 255;
    }
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) out[i * 3 + c]! /= counts[i]!;
  return out;
}

/** Root-mean-square difference of two equally long vectors. */
export const rmsDistance = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
};

/** The index of the reference nearest to `image` (root-mean-square distance; the first of equals). */
export function nearestReference(image: Float32Array, references: readonly Float32Array[]): number {
  let best = -1;
  let bestDistance = Infinity;
  references.forEach((r, j) => {
    const d = rmsDistance(image, r);
    if (d < bestDistance) [best, bestDistance] = [j, d];
  });
  return best;
}

function requireSameSize(what: string, sample: Uint8Array, reference: Uint8Array): void {
  if (sample.length !== reference.length || sample.length % 3 !== 0)
    throw new Error(`${what}: expected two RGB images of the same size, got ${sample.length} and ${reference.length} bytes`);
}

/** Peak signal-to-noise ratio in dB of `sample` against `reference`, on [0, 1] RGB (peak 1): 10·log10(1 / MSE); Infinity when equal. */
export function psnr(sample: Uint8Array, reference: Uint8Array): number {
  requireSameSize("psnr", sample, reference);
  let squares = 0;
  for (let i = 0; i < sample.length; i++) squares += ((sample[i]! - reference[i]!) / 255) ** 2;
  return 10 * Math.log10(sample.length / squares);
}

/**
 * Background speckle: over the pixels that are pure white (255, 255, 255) in `reference`, the mean
 * absolute deviation of `sample` from white, over those pixels and the three channels, in [0, 1]
 * units. Undefined when the reference has no pure white pixel.
 */
export function backgroundSpeckle(sample: Uint8Array, reference: Uint8Array): number | undefined {
  requireSameSize("backgroundSpeckle", sample, reference);
  let deviation = 0;
  let white = 0;
  for (let p = 0; p < reference.length; p += 3) {
    if (reference[p] !== 255 || reference[p + 1] !== 255 || reference[p + 2] !== 255) continue;
    white++;
    for (let c = 0; c < 3; c++) deviation += (255 - sample[p + c]!) / 255;
  }
  return white === 0 ? undefined : deviation / (3 * white);
}

/** The mean of the defined values, or undefined when there are none. */
export function meanOfDefined(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : defined.reduce((a, b) => a + b, 0) / defined.length;
}
