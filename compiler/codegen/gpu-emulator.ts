// Runs GPU L2 in TypeScript with the semantics of the hardware it targets (after tinygrad's PYTHON
// device): every block's threads execute each statement in lockstep, loops and branches diverge by
// per-thread masks, f32 arithmetic rounds to f32, global memory holds the real storage formats (bf16
// as 16-bit words). It checks what a GPU would not tell you: out-of-bounds indices, a barrier or a
// shuffle reached by only part of a block or warp, and data races — two threads touching one
// shared-memory element between barriers, or one global element within a launch, when either writes.

import { bf16Bits, bf16FromBits, f16Bits, f16FromBits, roundBf16, roundF16 } from "../dtype.ts";
import { unreachable, type Expr } from "../kernel-ir.ts";
import { philox4x32 } from "../philox.ts";
import { BLOCK, THREAD, forEachStmt, type GStmt, type GlobalParam, type GpuKernel, type StorageType } from "./gpu-ir.ts";

/** A global buffer in its device representation: f32, i32, bf16/f16 bit patterns, bool bytes. */
export type StorageArray = Float32Array | Int32Array | Uint16Array | Uint8Array;

export function storageArray(dtype: StorageType, size: number): StorageArray {
  switch (dtype) {
    case "f32":
      return new Float32Array(size);
    case "i32":
      return new Int32Array(size);
    case "bf16":
    case "f16":
      return new Uint16Array(size);
    case "bool":
      return new Uint8Array(size);
    default:
      return unreachable(dtype);
  }
}

/** Read and write elements as numbers, converting from and to the storage format. */
export function storageAccess(dtype: StorageType, array: StorageArray): { get(i: number): number; set(i: number, v: number): void } {
  switch (dtype) {
    case "f32":
    case "i32":
      return { get: (i) => array[i]!, set: (i, v) => void (array[i] = v) };
    case "bool":
      return { get: (i) => array[i]!, set: (i, v) => void (array[i] = v ? 1 : 0) };
    case "bf16":
      return { get: (i) => bf16FromBits(array[i]!), set: (i, v) => void (array[i] = bf16Bits(v)) };
    case "f16":
      return { get: (i) => f16FromBits(array[i]!), set: (i, v) => void (array[i] = f16Bits(v)) };
    default:
      return unreachable(dtype);
  }
}

export class EmulationError extends Error {}

/** Where the emulator finds the global buffers of a launch. */
export type GlobalBuffers = (param: GlobalParam) => StorageArray;

export interface EmulateOptions {
  /** Only blocks in [first, first + count) run (to sample huge grids); default: all. */
  readonly blocks?: { readonly first: number; readonly count: number };
}

type Eval = (t: number) => number;

/** Tracks who touched each element, to find races. */
class RaceTracker {
  // writer+1 of each element (0: none; -1: atomic updates), and reader+1 (0: none; -2: several).
  private readonly writer: Int32Array;
  private readonly reader: Int32Array;
  private readonly writeEpoch: Int32Array;
  private readonly readEpoch: Int32Array;
  constructor(size: number, private readonly what: string, private readonly withReaders: boolean) {
    this.writer = new Int32Array(size);
    this.writeEpoch = new Int32Array(size).fill(-1);
    this.reader = new Int32Array(withReaders ? size : 0);
    this.readEpoch = new Int32Array(withReaders ? size : 0).fill(-1);
  }
  read(index: number, who: number, epoch: number, where: () => string): void {
    const w = this.writer[index]!;
    if (w !== 0 && this.writeEpoch[index] === epoch && w !== who + 1)
      throw new EmulationError(`race: thread ${who} reads ${this.what}[${index}], which ${w === -1 ? "atomic updates" : `thread ${w - 1}`} wrote in the same ${this.withReaders ? "barrier interval" : "launch"} (${where()})`);
    if (!this.withReaders) return;
    const r = this.reader[index]!;
    if (this.readEpoch[index] === epoch && r !== 0 && r !== who + 1) this.reader[index] = -2;
    else if (this.readEpoch[index] !== epoch) this.reader[index] = who + 1;
    this.readEpoch[index] = epoch;
  }
  write(index: number, who: number, epoch: number, atomic: boolean, where: () => string): void {
    const w = this.writer[index]!;
    if (this.writeEpoch[index] === epoch && w !== 0 && (atomic ? w !== -1 : w !== who + 1))
      throw new EmulationError(`race: thread ${who} writes ${this.what}[${index}]${atomic ? " atomically" : ""}, which ${w === -1 ? "atomic updates" : `thread ${w - 1}`} wrote in the same ${this.withReaders ? "barrier interval" : "launch"} (${where()})`);
    if (this.withReaders && this.readEpoch[index] === epoch) {
      const r = this.reader[index]!;
      if (r === -2 || (r !== 0 && r !== who + 1)) throw new EmulationError(`race: thread ${who} writes ${this.what}[${index}] that another thread read in the same barrier interval (${where()})`);
    }
    this.writer[index] = atomic ? -1 : who + 1;
    this.writeEpoch[index] = epoch;
  }
}

interface BlockState {
  bid: number;
  epoch: number;
  regs: Float64Array[];
  arrays: Map<number, { data: Float64Array; stride: number; shared: boolean; tracker: RaceTracker | null }>;
}

/** Runs one launch of `kernel` over the global buffers. */
export function emulateKernel(kernel: GpuKernel, globals: GlobalBuffers, options: EmulateOptions = {}): void {
  const T = kernel.threads;
  if (T % 32 !== 0) throw new EmulationError(`${kernel.name}: ${T} threads per block is not a whole number of warps`);
  // Registers: one slot per name (loop variables, lets, mutable locals, tid, bid).
  const slots = new Map<string, number>([[THREAD, 0], [BLOCK, 1]]);
  const slotOf = (name: string): number => {
    let s = slots.get(name);
    if (s === undefined) slots.set(name, (s = slots.size));
    return s;
  };
  forEachStmt(kernel.body, (s) => {
    if (s.s === "let" || s.s === "declare" || s.s === "assign" || s.s === "shuffle_xor") slotOf(s.name);
    if (s.s === "for") slotOf(s.var.name);
  });
  const globalsById = new Map<number, { param: GlobalParam; get(i: number): number; set(i: number, v: number): void; tracker: RaceTracker }>();
  for (const p of kernel.params) {
    const array = globals(p);
    if (array.length < p.size) throw new EmulationError(`${kernel.name}: buffer ${p.id} has ${array.length} elements, the kernel expects ${p.size}`);
    globalsById.set(p.id, { param: p, ...storageAccess(p.dtype, array), tracker: new RaceTracker(p.size, `buffer ${p.id}`, false) });
  }
  let state!: BlockState;
  const gtid = (t: number) => state.bid * T + t;
  const where = () => `${kernel.name}, block ${state.bid}`;

  const bounds = (what: string, index: number, size: number, t: number): void => {
    if (!(index >= 0 && index < size) || !Number.isInteger(index)) throw new EmulationError(`${kernel.name}: thread ${t} of block ${state.bid} indexes ${what}[${index}], outside [0, ${size})`);
  };

  const compiled = new Map<Expr, Eval>();
  const compile = (e: Expr): Eval => {
    const hit = compiled.get(e);
    if (hit) return hit;
    const fn = compileOnce(e);
    compiled.set(e, fn);
    return fn;
  };
  const f32 = Math.fround;
  const compileOnce = (e: Expr): Eval => {
    switch (e.op) {
      case "const": {
        const value = e.type === "f32" ? f32(e.value) : e.value;
        return () => value;
      }
      case "var":
      case "local": {
        const slot = slots.get(e.name);
        if (slot === undefined) throw new EmulationError(`${kernel.name}: '${e.name}' is read but never defined`);
        return (t) => state.regs[slot]![t]!;
      }
      case "load": {
        const index = compile(e.index);
        if (e.buffer >= 0) {
          const g = globalsById.get(e.buffer);
          if (!g) throw new EmulationError(`${kernel.name}: loads buffer ${e.buffer}, which is not a parameter`);
          const size = g.param.size;
          return (t) => {
            const at = index(t);
            bounds(`buffer ${e.buffer}`, at, size, t);
            g.tracker.read(at, gtid(t), 0, where);
            return g.get(at);
          };
        }
        const id = e.buffer;
        return (t) => {
          const array = state.arrays.get(id);
          if (!array) throw new EmulationError(`${kernel.name}: array ${id} is not declared`);
          const at = index(t);
          bounds(`array ${id}`, at, array.stride, t);
          if (array.shared) {
            array.tracker!.read(at, t, state.epoch, where);
            return array.data[at]!;
          }
          return array.data[t * array.stride + at]!;
        };
      }
      case "unary": {
        const a = compile(e.a);
        switch (e.fn) {
          case "neg":
            return (t) => -a(t);
          case "exp2":
            return (t) => f32(2 ** a(t));
          case "log2":
            return (t) => f32(Math.log2(a(t)));
          case "sin":
            return (t) => f32(Math.sin(a(t)));
          case "sqrt":
            return (t) => f32(Math.sqrt(a(t)));
          case "recip":
            return (t) => f32(1 / a(t));
          case "round_bf16":
            return (t) => roundBf16(a(t));
          case "round_f16":
            return (t) => roundF16(a(t));
          default:
            return unreachable(e);
        }
      }
      case "binary": {
        const [a, b] = [compile(e.a), compile(e.b)];
        const float = e.type === "f32";
        switch (e.fn) {
          case "add":
            return float ? (t) => f32(a(t) + b(t)) : (t) => (a(t) + b(t)) | 0;
          case "mul":
            return float ? (t) => f32(a(t) * b(t)) : (t) => Math.imul(a(t), b(t));
          case "idiv":
            return (t) => {
              const d = b(t);
              if (d === 0) throw new EmulationError(`${kernel.name}: integer division by zero`);
              return Math.trunc(a(t) / d) | 0;
            };
          case "mod":
            return (t) => {
              const d = b(t);
              if (d === 0) throw new EmulationError(`${kernel.name}: integer modulo by zero`);
              return (a(t) % d) | 0;
            };
          case "max":
            return float
              ? (t) => {
                  const [x, y] = [a(t), b(t)];
                  return x > y || x !== x ? x : y;
                }
              : (t) => Math.max(a(t), b(t));
          case "min":
            return (t) => Math.min(a(t), b(t));
          case "lt":
            return (t) => (a(t) < b(t) ? 1 : 0);
          case "eq":
            return (t) => (a(t) === b(t) ? 1 : 0);
          case "and":
            return (t) => (a(t) && b(t) ? 1 : 0);
          default:
            return unreachable(e);
        }
      }
      case "select": {
        const [c, a, b] = [compile(e.cond), compile(e.a), compile(e.b)];
        return (t) => (c(t) ? a(t) : b(t));
      }
      case "cast": {
        const a = compile(e.a);
        return e.type === "f32" ? (t) => f32(a(t)) : (t) => Math.trunc(a(t)) | 0;
      }
      case "philox": {
        const [seed, index] = [compile(e.seed), compile(e.index)];
        const offset = e.offset >>> 0;
        return (t) => {
          const at = index(t) >>> 0;
          const words = philox4x32([at >>> 2, offset, 0, 0], [seed(t) >>> 0, 0]);
          return (words[at & 3]! >>> 8) * 2 ** -24;
        };
      }
      default:
        return unreachable(e);
    }
  };
  const convert = (type: Expr["type"], v: number): number => (type === "f32" ? f32(v) : Math.trunc(v) | 0);

  const run = (stmts: readonly GStmt[], active: readonly number[]): void => {
    for (const s of stmts) {
      if (active.length === 0) return;
      switch (s.s) {
        case "let":
        case "assign": {
          const slot = slots.get(s.name)!;
          const value = compile(s.value);
          const regs = state.regs[slot]!;
          for (const t of active) regs[t] = convert(s.value.type, value(t));
          break;
        }
        case "declare": {
          const regs = state.regs[slots.get(s.name)!]!;
          const value = compile(s.init);
          for (const t of active) regs[t] = convert(s.type, value(t));
          break;
        }
        case "for": {
          const regs = state.regs[slots.get(s.var.name)!]!;
          const start = compile(s.start);
          for (const t of active) regs[t] = start(t);
          let live = active.filter((t) => regs[t]! < s.var.extent);
          while (live.length > 0) {
            run(s.body, live);
            for (const t of live) regs[t] = regs[t]! + s.step;
            live = live.filter((t) => regs[t]! < s.var.extent);
          }
          break;
        }
        case "if": {
          const cond = compile(s.cond);
          const yes: number[] = [];
          const no: number[] = [];
          for (const t of active) (cond(t) ? yes : no).push(t);
          run(s.then, yes);
          if (s.else) run(s.else, no);
          break;
        }
        case "store": {
          const [index, value] = [compile(s.index), compile(s.value)];
          if (s.buffer >= 0) {
            const g = globalsById.get(s.buffer);
            if (!g) throw new EmulationError(`${kernel.name}: stores to buffer ${s.buffer}, which is not a parameter`);
            if (g.param.role === "read") throw new EmulationError(`${kernel.name}: stores to buffer ${s.buffer}, a read-only parameter`);
            for (const t of active) {
              const at = index(t);
              bounds(`buffer ${s.buffer}`, at, g.param.size, t);
              const v = value(t);
              g.tracker.write(at, gtid(t), 0, s.atomic === true, where);
              g.set(at, s.atomic ? g.get(at) + v : v);
            }
          } else {
            const array = state.arrays.get(s.buffer);
            if (!array) throw new EmulationError(`${kernel.name}: array ${s.buffer} is not declared`);
            for (const t of active) {
              const at = index(t);
              bounds(`array ${s.buffer}`, at, array.stride, t);
              const v = f32(value(t));
              if (array.shared) {
                array.tracker!.write(at, t, state.epoch, s.atomic === true, where);
                array.data[at] = s.atomic ? array.data[at]! + v : v;
              } else array.data[t * array.stride + at] = s.atomic ? array.data[t * array.stride + at]! + v : v;
            }
          }
          break;
        }
        case "barrier":
          if (active.length !== T) throw new EmulationError(`${kernel.name}: __syncthreads() reached by ${active.length} of ${T} threads of block ${state.bid} (a barrier in divergent code)`);
          state.epoch++;
          break;
        case "shuffle_xor": {
          const value = compile(s.value);
          const lanes = new Set(active);
          for (const t of active)
            for (let w = t - (t % 32); w < t - (t % 32) + 32; w++)
              if (!lanes.has(w)) throw new EmulationError(`${kernel.name}: __shfl_xor_sync in block ${state.bid} with lane ${w % 32} of warp ${Math.floor(w / 32)} inactive`);
          const values = new Float64Array(T);
          for (const t of active) values[t] = value(t);
          const regs = state.regs[slots.get(s.name)!]!;
          for (const t of active) regs[t] = values[t ^ s.lanes]!;
          break;
        }
        case "comment":
          break;
        default:
          unreachable(s);
      }
    }
  };

  const all = Array.from({ length: T }, (_, t) => t);
  const first = options.blocks?.first ?? 0;
  const last = Math.min(kernel.blocks, first + (options.blocks?.count ?? kernel.blocks));
  for (let bid = first; bid < last; bid++) {
    const regs = Array.from({ length: slots.size }, () => new Float64Array(T).fill(Number.NaN));
    for (let t = 0; t < T; t++) {
      regs[0]![t] = t;
      regs[1]![t] = bid;
    }
    const arrays = new Map(
      kernel.arrays.map((a) => [
        a.id,
        a.space === "shared"
          ? { data: new Float64Array(a.size).fill(Number.NaN), stride: a.size, shared: true, tracker: new RaceTracker(a.size, a.name, true) }
          : { data: new Float64Array(a.size * T).fill(Number.NaN), stride: a.size, shared: false, tracker: null },
      ]),
    );
    state = { bid, epoch: 0, regs, arrays };
    run(kernel.body, all);
  }
}
