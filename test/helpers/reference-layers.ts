// Test-only float64 reference layers written as plain loops from the spec's formulas (PyTorch
// semantics), independent of compiler/nn.ts, so model tests compare kiln's graphs to the math.

export interface Nd {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export const nd = (shape: readonly number[], data?: ArrayLike<number>): Nd => {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = data ? Float64Array.from(data) : new Float64Array(n);
  if (values.length !== n) throw new Error(`nd: ${values.length} values for shape [${shape.join(", ")}]`);
  return { shape: [...shape], data: values };
};

export const map = (x: Nd, f: (v: number, i: number) => number): Nd => nd(x.shape, Array.from(x.data, f));
export const add = (a: Nd, b: Nd): Nd => map(a, (v, i) => v + b.data[i]!);
export const silu = (x: Nd): Nd => map(x, (v) => v / (1 + Math.exp(-v)));

/** conv2d on [N, C, H, W], weight [O, C, kh, kw], zero padding [top, bottom, left, right]. */
export function conv2d(x: Nd, w: Nd, bias: Nd | undefined, stride: number, pads: readonly [number, number, number, number]): Nd {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = w.shape as [number, number, number, number];
  const [top, bottom, left, right] = pads;
  const oh = Math.floor((h + top + bottom - kh) / stride) + 1;
  const ow = Math.floor((wd + left + right - kw) / stride) + 1;
  const out = nd([n, o, oh, ow]);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias ? bias.data[oc]! : 0;
          for (let ic = 0; ic < c; ic++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const sy = y * stride + i - top;
                const sx = xx * stride + j - left;
                if (sy < 0 || sy >= h || sx < 0 || sx >= wd) continue;
                s += x.data[((b * c + ic) * h + sy) * wd + sx]! * w.data[((oc * c + ic) * kh + i) * kw + j]!;
              }
          out.data[((b * o + oc) * oh + y) * ow + xx] = s;
        }
  return out;
}

/** GroupNorm on [N, C, ...]: population statistics per (sample, group), affine per channel. */
export function groupNorm(x: Nd, groups: number, weight: Nd, bias: Nd, eps: number): Nd {
  const [n, c] = x.shape as [number, number];
  const spatial = x.data.length / (n * c);
  const per = (c / groups) * spatial;
  const out = nd(x.shape);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      const start = (b * c + g * (c / groups)) * spatial;
      let mean = 0;
      for (let i = 0; i < per; i++) mean += x.data[start + i]!;
      mean /= per;
      let variance = 0;
      for (let i = 0; i < per; i++) variance += (x.data[start + i]! - mean) ** 2;
      variance /= per;
      for (let i = 0; i < per; i++) {
        const channel = g * (c / groups) + Math.floor(i / spatial);
        out.data[start + i] = ((x.data[start + i]! - mean) / Math.sqrt(variance + eps)) * weight.data[channel]! + bias.data[channel]!;
      }
    }
  return out;
}

/** x [..., in] · weightᵀ (weight [out, in]) + bias. */
export function linear(x: Nd, weight: Nd, bias?: Nd): Nd {
  const [outF, inF] = weight.shape as [number, number];
  const rows = x.data.length / inF;
  const out = nd([...x.shape.slice(0, -1), outF]);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias.data[o]! : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i]! * weight.data[o * inF + i]!;
      out.data[r * outF + o] = s;
    }
  return out;
}

/** RMSNorm over the last axis with a weight. */
export function rmsNorm(x: Nd, weight: Nd, eps: number): Nd {
  const d = x.shape[x.shape.length - 1]!;
  const out = nd(x.shape);
  for (let r = 0; r < x.data.length / d; r++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x.data[r * d + i]! ** 2;
    const scale = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) out.data[r * d + i] = x.data[r * d + i]! * scale * weight.data[i]!;
  }
  return out;
}

/**
 * Softmax attention for one (batch, head): q [Sq, D], k and v [Sk, D] given as row accessors;
 * `allowed(i, j)` says whether query i sees key j. Returns [Sq, D].
 */
export function attendHead(
  sq: number,
  sk: number,
  d: number,
  q: (i: number, e: number) => number,
  k: (j: number, e: number) => number,
  v: (j: number, e: number) => number,
  scale: number,
  allowed: (i: number, j: number) => boolean,
): Float64Array {
  const out = new Float64Array(sq * d);
  for (let i = 0; i < sq; i++) {
    const scores: number[] = [];
    for (let j = 0; j < sk; j++) {
      if (!allowed(i, j)) continue;
      let s = 0;
      for (let e = 0; e < d; e++) s += q(i, e) * k(j, e);
      scores.push(s * scale);
    }
    const top = Math.max(...scores);
    const weights = scores.map((s) => Math.exp(s - top));
    const total = weights.reduce((a, b) => a + b, 0);
    let at = 0;
    for (let j = 0; j < sk; j++) {
      if (!allowed(i, j)) continue;
      const p = weights[at++]! / total;
      for (let e = 0; e < d; e++) out[i * d + e] += p * v(j, e);
    }
  }
  return out;
}

/** Largest |a − b| over all elements, and the largest |b| (for a relative error). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`maxDiff: lengths ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}
