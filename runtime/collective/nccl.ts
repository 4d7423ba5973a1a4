// NVIDIA's NCCL bound with koffi, for collectives between CUDA ranks on device memory: unique id,
// communicator, allreduce, broadcast, abort. The unique id that joins the ranks is made by rank 0 and
// broadcast through MPI (ncclCommunicator below), as NCCL's own examples do; no rendezvous server.
import koffi from "koffi";
import type { World } from "./world.ts";

/** A device pointer (CUdeviceptr) or an opaque handle (ncclComm_t, cudaStream_t). */
export type Handle = bigint;

// nccl.h: NCCL_UNIQUE_ID_BYTES, ncclDataType_t and ncclRedOp_t values.
export const NCCL_UNIQUE_ID_BYTES = 128;
const DATA_TYPES = { f32: 7, f64: 8, bf16: 9 } as const;
const REDUCE_OPS = { sum: 0, max: 2, min: 3, avg: 4 } as const;
export type NcclDataType = keyof typeof DATA_TYPES;
export type NcclReduceOp = keyof typeof REDUCE_OPS;

const UniqueId = koffi.struct("kiln_ncclUniqueId", { internal: koffi.array("uint8", NCCL_UNIQUE_ID_BYTES, "Typed") });

const PROTOTYPES: Record<string, { result: unknown; args: readonly unknown[] }> = {
  ncclGetVersion: { result: "int", args: ["void *"] },
  ncclGetErrorString: { result: "const char *", args: ["int"] },
  ncclGetUniqueId: { result: "int", args: ["void *"] },
  ncclCommInitRank: { result: "int", args: ["void *", "int", UniqueId, "int"] },
  ncclAllReduce: { result: "int", args: ["uint64", "uint64", "size_t", "int", "int", "void *", "void *"] },
  ncclBroadcast: { result: "int", args: ["uint64", "uint64", "size_t", "int", "int", "void *", "void *"] },
  ncclCommGetAsyncError: { result: "int", args: ["void *", "void *"] },
  ncclGroupStart: { result: "int", args: [] },
  ncclGroupEnd: { result: "int", args: [] },
  ncclCommAbort: { result: "int", args: ["void *"] },
  ncclCommDestroy: { result: "int", args: ["void *"] },
};

type NativeCall = (...args: unknown[]) => unknown;

export class NcclError extends Error {
  constructor(
    message: string,
    readonly call: string,
    readonly code: number,
  ) {
    super(message);
    this.name = "NcclError";
  }
}

/** NCCL as plain functions; errors throw NcclError naming the call and NCCL's message. */
export interface Nccl {
  path: string;
  /** NCCL_VERSION_CODE, e.g. 22703 for 2.27.3. */
  version: number;
  uniqueId(): Uint8Array;
  initRank(size: number, id: Uint8Array, rank: number): Handle;
  allReduce(comm: Handle, send: Handle, recv: Handle, count: number, type: NcclDataType, op: NcclReduceOp, stream: Handle): void;
  broadcast(comm: Handle, send: Handle, recv: Handle, count: number, type: NcclDataType, root: number, stream: Handle): void;
  /** Runs `work`'s calls as one group (ncclGroupStart … ncclGroupEnd): NCCL launches them together. */
  group(work: () => void): void;
  /** The communicator's asynchronous error (0: none), e.g. a peer that went away. */
  asyncError(comm: Handle): number;
  abort(comm: Handle): void;
  destroy(comm: Handle): void;
}

/** "2.27.3" from NCCL_VERSION_CODE (major·10000 + minor·100 + patch since 2.9). */
export const ncclVersionText = (code: number): string => `${Math.floor(code / 10000)}.${Math.floor(code / 100) % 100}.${code % 100}`;

export function loadNccl(path: string): Nccl {
  const library = koffi.load(path);
  const bound = new Map<string, NativeCall>();
  const native = (name: string): NativeCall => {
    const known = bound.get(name);
    if (known) return known;
    const proto = PROTOTYPES[name]!;
    let fn: NativeCall;
    try {
      fn = library.func(name, proto.result as string, [...(proto.args as string[])]) as NativeCall;
    } catch (error) {
      throw new Error(`kiln: ${path} lacks ${name} (${(error as Error).message}); NCCL 2.12 or newer is needed`);
    }
    bound.set(name, fn);
    return fn;
  };
  const errorText = (code: number): string => {
    try {
      return `${(native("ncclGetErrorString")(code) as string | null) ?? "no description"} (ncclResult_t ${code})`;
    } catch {
      return `ncclResult_t ${code}`;
    }
  };
  const call = (name: string, detail: () => string, ...args: unknown[]): void => {
    const code = native(name)(...args) as number;
    if (code !== 0) throw new NcclError(`${name}(${detail()}) failed: ${errorText(code)}`, name, code);
  };
  const versionOut = new Int32Array(1);
  call("ncclGetVersion", () => "", versionOut);
  const hex = (h: Handle) => `0x${h.toString(16)}`;
  return {
    path,
    version: versionOut[0]!,
    uniqueId: () => {
      const id = new Uint8Array(NCCL_UNIQUE_ID_BYTES);
      call("ncclGetUniqueId", () => "", id);
      return id;
    },
    initRank: (size, id, rank) => {
      if (id.length !== NCCL_UNIQUE_ID_BYTES)
        throw new Error(`ncclCommInitRank: the unique id has ${id.length} bytes, expected ${NCCL_UNIQUE_ID_BYTES}`);
      const comm = new BigUint64Array(1);
      call("ncclCommInitRank", () => `rank ${rank} of ${size}`, comm, size, { internal: id }, rank);
      return comm[0]!;
    },
    allReduce: (comm, send, recv, count, type, op, stream) =>
      call(
        "ncclAllReduce",
        () => `${count} × ${type}, ${op}, ${hex(send)} → ${hex(recv)}`,
        send,
        recv,
        count,
        DATA_TYPES[type],
        REDUCE_OPS[op],
        comm,
        stream,
      ),
    broadcast: (comm, send, recv, count, type, root, stream) =>
      call("ncclBroadcast", () => `${count} × ${type} from rank ${root}`, send, recv, count, DATA_TYPES[type], root, comm, stream),
    group: (work) => {
      call("ncclGroupStart", () => "");
      try {
        work();
      } finally {
        call("ncclGroupEnd", () => "");
      }
    },
    asyncError: (comm) => {
      const out = new Int32Array(1);
      call("ncclCommGetAsyncError", () => hex(comm), comm, out);
      return out[0]!;
    },
    abort: (comm) => call("ncclCommAbort", () => hex(comm), comm),
    destroy: (comm) => call("ncclCommDestroy", () => hex(comm), comm),
  };
}

/** A communicator over every rank of `world`: rank 0's unique id reaches the others through the world's broadcast (MPI). */
export function ncclCommunicator(nccl: Nccl, world: World): Handle {
  const id = world.rank === 0 ? nccl.uniqueId() : new Uint8Array(NCCL_UNIQUE_ID_BYTES);
  world.broadcast(id, 0, "the broadcast of NCCL's unique id");
  return nccl.initRank(world.size, id, world.rank);
}
