// Parameters as data: a spec of named shapes with PyTorch-default initialisers. Names are the
// reference model's state-dict keys, so checkpoints load both ways with a strict key check.

import { gaussianF32 } from "./noise.ts";
import { fnv1a32, philoxUniform } from "../compiler/index.ts";

export type Init =
  | { readonly kind: "uniform"; readonly bound: number }
  | { readonly kind: "normal"; readonly std: number }
  | { readonly kind: "const"; readonly value: number };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

export type ParamValues = Map<string, Float32Array>;

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** torch.nn.Linear's parameters: weight [out, in] and bias [out], both U(−1/√in, 1/√in). */
export function linearSpec(name: string, inFeatures: number, outFeatures: number, bias = true): ParamSpec[] {
  const bound = 1 / Math.sqrt(inFeatures);
  const specs: ParamSpec[] = [{ name: `${name}.weight`, shape: [outFeatures, inFeatures], init: { kind: "uniform", bound } }];
  if (bias) specs.push({ name: `${name}.bias`, shape: [outFeatures], init: { kind: "uniform", bound } });
  return specs;
}

/** torch.nn.LayerNorm's affine parameters: weight 1, bias 0. */
export const layerNormSpec = (name: string, dim: number): ParamSpec[] => [
  { name: `${name}.weight`, shape: [dim], init: { kind: "const", value: 1 } },
  { name: `${name}.bias`, shape: [dim], init: { kind: "const", value: 0 } },
];

export const paramCount = (specs: readonly ParamSpec[]): number => specs.reduce((s, p) => s + numel(p.shape), 0);

/** FNV-1a of a name: each tensor draws from its own stream, so adding a tensor does not change the others. */
const nameSeed = (name: string): number => fnv1a32(name);

/** Fresh values for every parameter, reproducible from `seed`. */
export function initParams(specs: readonly ParamSpec[], seed: number): ParamValues {
  const values: ParamValues = new Map();
  for (const spec of specs) {
    const n = numel(spec.shape);
    const streamSeed = (nameSeed(spec.name) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
    let data: Float32Array;
    switch (spec.init.kind) {
      case "const":
        data = new Float32Array(n).fill(spec.init.value);
        break;
      case "normal": {
        const std = spec.init.std;
        data = gaussianF32(n, streamSeed).map((x) => x * std);
        break;
      }
      case "uniform": {
        const bound = spec.init.bound;
        data = new Float32Array(n);
        philoxUniform(data, streamSeed, 0);
        for (let i = 0; i < n; i++) data[i] = (data[i]! * 2 - 1) * bound;
        break;
      }
      default:
        data = spec.init satisfies never;
    }
    values.set(spec.name, data);
  }
  return values;
}
