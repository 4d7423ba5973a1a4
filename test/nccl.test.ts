// The koffi binding of NCCL (runtime/collective/nccl.ts) against a fake libnccl built here with gcc:
// "device" pointers are host memory and a communicator of N ranks behaves as if every rank held the
// same data, so the unique id passed by value, counts, data types, reduction ops, roots, streams and
// error messages are checked without a GPU; the unique id's exchange runs over a World.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import koffi from "koffi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadNccl, ncclCommunicator, ncclVersionText, NCCL_UNIQUE_ID_BYTES, type Nccl } from "../runtime/collective/nccl.ts";
import { singleProcess, type World } from "../runtime/collective/world.ts";

const FAKE_NCCL = String.raw`
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef struct { char internal[128]; } ncclUniqueId;
typedef struct { int nranks, rank; unsigned char id[128]; } comm_t;
static unsigned char last_id[128];
static int last_type = -1, last_op = -1, last_root = -1;
static void* last_stream;
int ncclGetVersion(int* v) { *v = 22703; return 0; }
const char* ncclGetErrorString(int code) { return code == 4 ? "invalid argument (run with NCCL_DEBUG=WARN for details)" : "unhandled error"; }
int ncclGetUniqueId(ncclUniqueId* id) { for (int i = 0; i < 128; i++) id->internal[i] = (char)(i * 7 + 3); return 0; }
int ncclCommInitRank(comm_t** comm, int nranks, ncclUniqueId id, int rank) {
  if (nranks < 1 || rank < 0 || rank >= nranks) return 4;
  *comm = calloc(1, sizeof(comm_t)); (*comm)->nranks = nranks; (*comm)->rank = rank;
  memcpy((*comm)->id, id.internal, 128); memcpy(last_id, id.internal, 128); return 0;
}
/* As if all ranks held the same values: sum multiplies by the number of ranks. */
int ncclAllReduce(const void* send, void* recv, size_t count, int type, int op, comm_t* comm, void* stream) {
  last_type = type; last_op = op; last_stream = stream;
  if (type != 7) return 4;
  const float* s = send; float* r = recv;
  for (size_t i = 0; i < count; i++) r[i] = op == 0 ? s[i] * comm->nranks : s[i];
  return 0;
}
int ncclBroadcast(const void* send, void* recv, size_t count, int type, int root, comm_t* comm, void* stream) {
  last_type = type; last_root = root; last_stream = stream;
  if (root >= comm->nranks) return 4;
  memcpy(recv, send, count * (type == 8 ? 8 : type == 9 ? 2 : 4)); return 0;
}
int ncclCommGetAsyncError(comm_t* comm, int* error) { *error = comm->nranks > 8 ? 6 : 0; return 0; }
int ncclCommAbort(comm_t* comm) { free(comm); return 0; }
int ncclCommDestroy(comm_t* comm) { free(comm); return 0; }
void fake_last(int* out) { out[0] = last_type; out[1] = last_op; out[2] = last_root; out[3] = (int)(uintptr_t)last_stream; }
void fake_last_id(unsigned char* out) { memcpy(out, last_id, 128); }
`;

const gcc = (() => {
  try {
    execFileSync("gcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!gcc)("NCCL bindings (fake libnccl)", () => {
  let dir = "";
  let nccl: Nccl;
  let fakeLast: (out: Int32Array) => void;
  let fakeLastId: (out: Uint8Array) => void;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-fake-nccl-"));
    writeFileSync(join(dir, "nccl.c"), FAKE_NCCL);
    execFileSync("gcc", ["-shared", "-fPIC", "-O1", "-o", join(dir, "libnccl.so.2"), join(dir, "nccl.c")]);
    nccl = loadNccl(join(dir, "libnccl.so.2"));
    const lib = koffi.load(join(dir, "libnccl.so.2"));
    fakeLast = lib.func("fake_last", "void", ["void *"]) as (out: Int32Array) => void;
    fakeLastId = lib.func("fake_last_id", "void", ["void *"]) as (out: Uint8Array) => void;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const last = (): { type: number; op: number; root: number; stream: number } => {
    const out = new Int32Array(4);
    fakeLast(out);
    return { type: out[0]!, op: out[1]!, root: out[2]!, stream: out[3]! };
  };

  test("version, unique id and a communicator from the id passed by value", () => {
    expect(ncclVersionText(nccl.version)).toBe("2.27.3");
    const id = nccl.uniqueId();
    expect(id).toHaveLength(NCCL_UNIQUE_ID_BYTES);
    expect([...id.slice(0, 3)]).toEqual([3, 10, 17]);
    const comm = nccl.initRank(4, id, 2);
    const seen = new Uint8Array(NCCL_UNIQUE_ID_BYTES);
    fakeLastId(seen);
    expect(seen).toEqual(id);
    expect(nccl.asyncError(comm)).toBe(0);
    nccl.destroy(comm);
  });

  test("allreduce and broadcast pass pointers, count, type, op, root and stream", () => {
    const comm = nccl.initRank(3, nccl.uniqueId(), 0);
    const send = Float32Array.of(1, 2, 3, 4);
    const recv = new Float32Array(4);
    nccl.allReduce(comm, koffi.address(send), koffi.address(recv), 3, "f32", "sum", 0x55n);
    expect([...recv]).toEqual([3, 6, 9, 0]);
    expect(last()).toMatchObject({ type: 7, op: 0, stream: 0x55 });
    nccl.allReduce(comm, koffi.address(send), koffi.address(recv), 4, "f32", "avg", 0n);
    expect([...recv]).toEqual([1, 2, 3, 4]);
    expect(last().op).toBe(4);
    const target = new Float64Array(2);
    nccl.broadcast(comm, koffi.address(Float64Array.of(5, 6)), koffi.address(target), 2, "f64", 1, 0n);
    expect([...target]).toEqual([5, 6]);
    expect(last()).toMatchObject({ type: 8, root: 1 });
    nccl.abort(comm);
  });

  test("errors name the call, its arguments and NCCL's message", () => {
    expect(() => nccl.initRank(2, nccl.uniqueId(), 5)).toThrow(
      /ncclCommInitRank\(rank 5 of 2\) failed: invalid argument \(run with NCCL_DEBUG=WARN for details\) \(ncclResult_t 4\)/,
    );
    const comm = nccl.initRank(2, nccl.uniqueId(), 0);
    expect(() => nccl.allReduce(comm, 0n, 0n, 8, "bf16", "sum", 0n)).toThrow(/ncclAllReduce\(8 × bf16, sum, 0x0 → 0x0\) failed: invalid argument/);
    expect(() => nccl.initRank(2, new Uint8Array(16), 0)).toThrow(/unique id has 16 bytes, expected 128/);
    nccl.destroy(comm);
  });

  test("the unique id is made on rank 0 only and reaches the other ranks through the world's broadcast", () => {
    // Rank 1 of 2: its id comes from the broadcast (as MPI delivers rank 0's), never from ncclGetUniqueId.
    const fromRankZero = Uint8Array.from({ length: NCCL_UNIQUE_ID_BYTES }, (_, i) => (i * 13) & 0xff);
    const broadcasts: number[] = [];
    const rankOne: World = {
      ...singleProcess(),
      rank: 1,
      size: 2,
      broadcast: (buffer, root) => {
        broadcasts.push(root);
        (buffer as Uint8Array).set(fromRankZero);
      },
    };
    const comm = ncclCommunicator(nccl, rankOne);
    const seen = new Uint8Array(NCCL_UNIQUE_ID_BYTES);
    fakeLastId(seen);
    expect(seen).toEqual(fromRankZero);
    expect(broadcasts).toEqual([0]);
    nccl.destroy(comm);
    // Rank 0 makes the id and sends it.
    let sent: Uint8Array | undefined;
    const rankZero: World = { ...singleProcess(), size: 2, broadcast: (buffer) => void (sent = Uint8Array.from(buffer as Uint8Array)) };
    nccl.destroy(ncclCommunicator(nccl, rankZero));
    expect(sent).toEqual(nccl.uniqueId());
  });
});
