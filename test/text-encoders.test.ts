// Text encoders: Qwen3's key layout, a tiny Qwen3 against a float64 loop reference of spec §6.2
// (RoPE, GQA, q/k norms, the causal AND key-padding mask of §6.3) and compiled for the CPU, its
// loader; the tiny trainable encoder compiled for the CPU and through gradcheck.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gradcheck, interpret, ops, roundBf16, seededRandom, type HostArray, type Tensor } from "../compiler/index.ts";
import { compile, type TypedArray } from "../runtime/compile.ts";
import { writeSafetensors, type TensorToWrite } from "../runtime/safetensors.ts";
import { initParams, paramCount, type ParamSpec, type ParamValues } from "../models/params.ts";
import { textEncoder } from "../models/encoders.ts";
import { applyRope, encodePrompt, qwen3ParamSpec, QWEN3_0_6B, type Qwen3Config } from "../models/text/qwen3.ts";
import { loadQwen3 } from "../models/text/qwen3-file.ts";
import { encodeTiny, tinyTextInputs, tinyTextParamSpec, type TinyTextConfig } from "../models/text/tiny.ts";
import { PAD_TOKEN_ID, tokenizePrompt } from "../models/text/tokenizer.ts";
import { EMPTY_SLOT } from "../models/text/words.ts";
import { attendHead, linear, maxDiff, nd, rmsNorm, type Nd } from "./helpers/reference-layers.ts";

const host = (shape: readonly number[], data: ArrayLike<number>, dtype: HostArray["dtype"] = "f32"): HostArray => ({
  shape,
  dtype,
  data: Float64Array.from(data),
});
const paramInputs = (spec: readonly ParamSpec[]): Record<string, Tensor> =>
  Object.fromEntries(spec.map((s) => [s.name, ops.input(`params/${s.name}`, s.shape)]));
const paramFeeds = (spec: readonly ParamSpec[], values: ParamValues): Record<string, HostArray> =>
  Object.fromEntries(spec.map((s) => [`params/${s.name}`, host(s.shape, values.get(s.name)!)]));

describe("Qwen3-0.6B parameter spec", () => {
  test("310 tensors with the model.… keys and shapes of spec §6.6, 596,049,920 parameters (lm_head dropped)", () => {
    const spec = qwen3ParamSpec();
    expect(spec.length).toBe(2 + 28 * 11);
    expect(paramCount(spec)).toBe(596_049_920);
    const shapes = new Map(spec.map((s) => [s.name, [...s.shape]]));
    expect(shapes.get("model.embed_tokens.weight")).toEqual([151936, 1024]);
    expect(shapes.get("model.norm.weight")).toEqual([1024]);
    const layer = (name: string) => shapes.get(`model.layers.27.${name}.weight`);
    expect([layer("input_layernorm"), layer("post_attention_layernorm"), layer("self_attn.q_norm"), layer("self_attn.k_norm")]).toEqual([
      [1024],
      [1024],
      [128],
      [128],
    ]);
    expect([layer("self_attn.q_proj"), layer("self_attn.k_proj"), layer("self_attn.v_proj"), layer("self_attn.o_proj")]).toEqual([
      [2048, 1024],
      [1024, 1024],
      [1024, 1024],
      [1024, 2048],
    ]);
    expect([layer("mlp.gate_proj"), layer("mlp.up_proj"), layer("mlp.down_proj")]).toEqual([
      [3072, 1024],
      [3072, 1024],
      [1024, 3072],
    ]);
    expect(spec.some((s) => s.name.startsWith("lm_head") || s.name.endsWith(".bias"))).toBe(false);
  });

  test("the factories give the DiT's text width and sequence length", () => {
    const qwen = textEncoder({ kind: "qwen3" });
    const tiny = textEncoder({ kind: "tiny" });
    expect([qwen.outputDim, qwen.maxLength, tiny.outputDim, tiny.maxLength]).toEqual([1024, 128, 256, 128]);
    expect([qwen.idsShape, tiny.idsShape]).toEqual([[128], [128, 16]]);
  });

  test("Qwen3's ids are the templated BPE tokens padded with <|endoftext|>, unchanged by the tiny encoder's word features", () => {
    const prompt = "green, lizard, plant, Grass, Poison, seed on back";
    const qwen = textEncoder({ kind: "qwen3" }).promptIds(prompt);
    const tokens = tokenizePrompt(prompt);
    expect(Array.from(qwen.ids)).toEqual(Array.from(tokens.ids));
    expect(Array.from(qwen.mask)).toEqual(Array.from(tokens.mask));
    expect(qwen.ids.at(-1)).toBe(PAD_TOKEN_ID);
  });

  test("the tiny encoder's ids are [maxLength, K] table rows: 3 words fill 3 positions, the rest is empty", () => {
    const tiny = textEncoder({ kind: "tiny" });
    const { ids, mask } = tiny.promptIds("Sharp claws, Water");
    const [l, k] = tiny.idsShape as [number, number];
    expect([ids.length, mask.length]).toEqual([l * k, l]);
    expect(Array.from(mask.subarray(0, 4))).toEqual([1, 1, 1, 0]);
    // "sharp" has its whole word and 5 trigrams; nothing after the third word.
    expect(Array.from(ids.subarray(0, k)).filter((slot) => slot !== EMPTY_SLOT).length).toBe(6);
    expect(ids.subarray(3 * k).every((slot) => slot === EMPTY_SLOT)).toBe(true);
    expect(ids.subarray(0, 3 * k).every((slot) => slot >= 0 && slot < 4096)).toBe(true);
  });
});

// --- RoPE ----------------------------------------------------------------------------------------

describe("Qwen3 RoPE", () => {
  // The real geometry: 128 positions, head_dim 128, θ = 1e6.
  const [s, h, d, theta] = [128, 2, 128, 1e6];
  const x = Float32Array.from(
    { length: s * h * d },
    (
      (rand) => () =>
        rand() * 2 - 1
    )(seededRandom(3)),
  );
  /** q' = q·cos + rotate_half(q)·sin with angle p·θ^(−2j/D), written out per pair (j, j + D/2). */
  const direct = (): Float64Array => {
    const out = new Float64Array(x.length);
    for (let p = 0; p < s; p++)
      for (let head = 0; head < h; head++)
        for (let j = 0; j < d / 2; j++) {
          const angle = p * Math.pow(theta, (-2 * j) / d);
          const at = (p * h + head) * d;
          const [x1, x2] = [x[at + j]!, x[at + j + d / 2]!];
          out[at + j] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
          out[at + j + d / 2] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
    return out;
  };

  test("applyRope equals the direct rotation (interpreter, float64)", () => {
    const out = interpret(applyRope(ops.input("x", [1, s, h, d]), theta), { x: host([1, s, h, d], x) }, { precision: "f64" }) as HostArray;
    expect(maxDiff(out.data, direct()).diff).toBeLessThan(1e-9);
  });

  test("compiled for the CPU in float32, applyRope is within 1e-4 of the direct rotation", () => {
    const step = compile((t) => applyRope((t as { x: Tensor }).x, theta), { x: { shape: [1, s, h, d] } }, { name: "qwen3_rope" });
    const out = step.run({ x }) as TypedArray;
    step.dispose();
    // f32 angles up to 127 rad carry ~1e-5 rad of rounding; the reference itself rounds cos/sin to bf16 (~4e-3).
    expect(maxDiff(out, direct()).diff).toBeLessThan(1e-4);
  });
});

// --- a tiny Qwen3 --------------------------------------------------------------------------------

/** head_dim 16 ≠ hidden/heads = 8, as in the real model (128 vs 64); 2 query heads per KV head. */
const TINY_QWEN3: Qwen3Config = {
  ...QWEN3_0_6B,
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  headDim: 16,
  intermediateSize: 48,
  vocabSize: 64,
};
const SEQ = 16;
const REAL = [10, 16]; // sample 0 is right-padded after 10 tokens, sample 1 has no padding

/** Weights large enough that attention is far from uniform, and non-trivial norm weights. */
function qwenValues(spec: readonly ParamSpec[]): ParamValues {
  const values = initParams(spec, 7);
  const rand = seededRandom(8);
  for (const s of spec) {
    const v = values.get(s.name)!;
    if (s.name.endsWith("norm.weight") || s.name.endsWith("layernorm.weight")) v.forEach((_, i) => (v[i] = 0.5 + rand()));
    else v.forEach((_, i) => (v[i] = v[i]! * (s.name.includes("embed") ? 50 : 10)));
  }
  return values;
}

const maskOf = (real: readonly number[]): Float32Array =>
  Float32Array.from({ length: real.length * SEQ }, (_, i) => (i % SEQ < real[Math.floor(i / SEQ)]! ? 1 : 0));

function randomIds(seed: number, vocab: number): Int32Array {
  const rand = seededRandom(seed);
  return Int32Array.from({ length: REAL.length * SEQ }, () => Math.floor(rand() * vocab));
}

/** Spec §6.2 as loops, float64. `selfForPads` lets pad queries also see themselves (a wrong mask, to show the test can tell). */
function refQwen3(p: ReadonlyMap<string, Nd>, ids: Int32Array, mask: Float32Array, c: Qwen3Config, selfForPads = false): Nd {
  const P = (name: string): Nd => p.get(name)!;
  const [b, s, hidden, dh] = [REAL.length, SEQ, c.hiddenSize, c.headDim];
  let h = nd([b, s, hidden]);
  ids.forEach((id, row) => h.data.set(P("model.embed_tokens.weight").data.subarray(id * hidden, (id + 1) * hidden), row * hidden));
  const rope = (t: Nd, heads: number): Nd => {
    const out = nd(t.shape);
    for (let n = 0; n < b; n++)
      for (let pos = 0; pos < s; pos++)
        for (let head = 0; head < heads; head++)
          for (let j = 0; j < dh / 2; j++) {
            const angle = pos * Math.pow(c.ropeTheta, (-2 * j) / dh);
            const at = ((n * s + pos) * heads + head) * dh;
            const [x1, x2] = [t.data[at + j]!, t.data[at + j + dh / 2]!];
            out.data[at + j] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
            out.data[at + j + dh / 2] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
          }
    return out;
  };
  const [heads, kvHeads] = [c.numAttentionHeads, c.numKeyValueHeads];
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const w = (name: string): Nd => P(`model.layers.${l}.${name}.weight`);
    const a = rmsNorm(h, w("input_layernorm"), c.rmsNormEps);
    const q = rope(rmsNorm(nd([b, s, heads, dh], linear(a, w("self_attn.q_proj")).data), w("self_attn.q_norm"), c.rmsNormEps), heads);
    const k = rope(rmsNorm(nd([b, s, kvHeads, dh], linear(a, w("self_attn.k_proj")).data), w("self_attn.k_norm"), c.rmsNormEps), kvHeads);
    const v = linear(a, w("self_attn.v_proj"));
    const attended = nd([b, s, heads * dh]);
    for (let n = 0; n < b; n++)
      for (let head = 0; head < heads; head++) {
        const kv = Math.floor(head / (heads / kvHeads));
        const allowed = (i: number, j: number): boolean => j <= i && (mask[n * s + j] === 1 || (selfForPads && i === j));
        const out = attendHead(
          s,
          s,
          dh,
          (i, e) => q.data[((n * s + i) * heads + head) * dh + e]!,
          (j, e) => k.data[((n * s + j) * kvHeads + kv) * dh + e]!,
          (j, e) => v.data[((n * s + j) * kvHeads + kv) * dh + e]!,
          1 / Math.sqrt(dh),
          allowed,
        );
        for (let i = 0; i < s; i++) for (let e = 0; e < dh; e++) attended.data[((n * s + i) * heads + head) * dh + e] = out[i * dh + e]!;
      }
    h = nd(
      h.shape,
      h.data.map((x, i) => x + linear(attended, w("self_attn.o_proj")).data[i]!),
    );
    const m = rmsNorm(h, w("post_attention_layernorm"), c.rmsNormEps);
    const gate = linear(m, w("mlp.gate_proj"));
    const up = linear(m, w("mlp.up_proj"));
    const down = linear(
      nd(
        gate.shape,
        gate.data.map((g, i) => (g / (1 + Math.exp(-g))) * up.data[i]!),
      ),
      w("mlp.down_proj"),
    );
    h = nd(
      h.shape,
      h.data.map((x, i) => x + down.data[i]!),
    );
  }
  return rmsNorm(h, P("model.norm.weight"), c.rmsNormEps);
}

describe("a tiny Qwen3", () => {
  const spec = qwen3ParamSpec(TINY_QWEN3);
  const values = qwenValues(spec);
  const mask = maskOf(REAL);
  const ids = randomIds(9, TINY_QWEN3.vocabSize);
  const graph = (p: Record<string, Tensor>, idsT: Tensor, maskT: Tensor): Tensor => encodePrompt(p, idsT, maskT, TINY_QWEN3);
  const shape = [REAL.length, SEQ];
  const run = (idValues: Int32Array): Float64Array =>
    (
      interpret(
        graph(paramInputs(spec), ops.input("ids", shape, "i32"), ops.input("mask", shape)),
        { ...paramFeeds(spec, values), ids: host(shape, idValues, "i32"), mask: host(shape, mask) },
        { precision: "f64" },
      ) as HostArray
    ).data;
  const row = (out: Float64Array, n: number, i: number): Float64Array =>
    out.subarray((n * SEQ + i) * TINY_QWEN3.hiddenSize, (n * SEQ + i + 1) * TINY_QWEN3.hiddenSize);
  const refParams = new Map(spec.map((s) => [s.name, nd(s.shape, values.get(s.name)!)]));

  test("encodePrompt matches a float64 loop reference of spec §6.2 with the §6.3 mask, pad rows included", () => {
    const got = run(ids);
    const ref = refQwen3(refParams, ids, mask, TINY_QWEN3);
    const { diff, scale } = maxDiff(got, ref.data);
    expect(scale).toBeGreaterThan(0.5);
    expect(diff / scale).toBeLessThan(1e-9);
  });

  test("a pad query attends the real tokens before it but not itself", () => {
    const got = run(ids);
    const [n, pad] = [0, 13];
    // If pads attended themselves, row 13 would be the reference with self-attention for pads.
    const selfAttending = refQwen3(refParams, ids, mask, TINY_QWEN3, true);
    expect(maxDiff(row(got, n, pad), row(selfAttending.data, n, pad)).diff).toBeGreaterThan(1e-3);
    // It reads the real tokens: changing a real token's id changes the pad row.
    const changedReal = Int32Array.from(ids);
    changedReal[n * SEQ + 3] = (ids[n * SEQ + 3]! + 1) % TINY_QWEN3.vocabSize;
    expect(maxDiff(row(run(changedReal), n, pad), row(got, n, pad)).diff).toBeGreaterThan(1e-3);
    // It does not read other pads, before or after it.
    const otherPads = Int32Array.from(ids);
    for (let i = REAL[n]!; i < SEQ; i++) if (i !== pad) otherPads[n * SEQ + i] = (ids[n * SEQ + i]! + 7) % TINY_QWEN3.vocabSize;
    expect(maxDiff(row(run(otherPads), n, pad), row(got, n, pad)).diff).toBe(0);
  });

  test("real tokens are unaffected by padding: their rows do not change when pad ids change", () => {
    const got = run(ids);
    const changed = Int32Array.from(ids);
    for (let i = REAL[0]!; i < SEQ; i++) changed[i] = (ids[i]! + 5) % TINY_QWEN3.vocabSize;
    const again = run(changed);
    for (let i = 0; i < REAL[0]!; i++) expect(maxDiff(row(again, 0, i), row(got, 0, i)).diff, `row ${i}`).toBe(0);
    expect(maxDiff(row(again, 0, REAL[0]!), row(got, 0, REAL[0]!)).diff, "the first pad row itself does change").toBeGreaterThan(1e-3);
  });

  test("compiled for the CPU, encodePrompt agrees with the interpreter (float32)", () => {
    const example = {
      params: Object.fromEntries(spec.map((s) => [s.name, { shape: s.shape }])),
      ids: { shape, dtype: "i32" as const },
      mask: { shape },
    };
    const step = compile(
      (t) => {
        const { params, ids: idsT, mask: maskT } = t as { params: Record<string, Tensor>; ids: Tensor; mask: Tensor };
        return graph(params, idsT, maskT);
      },
      example,
      { name: "tiny_qwen3", params: ["params"] },
    );
    const got = step.run({ params: Object.fromEntries(values), ids, mask }) as TypedArray;
    step.dispose();
    const expected = interpret(
      graph(paramInputs(spec), ops.input("ids", shape, "i32"), ops.input("mask", shape)),
      { ...paramFeeds(spec, values), ids: host(shape, ids, "i32"), mask: host(shape, mask) },
      { precision: "native" },
    ) as HostArray;
    const { diff, scale } = maxDiff(got, expected.data);
    expect(diff / Math.max(1, scale)).toBeLessThan(2e-4);
  });
});

describe("loadQwen3", () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "kiln-qwen3-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = qwen3ParamSpec(TINY_QWEN3);
  const values = qwenValues(spec);
  const hfConfig = {
    architectures: ["Qwen3ForCausalLM"],
    hidden_act: "silu",
    attention_bias: false,
    rope_scaling: null,
    use_sliding_window: false,
    tie_word_embeddings: true,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    intermediate_size: 48,
    rms_norm_eps: 1e-6,
    rope_theta: 1e6,
    vocab_size: 64,
  };
  const folder = (name: string, config: object | undefined, tensors: Record<string, TensorToWrite>): string => {
    const path = join(dir, name);
    mkdirSync(path);
    if (config) writeFileSync(join(path, "config.json"), JSON.stringify(config));
    writeSafetensors(join(path, "model.safetensors"), tensors);
    return path;
  };
  const fileTensors = (): Record<string, TensorToWrite> => ({
    ...Object.fromEntries(spec.map((s) => [s.name, { dtype: "BF16", shape: s.shape, data: values.get(s.name)! } as TensorToWrite])),
    "lm_head.weight": { dtype: "BF16", shape: [64, 32], data: new Float32Array(64 * 32) },
  });

  test("reads config.json and the bf16 weights, skipping lm_head.weight", () => {
    const { config, params } = loadQwen3(folder("ok", hfConfig, fileTensors()));
    expect(config).toEqual(TINY_QWEN3);
    expect([...params.keys()]).toEqual(spec.map((s) => s.name));
    expect(Array.from(params.get("model.layers.1.mlp.up_proj.weight")!)).toEqual(
      Array.from(values.get("model.layers.1.mlp.up_proj.weight")!, roundBf16),
    );
  });

  test("an unexpected or missing key fails, listing it", () => {
    const tensors = fileTensors();
    delete tensors["model.layers.0.self_attn.k_norm.weight"];
    tensors["model.layers.0.self_attn.q_proj.bias"] = { dtype: "F32", shape: [64], data: new Float32Array(64) };
    expect(() => loadQwen3(folder("keys", hfConfig, tensors))).toThrow(
      /missing key\(s\): 'model\.layers\.0\.self_attn\.k_norm\.weight'.*unexpected key\(s\): 'model\.layers\.0\.self_attn\.q_proj\.bias'/,
    );
  });

  test("a folder without model.safetensors, or with a config this encoder does not compute, fails clearly", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    expect(() => loadQwen3(empty)).toThrow(/expected .*model\.safetensors/);
    expect(() => loadQwen3(folder("gelu", { ...hfConfig, hidden_act: "gelu" }, fileTensors()))).toThrow(
      /"hidden_act" is "gelu"; only "silu" is implemented/,
    );
    // Without config.json the 0.6B layout is expected: 28 layers, so the 2-layer file lacks keys, and the message says why.
    expect(() => loadQwen3(folder("noconfig", undefined, fileTensors()))).toThrow(
      /286 missing key\(s\): 'model\.layers\.2\..*Qwen3-0\.6B configuration was assumed/,
    );
  });
});

// --- the tiny trainable encoder ------------------------------------------------------------------

describe("the tiny text encoder", () => {
  const config: TinyTextConfig = { tableSize: 64, featuresPerWord: 5, dim: 32, layers: 2, heads: 4, ffDim: 64, maxLength: 20 };
  const spec = tinyTextParamSpec(config);
  const values = initParams(spec, 3);
  const k = config.featuresPerWord;
  const prompts = [
    "green lizard, plant, seed on back, red eyes",
    "blue, beige, brown, turtle, water type, shell, big eyes, short limbs, curled tail, a, bb, ccc, dd, e, ff, gg",
  ];
  const inputs = prompts.map((p) => tinyTextInputs(p, config));
  const seq = 16;
  const firstWords = 8; // green lizard plant seed on back red eyes
  const shape = [prompts.length, seq, k];
  const features = Int32Array.from(inputs.flatMap((one) => Array.from(one.ids.subarray(0, seq * k))));
  const mask = Float32Array.from(inputs.flatMap((one) => Array.from(one.mask.subarray(0, seq))));
  const graph = (p: Record<string, Tensor>, f: Tensor, m: Tensor): Tensor => encodeTiny(p, f, m, config);
  const run = (featureValues: Int32Array, paramValues: ParamValues = values, c: TinyTextConfig = config): Float64Array =>
    (
      interpret(
        encodeTiny(paramInputs(spec), ops.input("features", shape, "i32"), ops.input("mask", [shape[0]!, seq]), c),
        { ...paramFeeds(spec, paramValues), features: host(shape, featureValues, "i32"), mask: host([shape[0]!, seq], mask) },
        { precision: "f64" },
      ) as HostArray
    ).data;

  test("the inputs have real words in the first positions and empty feature slots in short words", () => {
    expect(Array.from(mask.subarray(0, seq))).toEqual(Array.from({ length: seq }, (_, i) => (i < firstWords ? 1 : 0)));
    expect(Array.from(mask.subarray(seq))).toEqual(Array<number>(seq).fill(1));
    // "a" has the features <a> only ("<a>" is also its one trigram): 4 empty slots.
    const a = prompts[1]!.split(/[ ,]+/).indexOf("a");
    expect(Array.from(features.subarray((seq + a) * k, (seq + a + 1) * k)).filter((f) => f === EMPTY_SLOT).length).toBe(k - 1);
  });

  test("with no layers, a word is its features' rows summed over √n plus its position, then layer-normed (float64 loop reference)", () => {
    const flat: TinyTextConfig = { ...config, layers: 0 };
    const flatSpec = tinyTextParamSpec(flat);
    const flatValues = initParams(flatSpec, 4);
    const normWeight = flatValues.get("norm_out.weight")!;
    const rand = seededRandom(9);
    normWeight.forEach((_, i) => (normWeight[i] = 0.5 + rand()));
    const got = (
      interpret(
        encodeTiny(paramInputs(flatSpec), ops.input("features", shape, "i32"), ops.input("mask", [shape[0]!, seq]), flat),
        { ...paramFeeds(flatSpec, flatValues), features: host(shape, features, "i32"), mask: host([shape[0]!, seq], mask) },
        { precision: "f64" },
      ) as HostArray
    ).data;
    const table = flatValues.get("token_embedding.weight")!;
    const positions = flatValues.get("position_embedding")!;
    const bias = flatValues.get("norm_out.bias")!;
    const d = flat.dim;
    const expected = new Float64Array(got.length);
    for (let row = 0; row < shape[0]! * seq; row++) {
      const slots = Array.from(features.subarray(row * k, (row + 1) * k)).filter((f) => f !== EMPTY_SLOT);
      const x = Array.from(
        { length: d },
        (_, c) => slots.reduce((sum, f) => sum + table[f * d + c]!, 0) / Math.sqrt(Math.max(1, slots.length)) + positions[(row % seq) * d + c]!,
      );
      const mean = x.reduce((a, b) => a + b, 0) / d;
      const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      x.forEach((v, c) => (expected[row * d + c] = ((v - mean) / Math.sqrt(variance + 1e-5)) * normWeight[c]! + bias[c]!));
    }
    const { diff } = maxDiff(got, expected);
    expect(diff).toBeLessThan(1e-9);
  });

  test("row 0 of the table (empty slots) and the pad positions' features are never read by a real row", () => {
    const got = run(features);
    const zeroRow = new Map(values);
    const table = Float32Array.from(values.get("token_embedding.weight")!);
    for (let c = 0; c < config.dim; c++) table[c] = 5 + c;
    zeroRow.set("token_embedding.weight", table);
    expect(maxDiff(run(features, zeroRow), got).diff, "row 0 is read").toBe(0);
    const changed = Int32Array.from(features);
    for (let i = firstWords * k; i < seq * k; i++) changed[i] = 1 + (i % (config.tableSize - 1));
    const again = run(changed);
    const width = config.dim;
    expect(maxDiff(again.subarray(0, firstWords * width), got.subarray(0, firstWords * width)).diff).toBe(0);
    expect(
      maxDiff(again.subarray(firstWords * width, seq * width), got.subarray(firstWords * width, seq * width)).diff,
      "pad rows do change",
    ).toBeGreaterThan(1e-3);
  });

  test("compiled for the CPU, encodeTiny agrees with the interpreter (float32)", () => {
    const example = {
      params: Object.fromEntries(spec.map((s) => [s.name, { shape: s.shape }])),
      features: { shape, dtype: "i32" as const },
      mask: { shape: [shape[0]!, seq] },
    };
    const step = compile(
      (t) => {
        const { params, features: f, mask: m } = t as { params: Record<string, Tensor>; features: Tensor; mask: Tensor };
        return graph(params, f, m);
      },
      example,
      { name: "tiny_text", params: ["params"] },
    );
    const got = step.run({ params: Object.fromEntries(values), features, mask }) as TypedArray;
    step.dispose();
    const expected = interpret(
      graph(paramInputs(spec), ops.input("features", shape, "i32"), ops.input("mask", [shape[0]!, seq])),
      { ...paramFeeds(spec, values), features: host(shape, features, "i32"), mask: host([shape[0]!, seq], mask) },
      { precision: "native" },
    ) as HostArray;
    const { diff, scale } = maxDiff(got, expected.data);
    expect(scale).toBeGreaterThan(0.5);
    expect(diff / Math.max(1, scale)).toBeLessThan(2e-4);
  });

  test("its gradient with respect to every parameter passes gradcheck (float64 finite differences)", () => {
    const small: TinyTextConfig = { tableSize: 8, featuresPerWord: 3, dim: 8, layers: 2, heads: 2, ffDim: 16, maxLength: 6 };
    const smallSpec = tinyTextParamSpec(small);
    const smallValues = initParams(smallSpec, 5);
    const [b, l] = [2, 5];
    // Words of 1 to 3 features; a repeated row in one word (5, 5); empty slots (0); two pad positions.
    const smallFeatures = host([b, l, 3], [3, 1, 7, 2, 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 0, 2, 5, 5, 6, 0, 0, 4, 1, 3, 7, 0, 0, 1, 2, 0], "i32");
    const smallMask = host([b, l], [1, 1, 1, 0, 0, 1, 1, 1, 1, 1], "bool");
    const result = gradcheck(
      (...xs) => {
        const params = Object.fromEntries(smallSpec.map((s, i) => [s.name, xs[i]!]));
        return encodeTiny(params, xs[smallSpec.length]!, xs[smallSpec.length + 1]!, small);
      },
      [...smallSpec.map((s) => host(s.shape, smallValues.get(s.name)!)), smallFeatures, smallMask],
      { maxElements: 96, seed: 2 },
    );
    expect(result.passed, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBeGreaterThan(90);
  });
});
