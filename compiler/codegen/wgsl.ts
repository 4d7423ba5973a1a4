// The WGSL renderer: GPU L2 (gpu-lower.ts, lowered with webGpuConfig: no warp shuffles, a
// shared-memory tree per reduced row) → one WGSL compute shader per launch, through the C-family
// emitter that the CUDA renderer uses (simt-emitter.ts); only the spelling is WGSL's.
//
// Memory: one storage binding, `arena: array<u32>`, holds every buffer of the step (inputs, outputs,
// temporaries and the kernels' scratch), each element one 32-bit word: f32 and i32 as their bits,
// bf16 and f16 as f32 (rounded to their precision by the kernels, as on every device), bool as 0 or 1.
// A buffer's word offset is a constant of the shader, so a kernel binds one buffer whatever its
// operand count (the default limit is 8 storage buffers per stage) and the whole step is bounded by
// one binding's size (maxStorageBufferBindingSize: 128 MiB by default, the adapter's own if larger).

import { unreachable, type ScalarType } from "../kernel-ir.ts";
import { literal, type CFamilyLanguage } from "./c-family.ts";
import { maxfHelper, philoxHelper, roundingHelpers, type HelperSyntax } from "./c-family-helpers.ts";
import { spelling } from "./op-spelling.ts";
import { gpuConfig, type GpuConfig, type GpuProgram } from "./gpu-lower.ts";
import type { GStmt, GpuKernel, StorageType } from "./gpu-ir.ts";
import { SimtEmitter, namesRead, positionalNames, pruneLets, type SimtDialect } from "./simt-emitter.ts";
import { unrollLoops } from "./unroll.ts";

/**
 * Launch sizes for WebGPU's default limits: 256 invocations per workgroup, 65535 workgroups per
 * dimension, no subgroups. An adapter that runs on the CPU (SwiftShader, a fallback adapter) gets
 * code without barriers: a reduction's row is walked by one invocation, and the GEMM reads its
 * operands without staging them in workgroup memory (there a barrier costs more than the shared
 * tile saves; SwiftShader ran the tiny DiT's step 2× faster so, measured).
 */
export function webGpuConfig(adapter: { cpu: boolean } = { cpu: false }): GpuConfig {
  const threads = 256;
  const base = gpuConfig();
  return {
    ...base,
    threads,
    maxBlocks: 1024,
    rowThreads: adapter.cpu ? () => 1 : (n) => (n <= 32 ? 1 : threads),
    ...(adapter.cpu ? { gemmTile: { ...base.gemmTile, staging: "none" as const }, attentionRows: 4 } : {}),
    shuffles: false,
  };
}

/** How WGSL writes the C-family helpers: `let`/`var` declarations, `select`, bit casts by `bitcast`. */
const WGSL_HELPERS: HelperSyntax = {
  signature: (ret, name, params) => `fn ${name}(${params.map(([p, type]) => `${p}: ${type}`).join(", ")}) -> ${ret}`,
  vars: (decls) => decls.map(([name, value]) => `var ${name} = ${value};`).join(" "),
  lets: (_type, decls) => decls.map(([name, value]) => `let ${name} = ${value};`).join(" "),
  loop: (name, count) => [`for (var ${name} = 0; ${name} < ${count}; ${name} += 1) {`],
  mulhi: (a, b) => `kiln_mulhi(${a}, ${b})`,
  select: (cond, a, b) => `select(${b}, ${a}, ${cond})`,
  toF32: (text) => `f32(${text})`,
  bitsOf: (text) => `bitcast<u32>(${text})`,
  fromBits: (text) => `bitcast<f32>(${text})`,
  floatSuffix: "",
};

/** Helpers every shader starts with. */
export const WGSL_PRELUDE = `// kiln WGSL prelude
// Infinity and NaN from bits at run time (a constant expression may not be infinite or NaN).
fn kiln_f32_bits(bits: u32) -> f32 { var b = bits; return bitcast<f32>(b); }
// NaN-propagating max (the first operand's NaN wins), as the C backend's.
${maxfHelper(WGSL_HELPERS)}
// Round to bf16 (nearest even) and back; NaN stays NaN.
${roundingHelpers(WGSL_HELPERS, { f16: "unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x" })}
// High 32 bits of a u32 product from 16-bit halves (WGSL has no 64-bit integers), as compiler/philox.ts.
fn kiln_mulhi(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu; let a_hi = a >> 16u; let b_lo = b & 0xffffu; let b_hi = b >> 16u;
  let lo_hi = a_lo * b_hi; let hi_lo = a_hi * b_lo;
  let carry = (((a_lo * b_lo) >> 16u) + (lo_hi & 0xffffu) + (hi_lo & 0xffffu)) >> 16u;
  return a_hi * b_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + carry;
}
${philoxHelper(WGSL_HELPERS)}
`;

/** Where each buffer lives in the arena, in 32-bit words. */
export interface WgslArena {
  readonly offsets: ReadonlyMap<number, number>;
  readonly words: number;
}

/** One launch: its shader (every launch has its own, its buffers' offsets are constants) and its grid. */
export interface WgslLaunch {
  readonly name: string;
  readonly source: string;
  readonly workgroupSize: number;
  readonly workgroups: number;
  /** Index of the L2 kernel this launch belongs to. */
  readonly step: number;
  readonly simt: GpuKernel;
}

export interface WgslProgram {
  readonly launches: readonly WgslLaunch[];
  readonly arena: WgslArena;
}

const ALIGN_WORDS = 64; // 256 bytes
const alignWords = (n: number) => Math.ceil(n / ALIGN_WORDS) * ALIGN_WORDS;

/**
 * Every buffer of the program its own region, then a workspace that the scratch buffers of each
 * kernel share (kernels run in order). Temporaries do not share memory yet (the CPU memory plan's
 * reuse is not applied here).
 */
export function wgslArena(gp: GpuProgram): WgslArena {
  const offsets = new Map<number, number>();
  let words = 0;
  for (const b of gp.program.buffers) {
    offsets.set(b.id, words);
    words += alignWords(Math.max(b.size, 1));
  }
  let workspace = 0;
  for (const lowered of gp.kernels) {
    let at = words;
    for (const d of lowered.scratch) {
      offsets.set(d.id, at);
      at += alignWords(Math.max(d.size, 1));
    }
    workspace = Math.max(workspace, at - words);
  }
  return { offsets, words: words + workspace };
}

// --- types and literals --------------------------------------------------------------------------

const wgslType = (t: ScalarType): string => (t === "f32" ? "f32" : t === "i32" ? "i32" : "bool");
/** The scalar type a load of this storage yields before any cast. */
const naturalType = (dtype: StorageType): ScalarType => (dtype === "i32" ? "i32" : dtype === "bool" ? "bool" : "f32");

/** A value of type `from` as `to` (WGSL converts nothing implicitly). */
const convert = (text: string, from: ScalarType, to: ScalarType): string => (from === to ? text : `${wgslType(to)}(${text})`);

/** WGSL's integer and boolean literals: -2147483648 is not an i32 literal's negation, so it is spelled as i32's minimum. */
function intLiteral(value: number, type: ScalarType): string {
  if (type === "bool") return value ? "true" : "false";
  const n = Math.trunc(value) | 0;
  return n === -2147483648 ? "i32(-2147483647 - 1)" : n < 0 ? `(${n})` : String(n);
}

/** WGSL's expressions: builtins without C's `f` suffix, explicit conversions, `select`, Philox on `u32` bits. */
const WGSL_LANGUAGE: CFamilyLanguage = {
  valueType: wgslType,
  special: { nan: "kiln_f32_bits(0x7fc00000u)", inf: "kiln_f32_bits(0x7f800000u)" },
  intLiteral,
  ops: spelling({
    unary: {
      exp2: (a) => `exp2(${a})`,
      log2: (a) => `log2(${a})`,
      sin: (a) => `sin(${a})`,
      sqrt: (a) => `sqrt(${a})`,
      recip: (a) => `(1.0 / ${a})`,
    },
  }),
  cast: convert,
  operand: convert,
  select: (cond, a, b) => `select(${b}, ${a}, ${cond})`,
  // Comparisons are spelled as WGSL's bool-valued operators, also where L2 types them i32 (index
  // expressions): a name bound to one is a bool, which `bool(…)` and `&&` then take as they are.
  textType: (e) => (e.op === "binary" && (e.fn === "lt" || e.fn === "eq") ? "bool" : e.type),
  philox: (seed, offset, index) =>
    `kiln_philox(bitcast<u32>(${convert(seed.text, seed.type, "i32")}), ${offset}u, bitcast<u32>(${convert(index.text, index.type, "i32")}))`,
};

export const wgslLiteral = (value: number, type: ScalarType): string => literal(WGSL_LANGUAGE, value, type);

const word = (name: string, index: string): string => `arena[${name} + ${index}]`;

/** A value as the u32 word that stores it. */
function storedWord(dtype: StorageType, value: string): string {
  switch (dtype) {
    case "f32":
    case "bf16":
    case "f16":
    case "i32":
      return `bitcast<u32>(${value})`;
    case "bool":
      return `select(0u, 1u, ${value})`;
    default:
      return unreachable(dtype);
  }
}

function loadText(dtype: StorageType, at: string): string {
  switch (dtype) {
    case "f32":
    case "bf16":
    case "f16":
      return `bitcast<f32>(${at})`;
    case "i32":
      return `bitcast<i32>(${at})`;
    case "bool":
      return `(${at} != 0u)`;
    default:
      return unreachable(dtype);
  }
}

/**
 * WGSL's spelling of GPU L2; `kernel` names the launch in errors. A kernel that adds into a buffer
 * (a scatter-add) binds the arena as atomic<u32> words, since WebGPU has no float atomics: every
 * access goes through atomicLoad/atomicStore, and the add is a compare-and-swap loop on the word
 * (ATOMIC_ADD_HELPER). The order of the adds is the order the threads win, so the sums may differ in
 * the last bits from run to run, as CUDA's atomicAdd does.
 */
function wgslDialect(kernel: string, atomicArena: boolean): SimtDialect {
  const at = (name: string, index: string): string => (atomicArena ? `atomicLoad(&${word(name, index)})` : word(name, index));
  return {
    ...WGSL_LANGUAGE,
    constDecl: (type, name, value) => `let ${name}: ${wgslType(type)} = ${value};`,
    varDecl: (type, name, init) => `var ${name}: ${wgslType(type)} = ${init};`,
    forHeader: (v, start, extent, step) => [`for (var ${v}: i32 = ${start}; ${v} < ${extent}; ${v} += ${step}) {`],
    condition: (text, type) => (type === "bool" ? text : `${text} != ${type === "f32" ? "0.0" : "0"}`),
    barrier: "workgroupBarrier();",
    shuffleXor: () => {
      throw new Error(`wgsl: ${kernel} uses a warp shuffle; lower for WebGPU with webGpuConfig() (shared-memory reductions)`);
    },
    comment: (text) => `// ${text}`,
    store(s, names, x) {
      const index = x(s.index);
      if (s.buffer < 0) {
        const a = names.array(s.buffer);
        const value = convert(x(s.value), s.value.type, a.type);
        return s.atomic ? `${a.name}[${index}] += ${value};` : `${a.name}[${index}] = ${value};`;
      }
      const { name, dtype } = names.buffer(s.buffer);
      const value = convert(x(s.value), s.value.type, naturalType(dtype));
      if (s.atomic) {
        if (dtype === "i32" || dtype === "bool")
          throw new Error(`wgsl: ${kernel} adds into ${dtype} buffer ${s.buffer}; only float buffers take a scatter-add`);
        return `kiln_atomic_add(${name} + ${index}, ${value}, ${dtype === "bf16" ? "1" : dtype === "f16" ? "2" : "0"});`;
      }
      const stored = storedWord(dtype, value);
      return atomicArena ? `atomicStore(&${word(name, index)}, ${stored});` : `${word(name, index)} = ${stored};`;
    },
    load(e, names, r) {
      if (e.buffer < 0) {
        const a = names.array(e.buffer);
        return convert(`${a.name}[${r(e.index)}]`, a.type, e.type);
      }
      const { name, dtype } = names.buffer(e.buffer);
      return convert(loadText(dtype, at(name, r(e.index))), naturalType(dtype), e.type);
    },
  };
}

// --- kernels -------------------------------------------------------------------------------------

/** Whether a kernel adds into a global buffer (its arena is then bound as atomic words). */
function addsIntoBuffers(stmts: readonly GStmt[]): boolean {
  return stmts.some((s) =>
    s.s === "store"
      ? s.atomic === true && s.buffer >= 0
      : s.s === "for"
        ? addsIntoBuffers(s.body)
        : s.s === "if"
          ? addsIntoBuffers(s.then) || addsIntoBuffers(s.else ?? [])
          : false,
  );
}

/**
 * arena[i] += v on an atomic<u32> word holding an f32 (rounded to bf16 when rounding is 1, f16 when
 * 2): read the word, add, and swap the sum in if the word is unchanged, else retry with what is there.
 */
const ATOMIC_ADD_HELPER = `fn kiln_atomic_add(i: i32, v: f32, rounding: i32) {
  var old = atomicLoad(&arena[i]);
  loop {
    var sum = bitcast<f32>(old) + v;
    if (rounding == 1) { sum = kiln_round_bf16(sum); } else if (rounding == 2) { sum = kiln_round_f16(sum); }
    let swapped = atomicCompareExchangeWeak(&arena[i], old, bitcast<u32>(sum));
    if (swapped.exchanged) { break; }
    old = swapped.old_value;
  }
}`;

/** One launch as a WGSL module: the arena binding, its buffers' offsets, shared arrays, then `main`. */
export function renderWgslKernel(k: GpuKernel, arena: WgslArena): string {
  const offset = (id: number): number => {
    const o = arena.offsets.get(id);
    if (o === undefined) throw new Error(`wgsl: ${k.name} touches buffer ${id}, which has no place in the arena`);
    return o;
  };
  const body: readonly GStmt[] = pruneLets(unrollLoops(k.body));
  const atomicArena = addsIntoBuffers(body);
  const emitter = new SimtEmitter(positionalNames(`wgsl: ${k.name}`, k.params, k.arrays), wgslDialect(k.name, atomicArena));
  const read = namesRead(body);
  emitter.block(body, 1);
  const lines = [
    `// ${k.name}: ${k.comment}`,
    WGSL_PRELUDE,
    `@group(0) @binding(0) var<storage, read_write> arena: array<${atomicArena ? "atomic<u32>" : "u32"}>;`,
    ...(atomicArena ? [ATOMIC_ADD_HELPER] : []),
    ...k.params.map((p, index) => `const p${index}: i32 = ${offset(p.id)}; // buffer ${p.id} (${p.dtype}[${p.size}]), word offset`),
    ...k.arrays.filter((a) => a.space === "shared").map((a) => `var<workgroup> ${a.name}: array<${wgslType(a.type)}, ${a.size}>;`),
    `@compute @workgroup_size(${k.threads})`,
    "fn main(@builtin(local_invocation_index) kiln_local: u32, @builtin(workgroup_id) kiln_group: vec3<u32>) {",
    ...(read.has("tid") ? ["  let tid: i32 = i32(kiln_local);"] : []),
    ...(read.has("bid") ? ["  let bid: i32 = i32(kiln_group.x);"] : []),
    ...k.arrays.filter((a) => a.space === "local").map((a) => `  var ${a.name}: array<${wgslType(a.type)}, ${a.size}>;`),
    emitter.text(),
    "}",
  ];
  return lines.join("\n") + "\n";
}

/** The whole program: a shader per launch, in order, and the arena they share. Template steps run their SIMT launches. */
export function renderWgsl(gp: GpuProgram): WgslProgram {
  const arena = wgslArena(gp);
  const launches: WgslLaunch[] = [];
  for (const lowered of gp.kernels) {
    for (const k of lowered.step.launches) {
      launches.push({
        name: k.name,
        source: renderWgslKernel(k, arena),
        workgroupSize: k.threads,
        workgroups: k.blocks,
        step: lowered.index,
        simt: k,
      });
    }
  }
  return { launches, arena };
}
