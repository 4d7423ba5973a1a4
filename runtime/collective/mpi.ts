// Open MPI's C API bound with koffi: the few calls data-parallel training needs (init, rank/size,
// allreduce, broadcast, allgather, barrier, abort, finalize). Open MPI's handles (MPI_COMM_WORLD,
// MPI_FLOAT, MPI_SUM…) are the addresses of exported globals (`ompi_mpi_comm_world`…), resolved here.
import koffi from "koffi";

type NativeCall = (...args: unknown[]) => unknown;

/** The C prototypes (mpi.h); handles and buffers are pointers. */
const PROTOTYPES: Record<string, { result: string; args: readonly string[] }> = {
  MPI_Initialized: { result: "int", args: ["void *"] },
  MPI_Finalized: { result: "int", args: ["void *"] },
  MPI_Init_thread: { result: "int", args: ["void *", "void *", "int", "void *"] },
  MPI_Comm_rank: { result: "int", args: ["void *", "void *"] },
  MPI_Comm_size: { result: "int", args: ["void *", "void *"] },
  MPI_Allreduce: { result: "int", args: ["void *", "void *", "int", "void *", "void *", "void *"] },
  MPI_Bcast: { result: "int", args: ["void *", "int", "void *", "int", "void *"] },
  MPI_Allgather: { result: "int", args: ["void *", "int", "void *", "void *", "int", "void *", "void *"] },
  MPI_Barrier: { result: "int", args: ["void *"] },
  MPI_Abort: { result: "int", args: ["void *", "int"] },
  MPI_Finalize: { result: "int", args: [] },
  MPI_Error_string: { result: "int", args: ["int", "void *", "void *"] },
  MPI_Get_library_version: { result: "int", args: ["void *", "void *"] },
};

/** Open MPI's exported handle objects; MPI_COMM_WORLD is `&ompi_mpi_comm_world`, and so on. */
const HANDLES = {
  commWorld: "ompi_mpi_comm_world",
  float: "ompi_mpi_float",
  double: "ompi_mpi_double",
  byte: "ompi_mpi_byte",
  sum: "ompi_mpi_op_sum",
  max: "ompi_mpi_op_max",
  min: "ompi_mpi_op_min",
} as const;

// mpi.h: MPI_IN_PLACE is ((void *) 1); MPI_THREAD_FUNNELED is 1 (only the main thread calls MPI).
const MPI_IN_PLACE = 1n;
const MPI_THREAD_FUNNELED = 1;
/** MPI counts are C ints: larger buffers go in pieces. */
const MAX_COUNT = 1 << 30;

export type ReduceOp = "sum" | "max" | "min";

export class MpiError extends Error {
  constructor(
    message: string,
    readonly call: string,
    readonly code: number,
  ) {
    super(message);
    this.name = "MpiError";
  }
}

/** MPI_COMM_WORLD as plain functions; errors throw MpiError naming the call. Only the main thread may call. */
export interface Mpi {
  path: string;
  rank: number;
  size: number;
  /** The library's own version line (MPI_Get_library_version). */
  version: string;
  allreduce(buffer: Float32Array | Float64Array, op: ReduceOp): void;
  broadcast(buffer: Float32Array | Float64Array | Uint8Array, root: number): void;
  /** Every rank's `mine` (same length everywhere), concatenated in rank order. */
  allgather(mine: Uint8Array): Uint8Array;
  barrier(): void;
  /** Ends every rank of the job (MPI_Abort): for a rank that cannot go on while the others wait on it. */
  abort(code: number): never;
  finalize(): void;
}

/** libmpi's calls bound by name: each checks the result code and names the call when it fails. */
interface MpiCalls {
  native(name: string): NativeCall;
  /** One of Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …). */
  handle(key: keyof typeof HANDLES): unknown;
  call(name: string, detail: string, ...args: unknown[]): void;
  /** A call whose last argument is an out-parameter int, returned. */
  outInt(name: string, ...args: unknown[]): number;
}

function bindMpi(path: string): MpiCalls {
  // Open MPI's components are shared objects that resolve libmpi's symbols globally.
  const library = koffi.load(path, { global: true });
  const bound = new Map<string, NativeCall>();
  const native = (name: string): NativeCall => {
    const known = bound.get(name);
    if (known) return known;
    const proto = PROTOTYPES[name]!;
    let fn: NativeCall;
    try {
      fn = library.func(name, proto.result, [...proto.args]) as NativeCall;
    } catch (error) {
      throw new Error(`kiln: ${path} lacks ${name} (${(error as Error).message}); is it an MPI library?`);
    }
    bound.set(name, fn);
    return fn;
  };
  const handle = (key: keyof typeof HANDLES): unknown => {
    try {
      return library.symbol(HANDLES[key]);
    } catch {
      const abi = "kiln binds Open MPI's ABI (libmpi.so.40); MPICH and others are not supported yet";
      throw new Error(`kiln: ${path} does not export ${HANDLES[key]}: ${abi}`);
    }
  };
  const errorText = (code: number): string => {
    const text = Buffer.alloc(512);
    const length = new Int32Array(1);
    try {
      if ((native("MPI_Error_string")(code, text, length) as number) === 0) return text.toString("utf8", 0, length[0]!);
    } catch {
      // Fall through to the bare code.
    }
    return `MPI error ${code}`;
  };
  const call = (name: string, detail: string, ...args: unknown[]): void => {
    const code = native(name)(...args) as number;
    if (code !== 0) throw new MpiError(`${name}(${detail}) failed: ${errorText(code)}`, name, code);
  };
  const outInt = (name: string, ...args: unknown[]): number => {
    const out = new Int32Array(1);
    call(name, "", ...args, out);
    return out[0]!;
  };
  return { native, handle, call, outInt };
}

/** Initialises MPI (once per process, funneled threads) and reads this rank's place in MPI_COMM_WORLD. */
function initWorld(b: MpiCalls): { world: unknown; rank: number; size: number; version: string } {
  const { call, handle, outInt } = b;
  const world = handle("commWorld");
  const initialized = new Int32Array(1);
  call("MPI_Initialized", "", initialized);
  if (!initialized[0]) {
    const provided = new Int32Array(1);
    call("MPI_Init_thread", "MPI_THREAD_FUNNELED", null, null, MPI_THREAD_FUNNELED, provided);
  }
  const rank = outInt("MPI_Comm_rank", world);
  const size = outInt("MPI_Comm_size", world);
  const versionText = Buffer.alloc(512);
  const versionLength = new Int32Array(1);
  call("MPI_Get_library_version", "", versionText, versionLength);
  const version = versionText.toString("utf8", 0, versionLength[0]!).split("\n")[0]!.replace(/\0.*$/, "").trim();
  return { world, rank, size, version };
}

/** Opens libmpi at `path` (RTLD_GLOBAL, as Open MPI's plugins need), initialises MPI and binds MPI_COMM_WORLD. */
export function loadMpi(path: string): Mpi {
  const b = bindMpi(path);
  const { call, handle, native } = b;
  const { world, rank, size, version } = initWorld(b);
  const typeOf = (buffer: Float32Array | Float64Array | Uint8Array): { type: unknown; name: string } =>
    buffer instanceof Float32Array
      ? { type: handle("float"), name: "MPI_FLOAT" }
      : buffer instanceof Float64Array
        ? { type: handle("double"), name: "MPI_DOUBLE" }
        : { type: handle("byte"), name: "MPI_BYTE" };
  /** Runs `f` over views of at most MAX_COUNT elements (MPI counts are ints). */
  const inPieces = <T extends Float32Array | Float64Array | Uint8Array>(buffer: T, f: (piece: T) => void): void => {
    for (let start = 0; start < buffer.length; start += MAX_COUNT) f(buffer.subarray(start, Math.min(buffer.length, start + MAX_COUNT)) as T);
  };

  return {
    path,
    rank,
    size,
    version,
    allreduce: (buffer, op) => {
      const { type, name } = typeOf(buffer);
      inPieces(buffer, (piece) =>
        call("MPI_Allreduce", `${piece.length} × ${name}, MPI_${op.toUpperCase()}`, MPI_IN_PLACE, piece, piece.length, type, handle(op), world),
      );
    },
    broadcast: (buffer, root) => {
      const { type, name } = typeOf(buffer);
      inPieces(buffer, (piece) => call("MPI_Bcast", `${piece.length} × ${name} from rank ${root}`, piece, piece.length, type, root, world));
    },
    allgather: (mine) => {
      if (mine.length > MAX_COUNT) throw new Error(`MPI allgather: ${mine.length} bytes per rank is more than kiln gathers at once (${MAX_COUNT})`);
      const all = new Uint8Array(mine.length * size);
      const byte = handle("byte");
      call("MPI_Allgather", `${mine.length} bytes per rank`, mine, mine.length, byte, all, mine.length, byte, world);
      return all;
    },
    barrier: () => call("MPI_Barrier", "", world),
    abort: (code) => {
      native("MPI_Abort")(world, code);
      // MPI_Abort does not return; if it did, this process must not go on.
      process.exit(code);
    },
    finalize: () => {
      const finalized = new Int32Array(1);
      call("MPI_Finalized", "", finalized);
      if (!finalized[0]) call("MPI_Finalize", "");
    },
  };
}
