// The fixed corpus of whole programs the CUDA renderer is checked on: rendered and compiled with nvcc
// and NVRTC on every machine (test/cuda-renderer.test.ts), run on the GPU by bench/gpu/equivalence.ts.
// Each entry is a graph built by model code: the AAA block (dim 64 and the real 1024 with 32 heads)
// forward and forward + backward in bf16, AdamW over a parameter tree, attention forward and backward
// on the flash path (bf16, key mask) and on the SIMT path (f32, causal, grouped-query), an f32 MLP
// (SIMT GEMM) and a bf16 embedding gradient (scatter with 16-bit atomics).
import * as ops from "../../compiler/ops.ts";
import * as nn from "../../compiler/nn.ts";
import { backward } from "../../compiler/autodiff.ts";
import { roundTo, type DType } from "../../compiler/dtype.ts";
import type { Tensor } from "../../compiler/graph.ts";
import { hostArray, type HostArray } from "../../compiler/interpret.ts";
import { seededRandom } from "../../compiler/gradcheck.ts";
import { aaaBlock, ditConfig, ditParamSpec } from "../../models/dit.ts";
import { adamwUpdate } from "../../models/optim.ts";

export interface CorpusProgram {
  readonly name: string;
  /** Graph outputs and the external inputs (in the order values are given). */
  readonly outputs: readonly Tensor[];
  readonly inputs: readonly Tensor[];
  /** How to draw each input's values; default uniform in [-1, 1] (integer inputs need `ids`). */
  readonly ranges?: ReadonlyMap<Tensor, ValueRange>;
}

export type ValueRange =
  | { readonly kind: "uniform"; readonly scale: number; readonly positive?: boolean }
  | { readonly kind: "ids"; readonly below: number }
  /** 0/1 with the first element of each row set, so no row is fully masked by chance alone. */
  | { readonly kind: "mask" };

/** The block's graph: forward only, or the loss and the gradients of every input and block parameter. */
export function aaaBlockProgram(
  name: string,
  o: { dim: number; heads: number; batch: number; seq: number; dtype: DType; train: boolean },
): CorpusProgram {
  const cfg = ditConfig({ dim: o.dim, depth: 1, heads: o.heads });
  const specs = ditParamSpec(cfg).filter((p) => p.name.startsWith("blocks.0."));
  const p = Object.fromEntries(specs.map((s) => [s.name, ops.param(s.name, s.shape, o.dtype)]));
  const x = ops.input("x", [o.batch, o.seq, o.dim], o.dtype);
  const pos = ops.input("pos", [o.batch, o.seq, o.dim], o.dtype);
  const temb = ops.input("temb", [o.batch, 1, o.dim], o.dtype);
  const out = aaaBlock(p, "blocks.0", x, pos, temb, cfg.heads);
  const params = specs.map((s) => p[s.name]!);
  const ranges = new Map<Tensor, ValueRange>(params.map((t) => [t, { kind: "uniform", scale: 1 / Math.sqrt(o.dim) }]));
  if (!o.train) return { name, outputs: [out], inputs: [x, pos, temb, ...params], ranges };
  const target = ops.input("target", out.shape, o.dtype);
  const loss = nn.mseLoss(out, target);
  const wrt = [x, pos, temb, ...params];
  return { name, outputs: [loss, ...backward(loss, wrt, ops.scalar(1, loss.dtype))], inputs: [...wrt, target], ranges };
}

/** One AdamW step over the AAA block's parameters at dim 64 (f32 master weights and state, bf16 gradients). */
export function adamwProgram(): CorpusProgram {
  const specs = ditParamSpec(ditConfig({ dim: 64, depth: 1, heads: 2 })).filter((p) => p.name.startsWith("blocks.0."));
  const step = ops.input("step", [], "f32");
  const lr = ops.input("lr", [], "f32");
  const inputs: Tensor[] = [step, lr];
  const outputs: Tensor[] = [];
  const ranges = new Map<Tensor, ValueRange>([
    [step, { kind: "uniform", scale: 3, positive: true }],
    [lr, { kind: "uniform", scale: 1e-2, positive: true }],
  ]);
  for (const s of specs) {
    const [param, grad, m, v] = [
      ops.param(s.name, s.shape),
      ops.input(`grad/${s.name}`, s.shape, "bf16"),
      ops.input(`m/${s.name}`, s.shape),
      ops.input(`v/${s.name}`, s.shape),
    ];
    inputs.push(param, grad, m, v);
    ranges.set(v, { kind: "uniform", scale: 0.1, positive: true });
    const u = adamwUpdate(param, grad, m, v, { step, lr });
    outputs.push(u.param, u.m, u.v);
  }
  return { name: "adamw_dit_block_d64", outputs, inputs, ranges };
}

export function attentionProgram(
  name: string,
  o: { batch: number; heads: number; kvHeads: number; seqQ: number; seqK: number; headDim: number; dtype: DType; mask: boolean; causal: boolean },
): CorpusProgram {
  const q = ops.input("q", [o.batch, o.seqQ, o.heads * o.headDim], o.dtype);
  const k = ops.input("k", [o.batch, o.seqK, o.kvHeads * o.headDim], o.dtype);
  const v = ops.input("v", [o.batch, o.seqK, o.kvHeads * o.headDim], o.dtype);
  const mask = ops.input("mask", [o.batch, o.seqK], "bool");
  const out = nn.attention(q, k, v, { heads: o.heads, kvHeads: o.kvHeads, causal: o.causal, ...(o.mask ? { keyMask: mask } : {}) });
  const cotangent = ops.input("cotangent", out.shape, o.dtype);
  const loss = ops.sum(ops.mul(out, cotangent));
  const grads = backward(loss, [q, k, v], ops.scalar(1, loss.dtype));
  return {
    name,
    outputs: [out, ...grads],
    inputs: [q, k, v, ...(o.mask ? [mask] : []), cotangent],
    ranges: new Map<Tensor, ValueRange>([[mask, { kind: "mask" }]]),
  };
}

/** A two-layer f32 MLP with its gradients: f32 operands take the SIMT GEMM. */
export function mlpProgram(): CorpusProgram {
  const x = ops.input("x", [48, 40]);
  const w1 = ops.param("w1", [72, 40]);
  const b1 = ops.param("b1", [72]);
  const w2 = ops.param("w2", [24, 72]);
  const y = nn.linear(nn.gelu(nn.linear(x, w1, b1)), w2);
  const loss = ops.sum(nn.square(y));
  return { name: "mlp_f32_train", outputs: [loss, ...backward(loss, [x, w1, b1, w2], ops.scalar(1))], inputs: [x, w1, b1, w2] };
}

/** An embedding lookup in bf16 and its table gradient (scatter_add into bf16 with 16-bit atomics). */
export function embeddingProgram(): CorpusProgram {
  const ids = ops.input("ids", [6, 9], "i32");
  const table = ops.param("table", [17, 32], "bf16");
  const cotangent = ops.input("cotangent", [6, 9, 32], "bf16");
  const out = nn.embedding(ids, table);
  const loss = ops.sum(ops.mul(out, cotangent));
  return {
    name: "embedding_bf16_train",
    outputs: [out, ...backward(loss, [table], ops.scalar(1, loss.dtype))],
    inputs: [ids, table, cotangent],
    ranges: new Map<Tensor, ValueRange>([[ids, { kind: "ids", below: 17 }]]),
  };
}

export function cudaProgramCorpus(): CorpusProgram[] {
  return [
    aaaBlockProgram("aaa_block_d64_fwd", { dim: 64, heads: 2, batch: 2, seq: 40, dtype: "bf16", train: false }),
    aaaBlockProgram("aaa_block_d64_train", { dim: 64, heads: 2, batch: 2, seq: 40, dtype: "bf16", train: true }),
    aaaBlockProgram("aaa_block_d1024_fwd", { dim: 1024, heads: 32, batch: 8, seq: 384, dtype: "bf16", train: false }),
    aaaBlockProgram("aaa_block_d1024_train", { dim: 1024, heads: 32, batch: 8, seq: 384, dtype: "bf16", train: true }),
    adamwProgram(),
    attentionProgram("attention_bf16_mask_train", {
      batch: 2,
      heads: 3,
      kvHeads: 3,
      seqQ: 70,
      seqK: 52,
      headDim: 32,
      dtype: "bf16",
      mask: true,
      causal: false,
    }),
    attentionProgram("attention_f32_causal_gqa_train", {
      batch: 2,
      heads: 4,
      kvHeads: 2,
      seqQ: 19,
      seqK: 19,
      headDim: 8,
      dtype: "f32",
      mask: false,
      causal: true,
    }),
    mlpProgram(),
    embeddingProgram(),
  ];
}

/** Reproducible values for every input of a corpus program, already rounded to each input's dtype. */
export function programValues(program: CorpusProgram, seed: number): Map<Tensor, HostArray> {
  const random = seededRandom(seed);
  const values = new Map<Tensor, HostArray>();
  for (const input of program.inputs) {
    const range = program.ranges?.get(input) ?? { kind: "uniform", scale: 1 };
    const n = input.shape.reduce((a, b) => a * b, 1);
    const row = input.shape[input.shape.length - 1] ?? 1;
    const draw = (i: number): number => {
      switch (range.kind) {
        case "uniform": {
          const u = (random() * 2 - 1) * range.scale;
          return range.positive ? Math.abs(u) + range.scale * 1e-3 : u;
        }
        case "ids":
          return Math.floor(random() * range.below);
        case "mask":
          return i % row === 0 || random() < 0.7 ? 1 : 0;
        default:
          return range satisfies never;
      }
    };
    values.set(
      input,
      hostArray(
        input.shape,
        Array.from({ length: n }, (_, i) => roundTo(input.dtype, draw(i))),
        input.dtype,
      ),
    );
  }
  return values;
}

/**
 * How a corpus program's outputs are compared with the interpreter: max |got − want| over the
 * output's own largest magnitude, floored (a gradient that is ~0 by symmetry, as the key bias's,
 * compares absolutely). bf16 programs round at every op and sum in another order: a few percent.
 */
export function corpusTolerance(program: CorpusProgram): { tolerance: number; floor: number } {
  return program.inputs.some((t) => t.dtype === "bf16") ? { tolerance: 5e-2, floor: 1e-4 } : { tolerance: 1e-4, floor: 1e-3 };
}

export function outputError(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let scale = floor;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    const d = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, Number.isNaN(d) ? (Number.isNaN(got[i]!) && Number.isNaN(want[i]!) ? 0 : Infinity) : d);
  }
  return worst / scale;
}
