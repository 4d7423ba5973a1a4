// Measures the CPU templates of kernels/cpu (SGEMM and fused attention) on this machine, with
// OpenBLAS's cblas_sgemm beside the GEMM rows when libopenblas is installed:
// `OMP_NUM_THREADS=2 npx tsx bench/cpu-kernels.ts [--iters N] [--only <name part>] [--no-openblas]`.
// On a machine shared with other work, medians suffer from OpenMP worker wake-up delays (a woken
// worker can wait a whole scheduler slice); the best-run column shows what the kernels do, and
// OMP_WAIT_POLICY=active keeps kiln's workers awake (at the expense of the OpenBLAS column).
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import koffi from "koffi";
import { attentionBackwardFlops, attentionForwardFlops, gemmFlops } from "../kernels/cpu/index.ts";
import { type AttentionBackwardCall, type CpuKernels, type GemmCall, loadCpuKernels } from "./cpu-kernel-wrappers.ts";
import { median, timeRuns } from "./timing.ts";

interface GemmShape {
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** B given as W[N, K] (PyTorch's linear layout), read through strides. */
  readonly transposeB: boolean;
  /** A given as [K, M] (a weight gradient dW = dYᵀ·X contracts over tokens). */
  readonly transposeA?: boolean;
}

interface AttentionShape {
  readonly batch: number;
  readonly heads: number;
  readonly seq: number;
  readonly headDim: number;
}

const GEMMS: readonly GemmShape[] = [
  { batch: 1, m: 256, k: 256, n: 256, transposeB: false },
  { batch: 1, m: 512, k: 512, n: 512, transposeB: false },
  { batch: 1, m: 1024, k: 1024, n: 1024, transposeB: false },
  { batch: 1, m: 384, k: 1024, n: 1024, transposeB: true },
  { batch: 1, m: 384, k: 1024, n: 3072, transposeB: true },
  { batch: 1, m: 384, k: 3072, n: 1024, transposeB: true },
  { batch: 1, m: 3072, k: 1024, n: 1024, transposeB: true },
  { batch: 8, m: 384, k: 32, n: 384, transposeB: true }, // Q·Kᵀ-like scores
  { batch: 8, m: 384, k: 384, n: 32, transposeB: false }, // P·V-like
  { batch: 1, m: 1024, k: 384, n: 1024, transposeB: false, transposeA: true }, // a linear's weight gradient
];

const ATTENTIONS: readonly AttentionShape[] = [
  { batch: 1, heads: 32, seq: 384, headDim: 32 },
  { batch: 8, heads: 6, seq: 288, headDim: 32 },
  { batch: 1, heads: 8, seq: 384, headDim: 128 },
];

const OPENBLAS_PATHS = [
  process.env.KILN_OPENBLAS,
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
];

type Sgemm = (call: GemmCall) => void;

interface OpenBlas {
  readonly describe: string;
  readonly sgemm: Sgemm;
}

/** cblas_sgemm looped over the batch, or undefined when no libopenblas is found. */
function loadOpenBlas(): OpenBlas | undefined {
  const path = OPENBLAS_PATHS.find((p): p is string => p !== undefined && existsSync(p));
  if (!path) return undefined;
  const lib = koffi.load(path);
  const cblas = lib.func(
    "void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc)",
  );
  const corename = String(lib.func("const char* openblas_get_corename()")());
  const threads = Number(lib.func("int openblas_get_num_threads()")());
  const ROW_MAJOR = 101,
    NO_TRANS = 111,
    TRANS = 112;
  return {
    describe: `${path} (core ${corename}, ${threads} threads)`,
    sgemm: (g) => {
      const transA = g.a_rs === 1 && g.a_cs !== 1;
      const transB = g.b_rs === 1 && g.b_cs !== 1;
      for (let b = 0; b < g.batch; b++)
        cblas(
          ROW_MAJOR,
          transA ? TRANS : NO_TRANS,
          transB ? TRANS : NO_TRANS,
          g.m,
          g.n,
          g.k,
          1,
          g.a.subarray(b * g.a_bs),
          transA ? g.a_cs : g.a_rs,
          g.b.subarray(b * g.b_bs),
          transB ? g.b_cs : g.b_rs,
          0,
          g.c.subarray(b * g.c_bs),
          g.ldc,
        );
    },
  };
}

function gemmCall(s: GemmShape): GemmCall {
  const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  return {
    batch: s.batch,
    m: s.m,
    n: s.n,
    k: s.k,
    a: fill(s.batch * s.m * s.k),
    a_bs: s.m * s.k,
    a_rs: s.transposeA ? 1 : s.k,
    a_cs: s.transposeA ? s.m : 1,
    b: fill(s.batch * s.k * s.n),
    b_bs: s.k * s.n,
    b_rs: s.transposeB ? 1 : s.n,
    b_cs: s.transposeB ? s.k : 1,
    c: new Float32Array(s.batch * s.m * s.n),
    c_bs: s.m * s.n,
    ldc: s.n,
    accumulate: false,
    epilogue: "none",
    epilogueData: null,
  };
}

function attentionCall(s: AttentionShape): AttentionBackwardCall {
  const size = s.batch * s.seq * s.heads * s.headDim;
  const fill = (salt: number) => Float32Array.from({ length: size }, (_, i) => (((i + salt) * 7919) % 1000) / 500 - 1);
  // Every operand is a contiguous [B, S, H·D] tensor.
  const bs = s.seq * s.heads * s.headDim,
    ss = s.heads * s.headDim,
    hs = s.headDim;
  return {
    batch: s.batch,
    heads: s.heads,
    kv_heads: s.heads,
    q_len: s.seq,
    kv_len: s.seq,
    head_dim: s.headDim,
    scale: 1 / Math.sqrt(s.headDim),
    q: fill(1),
    q_bs: bs,
    q_ss: ss,
    q_hs: hs,
    k: fill(2),
    k_bs: bs,
    k_ss: ss,
    k_hs: hs,
    v: fill(3),
    v_bs: bs,
    v_ss: ss,
    v_hs: hs,
    o: new Float32Array(size),
    o_bs: bs,
    o_ss: ss,
    o_hs: hs,
    key_mask: null,
    mask_bs: 0,
    causal: 0,
    lse: new Float32Array(s.batch * s.heads * s.seq),
    d_o: fill(4),
    do_bs: bs,
    do_ss: ss,
    do_hs: hs,
    d_q: new Float32Array(size),
    dq_bs: bs,
    dq_ss: ss,
    dq_hs: hs,
    d_k: new Float32Array(size),
    dk_bs: bs,
    dk_ss: ss,
    dk_hs: hs,
    d_v: new Float32Array(size),
    dv_bs: bs,
    dv_ss: ss,
    dv_hs: hs,
  };
}

interface Timing {
  readonly medianMs: number;
  readonly bestMs: number;
}

async function measure(run: () => void, iters: number): Promise<Timing> {
  const samples = await timeRuns(run, { warmup: 3, iters });
  return { medianMs: median(samples), bestMs: Math.min(...samples) };
}

const cell = (t: Timing, flops: number): string =>
  `${t.medianMs.toFixed(3).padStart(9)} ms ${(flops / t.medianMs / 1e6).toFixed(1).padStart(7)} GFLOP/s (best ${(flops / t.bestMs / 1e6).toFixed(1).padStart(6)})`;

function checked(status: number, what: string): void {
  if (status !== 0) throw new Error(`${what}: expected status 0, found ${status}`);
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf("--iters");
  const iters = at >= 0 ? Number(argv[at + 1]) : 20;
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const kernels: CpuKernels = loadCpuKernels();
  const openblas = argv.includes("--no-openblas") ? undefined : loadOpenBlas();
  const env = (name: string) => `${name}=${process.env[name] ?? "(unset)"}`;
  console.log(`machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${env("OMP_NUM_THREADS")}, ${env("OMP_WAIT_POLICY")}`);
  console.log(`openblas: ${openblas?.describe ?? "not found (set KILN_OPENBLAS to its path)"}`);
  console.log(`timing: 3 warm-up runs, median of ${iters} (and the best run in parentheses)\n`);

  for (const s of GEMMS) {
    const name = `sgemm ${s.batch > 1 ? `${s.batch}x` : ""}(${s.m}x${s.k}x${s.n})${s.transposeA ? " A^T" : ""}${s.transposeB ? " B^T" : ""}`;
    if (only && !name.includes(only)) continue;
    const call = gemmCall(s);
    const flops = gemmFlops(s.batch, s.m, s.n, s.k);
    const kiln = await measure(() => checked(kernels.sgemm(call), name), iters);
    let line = `${name.padEnd(28)} kiln ${cell(kiln, flops)}`;
    if (openblas) {
      // Let the other library's worker threads stop spinning before timing this one.
      await sleep(200);
      const blas = await measure(() => openblas.sgemm(call), iters);
      line += ` | openblas ${cell(blas, flops)}`;
      // Both libraries must have computed the same product for the comparison to mean anything.
      const fromBlas = call.c.slice();
      checked(kernels.sgemm(call), name);
      let scale = 0,
        diff = 0;
      for (let i = 0; i < fromBlas.length; i++) {
        scale = Math.max(scale, Math.abs(fromBlas[i]!));
        diff = Math.max(diff, Math.abs(fromBlas[i]! - call.c[i]!));
      }
      if (!(diff <= 1e-4 * scale)) line += ` MISMATCH: max difference ${diff} at scale ${scale}`;
      await sleep(200);
    }
    console.log(line);
  }
  console.log("");
  for (const s of ATTENTIONS) {
    const name = `attention b${s.batch} h${s.heads} s${s.seq} d${s.headDim}`;
    if (only && !name.includes(only)) continue;
    const call = attentionCall(s);
    const size = { batch: s.batch, heads: s.heads, qLen: s.seq, kvLen: s.seq, headDim: s.headDim };
    const forward = await measure(() => checked(kernels.attentionForward(call), name), iters);
    const backward = await measure(() => checked(kernels.attentionBackward(call), name), iters);
    const both = await measure(() => {
      checked(kernels.attentionForward(call), name);
      checked(kernels.attentionBackward(call), name);
    }, iters);
    console.log(`${name.padEnd(28)} forward          ${cell(forward, attentionForwardFlops(size))}`);
    console.log(`${"".padEnd(28)} backward         ${cell(backward, attentionBackwardFlops(size))}`);
    console.log(`${"".padEnd(28)} forward+backward ${cell(both, attentionForwardFlops(size) + attentionBackwardFlops(size))}`);
  }
  console.log("\nflops: GEMM 2·B·M·N·K; attention forward 4·B·H·S²·D, backward 2.5× that (S, dP, dV, dK, dQ).");
  kernels.library.close();
}

await main(process.argv.slice(2));
