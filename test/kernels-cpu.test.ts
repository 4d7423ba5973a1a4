// The CPU templates of kernels/cpu (SGEMM, fused attention forward/backward), compiled with gcc and
// called through koffi, checked against float64 loops written here.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ATTENTION_ARGS,
  ATTENTION_BACKWARD_ARGS,
  ATTENTION_H,
  ATTENTION_TUNABLES,
  type CStruct,
  GEMM_ARGS,
  GEMM_H,
  GEMM_PORTABLE_TILE,
  GEMM_TUNABLES,
  cInitializer,
  cpuTemplatePrelude,
} from "../kernels/cpu/index.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cCompiler } from "../runtime/cpu/toolchain.ts";
import { type AttentionBackwardCall, type CpuKernels, type GemmCall, loadCpuKernels } from "../bench/cpu-kernel-wrappers.ts";

let kernels: CpuKernels;
beforeAll(() => {
  kernels = loadCpuKernels();
});
afterAll(() => kernels?.library.close());

/** Deterministic uniform values in [-1, 1) (mulberry32), so failures reproduce from the seed. */
function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

// ---- GEMM ---------------------------------------------------------------------------------------

interface GemmCase {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  broadcastA: boolean;
  broadcastB: boolean;
  ldcPad: number;
  accumulate: boolean;
  seed: number;
}

/** Operands laid out as the case says, C pre-filled (NaN when overwriting: it must never be read). */
function gemmCall(g: GemmCase, epilogue: GemmCall["epilogue"] = "none", epilogueData: Float32Array | null = null): GemmCall {
  const aItems = g.broadcastA ? 1 : g.batch;
  const bItems = g.broadcastB ? 1 : g.batch;
  const ldc = g.n + g.ldcPad;
  const c = g.accumulate ? randomArray(g.batch * g.m * ldc, g.seed + 3) : new Float32Array(g.batch * g.m * ldc).fill(NaN);
  return {
    batch: g.batch,
    m: g.m,
    n: g.n,
    k: g.k,
    a: randomArray(aItems * g.m * g.k, g.seed + 1),
    a_bs: g.broadcastA ? 0 : g.m * g.k,
    a_rs: g.transA ? 1 : g.k,
    a_cs: g.transA ? g.m : 1,
    b: randomArray(bItems * g.k * g.n, g.seed + 2),
    b_bs: g.broadcastB ? 0 : g.k * g.n,
    b_rs: g.transB ? 1 : g.n,
    b_cs: g.transB ? g.k : 1,
    c,
    c_bs: g.m * ldc,
    ldc,
    accumulate: g.accumulate,
    epilogue,
    epilogueData,
  };
}

/** C after the call in float64, and Σ|a||b| per element (what bounds f32 rounding error). */
function referenceGemm(call: GemmCall): { value: Float64Array; magnitude: Float64Array } {
  const value = new Float64Array(call.c.length);
  const magnitude = new Float64Array(call.c.length);
  for (let b = 0; b < call.batch; b++)
    for (let i = 0; i < call.m; i++)
      for (let j = 0; j < call.n; j++) {
        let sum = 0;
        let abs = 0;
        for (let k = 0; k < call.k; k++) {
          const p = call.a[b * call.a_bs + i * call.a_rs + k * call.a_cs]! * call.b[b * call.b_bs + k * call.b_rs + j * call.b_cs]!;
          sum += p;
          abs += Math.abs(p);
        }
        const at = b * call.c_bs + i * call.ldc + j;
        const before = call.accumulate ? call.c[at]! : 0;
        value[at] = before + sum;
        magnitude[at] = Math.abs(before) + abs;
      }
  return { value, magnitude };
}

/** Every element of C within the f32 error bound of a k-term sum; padding columns untouched. */
function expectGemmMatches(call: GemmCall, before: Float32Array, ref: ReturnType<typeof referenceGemm>, where: string): void {
  const bound = (call.k + 2) * 2 ** -23;
  for (let b = 0; b < call.batch; b++)
    for (let i = 0; i < call.m; i++)
      for (let j = 0; j < call.ldc; j++) {
        const at = b * call.c_bs + i * call.ldc + j;
        if (j >= call.n) {
          if (!Object.is(call.c[at], before[at])) throw new Error(`${where}: padding C[${b}][${i}][${j}] was written`);
          continue;
        }
        const err = Math.abs(call.c[at]! - ref.value[at]!);
        if (!(err <= bound * ref.magnitude[at]! + 1e-30))
          throw new Error(
            `${where}: C[${b}][${i}][${j}] = ${call.c[at]}, expected ${ref.value[at]} (error ${err}, bound ${bound * ref.magnitude[at]!})`,
          );
      }
}

function runGemmCase(g: GemmCase): void {
  const call = gemmCall(g);
  const before = call.c.slice();
  const ref = referenceGemm(call);
  expect(kernels.sgemm(call)).toBe(0);
  expectGemmMatches(call, before, ref, JSON.stringify(g));
}

const EDGE_SIZES = [1, 7, 17, 33, 100, 257];

describe("kiln_sgemm", () => {
  test("matches a float64 loop for every combination of the edge sizes 1, 7, 17, 33, 100, 257", () => {
    let index = 0;
    for (const m of EDGE_SIZES)
      for (const n of EDGE_SIZES)
        for (const k of EDGE_SIZES) {
          runGemmCase({
            batch: 1,
            m,
            n,
            k,
            transA: index % 3 === 1,
            transB: index % 2 === 1,
            broadcastA: false,
            broadcastB: false,
            ldcPad: 0,
            accumulate: false,
            seed: index * 7,
          });
          index++;
        }
  });

  test("matches a float64 loop for random shapes, transposes, batch broadcasts, padded ldc and accumulation", () => {
    const size = fc.integer({ min: 1, max: 300 });
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: size,
          n: size,
          k: size,
          transA: fc.boolean(),
          transB: fc.boolean(),
          broadcastA: fc.boolean(),
          broadcastB: fc.boolean(),
          ldcPad: fc.integer({ min: 0, max: 5 }),
          accumulate: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (g) => runGemmCase(g),
      ),
      { numRuns: 25 },
    );
  });

  test("crossing every cache block (m > MC, k > KC, n > NC) with accumulation still matches", () => {
    const base = { transA: false, transB: true, broadcastA: false, broadcastB: false, ldcPad: 3, seed: 11 };
    runGemmCase({
      ...base,
      batch: 1,
      m: GEMM_TUNABLES.KILN_GEMM_MC * 2 + 5,
      n: GEMM_TUNABLES.KILN_GEMM_NC + 70,
      k: GEMM_TUNABLES.KILN_GEMM_KC * 2 + 9,
      accumulate: false,
    });
    runGemmCase({ ...base, batch: 2, m: 150, n: 40, k: GEMM_TUNABLES.KILN_GEMM_KC + 1, accumulate: true });
  });

  test("overwrite mode never reads C (NaN-filled C gives finite results)", () => {
    const call = gemmCall({
      batch: 2,
      m: 19,
      n: 45,
      k: 23,
      transA: false,
      transB: false,
      broadcastA: false,
      broadcastB: true,
      ldcPad: 0,
      accumulate: false,
      seed: 5,
    });
    expect(kernels.sgemm(call)).toBe(0);
    expect(call.c.every(Number.isFinite)).toBe(true);
  });

  test("an empty contraction (k = 0) gives zeros, or leaves C unchanged when accumulating", () => {
    const overwrite = gemmCall({
      batch: 1,
      m: 5,
      n: 9,
      k: 0,
      transA: false,
      transB: false,
      broadcastA: false,
      broadcastB: false,
      ldcPad: 0,
      accumulate: false,
      seed: 1,
    });
    expect(kernels.sgemm(overwrite)).toBe(0);
    expect(Array.from(overwrite.c)).toEqual(new Array(45).fill(0));
    const accumulate = gemmCall({
      batch: 1,
      m: 5,
      n: 9,
      k: 0,
      transA: false,
      transB: false,
      broadcastA: false,
      broadcastB: false,
      ldcPad: 0,
      accumulate: true,
      seed: 1,
    });
    const before = accumulate.c.slice();
    expect(kernels.sgemm(accumulate)).toBe(0);
    expect(accumulate.c).toEqual(before);
  });

  test("a bias + silu epilogue gives silu(A·B + bias) for shapes crossing the K and N blocks", () => {
    for (const [index, [m, n, k, batch]] of [
      [1, 1, 1, 1],
      [33, 100, 17, 2],
      [300, GEMM_TUNABLES.KILN_GEMM_NC + 40, GEMM_TUNABLES.KILN_GEMM_KC + 90, 1],
    ].entries()) {
      const bias = randomArray(n!, 99 + index);
      const g = {
        batch: batch!,
        m: m!,
        n: n!,
        k: k!,
        transA: false,
        transB: true,
        broadcastA: false,
        broadcastB: true,
        ldcPad: 1,
        accumulate: index === 1,
        seed: 40 + index,
      };
      const call = gemmCall(g, "bias_silu", bias);
      const ref = referenceGemm(call);
      expect(kernels.sgemm(call)).toBe(0);
      const bound = (call.k + 2) * 2 ** -23;
      for (let b = 0; b < call.batch; b++)
        for (let i = 0; i < call.m; i++)
          for (let j = 0; j < call.n; j++) {
            const at = b * call.c_bs + i * call.ldc + j;
            const x = ref.value[at]! + bias[j]!;
            const expected = x / (1 + Math.exp(-x));
            // silu' is at most 1.1 in magnitude; the epilogue itself adds a few f32 roundings.
            const tolerance = 1.1 * (bound * ref.magnitude[at]! + 2 ** -23 * Math.abs(x)) + 4e-7 * Math.abs(expected) + 1e-30;
            if (!(Math.abs(call.c[at]! - expected) <= tolerance))
              throw new Error(`${JSON.stringify(g)}: C[${b}][${i}][${j}] = ${call.c[at]}, expected silu(${x}) = ${expected}`);
          }
    }
  });

  test("the epilogue visits every element of C exactly once", () => {
    for (const [m, n, k, batch] of [
      [1, 1, 1, 1],
      [7, 257, 33, 3],
      [GEMM_TUNABLES.KILN_GEMM_MC + 13, GEMM_TUNABLES.KILN_GEMM_NC * 2 + 17, GEMM_TUNABLES.KILN_GEMM_KC * 3 + 1, 1],
      [384, 32, 384, 8],
    ] as const) {
      const counts = new Float32Array(batch * m * n);
      const call = gemmCall(
        { batch, m, n, k, transA: false, transB: false, broadcastA: false, broadcastB: false, ldcPad: 0, accumulate: false, seed: 3 },
        "count",
        counts,
      );
      expect(kernels.sgemm(call)).toBe(0);
      const wrong = counts.findIndex((x) => x !== 1);
      expect(wrong, `shape ${m}x${n}x${k} batch ${batch}: element ${wrong} visited ${counts[wrong]} times`).toBe(-1);
    }
  });
});

// ---- attention ----------------------------------------------------------------------------------

interface AttentionCase {
  batch: number;
  heads: number;
  kvHeads: number;
  qLen: number;
  kvLen: number;
  headDim: number;
  mask: boolean;
  causal: boolean;
  seed: number;
}

/** Contiguous [B, S, H, D] float64 results of the materialised-softmax reference. */
interface AttentionReference {
  o: Float64Array;
  lse: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
}

/** A view's element (b, s, h, d). */
const at = (data: Float32Array, bs: number, ss: number, hs: number, b: number, s: number, h: number, d: number): number =>
  data[b * bs + s * ss + h * hs + d]!;

/** Softmax(Q·Kᵀ·scale + mask)·V and its gradients, materialising each row of scores in float64. */
function referenceAttention(c: AttentionBackwardCall): AttentionReference {
  const { batch: B, heads: H, kv_heads: HK, q_len: SQ, kv_len: SK, head_dim: D } = c;
  const o = new Float64Array(B * SQ * H * D);
  const lse = new Float64Array(B * H * SQ);
  const dq = new Float64Array(B * SQ * H * D);
  const dk = new Float64Array(B * SK * HK * D);
  const dv = new Float64Array(B * SK * HK * D);
  const p = new Float64Array(SK);
  const dp = new Float64Array(SK);
  const q = (b: number, s: number, h: number, d: number) => at(c.q, c.q_bs, c.q_ss, c.q_hs, b, s, h, d);
  const k = (b: number, s: number, h: number, d: number) => at(c.k, c.k_bs, c.k_ss, c.k_hs, b, s, h, d);
  const v = (b: number, s: number, h: number, d: number) => at(c.v, c.v_bs, c.v_ss, c.v_hs, b, s, h, d);
  const dO = (b: number, s: number, h: number, d: number) => at(c.d_o, c.do_bs, c.do_ss, c.do_hs, b, s, h, d);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / (H / HK));
      for (let i = 0; i < SQ; i++) {
        let max = -Infinity;
        for (let j = 0; j < SK; j++) {
          const visible = (!c.key_mask || c.key_mask[b * c.mask_bs + j] !== 0) && (!c.causal || j <= i);
          let s = -Infinity;
          if (visible) {
            s = 0;
            for (let d = 0; d < D; d++) s += q(b, i, h, d) * k(b, j, kh, d);
            s *= Math.fround(c.scale);
          }
          p[j] = s;
          max = Math.max(max, s);
        }
        let sum = 0;
        for (let j = 0; j < SK; j++) sum += p[j] = max === -Infinity ? 0 : Math.exp(p[j]! - max);
        lse[(b * H + h) * SQ + i] = sum > 0 ? max + Math.log(sum) : -Infinity;
        for (let j = 0; j < SK; j++) p[j] = sum > 0 ? p[j]! / sum : 0;
        const row = ((b * SQ + i) * H + h) * D;
        let delta = 0;
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < SK; j++) acc += p[j]! * v(b, j, kh, d);
          o[row + d] = acc;
          delta += acc * dO(b, i, h, d);
        }
        for (let j = 0; j < SK; j++) {
          let acc = 0;
          for (let d = 0; d < D; d++) acc += dO(b, i, h, d) * v(b, j, kh, d);
          dp[j] = p[j]! * (acc - delta);
        }
        for (let j = 0; j < SK; j++) {
          const kvRow = ((b * SK + j) * HK + kh) * D;
          for (let d = 0; d < D; d++) {
            dv[kvRow + d] += p[j]! * dO(b, i, h, d);
            dk[kvRow + d] += Math.fround(c.scale) * dp[j]! * q(b, i, h, d);
            dq[row + d] += Math.fround(c.scale) * dp[j]! * k(b, j, kh, d);
          }
        }
      }
    }
  return { o, lse, dq, dk, dv };
}

/** Contiguous operands ([B, S, H·D]) for a case, outputs NaN-filled so unwritten elements show. */
function attentionCall(a: AttentionCase): AttentionBackwardCall {
  const { batch: B, heads: H, kvHeads: HK, qLen: SQ, kvLen: SK, headDim: D } = a;
  const qSize = B * SQ * H * D;
  const kvSize = B * SK * HK * D;
  const mask = a.mask ? Uint8Array.from(randomArray(B * SK, a.seed + 7), (x) => (x > -0.6 ? 1 : 0)) : null;
  const qStrides = { bs: SQ * H * D, ss: H * D, hs: D };
  const kvStrides = { bs: SK * HK * D, ss: HK * D, hs: D };
  return {
    batch: B,
    heads: H,
    kv_heads: HK,
    q_len: SQ,
    kv_len: SK,
    head_dim: D,
    scale: 1 / Math.sqrt(D),
    q: randomArray(qSize, a.seed + 1, 2),
    q_bs: qStrides.bs,
    q_ss: qStrides.ss,
    q_hs: qStrides.hs,
    k: randomArray(kvSize, a.seed + 2, 2),
    k_bs: kvStrides.bs,
    k_ss: kvStrides.ss,
    k_hs: kvStrides.hs,
    v: randomArray(kvSize, a.seed + 3),
    v_bs: kvStrides.bs,
    v_ss: kvStrides.ss,
    v_hs: kvStrides.hs,
    o: new Float32Array(qSize).fill(NaN),
    o_bs: qStrides.bs,
    o_ss: qStrides.ss,
    o_hs: qStrides.hs,
    key_mask: mask,
    mask_bs: SK,
    causal: a.causal ? 1 : 0,
    lse: new Float32Array(B * H * SQ).fill(NaN),
    d_o: randomArray(qSize, a.seed + 4),
    do_bs: qStrides.bs,
    do_ss: qStrides.ss,
    do_hs: qStrides.hs,
    d_q: new Float32Array(qSize).fill(NaN),
    dq_bs: qStrides.bs,
    dq_ss: qStrides.ss,
    dq_hs: qStrides.hs,
    d_k: new Float32Array(kvSize).fill(NaN),
    dk_bs: kvStrides.bs,
    dk_ss: kvStrides.ss,
    dk_hs: kvStrides.hs,
    d_v: new Float32Array(kvSize).fill(NaN),
    dv_bs: kvStrides.bs,
    dv_ss: kvStrides.ss,
    dv_hs: kvStrides.hs,
  };
}

/** Reads a [B, S, H, D] view back into contiguous order. */
function gather(data: Float32Array, bs: number, ss: number, hs: number, B: number, S: number, H: number, D: number): Float64Array {
  const out = new Float64Array(B * S * H * D);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++)
      for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) out[((b * S + s) * H + h) * D + d] = at(data, bs, ss, hs, b, s, h, d);
  return out;
}

/** Max |got - want| relative to max(1, max |want|); infinities must match exactly. */
function expectClose(got: ArrayLike<number>, want: Float64Array, tolerance: number, what: string): void {
  let scale = 1;
  for (const x of want) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    const ok = Number.isFinite(w) ? Math.abs(g - w) <= tolerance * scale : Object.is(g, w);
    if (!ok) throw new Error(`${what}[${i}] = ${g}, expected ${w} (tolerance ${tolerance * scale})`);
  }
}

function runAttentionCase(a: AttentionCase): void {
  const call = attentionCall(a);
  const ref = referenceAttention(call);
  const where = JSON.stringify(a);
  const { batch: B, heads: H, kvHeads: HK, qLen: SQ, kvLen: SK, headDim: D } = a;
  expect(kernels.attentionForward(call), where).toBe(0);
  expectClose(gather(call.o, call.o_bs, call.o_ss, call.o_hs, B, SQ, H, D), ref.o, 2e-5, `${where} O`);
  expectClose(call.lse!, ref.lse, 2e-5, `${where} LSE`);
  // With the forward's LSE, and with the LSE recomputed by the backward pass itself.
  for (const lse of [call.lse, null]) {
    const backward = { ...call, lse, d_q: call.d_q.fill(NaN), d_k: call.d_k.fill(NaN), d_v: call.d_v.fill(NaN) };
    const label = `${where} (${lse ? "given" : "recomputed"} LSE)`;
    expect(kernels.attentionBackward(backward), label).toBe(0);
    expectClose(gather(call.d_q, call.dq_bs, call.dq_ss, call.dq_hs, B, SQ, H, D), ref.dq, 5e-5, `${label} dQ`);
    expectClose(gather(call.d_k, call.dk_bs, call.dk_ss, call.dk_hs, B, SK, HK, D), ref.dk, 5e-5, `${label} dK`);
    expectClose(gather(call.d_v, call.dv_bs, call.dv_ss, call.dv_hs, B, SK, HK, D), ref.dv, 5e-5, `${label} dV`);
  }
}

const BQ = ATTENTION_TUNABLES.KILN_ATTENTION_BQ;
const BK = ATTENTION_TUNABLES.KILN_ATTENTION_BK;

describe("kiln_attention_forward / kiln_attention_backward", () => {
  test("match a float64 materialised-softmax reference for head dims 8/32/64/128, Sq ≠ Sk, masks, causal and GQA", () => {
    const cases: Omit<AttentionCase, "seed">[] = [
      { batch: 2, heads: 2, kvHeads: 2, qLen: 37, kvLen: 53, headDim: 8, mask: true, causal: false },
      { batch: 1, heads: 4, kvHeads: 2, qLen: 100, kvLen: 77, headDim: 32, mask: false, causal: true },
      { batch: 2, heads: 2, kvHeads: 1, qLen: 65, kvLen: 130, headDim: 64, mask: true, causal: true },
      { batch: 1, heads: 2, kvHeads: 2, qLen: 96, kvLen: 200, headDim: 128, mask: false, causal: false },
      { batch: 1, heads: 3, kvHeads: 3, qLen: 130, kvLen: 97, headDim: 128, mask: true, causal: false },
      { batch: 1, heads: 1, kvHeads: 1, qLen: 1, kvLen: 1, headDim: 32, mask: false, causal: false },
      // Several key blocks (the online rescaling) and several query blocks, causal and masked.
      { batch: 1, heads: 2, kvHeads: 1, qLen: 3 * BQ + 7, kvLen: 2 * BK + 17, headDim: 32, mask: true, causal: true },
      // One head only: the forward splits it into query chunks across threads.
      { batch: 1, heads: 1, kvHeads: 1, qLen: 6 * BQ + 5, kvLen: BK + 50, headDim: 64, mask: true, causal: false },
    ];
    cases.forEach((c, i) => runAttentionCase({ ...c, seed: 1000 * (i + 1) }));
  });

  test("match the reference for random shapes, head dims, masks and head groupings", () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          kvHeads: fc.integer({ min: 1, max: 2 }),
          group: fc.integer({ min: 1, max: 2 }),
          qLen: fc.integer({ min: 1, max: 2 * BQ + 10 }),
          kvLen: fc.integer({ min: 1, max: BK + 40 }),
          headDim: fc.constantFrom(1, 8, 13, 32, 40, 64, 128),
          mask: fc.boolean(),
          causal: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ group, ...c }) => runAttentionCase({ ...c, heads: c.kvHeads * group }),
      ),
      { numRuns: 12 },
    );
  });

  test("a query row with every key masked gets zero output, -inf LSE and zero gradients", () => {
    // Batch item 1 masks every key; in item 0 key 0 is masked, so causal query 0 sees nothing.
    const call = attentionCall({ batch: 2, heads: 2, kvHeads: 2, qLen: 20, kvLen: 20, headDim: 32, mask: false, causal: true, seed: 77 });
    const mask = new Uint8Array(40).fill(1);
    mask.fill(0, 20);
    mask[0] = 0;
    call.key_mask = mask;
    const ref = referenceAttention(call);
    expect(kernels.attentionForward(call)).toBe(0);
    expect(kernels.attentionBackward(call)).toBe(0);
    for (let h = 0; h < 2; h++) {
      expect(call.lse![h * 20]).toBe(-Infinity);
      for (let i = 0; i < 20; i++) expect(call.lse![(2 + h) * 20 + i]).toBe(-Infinity);
    }
    const rowZero = (data: Float32Array, b: number, s: number, h: number) =>
      Array.from(data.subarray(b * call.q_bs + s * call.q_ss + h * call.q_hs, b * call.q_bs + s * call.q_ss + h * call.q_hs + 32));
    for (let h = 0; h < 2; h++) {
      expect(rowZero(call.o, 0, 0, h)).toEqual(new Array(32).fill(0));
      expect(rowZero(call.d_q, 0, 0, h)).toEqual(new Array(32).fill(0));
      for (let s = 0; s < 20; s++) expect(rowZero(call.o, 1, s, h)).toEqual(new Array(32).fill(0));
    }
    expectClose(call.o, ref.o, 2e-5, "O");
    expectClose(call.d_q, ref.dq, 5e-5, "dQ");
    expectClose(call.d_k, ref.dk, 5e-5, "dK");
    expectClose(call.d_v, ref.dv, 5e-5, "dV");
  });

  test("works on strided views of a fused QKV tensor and writes nothing outside its output views", () => {
    const B = 2,
      S = 70,
      H = 3,
      D = 32,
      HD = H * D;
    const qkv = randomArray(B * S * 3 * HD, 5, 2);
    // Outputs interleave with sentinel columns: [B, S, 2·H·D], the views use the first half of a row.
    const sentinel = 12345;
    const out = () => new Float32Array(B * S * 2 * HD).fill(sentinel);
    const view = (offset: number, ss: number) => ({ bs: S * ss, ss, hs: D, offset });
    const src = view(0, 3 * HD);
    const dst = view(0, 2 * HD);
    const call: AttentionBackwardCall = {
      batch: B,
      heads: H,
      kv_heads: H,
      q_len: S,
      kv_len: S,
      head_dim: D,
      scale: 0.2,
      q: qkv,
      q_bs: src.bs,
      q_ss: src.ss,
      q_hs: D,
      k: qkv.subarray(HD),
      k_bs: src.bs,
      k_ss: src.ss,
      k_hs: D,
      v: qkv.subarray(2 * HD),
      v_bs: src.bs,
      v_ss: src.ss,
      v_hs: D,
      o: out(),
      o_bs: dst.bs,
      o_ss: dst.ss,
      o_hs: D,
      key_mask: null,
      mask_bs: 0,
      causal: 0,
      lse: new Float32Array(B * H * S),
      d_o: randomArray(B * S * HD, 6),
      do_bs: S * HD,
      do_ss: HD,
      do_hs: D,
      d_q: out(),
      dq_bs: dst.bs,
      dq_ss: dst.ss,
      dq_hs: D,
      d_k: out(),
      dk_bs: dst.bs,
      dk_ss: dst.ss,
      dk_hs: D,
      d_v: out(),
      dv_bs: dst.bs,
      dv_ss: dst.ss,
      dv_hs: D,
    };
    const ref = referenceAttention(call);
    expect(kernels.attentionForward(call)).toBe(0);
    expect(kernels.attentionBackward(call)).toBe(0);
    const outputs: [string, Float32Array, Float64Array][] = [
      ["O", call.o, ref.o],
      ["dQ", call.d_q, ref.dq],
      ["dK", call.d_k, ref.dk],
      ["dV", call.d_v, ref.dv],
    ];
    for (const [name, data, want] of outputs) {
      expectClose(gather(data, dst.bs, dst.ss, D, B, S, H, D), want, 5e-5, name);
      for (let row = 0; row < B * S; row++)
        for (let x = HD; x < 2 * HD; x++)
          if (data[row * 2 * HD + x] !== sentinel) throw new Error(`${name}: wrote outside its view at row ${row}, column ${x}`);
    }
  });

  test("rejects a kv_heads that does not divide heads with status -2", () => {
    const call = attentionCall({ batch: 1, heads: 3, kvHeads: 3, qLen: 4, kvLen: 4, headDim: 8, mask: false, causal: false, seed: 1 });
    expect(kernels.attentionForward({ ...call, kv_heads: 2 })).toBe(-2);
    expect(kernels.attentionBackward({ ...call, kv_heads: 2 })).toBe(-2);
  });
});

// ---- metadata -----------------------------------------------------------------------------------

/** Field names of `typedef struct name { ... } name;` in a header, in order. */
function headerFields(header: string, name: string): string[] {
  const body = new RegExp(`typedef struct ${name} \\{([\\s\\S]*?)\\} ${name};`).exec(header)?.[1];
  if (!body) throw new Error(`struct ${name} not found in the header`);
  const declarations = body
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split(";")
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  // "long a_bs, a_rs, a_cs" declares three names: the last word of each comma-separated part.
  return declarations.flatMap((d) => d.split(",").map((part) => /(\w+)\s*$/.exec(part)?.[1] ?? `?${part}`));
}

describe("kernels/cpu/index.ts", () => {
  test("struct descriptions list the header's fields in declaration order", () => {
    const pairs: [CStruct, string][] = [
      [GEMM_ARGS, GEMM_H],
      [ATTENTION_ARGS, ATTENTION_H],
      [ATTENTION_BACKWARD_ARGS, ATTENTION_H],
    ];
    for (const [struct, header] of pairs) expect(struct.fields.map((f) => f.name)).toEqual(headerFields(header, struct.name));
  });

  test("tunable defaults equal the headers' #define defaults (the micro-tile: AVX-512's, then the portable one)", () => {
    const defaults = (name: string): string[] => [...(GEMM_H + ATTENTION_H).matchAll(new RegExp(`#define ${name} (\\d+)`, "g"))].map((m) => m[1]!);
    for (const [name, value] of Object.entries({ ...GEMM_TUNABLES, ...ATTENTION_TUNABLES })) {
      const portable = GEMM_PORTABLE_TILE[name as keyof typeof GEMM_PORTABLE_TILE];
      expect(defaults(name), name).toEqual(portable === undefined ? [String(value)] : [String(value), String(portable)]);
    }
  });

  // The tests above run the templates on this machine's ISA only; both of simd.h's forms must at
  // least compile cleanly wherever the other one is what runs (CI and users have either).
  test.skipIf(process.arch !== "x64")("the templates compile without warnings for plain x86-64, AVX2 and AVX-512 targets", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-isa-"));
    const file = path.join(dir, "templates.c");
    const uses =
      "int use_gemm(const kiln_gemm_args* g) { return kiln_sgemm(g); }\n" +
      "int use_forward(const kiln_attention_args* a) { return kiln_attention_forward(a); }\n" +
      "int use_backward(const kiln_attention_backward_args* a) { return kiln_attention_backward(a); }\n";
    writeFileSync(file, `${cpuTemplatePrelude({ gemm: true, attention: true })}\n${uses}`);
    for (const [march, isa] of [
      ["x86-64", "generic"],
      ["haswell", "generic"],
      ["skylake-avx512", "avx512f"],
    ]) {
      const flags = ["-O2", `-march=${march}`, "-fopenmp", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"];
      const macros = execFileSync(cCompiler(), [...flags, "-dM", "-E", file], { encoding: "utf8" });
      expect(macros, march).toContain(`#define KILN_SIMD_ISA "${isa}"`);
      execFileSync(cCompiler(), [...flags, "-c", file, "-o", path.join(dir, `${march}.o`)], { stdio: "pipe" });
    }
  });

  test("cInitializer names every field and rejects missing or unknown ones", () => {
    const values = Object.fromEntries(GEMM_ARGS.fields.map((f) => [f.name, 0]));
    expect(cInitializer(GEMM_ARGS, values)).toMatch(/^\{\.batch = 0, \.m = 0, .*\.epilogue_ctx = 0\}$/);
    const { ldc: _ldc, ...missing } = values;
    expect(() => cInitializer(GEMM_ARGS, missing)).toThrow(/missing ldc/);
    expect(() => cInitializer(GEMM_ARGS, { ...values, lda: 1 })).toThrow(/unknown lda/);
  });
});
