// Loads one training image the way the reference's default_image_operator does (spec §7.3): decode,
// convert to RGB, resize to cover the target, centre-crop; then scale to [-1, 1] CHW (spec §4.2).
import { requireRegularFile } from "../../runtime/index.ts";
import sharp from "sharp";
import { roundBf16 } from "../../compiler/index.ts";

/** 8-bit RGB pixels in HWC order (row-major, 3 bytes per pixel). */
export interface RgbImage {
  pixels: Uint8Array;
  height: number;
  width: number;
}

/**
 * What happens to transparency. "drop" is the reference's `convert("RGB")`: the alpha band is
 * discarded and whatever colour is stored under transparent pixels shows (often black). "white"
 * composites on white first; it is our default because transparent-background PNGs are common and
 * a black surround is a training signal nobody wants.
 */
export type AlphaMode = "white" | "drop";

/** Python's round() on a non-negative double: the nearest integer, ties to even (banker's rounding). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The target size when height and width are not both given (spec §7.3 step 3, "Otherwise"). */
export function targetSize(
  imageWidth: number,
  imageHeight: number,
  options: { height?: number; width?: number; maxPixels?: number; heightDivisor?: number; widthDivisor?: number } = {},
): { height: number; width: number } {
  if (options.height !== undefined && options.width !== undefined) return { height: options.height, width: options.width };
  const maxPixels = options.maxPixels ?? 1920 * 1080;
  let width = imageWidth;
  let height = imageHeight;
  if (width * height > maxPixels) {
    const scale = Math.sqrt((width * height) / maxPixels);
    width = Math.trunc(width / scale);
    height = Math.trunc(height / scale);
  }
  const heightDivisor = options.heightDivisor ?? 16;
  const widthDivisor = options.widthDivisor ?? 16;
  return { height: Math.floor(height / heightDivisor) * heightDivisor, width: Math.floor(width / widthDivisor) * widthDivisor };
}

/** Where the cover-resize and centre-crop of spec §7.3 land: the resized size and the crop's corner. */
export interface CoverCrop {
  resizedWidth: number;
  resizedHeight: number;
  left: number;
  top: number;
}

/** s = max(Wt/w, Ht/h); resized = round(h·s), round(w·s); top/left = round((resized − target)/2), all ties-to-even as Python. */
export function coverCrop(imageWidth: number, imageHeight: number, targetWidth: number, targetHeight: number): CoverCrop {
  const scale = Math.max(targetWidth / imageWidth, targetHeight / imageHeight);
  const resizedHeight = roundHalfEven(imageHeight * scale);
  const resizedWidth = roundHalfEven(imageWidth * scale);
  return {
    resizedWidth,
    resizedHeight,
    top: roundHalfEven((resizedHeight - targetHeight) / 2),
    left: roundHalfEven((resizedWidth - targetWidth) / 2),
  };
}

/** Decodes an image file (PNG, JPEG, WebP, GIF first frame, …) to RGB at its own size. */
export async function decodeRgb(path: string, alpha: AlphaMode = "white"): Promise<RgbImage> {
  // A FIFO would block the decoder forever.
  requireRegularFile(path, "image");
  // No auto-orientation: PIL.Image.open ignores the EXIF orientation too.
  const { data, info } = await sharp(path, { pages: 1 }).toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const pixels = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const source = p * channels;
    const gray = channels <= 2;
    const a = channels === 2 || channels === 4 ? data[source + channels - 1]! : 255;
    for (let c = 0; c < 3; c++) {
      const value = data[source + (gray ? 0 : c)]!;
      // Over white: value·a/255 + 255·(1 − a/255), rounded to the nearest 8-bit level.
      pixels[p * 3 + c] = alpha === "drop" || a === 255 ? value : Math.round((value * a + 255 * (255 - a)) / 255);
    }
  }
  return { pixels, height, width };
}

/**
 * Resizes to cover (targetHeight × targetWidth) and centre-crops. The reference resizes with PIL's
 * antialiased bilinear filter (spec Appendix D); sharp's "linear" kernel is also a triangle filter
 * widened when shrinking, but libvips rounds and splits the work differently, so pixels can differ
 * by a level or two from PIL's. The geometry (sizes and crop offsets) is exactly the reference's.
 */
export async function coverResizeCrop(image: RgbImage, targetHeight: number, targetWidth: number): Promise<RgbImage> {
  const plan = coverCrop(image.width, image.height, targetWidth, targetHeight);
  if (plan.resizedWidth === image.width && plan.resizedHeight === image.height && plan.left === 0 && plan.top === 0 && image.width === targetWidth && image.height === targetHeight) {
    return image;
  }
  let pipeline = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (plan.resizedWidth !== image.width || plan.resizedHeight !== image.height) {
    pipeline = pipeline.resize(plan.resizedWidth, plan.resizedHeight, { fit: "fill", kernel: "linear", fastShrinkOnLoad: false });
  }
  // extract() after resize() crops the resized image (sharp applies it post-resize).
  pipeline = pipeline.extract({ left: plan.left, top: plan.top, width: targetWidth, height: targetHeight });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== targetWidth || info.height !== targetHeight || info.channels !== 3) {
    throw new Error(`coverResizeCrop: expected ${targetWidth}×${targetHeight}×3, found ${info.width}×${info.height}×${info.channels}`);
  }
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), height: targetHeight, width: targetWidth };
}

/** Decode + convert + cover-resize + centre-crop: the whole default_image_operator chain. */
export async function loadImageRgb(path: string, height: number, width: number, alpha: AlphaMode = "white"): Promise<RgbImage> {
  return coverResizeCrop(await decodeRgb(path, alpha), height, width);
}

/**
 * How to compute x·(2/255) − 1. "f32": in double, stored as float32 (exact at 0 and 255). "bf16":
 * as the reference does on bf16 tensors (spec §4.2): the product and the sum each computed in f32
 * and rounded to bf16, the scalar 2/255 taken as f32 (PyTorch's op-math for a Python scalar).
 */
export type InputPrecision = "f32" | "bf16";

/** HWC uint8 → CHW float in [-1, 1] (spec §4.2 preprocess_image). */
export function rgbToModelInput(image: RgbImage, precision: InputPrecision = "f32"): Float32Array {
  const { pixels, height, width } = image;
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  const lookup = new Float32Array(256);
  const scale = Math.fround(2 / 255);
  for (let level = 0; level < 256; level++) {
    switch (precision) {
      case "f32":
        lookup[level] = (2 * level) / 255 - 1;
        break;
      case "bf16":
        lookup[level] = roundBf16(Math.fround(roundBf16(Math.fround(level * scale)) - 1));
        break;
      default:
        precision satisfies never;
    }
  }
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = lookup[pixels[p * 3 + c]!]!;
  }
  return out;
}
