// VAEs: the FLUX.2 VAE's checkpoint layout against the spec's key list, a tiny FLUX.2 VAE against a
// float64 loop reference of spec §5 and compiled for the CPU against the interpreter, the checkpoint
// loader, and the pixel VAE's layout and exact round trip.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { interpret, ops, roundBf16, seededRandom, type HostArray, type Tensor } from "../compiler/index.ts";
import { compile, type TypedArray } from "../runtime/compile.ts";
import { writeSafetensors, type TensorToWrite } from "../runtime/safetensors.ts";
import { initParams, numel, paramCount, type ParamSpec, type ParamValues } from "../models/params.ts";
import { vae } from "../models/encoders.ts";
import { flux2Decode, flux2Encode, flux2VaeParamSpec, FLUX2_VAE_BUFFERS, type Flux2VaeConfig } from "../models/vae/flux2.ts";
import { loadFlux2Vae } from "../models/vae/flux2-file.ts";
import { pixelDecode, pixelEncode, PIXEL_VAE, type PixelVaeConfig } from "../models/vae/pixel.ts";
import { add, attendHead, conv2d, groupNorm, linear, maxDiff, nd, silu, type Nd } from "./helpers/reference-layers.ts";

const KEYS_FILE = "/work/shared/spec/flux2_vae_keys.txt";

describe("FLUX.2 VAE parameter spec", () => {
  test("names and shapes equal the 251 entries of the checkpoint key list, in order", () => {
    const lines = readFileSync(KEYS_FILE, "utf8").trim().split("\n");
    const expected = lines.map((line) => {
      const match = /^(\S+) \[([\d, ]*)\]$/.exec(line);
      if (!match) throw new Error(`${KEYS_FILE}: unexpected line '${line}'`);
      return { name: match[1]!, shape: match[2]!.trim() === "" ? [] : match[2]!.split(",").map(Number) };
    });
    const spec = flux2VaeParamSpec();
    expect(expected.length).toBe(251);
    expect(spec.map((s) => ({ name: s.name, shape: [...s.shape] }))).toEqual(expected);
  });

  test("parameter count is 84,046,115 (34,425,856 in encoder + quant_conv); the 3 BatchNorm entries are buffers", () => {
    const spec = flux2VaeParamSpec();
    const parameters = spec.filter((s) => !FLUX2_VAE_BUFFERS.has(s.name));
    expect(spec.length - parameters.length).toBe(3);
    expect(paramCount(parameters)).toBe(84_046_115);
    expect(paramCount(parameters.filter((s) => s.name.startsWith("encoder.") || s.name.startsWith("quant_conv.")))).toBe(34_425_856);
    expect(spec.find((s) => s.name === "bn.num_batches_tracked")!.shape).toEqual([]);
  });

  test("the reference VAE maps 256×256 images to 128×16×16 latents and back", () => {
    const flux2 = vae({ kind: "flux2" });
    expect([flux2.latentChannels, flux2.downsample]).toEqual([128, 16]);
    const params = Object.fromEntries(flux2.paramSpec.map((s) => [s.name, ops.param(s.name, s.shape)]));
    expect(flux2.encode(params, ops.input("image", [1, 3, 256, 256])).shape).toEqual([1, 128, 16, 16]);
    expect(flux2.decode(params, ops.input("latents", [1, 128, 16, 16])).shape).toEqual([1, 3, 256, 256]);
  });
});

// --- a tiny FLUX.2 VAE -----------------------------------------------------------------------------

/** Two blocks (one downsample), shortcuts in both the encoder and the decoder, 4 groups. */
const TINY: Flux2VaeConfig = { blockOutChannels: [8, 16], layersPerBlock: 1, normGroups: 4, latentChannels: 4 };
const IMAGE_SHAPE = [2, 3, 8, 12] as const; // non-square, so a swapped H/W shows
const LATENT_SHAPE = [2, 16, 2, 3] as const;

/** Random weights with non-trivial norms and BatchNorm statistics, so each term of the forward matters. */
function tinyValues(spec: readonly ParamSpec[]): ParamValues {
  const values = initParams(spec, 11);
  const rand = seededRandom(5);
  for (const s of spec) {
    const v = values.get(s.name)!;
    if (/norm.*\.weight$|group_norm\.weight$/.test(s.name)) v.forEach((_, i) => (v[i] = 1 + (rand() - 0.5)));
    else if (/norm.*\.bias$|group_norm\.bias$/.test(s.name)) v.forEach((_, i) => (v[i] = 0.3 * (rand() - 0.5)));
    else if (s.name === "bn.running_mean") v.forEach((_, i) => (v[i] = rand() - 0.5));
    else if (s.name === "bn.running_var") v.forEach((_, i) => (v[i] = 0.2 + 2 * rand()));
  }
  return values;
}

const randomArray = (n: number, seed: number): Float32Array => {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
};

// The spec's forward as loops (spec §5.1–§5.4), float64.
type RefParams = ReadonlyMap<string, Nd>;
const P = (p: RefParams, name: string): Nd => {
  const t = p.get(name);
  if (!t) throw new Error(`reference: no '${name}'`);
  return t;
};
const refConv = (p: RefParams, name: string, x: Nd, pads: readonly [number, number, number, number], stride = 1): Nd =>
  conv2d(x, P(p, `${name}.weight`), P(p, `${name}.bias`), stride, pads);
const refNorm = (p: RefParams, name: string, x: Nd, g: number): Nd => groupNorm(x, g, P(p, `${name}.weight`), P(p, `${name}.bias`), 1e-6);
const SAME: readonly [number, number, number, number] = [1, 1, 1, 1];

function refResnet(p: RefParams, name: string, x: Nd, g: number): Nd {
  const h = refConv(p, `${name}.conv1`, silu(refNorm(p, `${name}.norm1`, x, g)), SAME);
  const out = refConv(p, `${name}.conv2`, silu(refNorm(p, `${name}.norm2`, h, g)), SAME);
  return add(p.has(`${name}.conv_shortcut.weight`) ? refConv(p, `${name}.conv_shortcut`, x, [0, 0, 0, 0]) : x, out);
}

function refAttention(p: RefParams, name: string, x: Nd, g: number): Nd {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const s = h * w;
  const normed = refNorm(p, `${name}.group_norm`, x, g);
  const tokens = nd([b, s, c]);
  for (let n = 0; n < b; n++)
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < s; i++) tokens.data[(n * s + i) * c + ch] = normed.data[(n * c + ch) * s + i]!;
  const proj = (t: Nd, which: string): Nd => linear(t, P(p, `${name}.${which}.weight`), P(p, `${name}.${which}.bias`));
  const [q, k, v] = [proj(tokens, "to_q"), proj(tokens, "to_k"), proj(tokens, "to_v")];
  const attended = nd([b, s, c]);
  for (let n = 0; n < b; n++) {
    const row = (t: Nd) => (i: number, e: number) => t.data[(n * s + i) * c + e]!;
    attended.data.set(
      attendHead(s, s, c, row(q), row(k), row(v), 1 / Math.sqrt(c), () => true),
      n * s * c,
    );
  }
  const out = proj(attended, "to_out.0");
  const result = nd(x.shape);
  for (let n = 0; n < b; n++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < s; i++) result.data[(n * c + ch) * s + i] = out.data[(n * s + i) * c + ch]! + x.data[(n * c + ch) * s + i]!;
  return result;
}

const refMid = (p: RefParams, name: string, x: Nd, g: number): Nd =>
  refResnet(p, `${name}.resnets.1`, refAttention(p, `${name}.attentions.0`, refResnet(p, `${name}.resnets.0`, x, g), g), g);

function refEncode(p: RefParams, image: Nd, c: Flux2VaeConfig): Nd {
  const g = c.normGroups;
  let h = refConv(p, "encoder.conv_in", image, SAME);
  c.blockOutChannels.forEach((_, i) => {
    for (let j = 0; j < c.layersPerBlock; j++) h = refResnet(p, `encoder.down_blocks.${i}.resnets.${j}`, h, g);
    if (i < c.blockOutChannels.length - 1) h = refConv(p, `encoder.down_blocks.${i}.downsamplers.0.conv`, h, [0, 1, 0, 1], 2);
  });
  h = refMid(p, "encoder.mid_block", h, g);
  const moments = refConv(p, "quant_conv", refConv(p, "encoder.conv_out", silu(refNorm(p, "encoder.conv_norm_out", h, g)), SAME), [0, 0, 0, 0]);
  // Patchify all 2·latent channels as "B C (H P) (W Q) -> B (C P Q) H W", keep the first 128-equivalent, normalise.
  const [b, cm, hm, wm] = moments.shape as [number, number, number, number];
  const keep = 4 * c.latentChannels;
  const z = nd([b, keep, hm / 2, wm / 2]);
  const mean = P(p, "bn.running_mean");
  const variance = P(p, "bn.running_var");
  for (let n = 0; n < b; n++)
    for (let ch = 0; ch < cm; ch++)
      for (let py = 0; py < 2; py++)
        for (let px = 0; px < 2; px++) {
          const out = ch * 4 + py * 2 + px;
          if (out >= keep) continue;
          for (let i = 0; i < hm / 2; i++)
            for (let j = 0; j < wm / 2; j++) {
              const v = moments.data[((n * cm + ch) * hm + 2 * i + py) * wm + 2 * j + px]!;
              z.data[((n * keep + out) * (hm / 2) + i) * (wm / 2) + j] = (v - mean.data[out]!) / Math.sqrt(variance.data[out]! + 1e-4);
            }
        }
  return z;
}

function refDecode(p: RefParams, latents: Nd, c: Flux2VaeConfig): Nd {
  const g = c.normGroups;
  const [b, cl, h, w] = latents.shape as [number, number, number, number];
  const mean = P(p, "bn.running_mean");
  const variance = P(p, "bn.running_var");
  const z = nd([b, cl / 4, 2 * h, 2 * w]);
  for (let n = 0; n < b; n++)
    for (let ch = 0; ch < cl; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          const v = latents.data[((n * cl + ch) * h + i) * w + j]! * Math.sqrt(variance.data[ch]! + 1e-4) + mean.data[ch]!;
          const [c0, py, px] = [Math.floor(ch / 4), Math.floor((ch % 4) / 2), ch % 2];
          z.data[((n * (cl / 4) + c0) * 2 * h + 2 * i + py) * 2 * w + 2 * j + px] = v;
        }
  let x = refMid(p, "decoder.mid_block", refConv(p, "decoder.conv_in", refConv(p, "post_quant_conv", z, [0, 0, 0, 0]), SAME), g);
  const blocks = c.blockOutChannels.length;
  for (let i = 0; i < blocks; i++) {
    for (let j = 0; j <= c.layersPerBlock; j++) x = refResnet(p, `decoder.up_blocks.${i}.resnets.${j}`, x, g);
    if (i < blocks - 1) {
      const [bn, ch, hh, ww] = x.shape as [number, number, number, number];
      const up = nd([bn, ch, 2 * hh, 2 * ww]);
      up.data.forEach((_, at) => {
        const xx = at % (2 * ww);
        const y = Math.floor(at / (2 * ww)) % (2 * hh);
        const plane = Math.floor(at / (4 * hh * ww));
        up.data[at] = x.data[(plane * hh + Math.floor(y / 2)) * ww + Math.floor(xx / 2)]!;
      });
      x = refConv(p, `decoder.up_blocks.${i}.upsamplers.0.conv`, up, SAME);
    }
  }
  return refConv(p, "decoder.conv_out", silu(refNorm(p, "decoder.conv_norm_out", x, g)), SAME);
}

describe("a tiny FLUX.2 VAE", () => {
  const spec = flux2VaeParamSpec(TINY);
  const values = tinyValues(spec);
  const image = randomArray(numel(IMAGE_SHAPE), 21);
  const latents = randomArray(numel(LATENT_SHAPE), 22);
  const host = (shape: readonly number[], data: ArrayLike<number>): HostArray => ({ shape, dtype: "f32", data: Float64Array.from(data) });
  const feeds: Record<string, HostArray> = { image: host(IMAGE_SHAPE, image), latents: host(LATENT_SHAPE, latents) };
  for (const s of spec) feeds[`params/${s.name}`] = host(s.shape, values.get(s.name)!);
  const graph = (t: { params: Record<string, Tensor>; image: Tensor; latents: Tensor }) => ({
    encoded: flux2Encode(t.params, t.image, TINY),
    decoded: flux2Decode(t.params, t.latents, TINY),
  });
  const symbolic = () =>
    graph({
      params: Object.fromEntries(spec.map((s) => [s.name, ops.input(`params/${s.name}`, s.shape)])),
      image: ops.input("image", IMAGE_SHAPE),
      latents: ops.input("latents", LATENT_SHAPE),
    });

  test("encode and decode match a float64 loop reference of spec §5 (pads, shortcuts, attention, patchify, BN statistics)", () => {
    const got = interpret(symbolic(), feeds, { precision: "f64" }) as { encoded: HostArray; decoded: HostArray };
    const refParams = new Map(spec.map((s) => [s.name, nd(s.shape, values.get(s.name)!)]));
    const encoded = refEncode(refParams, nd(IMAGE_SHAPE, image), TINY);
    const decoded = refDecode(refParams, nd(LATENT_SHAPE, latents), TINY);
    expect(got.encoded.shape).toEqual(encoded.shape);
    expect(got.decoded.shape).toEqual(decoded.shape);
    for (const [name, mine, ref] of [
      ["encode", got.encoded, encoded],
      ["decode", got.decoded, decoded],
    ] as const) {
      const { diff, scale } = maxDiff(mine.data, ref.data);
      expect(scale, `${name} output is not trivial`).toBeGreaterThan(0.1);
      expect(diff / scale, name).toBeLessThan(1e-9);
    }
  });

  test("compiled for the CPU, encode and decode agree with the interpreter (float32)", () => {
    const example = {
      params: Object.fromEntries(spec.map((s) => [s.name, { shape: s.shape }])),
      image: { shape: IMAGE_SHAPE },
      latents: { shape: LATENT_SHAPE },
    };
    const step = compile((t) => graph(t as Parameters<typeof graph>[0]), example, { name: "tiny_flux2_vae", params: ["params"] });
    const got = step.run({ params: Object.fromEntries(values), image, latents }) as { encoded: TypedArray; decoded: TypedArray };
    step.dispose();
    const expected = interpret(symbolic(), feeds, { precision: "native" }) as { encoded: HostArray; decoded: HostArray };
    for (const name of ["encoded", "decoded"] as const) {
      const { diff, scale } = maxDiff(got[name], expected[name].data);
      expect(diff / Math.max(1, scale), name).toBeLessThan(2e-4);
    }
  });
});

describe("loadFlux2Vae", () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "kiln-vae-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = flux2VaeParamSpec(TINY);
  const values = tinyValues(spec);
  const asFile = (): Record<string, TensorToWrite> =>
    Object.fromEntries(
      spec.map((s) => [
        s.name,
        s.name === "bn.num_batches_tracked" ? { dtype: "I64", shape: [], data: [7] } : { dtype: "BF16", shape: s.shape, data: values.get(s.name)! },
      ]),
    );

  test("reads bf16 weights as float32 and the int64 batch counter by value", () => {
    const path = join(dir, "ok.safetensors");
    writeSafetensors(path, asFile());
    const loaded = loadFlux2Vae(path, TINY);
    expect([...loaded.keys()]).toEqual(spec.map((s) => s.name));
    const weight = loaded.get("encoder.conv_in.weight")!;
    expect(Array.from(weight)).toEqual(Array.from(values.get("encoder.conv_in.weight")!, roundBf16));
    expect(Array.from(loaded.get("bn.num_batches_tracked")!)).toEqual([7]);
  });

  test("a file with missing and unexpected keys fails, listing both", () => {
    const tensors = asFile();
    delete tensors["decoder.conv_out.bias"];
    tensors["encoder.extra.weight"] = { dtype: "F32", shape: [2], data: [1, 2] };
    const path = join(dir, "keys.safetensors");
    writeSafetensors(path, tensors);
    expect(() => loadFlux2Vae(path, TINY)).toThrow(/missing key\(s\): 'decoder\.conv_out\.bias'.*unexpected key\(s\): 'encoder\.extra\.weight'/);
  });

  test("a tensor of the wrong shape fails, naming the key and both shapes", () => {
    const tensors = asFile();
    tensors["quant_conv.weight"] = { dtype: "F32", shape: [8, 8], data: new Float32Array(64) };
    const path = join(dir, "shape.safetensors");
    writeSafetensors(path, tensors);
    expect(() => loadFlux2Vae(path, TINY)).toThrow(/'quant_conv\.weight': expected shape \[8, 8, 1, 1\], found \[8, 8\]/);
  });
});

describe("pixel VAE", () => {
  test("latent channel c·p² + py·p + px of pixel (i, j) is (image[c, p·i + py, p·j + px] − shift)·scale", () => {
    const config: PixelVaeConfig = { patchSize: 2, shift: 0.25, scale: 3 };
    const shape = [2, 3, 4, 6] as const;
    const image = randomArray(2 * 3 * 4 * 6, 31);
    const out = interpret(
      pixelEncode(ops.input("image", shape), config),
      { image: { shape, dtype: "f32", data: Float64Array.from(image) } },
      { precision: "f64" },
    ) as HostArray;
    expect(out.shape).toEqual([2, 12, 2, 3]);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++)
        for (let py = 0; py < 2; py++)
          for (let px = 0; px < 2; px++)
            for (let i = 0; i < 2; i++)
              for (let j = 0; j < 3; j++) {
                const pixel = image[((b * 3 + c) * 4 + 2 * i + py) * 6 + 2 * j + px]!;
                expect(out.data[((b * 12 + c * 4 + py * 2 + px) * 2 + i) * 3 + j]).toBeCloseTo((pixel - 0.25) * 3, 12);
              }
  });

  test("compiled for the CPU, decode(encode(image)) == image exactly (default config, 64×64 → 48×16×16)", () => {
    const pixel = vae({ kind: "pixel" });
    expect([pixel.latentChannels, pixel.downsample, PIXEL_VAE.patchSize]).toEqual([48, 4, 4]);
    const imageShape = [2, 3, 64, 64];
    const latentShape = [2, 48, 16, 16];
    const step = compile(
      (t) => {
        const { image, latents } = t as { image: Tensor; latents: Tensor };
        return { latents: pixel.encode({}, image), image: pixel.decode({}, latents) };
      },
      { image: { shape: imageShape }, latents: { shape: latentShape } },
      { name: "pixel_vae" },
    );
    // Pixel values as the data loader makes them: k·2/255 − 1 in float32.
    const rand = seededRandom(41);
    const image = Float32Array.from({ length: 2 * 3 * 64 * 64 }, () => Math.floor(rand() * 256) * (2 / 255) - 1);
    const encoded = (step.run({ image, latents: new Float32Array(2 * 48 * 16 * 16) }) as { latents: Float32Array }).latents;
    const decoded = (step.run({ latents: encoded }) as { image: Float32Array }).image;
    step.dispose();
    expect(decoded).toEqual(image);
    // And the latents are the patches, not a copy of the image: spot-check one against the formula.
    expect(encoded[((1 * 48 + 2 * 16 + 3 * 4 + 1) * 16 + 5) * 16 + 7]).toBe(image[((1 * 3 + 2) * 64 + 4 * 5 + 3) * 64 + 4 * 7 + 1]! * 2);
  });

  test("pixelDecode inverts pixelEncode in the interpreter for a shifted, non-power-of-two config (to rounding)", () => {
    const config: PixelVaeConfig = { patchSize: 3, shift: 0.6, scale: 1.7 };
    const shape = [1, 3, 6, 9] as const;
    const image = randomArray(3 * 6 * 9, 43);
    const roundTrip = pixelDecode(pixelEncode(ops.input("image", shape), config), config);
    const out = interpret(roundTrip, { image: { shape, dtype: "f32", data: Float64Array.from(image) } }, { precision: "native" }) as HostArray;
    expect(maxDiff(out.data, image).diff).toBeLessThan(1e-6);
  });
});
