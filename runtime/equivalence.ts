// The backend-equivalence check, written once for every device: each family of GRAD_CASES (every
// primitive and composite, and random graphs), forward and the gradients of sum(output · cotangent),
// all compiled as one step on the device (so a device compiles once) and compared with the
// interpreter. test/equivalence.test.ts runs it on every registered device this machine has, and
// bench/gpu/equivalence.ts on the GPU.

import fc from "fast-check";
import { backward, isFloat, GRAD_CASES, type GradCase, seededRandom, type Tensor, interpret, type HostArray, ops } from "../compiler/index.ts";
import type { DeviceChoice } from "./device.ts";
import { compileStep } from "./step.ts";
import type { TypedArray } from "./trace.ts";

/** Largest accepted |device − interpreter| / max(1, max |interpreter|) per output, in f32. */
export const EQUIVALENCE_TOLERANCE = 2e-4;

export interface EquivalenceOptions {
  /** Cases drawn per family (default 4). */
  runs?: number;
  /** fast-check seed of the draw (default 7). */
  seed?: number;
  /** The compiled step's name. */
  name?: string;
}

export interface CaseResult {
  family: string;
  label: string;
  /** Relative error of the forward output, then of each gradient. */
  errors: number[];
  ok: boolean;
}

/** |got − want| / max(1, max |want|); NaN where both are NaN is agreement, elsewhere it is infinite error. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, Number.isNaN(d) ? (Number.isNaN(got[i]!) && Number.isNaN(want[i]!) ? 0 : Infinity) : d);
  }
  return worst / scale;
}

/** The forward output and the gradients of sum(output · cotangent) for one case. */
function caseGraph(c: GradCase, xs: readonly Tensor[], cotangent: Tensor): Tensor[] {
  const out = c.fn(...xs);
  const loss = ops.sum(ops.mul(out, cotangent));
  return [
    out,
    ...backward(
      loss,
      xs.filter((x) => isFloat(x.dtype)),
      ops.scalar(1, loss.dtype),
    ),
  ];
}

interface Entry {
  family: string;
  c: GradCase;
  key: string;
  /** Values by input name: the case's inputs, then the cotangent. */
  feeds: Record<string, HostArray>;
  inputs: { shape: readonly number[]; dtype: HostArray["dtype"] }[];
}

function entriesOf(options: EquivalenceOptions): Entry[] {
  return GRAD_CASES.flatMap((family) =>
    fc.sample(family.arb, { numRuns: options.runs ?? 4, seed: options.seed ?? 7 }).map((c, i) => {
      const key = `${family.name}_${i}`;
      const outShape = c.fn(...c.inputs.map((h, k) => ops.input(`probe${k}`, h.shape, h.dtype))).shape;
      const rand = seededRandom(key.length * 7919);
      const cotangent: HostArray = {
        shape: outShape,
        dtype: "f32",
        data: Float64Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1),
      };
      const values = [...c.inputs, cotangent];
      return {
        family: family.name,
        c,
        key,
        feeds: Object.fromEntries(values.map((h, k) => [`${key}/${k}`, h])),
        inputs: values.map((h) => ({ shape: h.shape, dtype: h.dtype })),
      };
    }),
  );
}

export interface EquivalenceReport {
  cases: CaseResult[];
  /** L2 kernels and launches of the one compiled step, and its compile phases in seconds. */
  kernels: number;
  launches: number;
  compileSeconds: Readonly<Record<string, number>>;
}

/** Every case compiled as one step on `device`, run once, each output compared with the interpreter's. */
export function gradCaseEquivalence(device: DeviceChoice, options: EquivalenceOptions = {}): EquivalenceReport {
  const entries = entriesOf(options);
  const example = Object.fromEntries(entries.map((e) => [e.key, e.inputs]));
  const step = compileStep(
    (tree) => {
      const t = tree as Record<string, Tensor[]>;
      return Object.fromEntries(entries.map((e) => [e.key, caseGraph(e.c, t[e.key]!.slice(0, -1), t[e.key]!.at(-1)!)]));
    },
    example,
    { device, name: options.name ?? "equivalence" },
  );
  const stats = { kernels: step.program.kernels.length, launches: step.kernelCount, compileSeconds: step.compileSeconds };
  let results: Record<string, TypedArray[]>;
  try {
    results = step.run(new Map(entries.flatMap((e) => Object.entries(e.feeds)))) as Record<string, TypedArray[]>;
  } finally {
    step.dispose();
  }
  const cases = entries.map((e) => {
    const xs = e.c.inputs.map((h, k) => ops.input(`${e.key}/${k}`, h.shape, h.dtype));
    const cotangent = ops.input(`${e.key}/${e.c.inputs.length}`, e.inputs.at(-1)!.shape, "f32");
    const expected = interpret(caseGraph(e.c, xs, cotangent), e.feeds, { precision: "native" }) as HostArray[];
    const got = results[e.key]!;
    const errors = expected.map((ref, o) => (got[o] && got[o]!.length === ref.data.length ? relativeError(got[o]!, ref.data) : Infinity));
    return { family: e.family, label: e.c.label, errors, ok: errors.length === got.length && errors.every((x) => x <= EQUIVALENCE_TOLERANCE) };
  });
  return { cases, ...stats };
}
