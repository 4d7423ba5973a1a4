// The GPU session's one run (started by bench/gpu/run.sh): kiln doctor, then every corpus kernel compiled
// with NVRTC, run on random data and compared with a CPU reference, then GEMM / attention / AdamW timings
// next to PyTorch measured in the same run. Every step is guarded; results go to <out>/smoke.json as they come.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import doctor from "../../bin/commands/doctor.ts";
import { parseArgs } from "../../bin/command.ts";
import { bf16Bits, roundBf16 } from "../../compiler/dtype.ts";
import { philoxUniform } from "../../compiler/philox.ts";
import { adamwHyper, adamwMultiTensor, adamwTable } from "../../kernels/cuda/adamw.ts";
import { attentionBackward, attentionBackwardConvertDq, attentionBackwardPreprocess } from "../../kernels/cuda/attention-backward.ts";
import { attentionForward, attentionScale, type AttentionShape } from "../../kernels/cuda/attention.ts";
import { EPILOGUES, MMA_TILES, WGMMA_TILES, cudaCorpus, type CorpusEntry, type CorpusEpilogue } from "../../kernels/cuda/corpus.ts";
import { gemmMma, type GemmProblem } from "../../kernels/cuda/gemm-mma.ts";
import { gemmWgmma } from "../../kernels/cuda/gemm-wgmma.ts";
import type { CudaKernel } from "../../kernels/cuda/kernel.ts";
import { gaussianF32 } from "../../models/noise.ts";
import type { CudaDevice } from "../../runtime/cuda/device.ts";
import type { Handle } from "../../runtime/cuda/driver.ts";
import { adamwElement, attentionReference, bf16Values, compare, gemmElement, randomBf16, uniforms } from "./references.ts";
import { guardedSteps } from "./guarded.ts";
import { deviceGemmTimer, tileName, tuneGemm } from "../../runtime/cuda/autotune.ts";

const { flags } = parseArgs(process.argv.slice(2), ["quick"]);
const outDir = flags.get("out") ?? process.env.OUT ?? "out/gpu";
const deadline = Date.now() + Number(flags.get("budget") ?? 420) * 1000;
const quick = flags.has("quick");
mkdirSync(outDir, { recursive: true });

interface Check {
  name: string;
  kernels: string[];
  ok: boolean;
  /** Error of each output relative to its largest reference magnitude. */
  relErrors: Record<string, number>;
  tolerance: number;
  resources: Record<string, { registers: number; localBytes: number }>;
}
interface Timing {
  what: string;
  kernel: string;
  ms: number;
  tflops?: number;
  gbps?: number;
  spotRelError?: number;
}
const report = {
  started: new Date().toISOString(),
  device: null as null | Record<string, unknown>,
  doctor: "",
  checks: [] as Check[],
  timings: [] as Timing[],
  peers: null as unknown,
  /** The autotuner (runtime/cuda/autotune.ts) on the AAADiT shapes: the tile it picks and every tile's ms. */
  autotune: [] as { what: string; tile: string; times: Record<string, number | string> }[],
  failures: [] as { step: string; error: string }[],
  skipped: [] as string[],
};
const { step, save } = guardedSteps(report, join(outDir, "smoke.json"), deadline);

/** Device buffers of one step, freed together. */
function buffers(device: CudaDevice) {
  const owned: Handle[] = [];
  const alloc = (bytes: number) => {
    const pointer = device.alloc(bytes);
    owned.push(pointer);
    return pointer;
  };
  return {
    upload(data: ArrayBufferView) {
      const pointer = alloc(data.byteLength);
      device.upload(pointer, data);
      return pointer;
    },
    zeros(bytes: number) {
      const pointer = alloc(bytes);
      device.memset(pointer, 0, bytes);
      return pointer;
    },
    release: () => owned.splice(0).forEach((p) => device.free(p)),
  };
}

const download = (device: CudaDevice, pointer: Handle, type: "bf16" | "f32", length: number): Float64Array => {
  device.synchronize();
  if (type === "f32") {
    const out = new Float32Array(length);
    device.download(pointer, out);
    return Float64Array.from(out);
  }
  const out = new Uint16Array(length);
  device.download(pointer, out);
  return bf16Values(out);
};

function record(device: CudaDevice, name: string, kernels: CudaKernel[], relErrors: Record<string, number>, tolerance: number): Check {
  const resources = Object.fromEntries(kernels.map((k) => [k.name, device.resources(device.load(k))]));
  const ok = Object.values(relErrors).every((e) => e <= tolerance);
  const check = { name, kernels: kernels.map((k) => k.name), ok, relErrors, tolerance, resources };
  report.checks.push(check);
  if (!ok) throw new Error(`${name}: relative errors ${JSON.stringify(relErrors)} exceed ${tolerance}`);
  return check;
}

/** Inputs and extra epilogue arguments of a GEMM problem, uploaded. */
function gemmInputs(mem: ReturnType<typeof buffers>, p: GemmProblem, extrasOf: CorpusEpilogue, seed: number) {
  const batch = p.batch ?? 1;
  const a = randomBf16(batch * p.m * p.k, seed);
  const b = randomBf16(batch * p.n * p.k, seed + 1);
  const args: Record<string, bigint | number> = {
    A: mem.upload(a.bits),
    B: mem.upload(b.bits),
    C: mem.zeros(batch * p.m * p.n * (p.out === "bf16" ? 2 : 4)),
  };
  const extras: Record<string, number | Float64Array> = {};
  extrasOf.extras.forEach((extra, i) => {
    if (extra.kind === "f32") {
      args[extra.name] = extra.value;
      extras[extra.name] = Math.fround(extra.value);
    } else {
      const data = randomBf16(extra.length(p), seed + 10 + i);
      args[extra.name] = mem.upload(data.bits);
      extras[extra.name] = data.values;
    }
  });
  return { a, b, args, extras };
}

function checkGemm(device: CudaDevice, entry: CorpusEntry & { kind: "gemm" }): void {
  const mem = buffers(device);
  try {
    const p = entry.problem;
    const batch = p.batch ?? 1;
    const { a, b, args, extras } = gemmInputs(mem, p, entry.epilogue, 7);
    device.launch(entry.kernel, args);
    const got = download(device, args.C as bigint, p.out, batch * p.m * p.n);
    const want = new Float64Array(got.length);
    for (let z = 0; z < batch; z++)
      for (let row = 0; row < p.m; row++)
        for (let col = 0; col < p.n; col++) {
          const value = entry.epilogue.reference(gemmElement(p, a.values, b.values, z, row, col), z, row, col, extras, p);
          want[(z * p.m + row) * p.n + col] = p.out === "bf16" ? roundBf16(value) : value;
        }
    record(device, entry.kernel.name, [entry.kernel], { C: compare(got, want).relError }, p.out === "bf16" ? 1e-2 : 1e-3);
  } finally {
    mem.release();
  }
}

function checkAttention(device: CudaDevice, entry: CorpusEntry & { kind: "attention" }): void {
  const mem = buffers(device);
  try {
    const s = entry.shape;
    const row = s.heads * s.headDim;
    const q = randomBf16(s.batch * s.seqQ * row, 21);
    const k = randomBf16(s.batch * s.seqK * row, 22);
    const v = randomBf16(s.batch * s.seqK * row, 23);
    const dout = randomBf16(s.batch * s.seqQ * row, 24);
    // Every third key of the second batch is hidden, and the whole tail of the first.
    const mask = s.mask
      ? Uint8Array.from({ length: s.batch * s.seqK }, (_, i) => (i < s.seqK ? (i < s.seqK - 40 ? 1 : 0) : i % 3 === 0 ? 0 : 1))
      : null;
    const Q = mem.upload(q.bits);
    const K = mem.upload(k.bits);
    const V = mem.upload(v.bits);
    const dO = mem.upload(dout.bits);
    const O = mem.zeros(q.bits.byteLength);
    const LSE = mem.zeros(s.batch * s.heads * s.seqQ * 4);
    const Delta = mem.zeros(s.batch * s.heads * s.seqQ * 4);
    const dQAcc = mem.zeros(s.batch * s.seqQ * row * 4);
    const dQ = mem.zeros(q.bits.byteLength);
    const dK = mem.zeros(k.bits.byteLength);
    const dV = mem.zeros(v.bits.byteLength);
    const maskArg: Record<string, bigint> = mask ? { key_mask: mem.upload(mask) } : {};
    device.launch(entry.forward, { Q, K, V, O, LSE, ...maskArg });
    device.launch(entry.delta, { O, dO, Delta, dQ_acc: dQAcc });
    device.launch(entry.backward, { Q, K, V, dO, LSE, Delta, dQ_acc: dQAcc, dK, dV, ...maskArg });
    device.launch(entry.convertDq, { dQ_acc: dQAcc, dQ });
    const want = attentionReference(s, attentionScale(s), q.values, k.values, v.values, dout.values, mask);
    const lse = download(device, LSE, "f32", want.lse.length);
    const lseWant = want.lse.map((x) => (x === Number.NEGATIVE_INFINITY ? -1e30 : x));
    const relErrors = {
      O: compare(download(device, O, "bf16", want.out.length), want.out).relError,
      LSE: compare(
        lse.map((x) => (x === Number.NEGATIVE_INFINITY ? -1e30 : x)),
        lseWant,
      ).maxAbsError,
      dQ: compare(download(device, dQ, "bf16", want.dq.length), want.dq).relError,
      dK: compare(download(device, dK, "bf16", want.dk.length), want.dk).relError,
      dV: compare(download(device, dV, "bf16", want.dv.length), want.dv).relError,
    };
    record(
      device,
      entry.forward.name.replace("attention_fwd", "attention"),
      [entry.forward, entry.delta, entry.backward, entry.convertDq],
      relErrors,
      3e-2,
    );
  } finally {
    mem.release();
  }
}

function checkAdamw(device: CudaDevice, entry: CorpusEntry & { kind: "adamw" }): void {
  const mem = buffers(device);
  try {
    const o = entry.options;
    const encode = (values: Float64Array, type: "bf16" | "f32") => (type === "bf16" ? Uint16Array.from(values, bf16Bits) : Float32Array.from(values));
    const decode = (values: Float64Array, type: "bf16" | "f32") => (type === "bf16" ? values.map(roundBf16) : values.map(Math.fround));
    const [lr, weightDecay, step] = [1e-3, 0.01, 3];
    const tensors = entry.numels.map((numel, i) => {
      const param = decode(uniforms(numel, 100 + i), o.param);
      const grad = decode(uniforms(numel, 200 + i), o.grad);
      const m = decode(uniforms(numel, 300 + i, -0.1, 0.1), o.state);
      const v = decode(uniforms(numel, 400 + i, 0, 0.01), o.state);
      return {
        host: { param, grad, m, v },
        device: {
          param: mem.upload(encode(param, o.param)),
          grad: mem.upload(encode(grad, o.grad)),
          expAvg: mem.upload(encode(m, o.state)),
          expAvgSq: mem.upload(encode(v, o.state)),
          paramBf16: o.bf16Copy ? mem.zeros(numel * 2) : 0n,
          numel,
        },
      };
    });
    const table = adamwTable(tensors.map((t) => t.device));
    device.launch(
      entry.kernel,
      { table: mem.upload(table.bytes), hyper: mem.upload(adamwHyper(lr, weightDecay, step)), tensor_count: tensors.length },
      [table.blocks, 1, 1],
    );
    const relErrors: Record<string, number> = {};
    tensors.forEach((t, i) => {
      const want = Array.from(t.host.param, (theta, j) =>
        adamwElement(theta, t.host.grad[j]!, t.host.m[j]!, t.host.v[j]!, Math.fround(lr), Math.fround(weightDecay), step),
      );
      const wantParam = decode(
        Float64Array.from(want, (w) => w.theta),
        o.param,
      );
      const param = download(device, t.device.param, o.param, t.device.numel);
      relErrors[`param${i}`] = compare(param, wantParam).maxAbsError;
      relErrors[`exp_avg_sq${i}`] = compare(
        download(device, t.device.expAvgSq, o.state, t.device.numel),
        decode(
          Float64Array.from(want, (w) => w.v),
          o.state,
        ),
      ).relError;
      // The copy must be exactly the bf16 rounding of the updated master weight.
      if (o.bf16Copy) relErrors[`copy${i}`] = compare(download(device, t.device.paramBf16, "bf16", t.device.numel), param.map(roundBf16)).maxAbsError;
    });
    // |θ| ≤ 1: an f32 result should be within a few f32 ulps, a bf16 one within one bf16 ulp.
    record(device, entry.kernel.name, [entry.kernel], relErrors, o.param === "bf16" ? 2 ** -7 : 1e-6);
  } finally {
    mem.release();
  }
}

function checkPhilox(device: CudaDevice, entry: CorpusEntry & { kind: "philox" }): void {
  const mem = buffers(device);
  try {
    const seed = 1234;
    const offset = entry.distribution === "uniform" ? 7 : 0;
    const out = mem.zeros(entry.count * (entry.out === "bf16" ? 2 : 4));
    device.launch(entry.kernel, { out, seed, offset });
    const got = download(device, out, entry.out, entry.count);
    let want: Float64Array;
    if (entry.distribution === "uniform") {
      const uniform = new Float32Array(entry.count);
      philoxUniform(uniform, seed, offset);
      want = Float64Array.from(uniform);
    } else want = Float64Array.from(gaussianF32(entry.count, seed));
    if (entry.out === "bf16") want = want.map(roundBf16);
    // Normals: the GPU's double log/sin/cos may differ from V8's in the last bit, so allow one f32 ulp (about
    // 5e-7 at |x| ≈ 4), or one bf16 ulp after rounding to bf16.
    const tolerance = entry.distribution === "uniform" ? 0 : entry.out === "bf16" ? 0.04 : 1e-5;
    record(device, entry.kernel.name, [entry.kernel], { out: compare(got, want).maxAbsError }, tolerance);
  } finally {
    mem.release();
  }
}

/** GEMM timings: kiln's templates on the benchmark shapes, with a spot check of 256 outputs each. */
function benchmarkGemm(device: CudaDevice, p: GemmProblem, label: string): void {
  const kernels = [gemmMma(p, MMA_TILES.large), gemmMma(p, MMA_TILES.square), gemmWgmma(p, WGMMA_TILES.wide), gemmWgmma(p, WGMMA_TILES.square)];
  const mem = buffers(device);
  try {
    const { a, b, args } = gemmInputs(mem, p, EPILOGUES.plain, 99);
    const samples = Array.from(uniforms(256, 5, 0, p.m * p.n), Math.floor);
    for (const kernel of kernels) {
      const ms = device.time(() => device.launch(kernel, args), 20);
      const got = download(device, args.C as bigint, p.out, p.m * p.n);
      const want = new Float64Array(got.length);
      for (const i of samples) want[i] = roundBf16(gemmElement(p, a.values, b.values, 0, Math.floor(i / p.n), i % p.n));
      report.timings.push({
        what: `gemm ${label}`,
        kernel: kernel.name,
        ms,
        tflops: (2 * p.m * p.n * p.k) / (ms * 1e9),
        spotRelError: compare(got, want, samples).relError,
      });
    }
  } finally {
    mem.release();
  }
}

function benchmarkAttention(device: CudaDevice, s: AttentionShape): void {
  const mem = buffers(device);
  try {
    const row = s.heads * s.headDim;
    const bytes = s.batch * s.seqQ * row * 2;
    const [Q, K, V, dO] = [1, 2, 3, 4].map((seed) => mem.upload(randomBf16(s.batch * s.seqQ * row, seed).bits));
    const [O, dQ, dK, dV] = [0, 1, 2, 3].map(() => mem.zeros(bytes));
    const [LSE, Delta] = [0, 1].map(() => mem.zeros(s.batch * s.heads * s.seqQ * 4));
    const dQAcc = mem.zeros(bytes * 2);
    const forward = attentionForward(s);
    const kernels = [attentionBackwardPreprocess(s), attentionBackward(s), attentionBackwardConvertDq(s)];
    const flops = 4 * s.batch * s.heads * s.seqQ * s.seqK * s.headDim;
    const fwdMs = device.time(() => device.launch(forward, { Q, K, V, O, LSE }), 20);
    report.timings.push({ what: "attention forward", kernel: forward.name, ms: fwdMs, tflops: flops / (fwdMs * 1e9) });
    const bwdMs = device.time(() => {
      device.launch(kernels[0]!, { O, dO, Delta, dQ_acc: dQAcc });
      device.launch(kernels[1]!, { Q, K, V, dO, LSE, Delta, dQ_acc: dQAcc, dK, dV });
      device.launch(kernels[2]!, { dQ_acc: dQAcc, dQ });
    }, 10);
    report.timings.push({ what: "attention backward", kernel: kernels[1]!.name, ms: bwdMs, tflops: (2.5 * flops) / (bwdMs * 1e9) });
  } finally {
    mem.release();
  }
}

/** One AdamW step over the AAADiT's 128.8 M parameters (f32 master, bf16 grads and copy), as achieved bandwidth. */
function benchmarkAdamw(device: CudaDevice): void {
  const numels = [...Array.from({ length: 150 }, () => 850_000), 1_324_448];
  const options = { param: "f32", grad: "bf16", state: "f32", bf16Copy: true } as const;
  const kernel = adamwMultiTensor(numels, options);
  const mem = buffers(device);
  try {
    const tensors = numels.map((numel) => ({
      param: mem.zeros(numel * 4),
      grad: mem.zeros(numel * 2),
      expAvg: mem.zeros(numel * 4),
      expAvgSq: mem.zeros(numel * 4),
      paramBf16: mem.zeros(numel * 2),
      numel,
    }));
    const table = adamwTable(tensors);
    const args = { table: mem.upload(table.bytes), hyper: mem.upload(adamwHyper(1e-4, 0.01, 1)), tensor_count: tensors.length };
    const ms = device.time(() => device.launch(kernel, args, [table.blocks, 1, 1]), 10);
    const total = numels.reduce((a, b) => a + b, 0);
    report.timings.push({
      what: `adamw ${(total / 1e6).toFixed(1)}M params`,
      kernel: kernel.name,
      ms,
      gbps: (total * (4 + 2 + 4 + 4 + 4 + 4 + 4 + 2)) / (ms * 1e6),
    });
  } finally {
    mem.release();
  }
}

const AAADIT_GEMMS: [string, GemmProblem][] = [
  ["4096³", { m: 4096, n: 4096, k: 4096, layout: "tn", out: "bf16" }],
  ["AAADiT qkv/ff-up 12288×3072×1024", { m: 12288, n: 3072, k: 1024, layout: "tn", out: "bf16" }],
  ["AAADiT ff-down 12288×1024×3072", { m: 12288, n: 1024, k: 3072, layout: "tn", out: "bf16" }],
  ["AAADiT proj 12288×1024×1024", { m: 12288, n: 1024, k: 1024, layout: "tn", out: "bf16" }],
  ["AAADiT 12288×2048×1024", { m: 12288, n: 2048, k: 1024, layout: "tn", out: "bf16" }],
];
const AAADIT_ATTENTION: AttentionShape = { batch: 32, heads: 32, seqQ: 384, seqK: 384, headDim: 32, mask: false };

function printTables(): void {
  console.log("\ncorrectness (error relative to the reference's largest value; LSE, AdamW param and Philox: absolute)");
  for (const c of report.checks)
    console.log(
      `  ${c.ok ? "ok  " : "FAIL"} ${c.name.padEnd(72)} ${Object.entries(c.relErrors)
        .map(([k, e]) => `${k} ${e.toExponential(1)}`)
        .join("  ")}`,
    );
  const peers = (report.peers ?? {}) as Record<string, number>;
  console.log("\ntimings");
  for (const t of report.timings) {
    const peer = peers[t.what];
    const rate = t.tflops !== undefined ? `${t.tflops.toFixed(1).padStart(6)} TFLOP/s` : `${(t.gbps ?? 0).toFixed(0).padStart(6)} GB/s   `;
    const ratio = peer ? `  torch ${peer.toFixed(3)} ms  kiln/torch ${(t.ms / peer).toFixed(2)}` : "";
    console.log(
      `  ${t.what.padEnd(36)} ${t.kernel.slice(0, 60).padEnd(60)} ${t.ms.toFixed(3).padStart(8)} ms ${rate}${t.spotRelError !== undefined ? `  spot err ${t.spotRelError.toExponential(1)}` : ""}${ratio}`,
    );
  }
  if (report.failures.length > 0) console.log(`\n${report.failures.length} step(s) failed: ${report.failures.map((f) => f.step).join(", ")}`);
  if (report.skipped.length > 0) console.log(`skipped for time: ${report.skipped.join(", ")}`);
}

async function main(): Promise<number> {
  console.log(`kiln GPU smoke run → ${join(outDir, "smoke.json")}`);
  await step("kiln doctor", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
    try {
      await doctor.run([]);
    } finally {
      console.log = log;
    }
    report.doctor = lines.join("\n");
    console.log(report.doctor);
  });
  const { CudaDevice } = await import("../../runtime/cuda/device.ts");
  const device = await step("open the CUDA device", () => CudaDevice.open());
  if (!device) {
    printTables();
    return 1;
  }
  report.device = { ...device.info, nvrtc: await step("load NVRTC", () => device.nvrtc.version) };
  for (const entry of cudaCorpus()) {
    const name = entry.kind === "attention" ? entry.forward.name.replace("attention_fwd", "attention") : entry.kernel.name;
    await step(`check ${name}`, () => {
      if (entry.kind === "gemm") checkGemm(device, entry);
      else if (entry.kind === "attention") checkAttention(device, entry);
      else if (entry.kind === "adamw") checkAdamw(device, entry);
      else checkPhilox(device, entry);
    });
  }
  for (const [label, problem] of quick ? AAADIT_GEMMS.slice(0, 1) : AAADIT_GEMMS)
    await step(`time gemm ${label}`, () => benchmarkGemm(device, problem, label));
  await step("time attention (AAADiT: 32×384 tokens, 32 heads of 32)", () => benchmarkAttention(device, AAADIT_ATTENTION));
  await step("time adamw (AAADiT parameter count)", () => benchmarkAdamw(device));
  await step("time capture and replay of a CUDA graph", () => {
    const mem = buffers(device);
    try {
      const kernel = cudaCorpus().find((e) => e.kind === "philox")!;
      const out = mem.zeros((kernel as CorpusEntry & { kind: "philox" }).count * 4);
      const launch = () => device.launch((kernel as CorpusEntry & { kind: "philox" }).kernel, { out, seed: 1, offset: 0 });
      const graph = device.capture(() => {
        for (let i = 0; i < 100; i++) launch();
      });
      const graphMs = device.time(() => graph.launch(), 5) / 100;
      const eagerMs =
        device.time(() => {
          for (let i = 0; i < 100; i++) launch();
        }, 5) / 100;
      graph.destroy();
      report.timings.push(
        { what: "launch via graph (per kernel)", kernel: "philox", ms: graphMs },
        { what: "launch eager (per kernel)", kernel: "philox", ms: eagerMs },
      );
    } finally {
      mem.release();
    }
  });
  await step("torch peers (python3 bench/gpu/torch_peer.py)", () => {
    const spec = {
      gemms: AAADIT_GEMMS.map(([label, p]) => ({ what: `gemm ${label}`, m: p.m, n: p.n, k: p.k })),
      attention: { what: ["attention forward", "attention backward"], ...AAADIT_ATTENTION },
    };
    const run = spawnSync(flags.get("python") ?? "python3", [flags.get("peer") ?? "bench/gpu/torch_peer.py", JSON.stringify(spec)], {
      encoding: "utf8",
      timeout: Math.max(10_000, deadline - Date.now()),
    });
    if (run.status !== 0) throw new Error(`torch peer exited with ${run.status ?? run.signal}: ${(run.stderr ?? "").slice(-2000)}`);
    report.peers = JSON.parse(run.stdout.trim().split("\n").pop()!);
  });
  if (!quick)
    await step("autotune the AAADiT GEMM shapes (last: at most 10 s each, within what is left)", () => {
      const timer = deviceGemmTimer(device);
      for (const [label, p] of AAADIT_GEMMS.slice(1)) {
        const shape = { m: p.m, n: p.n, k: p.k, batch: 1, layout: p.layout, strideA: 0, strideB: 0, strideC: 0, out: p.out };
        const result = tuneGemm(shape, (tile) => timer(shape, tile), { budgetMs: Math.min(10_000, (deadline - Date.now()) / 4) });
        report.autotune.push({ what: `gemm ${label}`, tile: tileName(result.tile), times: result.times });
      }
    });
  device.close();
  printTables();
  save();
  return report.failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
