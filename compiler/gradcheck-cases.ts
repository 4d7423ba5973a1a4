// The gradient-check table: for every primitive and every composite, a fast-check generator of
// random cases (random shapes, with broadcasting and size-1 axes, and random values in the op's
// domain). The property tests and `kiln gradcheck` both run this one table.

import fc from "fast-check";
import type { DType } from "./dtype.ts";
import { sizeOf, type Op, type Shape, type Tensor } from "./graph.ts";
import { hostArray, type HostArray } from "./interpret.ts";
import { seededRandom } from "./gradcheck.ts";
import * as ops from "./ops.ts";
import * as nn from "./nn.ts";

export interface GradCase {
  /** What is being differentiated, e.g. "add [2,1,3] + [3]". */
  label: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: HostArray[];
}

export interface GradCaseFamily {
  name: string;
  kind: "primitive" | "composite" | "graph";
  /** The primitives whose VJP rules the family exercises directly. */
  covers: readonly Op[];
  arb: fc.Arbitrary<GradCase>;
}

// --- generators ----------------------------------------------------------------------------------

const dim = fc.integer({ min: 1, max: 4 });
const shapeArb = (minRank = 0, maxRank = 3): fc.Arbitrary<number[]> => fc.array(dim, { minLength: minRank, maxLength: maxRank });
const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });

type Domain = "any" | "positive" | "awayFromZero" | "unit";

function values(shape: Shape, seed: number, domain: Domain = "any", dtype: DType = "f32"): HostArray {
  const rand = seededRandom(seed);
  const draw = (): number => {
    const u = rand();
    switch (domain) {
      case "any":
        return u * 4 - 2;
      case "positive":
        return 0.2 + u * 2.3;
      case "awayFromZero":
        return (0.5 + u * 1.5) * (rand() < 0.5 ? -1 : 1);
      case "unit":
        return u * 2 - 1;
      default:
        return domain satisfies never;
    }
  };
  return hostArray(shape, () => draw(), dtype);
}

function ints(shape: Shape, seed: number, below: number): HostArray {
  const rand = seededRandom(seed);
  return hostArray(shape, () => Math.floor(rand() * below), "i32");
}

/** A shape and a second shape broadcastable against it (dims dropped from the front or set to 1). */
const broadcastPair = fc
  .tuple(shapeArb(0, 3), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 3 }))
  .map(([shape, ones, drop]) => {
    const other = shape.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, shape.length));
    return fc.boolean().map((swap) => (swap ? [other, shape] : [shape, other]) as [number[], number[]]);
  })
  .chain((x) => x);

const fmt = (s: Shape): string => `[${s.join(",")}]`;

function unaryFamily(
  name: string,
  f: (x: Tensor) => Tensor,
  domain: Domain,
  covers: readonly Op[],
  kind: "primitive" | "composite" = "primitive",
): GradCaseFamily {
  return {
    name,
    kind,
    covers,
    arb: fc.tuple(shapeArb(), seedArb).map(([shape, seed]) => ({ label: `${name} ${fmt(shape)}`, fn: f, inputs: [values(shape, seed, domain)] })),
  };
}

function binaryFamily(
  name: string,
  f: (a: Tensor, b: Tensor) => Tensor,
  covers: readonly Op[],
  kind: "primitive" | "composite" = "primitive",
  domainB: Domain = "any",
): GradCaseFamily {
  return {
    name,
    kind,
    covers,
    arb: fc.tuple(broadcastPair, seedArb).map(([[sa, sb], seed]) => ({
      label: `${name} ${fmt(sa)} ${fmt(sb)}`,
      fn: f,
      inputs: [values(sa, seed), values(sb, seed + 1, domainB)],
    })),
  };
}

/** Axes to reduce: a non-empty subset of a rank ≥ 1 shape's axes. */
const reduceCase = fc
  .tuple(shapeArb(1, 3), seedArb)
  .chain(([shape, seed]) => fc.subarray([...shape.keys()], { minLength: 1 }).map((axes) => ({ shape, seed, axes })));

// --- the table -----------------------------------------------------------------------------------

const primitives: GradCaseFamily[] = [
  {
    name: "reshape",
    kind: "primitive",
    covers: ["reshape"],
    arb: fc.tuple(shapeArb(1, 3), seedArb, fc.boolean()).map(([shape, seed, insertOne]) => {
      const target = [...shape].reverse();
      if (insertOne) target.splice(1, 0, 1);
      return {
        label: `reshape ${fmt(shape)} -> ${fmt(target)}`,
        fn: (x: Tensor) => ops.mul(ops.reshape(x, target), ops.reshape(x, target)),
        inputs: [values(shape, seed)],
      };
    }),
  },
  {
    name: "permute",
    kind: "primitive",
    covers: ["permute"],
    arb: fc.tuple(shapeArb(1, 4), seedArb).chain(([shape, seed]) =>
      fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }).map((perm) => ({
        label: `permute ${fmt(shape)} by ${fmt(perm)}`,
        fn: (x: Tensor) => ops.sin(ops.permute(x, perm)),
        inputs: [values(shape, seed)],
      })),
    ),
  },
  {
    name: "expand",
    kind: "primitive",
    covers: ["expand"],
    arb: fc.tuple(shapeArb(1, 3), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), seedArb).map(([shape, ones, seed]) => {
      const source = shape.map((d, i) => (ones[i] ? 1 : d));
      return { label: `expand ${fmt(source)} -> ${fmt(shape)}`, fn: (x: Tensor) => ops.sin(ops.expand(x, shape)), inputs: [values(source, seed)] };
    }),
  },
  {
    name: "pad",
    kind: "primitive",
    covers: ["pad"],
    arb: fc.tuple(shapeArb(1, 3), fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: 3, maxLength: 3 }), seedArb).map(([shape, pads, seed]) => {
      const p = shape.map((_, i) => pads[i]!);
      return { label: `pad ${fmt(shape)} by ${JSON.stringify(p)}`, fn: (x: Tensor) => ops.sin(ops.pad(x, p)), inputs: [values(shape, seed)] };
    }),
  },
  {
    name: "shrink",
    kind: "primitive",
    covers: ["shrink"],
    arb: fc
      .tuple(
        shapeArb(1, 3),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 3, maxLength: 3 }),
        seedArb,
      )
      .map(([shape, fracs, seed]) => {
        const ranges = shape.map((d, i) => {
          const [u, v] = fracs[i]!;
          const start = Math.min(Math.floor(u * d), d - 1);
          return [start, start + 1 + Math.floor(v * (d - start - 1))] as const;
        });
        return {
          label: `shrink ${fmt(shape)} to ${JSON.stringify(ranges)}`,
          fn: (x: Tensor) => ops.sin(ops.shrink(x, ranges)),
          inputs: [values(shape, seed)],
        };
      }),
  },
  {
    name: "concat",
    kind: "primitive",
    covers: ["concat"],
    arb: fc.tuple(shapeArb(1, 3), fc.array(dim, { minLength: 2, maxLength: 3 }), fc.nat(2), seedArb).map(([shape, lengths, axisPick, seed]) => {
      const axis = axisPick % shape.length;
      const shapes = lengths.map((l) => shape.map((d, i) => (i === axis ? l : d)));
      return {
        label: `concat ${shapes.map(fmt).join(" ")} on axis ${axis}`,
        fn: (...xs: Tensor[]) => ops.sin(ops.concat(xs, axis)),
        inputs: shapes.map((s, i) => values(s, seed + i)),
      };
    }),
  },
  unaryFamily("neg", ops.neg, "any", ["neg"]),
  unaryFamily("exp2", ops.exp2, "any", ["exp2"]),
  unaryFamily("log2", ops.log2, "positive", ["log2"]),
  unaryFamily("sin", ops.sin, "any", ["sin"]),
  unaryFamily("sqrt", ops.sqrt, "positive", ["sqrt"]),
  unaryFamily("recip", ops.recip, "awayFromZero", ["recip"]),
  unaryFamily("cast", (x) => ops.mul(ops.cast(ops.cast(x, "bf16"), "f32"), x), "any", ["cast"]),
  binaryFamily("add", ops.add, ["add"]),
  binaryFamily("mul", ops.mul, ["mul"]),
  binaryFamily("max", ops.maximum, ["max"]),
  binaryFamily("cmplt", (a, b) => ops.where(ops.cmplt(a, b), ops.mul(a, 2), ops.mul(b, 3)), ["cmplt", "where"]),
  binaryFamily("cmpeq", (a, b) => ops.where(ops.cmpeq(ops.mul(a, 0), 0), ops.mul(a, b), a), ["cmpeq", "where"]),
  {
    name: "where",
    kind: "primitive",
    covers: ["where"],
    arb: fc.tuple(broadcastPair, seedArb).map(([[sa, sb], seed]) => ({
      label: `where ${fmt(sa)} ${fmt(sb)}`,
      fn: (a: Tensor, b: Tensor, c: Tensor) => ops.where(ops.cmplt(c, 0), a, b),
      inputs: [values(sa, seed), values(sb, seed + 1), values(sa.length >= sb.length ? sa : sb, seed + 2, "awayFromZero")],
    })),
  },
  {
    name: "sum",
    kind: "primitive",
    covers: ["sum"],
    arb: reduceCase.map(({ shape, seed, axes }) => ({
      label: `sum ${fmt(shape)} over ${fmt(axes)}`,
      fn: (x: Tensor) => ops.sum(x, axes),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "reduce_max",
    kind: "primitive",
    covers: ["reduce_max"],
    arb: reduceCase.map(({ shape, seed, axes }) => ({
      label: `max ${fmt(shape)} over ${fmt(axes)}`,
      fn: (x: Tensor) => ops.max(x, axes),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "dot",
    kind: "primitive",
    covers: ["dot"],
    arb: fc.tuple(shapeArb(0, 2), dim, dim, dim, seedArb).map(([batch, m, k, n, seed]) => ({
      label: `dot ${fmt([...batch, m, k])} ${fmt([...batch, k, n])}`,
      fn: ops.dot,
      inputs: [values([...batch, m, k], seed), values([...batch, k, n], seed + 1)],
    })),
  },
  {
    name: "const",
    kind: "primitive",
    covers: ["const"],
    arb: fc.tuple(shapeArb(), seedArb, fc.double({ min: -3, max: 3, noNaN: true })).map(([shape, seed, c]) => ({
      label: `x · const ${c.toFixed(3)} ${fmt(shape)}`,
      fn: (x: Tensor) => ops.mul(x, ops.full(shape, c)),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "iota",
    kind: "primitive",
    covers: ["iota"],
    arb: fc.tuple(shapeArb(1, 3), fc.nat(2), seedArb).map(([shape, axisPick, seed]) => ({
      label: `x · iota ${fmt(shape)} axis ${axisPick % shape.length}`,
      fn: (x: Tensor) => ops.mul(x, ops.cast(ops.iota(shape, axisPick % shape.length), "f32")),
      inputs: [values(shape, seed)],
    })),
  },
  unaryFamily("input", (x) => ops.mul(x, x), "any", ["input"]),
  {
    name: "random",
    kind: "primitive",
    covers: ["random"],
    arb: fc.tuple(shapeArb(), seedArb, fc.integer({ min: 0, max: 1000 })).map(([shape, seed, rngSeed]) => ({
      label: `x · random ${fmt(shape)} seed ${rngSeed}`,
      fn: (x: Tensor, s: Tensor) => ops.mul(x, ops.random(s, shape, 3)),
      inputs: [values(shape, seed), hostArray([], [rngSeed], "i32")],
    })),
  },
  {
    name: "gather",
    kind: "primitive",
    covers: ["gather"],
    arb: fc.tuple(shapeArb(1, 3), shapeArb(0, 2), fc.nat(2), seedArb).map(([shape, idxShape, axisPick, seed]) => {
      const axis = axisPick % shape.length;
      return {
        label: `gather ${fmt(shape)} at ${fmt(idxShape)} on axis ${axis}`,
        fn: (x: Tensor, idx: Tensor) => ops.sin(ops.gather(x, idx, axis)),
        inputs: [values(shape, seed), ints(idxShape, seed + 1, shape[axis]!)],
      };
    }),
  },
  {
    name: "scatter_add",
    kind: "primitive",
    covers: ["scatter_add"],
    arb: fc.tuple(shapeArb(0, 2), shapeArb(1, 2), shapeArb(0, 1), dim, seedArb).map(([pre, idxShape, post, size, seed]) => ({
      label: `scatter_add ${fmt([...pre, ...idxShape, ...post])} into axis ${pre.length} of length ${size}`,
      fn: (u: Tensor, idx: Tensor) => ops.sin(ops.scatterAdd(u, idx, pre.length, size)),
      inputs: [values([...pre, ...idxShape, ...post], seed), ints(idxShape, seed + 1, size)],
    })),
  },
  {
    name: "call",
    kind: "primitive",
    covers: ["call"],
    arb: fc.tuple(broadcastPair, seedArb, fc.constantFrom("inline", "checkpoint", "custom-vjp")).map(([[sa, sb], seed, mode]) => {
      const body = (a: Tensor, b: Tensor): Tensor => ops.mul(ops.sin(a), b);
      const fn = (a: Tensor, b: Tensor): Tensor => {
        const [x, y] = [ops.broadcastTo(a, ops.broadcastShapes("t", [a, b])), ops.broadcastTo(b, ops.broadcastShapes("t", [a, b]))];
        if (mode === "custom-vjp") {
          const vjp = (args: readonly Tensor[], _out: Tensor, ct: Tensor): Tensor[] => [
            ops.mul(ct, ops.mul(nn.cos(args[0]!), args[1]!)),
            ops.mul(ct, ops.sin(args[0]!)),
          ];
          return ops.call("sinmul", body, [x, y], { vjp });
        }
        return ops.call("sinmul", body, [x, y], { checkpoint: mode === "checkpoint" });
      };
      return { label: `call (${mode}) ${fmt(sa)} ${fmt(sb)}`, fn, inputs: [values(sa, seed), values(sb, seed + 1)] };
    }),
  },
];

const matrix = (seed: number, shape: Shape, domain: Domain = "any"): HostArray => values(shape, seed, domain);

const composites: GradCaseFamily[] = [
  binaryFamily("sub", nn.sub, ["add", "neg"], "composite"),
  binaryFamily("div", nn.div, ["mul", "recip"], "composite", "awayFromZero"),
  unaryFamily("exp", nn.exp, "any", ["exp2", "mul"], "composite"),
  unaryFamily("log", nn.log, "positive", ["log2", "mul"], "composite"),
  {
    name: "pow",
    kind: "composite",
    covers: ["mul", "exp2", "log2", "sqrt", "recip"],
    arb: fc
      .tuple(shapeArb(), seedArb, fc.constantFrom(2, 3, -1, -2, 0.5, -0.5, 1.7))
      .map(([shape, seed, p]) => ({ label: `pow ${fmt(shape)} ^ ${p}`, fn: (x: Tensor) => nn.pow(x, p), inputs: [values(shape, seed, "positive")] })),
  },
  unaryFamily("tanh", nn.tanh, "any", [], "composite"),
  unaryFamily("sigmoid", nn.sigmoid, "any", [], "composite"),
  unaryFamily("silu", nn.silu, "any", [], "composite"),
  unaryFamily("gelu", nn.gelu, "any", [], "composite"),
  unaryFamily("abs", nn.abs, "awayFromZero", ["max"], "composite"),
  unaryFamily("relu", nn.relu, "awayFromZero", ["max"], "composite"),
  {
    name: "clamp",
    kind: "composite",
    covers: ["max", "neg"],
    arb: fc.tuple(shapeArb(), seedArb).map(([shape, seed]) => ({
      label: `clamp ${fmt(shape)} to [-0.7, 0.9]`,
      fn: (x: Tensor) => nn.clamp(x, -0.7, 0.9),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "softmax",
    kind: "composite",
    covers: ["reduce_max", "sum", "exp2", "call"],
    arb: fc.tuple(shapeArb(1, 3), seedArb, fc.nat(2)).map(([shape, seed, a]) => ({
      label: `softmax ${fmt(shape)} axis ${a % shape.length}`,
      fn: (x: Tensor) => nn.softmax(x, a % shape.length),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "log_softmax",
    kind: "composite",
    covers: ["reduce_max", "sum", "exp2", "log2"],
    arb: fc
      .tuple(shapeArb(1, 3), seedArb)
      .map(([shape, seed]) => ({ label: `log_softmax ${fmt(shape)}`, fn: (x: Tensor) => nn.logSoftmax(x, -1), inputs: [values(shape, seed)] })),
  },
  {
    name: "mean",
    kind: "composite",
    covers: ["sum", "mul"],
    arb: reduceCase.map(({ shape, seed, axes }) => ({
      label: `mean ${fmt(shape)} over ${fmt(axes)}`,
      fn: (x: Tensor) => nn.mean(x, axes),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "variance",
    kind: "composite",
    covers: ["sum", "mul"],
    arb: reduceCase.map(({ shape, seed, axes }) => ({
      label: `variance ${fmt(shape)} over ${fmt(axes)}`,
      fn: (x: Tensor) => nn.variance(x, axes, { correction: sizeOf(axes.map((a) => shape[a]!)) > 1 ? 1 : 0 }),
      inputs: [values(shape, seed)],
    })),
  },
  {
    name: "layer_norm",
    kind: "composite",
    covers: ["sum", "sqrt", "recip"],
    arb: fc.tuple(shapeArb(0, 2), fc.integer({ min: 2, max: 6 }), seedArb, fc.boolean()).map(([lead, d, seed, withAffine]) => ({
      label: `layer_norm ${fmt([...lead, d])}${withAffine ? " affine" : ""}`,
      fn: (x: Tensor, w: Tensor, b: Tensor) =>
        withAffine ? nn.layerNorm(x, { weight: w, bias: b }) : ops.add(nn.layerNorm(x), ops.mul(ops.sum(ops.add(w, b)), 0)),
      inputs: [values([...lead, d], seed), values([d], seed + 1), values([d], seed + 2)],
    })),
  },
  {
    name: "rms_norm",
    kind: "composite",
    covers: ["sum", "sqrt", "recip"],
    arb: fc.tuple(shapeArb(0, 2), fc.integer({ min: 1, max: 6 }), seedArb, fc.constantFrom(1e-6, nn.F32_EPS)).map(([lead, d, seed, eps]) => ({
      label: `rms_norm ${fmt([...lead, d])} eps ${eps}`,
      fn: (x: Tensor, w: Tensor) => nn.rmsNorm(x, { weight: w, eps }),
      inputs: [values([...lead, d], seed, "awayFromZero"), values([d], seed + 1)],
    })),
  },
  {
    name: "group_norm",
    kind: "composite",
    covers: ["sum", "reshape"],
    arb: fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), seedArb)
      .map(([n, groups, perGroup, hw, seed]) => {
        const c = groups * perGroup;
        return {
          label: `group_norm [${n},${c},${hw},${hw + 1}] groups ${groups}`,
          fn: (x: Tensor, w: Tensor, b: Tensor) => nn.groupNorm(x, groups, { weight: w, bias: b, eps: 1e-6 }),
          inputs: [values([n, c, hw, hw + 1], seed), values([c], seed + 1), values([c], seed + 2)],
        };
      }),
  },
  {
    name: "linear",
    kind: "composite",
    covers: ["dot", "permute", "reshape"],
    arb: fc.tuple(shapeArb(0, 2), dim, dim, seedArb, fc.boolean()).map(([lead, inF, outF, seed, withBias]) => ({
      label: `linear ${fmt([...lead, inF])} -> ${outF}${withBias ? " + bias" : ""}`,
      fn: withBias ? (x: Tensor, w: Tensor, b: Tensor) => nn.linear(x, w, b) : (x: Tensor, w: Tensor) => nn.linear(x, w),
      inputs: [values([...lead, inF], seed), matrix(seed + 1, [outF, inF]), ...(withBias ? [values([outF], seed + 2)] : [])],
    })),
  },
  {
    name: "matmul",
    kind: "composite",
    covers: ["dot", "expand"],
    arb: fc.tuple(dim, dim, dim, dim, seedArb).map(([b, m, k, n, seed]) => ({
      label: `matmul [${b},${m},${k}] [${k},${n}]`,
      fn: nn.matmul,
      inputs: [values([b, m, k], seed), values([k, n], seed + 1)],
    })),
  },
  {
    name: "embedding",
    kind: "composite",
    covers: ["gather"],
    arb: fc.tuple(fc.integer({ min: 1, max: 6 }), dim, shapeArb(1, 2), seedArb).map(([vocab, d, idsShape, seed]) => ({
      label: `embedding vocab ${vocab} dim ${d} ids ${fmt(idsShape)}`,
      fn: (ids: Tensor, table: Tensor) => nn.embedding(ids, table),
      inputs: [ints(idsShape, seed, vocab), values([vocab, d], seed + 1)],
    })),
  },
  {
    name: "attention",
    kind: "composite",
    covers: ["call", "dot", "where", "reduce_max"],
    arb: fc
      .tuple(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom("none", "mask", "causal", "gqa"),
        seedArb,
      )
      .map(([b, sq, sk, heads, d, variant, seed]) => {
        const kvHeads = variant === "gqa" && heads === 2 ? 1 : heads;
        const keyLen = variant === "causal" ? sq : sk;
        const mask = ints([b, keyLen], seed + 3, 2);
        mask.data[0] = 1;
        return {
          label: `attention b${b} sq${sq} sk${keyLen} h${heads}/${kvHeads} d${d} ${variant}`,
          fn: (q: Tensor, k: Tensor, v: Tensor, m: Tensor) =>
            nn.attention(q, k, v, { heads, kvHeads, causal: variant === "causal", ...(variant === "mask" ? { keyMask: m } : {}) }),
          inputs: [values([b, sq, heads * d], seed), values([b, keyLen, kvHeads * d], seed + 1), values([b, keyLen, kvHeads * d], seed + 2), mask],
        };
      }),
  },
  {
    name: "conv2d",
    kind: "composite",
    covers: ["call", "pad", "shrink", "concat", "dot"],
    arb: fc
      .tuple(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        fc.constantFrom(1, 3),
        fc.constantFrom(1, 2),
        fc.constantFrom<"none" | "same" | "asym">("none", "same", "asym"),
        fc.integer({ min: 3, max: 5 }),
        seedArb,
      )
      .map(([n, c, o, k, stride, padMode, size, seed]) => {
        const padding = padMode === "none" ? 0 : padMode === "same" ? (k - 1) / 2 : ([0, 1, 0, 1] as const);
        return {
          label: `conv2d [${n},${c},${size},${size}] k${k} o${o} stride ${stride} pad ${JSON.stringify(padding)}`,
          fn: (x: Tensor, w: Tensor, b: Tensor) => nn.conv2d(x, w, b, { stride, padding }),
          inputs: [values([n, c, size, size], seed), values([o, c, k, k], seed + 1), values([o], seed + 2)],
        };
      }),
  },
  {
    name: "upsample_nearest",
    kind: "composite",
    covers: ["expand", "reshape"],
    arb: fc.tuple(dim, dim, dim, dim, seedArb).map(([n, c, h, w, seed]) => ({
      label: `upsample [${n},${c},${h},${w}]`,
      fn: (x: Tensor) => ops.sin(nn.upsampleNearest2x(x)),
      inputs: [values([n, c, h, w], seed)],
    })),
  },
  {
    name: "resize_bilinear",
    kind: "composite",
    covers: ["dot", "iota", "max"],
    arb: fc.tuple(dim, dim, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), seedArb).map(([h, w, oh, ow, seed]) => ({
      label: `resize_bilinear [1,2,${h},${w}] -> ${oh}x${ow}`,
      fn: (x: Tensor) => nn.resizeBilinear(x, oh, ow),
      inputs: [values([1, 2, h, w], seed)],
    })),
  },
  {
    name: "split",
    kind: "composite",
    covers: ["shrink"],
    arb: fc.tuple(fc.array(dim, { minLength: 2, maxLength: 3 }), dim, seedArb).map(([sizes, other, seed]) => ({
      label: `split [${other},${sizes.reduce((a, b) => a + b)}] into ${fmt(sizes)}`,
      fn: (x: Tensor) => nn.split(x, sizes, 1).reduce((acc, part, i) => ops.add(acc, ops.sum(ops.mul(ops.sin(part), i + 1))), ops.scalar(0)),
      inputs: [values([other, sizes.reduce((a, b) => a + b)], seed)],
    })),
  },
  {
    name: "chunk",
    kind: "composite",
    covers: ["shrink"],
    arb: fc.tuple(dim, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), seedArb).map(([rows, pieces, each, seed]) => ({
      label: `chunk [${rows},${pieces * each}] into ${pieces}`,
      fn: (x: Tensor) => nn.chunk(x, pieces, -1).reduce((acc, part, i) => ops.add(acc, ops.mul(part, i + 1))),
      inputs: [values([rows, pieces * each], seed)],
    })),
  },
  {
    name: "flatten",
    kind: "composite",
    covers: ["reshape"],
    arb: fc
      .tuple(shapeArb(2, 4), seedArb)
      .map(([shape, seed]) => ({ label: `flatten ${fmt(shape)}`, fn: (x: Tensor) => ops.sin(nn.flatten(x, 1)), inputs: [values(shape, seed)] })),
  },
  {
    name: "mse_loss",
    kind: "composite",
    covers: ["sum", "mul"],
    arb: fc
      .tuple(shapeArb(), seedArb)
      .map(([shape, seed]) => ({ label: `mse_loss ${fmt(shape)}`, fn: nn.mseLoss, inputs: [values(shape, seed), values(shape, seed + 1)] })),
  },
];

// --- random composed graphs ----------------------------------------------------------------------

type Step = (pool: Tensor[], pick: (n: number) => number) => Tensor;

/** Total (domain-safe) operations on square [n, n] tensors, so any two pool entries combine. */
const steps: readonly { name: string; step: Step }[] = [
  { name: "add", step: (p, pick) => ops.add(p[pick(p.length)]!, p[pick(p.length)]!) },
  { name: "mul", step: (p, pick) => ops.mul(p[pick(p.length)]!, p[pick(p.length)]!) },
  { name: "max", step: (p, pick) => ops.maximum(p[pick(p.length)]!, ops.mul(p[pick(p.length)]!, 0.5)) },
  { name: "sin", step: (p, pick) => ops.sin(p[pick(p.length)]!) },
  { name: "tanh", step: (p, pick) => nn.tanh(p[pick(p.length)]!) },
  { name: "exp2∘sin", step: (p, pick) => ops.exp2(ops.sin(p[pick(p.length)]!)) },
  { name: "sqrt(x²+1)", step: (p, pick) => ops.sqrt(ops.add(nn.square(p[pick(p.length)]!), 1)) },
  { name: "recip(x²+1)", step: (p, pick) => ops.recip(ops.add(nn.square(p[pick(p.length)]!), 1)) },
  { name: "log2(x²+1)", step: (p, pick) => ops.log2(ops.add(nn.square(p[pick(p.length)]!), 1)) },
  { name: "transpose", step: (p, pick) => ops.transpose(p[pick(p.length)]!) },
  { name: "dot", step: (p, pick) => ops.mul(ops.dot(p[pick(p.length)]!, p[pick(p.length)]!), 0.5) },
  { name: "row-sum", step: (p, pick) => ops.expand(ops.sum(p[pick(p.length)]!, 1, true), p[0]!.shape) },
  { name: "col-max", step: (p, pick) => ops.expand(ops.max(p[pick(p.length)]!, 0, true), p[0]!.shape) },
  { name: "softmax", step: (p, pick) => nn.softmax(p[pick(p.length)]!, -1) },
  {
    name: "pad-shrink",
    step: (p, pick) =>
      ops.shrink(
        ops.pad(p[pick(p.length)]!, [
          [1, 0],
          [0, 1],
        ]),
        [
          [0, p[0]!.shape[0]!],
          [1, p[0]!.shape[1]! + 1],
        ],
      ),
  },
  { name: "where", step: (p, pick) => ops.where(ops.cmplt(p[pick(p.length)]!, p[pick(p.length)]!), p[pick(p.length)]!, p[pick(p.length)]!) },
  {
    name: "reshape-permute",
    step: (p, pick) => ops.reshape(ops.permute(ops.reshape(p[pick(p.length)]!, [p[0]!.shape[0]!, p[0]!.shape[1]!, 1]), [2, 1, 0]), p[0]!.shape),
  },
];

/** A random graph of `length` ops over 1–3 square inputs, reduced to a scalar. */
export const randomGraphFamily = (minOps = 5, maxOps = 10): GradCaseFamily => ({
  name: "random_graph",
  kind: "graph",
  covers: [],
  arb: fc
    .tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 2, max: 3 }),
      fc.array(fc.nat(steps.length - 1), { minLength: minOps, maxLength: maxOps }),
      seedArb,
    )
    .map(([inputsCount, n, choice, seed]) => {
      const rand = seededRandom(seed ^ 0x5bd1e995);
      const picks: number[] = Array.from({ length: choice.length * 4 }, () => rand());
      const label = `random graph of ${choice.length} ops (${choice.map((c) => steps[c]!.name).join(", ")}) on ${inputsCount} inputs [${n},${n}]`;
      const fn = (...xs: Tensor[]): Tensor => {
        const pool = [...xs];
        let cursor = 0;
        const pick = (size: number): number => Math.floor(picks[cursor++ % picks.length]! * size);
        for (const c of choice) pool.push(steps[c]!.step(pool, pick));
        // Reduce the last value (and touch every input) so the gradient reaches all of them.
        return ops.add(ops.sum(pool[pool.length - 1]!), ops.mul(ops.sum(pool.slice(0, xs.length).reduce((a, b) => ops.add(a, b))), 0.1));
      };
      return { label, fn, inputs: Array.from({ length: inputsCount }, (_, i) => values([n, n], seed + i, "unit")) };
    }),
});

export const GRAD_CASES: readonly GradCaseFamily[] = [...primitives, ...composites, randomGraphFamily()];
