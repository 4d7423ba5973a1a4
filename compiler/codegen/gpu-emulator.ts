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
  constructor(
    size: number,
    private readonly what: string,
    private readonly withReaders: boolean,
  ) {
    this.writer = new Int32Array(size);
    this.writeEpoch = new Int32Array(size).fill(-1);
    this.reader = new Int32Array(withReaders ? size : 0);
    this.readEpoch = new Int32Array(withReaders ? size : 0).fill(-1);
  }
  read(index: number, who: number, epoch: number, where: () => string): void {
    const w = this.writer[index]!;
    if (w !== 0 && this.writeEpoch[index] === epoch && w !== who + 1)
      throw new EmulationError(`race: thread ${who} reads ${this.what}[${index}], which ${this.wroteEarlier(w, where)}`);
    if (!this.withReaders) return;
    const r = this.reader[index]!;
    if (this.readEpoch[index] === epoch && r !== 0 && r !== who + 1) this.reader[index] = -2;
    else if (this.readEpoch[index] !== epoch) this.reader[index] = who + 1;
    this.readEpoch[index] = epoch;
  }
  write(index: number, who: number, epoch: number, atomic: boolean, where: () => string): void {
    const w = this.writer[index]!;
    if (this.writeEpoch[index] === epoch && w !== 0 && (atomic ? w !== -1 : w !== who + 1))
      throw new EmulationError(
        `race: thread ${who} writes ${this.what}[${index}]${atomic ? " atomically" : ""}, which ${this.wroteEarlier(w, where)}`,
      );
    if (this.withReaders && this.readEpoch[index] === epoch) {
      const r = this.reader[index]!;
      if (r === -2 || (r !== 0 && r !== who + 1))
        throw new EmulationError(
          `race: thread ${who} writes ${this.what}[${index}] that another thread read in the same barrier interval (${where()})`,
        );
    }
    this.writer[index] = atomic ? -1 : who + 1;
    this.writeEpoch[index] = epoch;
  }
  /** The end of a race message: who wrote before (writer+1, or -1 for atomic updates), and when. */
  private wroteEarlier(w: number, where: () => string): string {
    return `${w === -1 ? "atomic updates" : `thread ${w - 1}`} wrote in the same ${this.withReaders ? "barrier interval" : "launch"} (${where()})`;
  }
}

interface BlockState {
  bid: number;
  epoch: number;
  regs: Float64Array[];
  arrays: Map<number, { data: Float64Array; stride: number; shared: boolean; tracker: RaceTracker | null }>;
}

interface BoundGlobal {
  param: GlobalParam;
  get(i: number): number;
  set(i: number, v: number): void;
  tracker: RaceTracker;
}

/** One launch being emulated: the kernel, its registers and buffers, and the block now running. */
interface Emulation {
  readonly kernel: GpuKernel;
  /** Threads per block. */
  readonly threads: number;
  /** Register slot of each name (loop variables, lets, mutable locals, tid, bid). */
  readonly slots: ReadonlyMap<string, number>;
  readonly globals: ReadonlyMap<number, BoundGlobal>;
  /** Each expression compiled once into a per-thread evaluator. */
  readonly compiled: Map<Expr, Eval>;
  state: BlockState;
}

const f32 = Math.fround;

/** Runs one launch of `kernel` over the global buffers. */
export function emulateKernel(kernel: GpuKernel, globals: GlobalBuffers, options: EmulateOptions = {}): void {
  const T = kernel.threads;
  if (T % 32 !== 0) throw new EmulationError(`${kernel.name}: ${T} threads per block is not a whole number of warps`);
  const slots = registerSlots(kernel);
  const em: Emulation = { kernel, threads: T, slots, globals: bindGlobals(kernel, globals), compiled: new Map(), state: undefined! };
  const all = Array.from({ length: T }, (_, t) => t);
  const first = options.blocks?.first ?? 0;
  const last = Math.min(kernel.blocks, first + (options.blocks?.count ?? kernel.blocks));
  for (let bid = first; bid < last; bid++) {
    em.state = blockState(em, bid);
    run(em, kernel.body, all);
  }
}

function registerSlots(kernel: GpuKernel): Map<string, number> {
  const slots = new Map<string, number>([
    [THREAD, 0],
    [BLOCK, 1],
  ]);
  const slotOf = (name: string): void => {
    if (!slots.has(name)) slots.set(name, slots.size);
  };
  forEachStmt(kernel.body, (s) => {
    if (s.s === "let" || s.s === "declare" || s.s === "assign" || s.s === "shuffle_xor") slotOf(s.name);
    if (s.s === "for") slotOf(s.var.name);
  });
  return slots;
}

function bindGlobals(kernel: GpuKernel, globals: GlobalBuffers): Map<number, BoundGlobal> {
  const bound = new Map<number, BoundGlobal>();
  for (const p of kernel.params) {
    const array = globals(p);
    if (array.length < p.size) throw new EmulationError(`${kernel.name}: buffer ${p.id} has ${array.length} elements, the kernel expects ${p.size}`);
    bound.set(p.id, { param: p, ...storageAccess(p.dtype, array), tracker: new RaceTracker(p.size, `buffer ${p.id}`, false) });
  }
  return bound;
}

/** A fresh block: registers and arrays hold NaN until written, so a read before a write shows. */
function blockState(em: Emulation, bid: number): BlockState {
  const T = em.threads;
  const regs = Array.from({ length: em.slots.size }, () => new Float64Array(T).fill(Number.NaN));
  for (let t = 0; t < T; t++) {
    regs[0]![t] = t;
    regs[1]![t] = bid;
  }
  const arrays = new Map(
    em.kernel.arrays.map((a) => [
      a.id,
      a.space === "shared"
        ? { data: new Float64Array(a.size).fill(Number.NaN), stride: a.size, shared: true, tracker: new RaceTracker(a.size, a.name, true) }
        : { data: new Float64Array(a.size * T).fill(Number.NaN), stride: a.size, shared: false, tracker: null },
    ]),
  );
  return { bid, epoch: 0, regs, arrays };
}

const gtid = (em: Emulation, t: number): number => em.state.bid * em.threads + t;
const whereOf = (em: Emulation) => (): string => `${em.kernel.name}, block ${em.state.bid}`;

function checkBounds(em: Emulation, what: string, index: number, size: number, t: number): void {
  if (!(index >= 0 && index < size) || !Number.isInteger(index))
    throw new EmulationError(`${em.kernel.name}: thread ${t} of block ${em.state.bid} indexes ${what}[${index}], outside [0, ${size})`);
}

function compile(em: Emulation, e: Expr): Eval {
  const hit = em.compiled.get(e);
  if (hit) return hit;
  const fn = compileOnce(em, e);
  em.compiled.set(e, fn);
  return fn;
}

function compileOnce(em: Emulation, e: Expr): Eval {
  switch (e.op) {
    case "const": {
      const value = e.type === "f32" ? f32(e.value) : e.value;
      return () => value;
    }
    case "var":
    case "local": {
      const slot = em.slots.get(e.name);
      if (slot === undefined) throw new EmulationError(`${em.kernel.name}: '${e.name}' is read but never defined`);
      return (t) => em.state.regs[slot]![t]!;
    }
    case "load":
      return e.buffer >= 0 ? compileGlobalLoad(em, e.buffer, compile(em, e.index)) : compileArrayLoad(em, e.buffer, compile(em, e.index));
    case "unary":
      return compileUnary(e.fn, compile(em, e.a));
    case "binary":
      return compileBinary(em, e.fn, e.type === "f32", compile(em, e.a), compile(em, e.b));
    case "select": {
      const [c, a, b] = [compile(em, e.cond), compile(em, e.a), compile(em, e.b)];
      return (t) => (c(t) ? a(t) : b(t));
    }
    case "cast": {
      const a = compile(em, e.a);
      return e.type === "f32" ? (t) => f32(a(t)) : (t) => Math.trunc(a(t)) | 0;
    }
    case "philox": {
      const [seed, index] = [compile(em, e.seed), compile(em, e.index)];
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
}

function compileGlobalLoad(em: Emulation, buffer: number, index: Eval): Eval {
  const g = em.globals.get(buffer);
  if (!g) throw new EmulationError(`${em.kernel.name}: loads buffer ${buffer}, which is not a parameter`);
  const size = g.param.size;
  const where = whereOf(em);
  return (t) => {
    const at = index(t);
    checkBounds(em, `buffer ${buffer}`, at, size, t);
    g.tracker.read(at, gtid(em, t), 0, where);
    return g.get(at);
  };
}

function compileArrayLoad(em: Emulation, id: number, index: Eval): Eval {
  const where = whereOf(em);
  return (t) => {
    const array = em.state.arrays.get(id);
    if (!array) throw new EmulationError(`${em.kernel.name}: array ${id} is not declared`);
    const at = index(t);
    checkBounds(em, `array ${id}`, at, array.stride, t);
    if (array.shared) {
      array.tracker!.read(at, t, em.state.epoch, where);
      return array.data[at]!;
    }
    return array.data[t * array.stride + at]!;
  };
}

function compileUnary(fn: Extract<Expr, { op: "unary" }>["fn"], a: Eval): Eval {
  switch (fn) {
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
      return unreachable(fn);
  }
}

function compileBinary(em: Emulation, fn: Extract<Expr, { op: "binary" }>["fn"], float: boolean, a: Eval, b: Eval): Eval {
  switch (fn) {
    case "add":
      return float ? (t) => f32(a(t) + b(t)) : (t) => (a(t) + b(t)) | 0;
    case "mul":
      return float ? (t) => f32(a(t) * b(t)) : (t) => Math.imul(a(t), b(t));
    case "idiv":
      return (t) => {
        const d = b(t);
        if (d === 0) throw new EmulationError(`${em.kernel.name}: integer division by zero`);
        return Math.trunc(a(t) / d) | 0;
      };
    case "mod":
      return (t) => {
        const d = b(t);
        if (d === 0) throw new EmulationError(`${em.kernel.name}: integer modulo by zero`);
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
      return unreachable(fn);
  }
}

const convert = (type: Expr["type"], v: number): number => (type === "f32" ? f32(v) : Math.trunc(v) | 0);

/** Run statements on the `active` threads of the current block, in lockstep. */
function run(em: Emulation, stmts: readonly GStmt[], active: readonly number[]): void {
  for (const s of stmts) {
    if (active.length === 0) return;
    switch (s.s) {
      case "let":
      case "assign":
        setRegister(em, s.name, s.value.type, compile(em, s.value), active);
        break;
      case "declare":
        setRegister(em, s.name, s.type, compile(em, s.init), active);
        break;
      case "for":
        runFor(em, s, active);
        break;
      case "if": {
        const cond = compile(em, s.cond);
        const yes: number[] = [];
        const no: number[] = [];
        for (const t of active) (cond(t) ? yes : no).push(t);
        run(em, s.then, yes);
        if (s.else) run(em, s.else, no);
        break;
      }
      case "store":
        if (s.buffer >= 0) storeGlobal(em, s, active);
        else storeArray(em, s, active);
        break;
      case "barrier":
        if (active.length !== em.threads) {
          const reached = `${active.length} of ${em.threads} threads of block ${em.state.bid}`;
          throw new EmulationError(`${em.kernel.name}: __syncthreads() reached by ${reached} (a barrier in divergent code)`);
        }
        em.state.epoch++;
        break;
      case "shuffle_xor":
        runShuffle(em, s, active);
        break;
      case "comment":
        break;
      default:
        unreachable(s);
    }
  }
}

function setRegister(em: Emulation, name: string, type: Expr["type"], value: Eval, active: readonly number[]): void {
  const regs = em.state.regs[em.slots.get(name)!]!;
  for (const t of active) regs[t] = convert(type, value(t));
}

function runFor(em: Emulation, s: Extract<GStmt, { s: "for" }>, active: readonly number[]): void {
  const regs = em.state.regs[em.slots.get(s.var.name)!]!;
  const start = compile(em, s.start);
  for (const t of active) regs[t] = start(t);
  let live = active.filter((t) => regs[t]! < s.var.extent);
  while (live.length > 0) {
    run(em, s.body, live);
    for (const t of live) regs[t] = regs[t]! + s.step;
    live = live.filter((t) => regs[t]! < s.var.extent);
  }
}

function storeGlobal(em: Emulation, s: Extract<GStmt, { s: "store" }>, active: readonly number[]): void {
  const [index, value] = [compile(em, s.index), compile(em, s.value)];
  const g = em.globals.get(s.buffer);
  if (!g) throw new EmulationError(`${em.kernel.name}: stores to buffer ${s.buffer}, which is not a parameter`);
  if (g.param.role === "read") throw new EmulationError(`${em.kernel.name}: stores to buffer ${s.buffer}, a read-only parameter`);
  const where = whereOf(em);
  for (const t of active) {
    const at = index(t);
    checkBounds(em, `buffer ${s.buffer}`, at, g.param.size, t);
    const v = value(t);
    g.tracker.write(at, gtid(em, t), 0, s.atomic === true, where);
    g.set(at, s.atomic ? g.get(at) + v : v);
  }
}

function storeArray(em: Emulation, s: Extract<GStmt, { s: "store" }>, active: readonly number[]): void {
  const [index, value] = [compile(em, s.index), compile(em, s.value)];
  const array = em.state.arrays.get(s.buffer);
  if (!array) throw new EmulationError(`${em.kernel.name}: array ${s.buffer} is not declared`);
  const where = whereOf(em);
  for (const t of active) {
    const at = index(t);
    checkBounds(em, `array ${s.buffer}`, at, array.stride, t);
    const v = f32(value(t));
    if (array.shared) {
      array.tracker!.write(at, t, em.state.epoch, s.atomic === true, where);
      array.data[at] = s.atomic ? array.data[at]! + v : v;
    } else array.data[t * array.stride + at] = s.atomic ? array.data[t * array.stride + at]! + v : v;
  }
}

function runShuffle(em: Emulation, s: Extract<GStmt, { s: "shuffle_xor" }>, active: readonly number[]): void {
  const value = compile(em, s.value);
  const lanes = new Set(active);
  for (const t of active)
    for (let w = t - (t % 32); w < t - (t % 32) + 32; w++)
      if (!lanes.has(w))
        throw new EmulationError(
          `${em.kernel.name}: __shfl_xor_sync in block ${em.state.bid} with lane ${w % 32} of warp ${Math.floor(w / 32)} inactive`,
        );
  const values = new Float64Array(em.threads);
  for (const t of active) values[t] = value(t);
  const regs = em.state.regs[em.slots.get(s.name)!]!;
  for (const t of active) regs[t] = values[t ^ s.lanes]!;
}
