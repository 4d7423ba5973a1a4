// Element types of the graph and the bit-exact conversions between them. The interpreter, the
// safetensors reader/writer and the backends all round through these functions, so bf16 and f16
// numerics on the CPU match what the hardware does (round to nearest, ties to even).

export type DType = "f32" | "bf16" | "f16" | "i32" | "bool";

export const DTYPES: readonly DType[] = ["f32", "bf16", "f16", "i32", "bool"];

export const isFloat = (dtype: DType): boolean => dtype === "f32" || dtype === "bf16" || dtype === "f16";

/** Bytes one element occupies in device memory. */
export function itemSize(dtype: DType): number {
  switch (dtype) {
    case "f32":
    case "i32":
      return 4;
    case "bf16":
    case "f16":
      return 2;
    case "bool":
      return 1;
    default:
      return dtype satisfies never;
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The IEEE-754 bits of x rounded to float32. */
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

export function f32FromBits(bits: number): number {
  u32Scratch[0] = bits >>> 0;
  return f32Scratch[0]!;
}

/**
 * bf16 bits of x: x is first rounded to float32 (as the value would be held in a register), then the
 * float32 is rounded to its top 16 bits, ties to even. NaN stays a quiet NaN.
 */
export function bf16Bits(x: number): number {
  const bits = f32Bits(x);
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits >>> 16) | 0x0040) & 0xffff;
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

export const bf16FromBits = (bits: number): number => f32FromBits((bits & 0xffff) << 16);

/** Round x to the nearest bf16 value (via float32, as hardware converts an f32 register). */
export const roundBf16 = (x: number): number => bf16FromBits(bf16Bits(x));

/** IEEE half-precision bits of x (rounded from float32), ties to even, with subnormals and overflow to inf. */
export function f16Bits(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand (with its implicit 1) into place.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const half = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const up = rem > halfway || (rem === halfway && (half & 1) === 1) ? 1 : 0;
    return sign | (half + up);
  }
  const half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  const up = rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1) ? 1 : 0;
  // A carry out of the mantissa correctly bumps the exponent (and reaches inf at the top).
  return sign | (half + up);
}

export function f16FromBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export const roundF16 = (x: number): number => f16FromBits(f16Bits(x));

/** Wrap to a signed 32-bit integer, as C's int32 arithmetic does on every backend we target. */
export const toI32 = (x: number): number => {
  if (!Number.isFinite(x)) return 0;
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(x))));
};

/** Round x to what a value of `dtype` can hold (f32 rounds, ints truncate toward zero, bool is 0/1). */
export function roundTo(dtype: DType, x: number): number {
  switch (dtype) {
    case "f32":
      return Math.fround(x);
    case "bf16":
      return roundBf16(x);
    case "f16":
      return roundF16(x);
    case "i32":
      return Number.isFinite(x) && Math.abs(x) < 2 ** 31 ? Math.trunc(x) | 0 : toI32(x);
    case "bool":
      return x !== 0 ? 1 : 0;
    default:
      return dtype satisfies never;
  }
}

/** bf16 bits of many values at once (the same rounding as bf16Bits, on a Uint32 view: ~100× faster). */
export function bf16BitsArray(values: ArrayLike<number>): Uint16Array {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  const out = new Uint16Array(f32.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    out[i] =
      (b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0 ? ((b >>> 16) | 0x0040) & 0xffff : ((b + 0x7fff + ((b >>> 16) & 1)) / 65536) & 0xffff;
  }
  return out;
}

/** Many values rounded to bf16, as float32 (what a bf16 tensor holds, widened). */
export function roundBf16Array(values: ArrayLike<number>): Float32Array {
  const bits = bf16BitsArray(values);
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}
