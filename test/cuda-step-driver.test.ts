// compileCuda through the real device path (CudaDevice, cudaStepDevice, koffi bindings) against a
// fake libcuda and libnvrtc built with gcc: kernels compile in NVRTC units of KERNELS_PER_UNIT and are
// found in their modules, launches go through the packed-argument path, the first run captures one
// graph (copies into donated inputs included) that later runs replay, and dispose frees everything.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import koffi from "koffi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as nn from "../compiler/nn.ts";
import * as ops from "../compiler/ops.ts";
import type { Tensor } from "../compiler/graph.ts";
import { CudaDevice } from "../runtime/cuda/device.ts";
import { compileCuda } from "../runtime/cuda/step.ts";
import { KERNELS_PER_UNIT } from "../runtime/cuda/step-device.ts";
import { TuneCache, tileName } from "../runtime/cuda/autotune.ts";
import { MMA_TILES } from "../kernels/cuda/corpus.ts";
import type { GemmTile } from "../kernels/cuda/gemm-mma.ts";

// Device memory is host memory; launches are counted (while capturing, recorded into the graph instead).
const FAKE_CUDA = String.raw`
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
typedef unsigned long long u64;
static int allocated = 0, modules = 0, executed = 0, capturing = 0, recorded = 0, copies = 0, graph_launches = 0;
int cuInit(unsigned f) { return 0; }
int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int o) { *d = 0; return 0; }
int cuDeviceGetName(char* name, int len, int dev) { snprintf(name, len, "Fake GPU"); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int dev) { *v = attr == 75 ? 9 : attr == 16 ? 132 : attr == 97 ? 232448 : 0; return 0; }
int cuDeviceTotalMem_v2(size_t* b, int dev) { *b = (size_t)80 << 30; return 0; }
int cuDevicePrimaryCtxRetain(void** c, int dev) { *c = (void*)0x1; return 0; }
int cuDevicePrimaryCtxRelease_v2(int dev) { return 0; }
int cuCtxSetCurrent(void* c) { return 0; }
int cuMemAlloc_v2(u64* p, size_t n) { *p = (u64)(uintptr_t)calloc(1, n); allocated++; return 0; }
int cuMemFree_v2(u64 p) { free((void*)(uintptr_t)p); allocated--; return 0; }
int cuMemcpyHtoD_v2(u64 d, const void* s, size_t n) { memcpy((void*)(uintptr_t)d, s, n); return 0; }
int cuMemcpyDtoH_v2(void* d, u64 s, size_t n) { memcpy(d, (void*)(uintptr_t)s, n); return 0; }
int cuMemcpyDtoDAsync_v2(u64 d, u64 s, size_t n, void* st) { if (capturing) recorded++; else copies++; return 0; }
int cuMemsetD8Async(u64 d, unsigned char v, size_t n, void* s) { memset((void*)(uintptr_t)d, v, n); return 0; }
int cuModuleLoadData(void** m, const void* image) { *m = strdup((const char*)image); modules++; return 0; }
int cuModuleGetFunction(void** f, void* m, const char* name) {
  char pattern[512]; snprintf(pattern, sizeof pattern, " %s(", name);
  if (!strstr((const char*)m, pattern)) return 500;
  *f = strdup(name); return 0;
}
int cuModuleUnload(void* m) { free(m); modules--; return 0; }
int cuFuncSetAttribute(void* f, int a, int v) { return 0; }
int cuFuncGetAttribute(int* v, int a, void* f) { *v = 0; return 0; }
static unsigned last_smem = 0;
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem, void* s, void** params, void** extra) {
  if (gx == 0 || bx == 0 || bx > 1024 || extra == NULL) return 1;
  if (capturing) recorded++; else executed++;
  last_smem = smem;
  return 0;
}
// Events time the last launch as 1 ms per KiB of its shared memory: the autotuner's fastest tile is the one with the least.
int cuEventCreate(void** e, unsigned flags) { static uintptr_t next = 0x100; *e = (void*)next++; return 0; }
int cuEventRecord(void* e, void* s) { return 0; }
int cuEventSynchronize(void* e) { return 0; }
int cuEventElapsedTime_v2(float* ms, void* a, void* b) { *ms = (float)last_smem / 1024.0f; return 0; }
int cuEventDestroy_v2(void* e) { return 0; }
int cuStreamCreate(void** s, unsigned f) { *s = (void*)0x5; return 0; }
int cuStreamSynchronize(void* s) { return 0; }
int cuStreamDestroy_v2(void* s) { return 0; }
int cuStreamBeginCapture_v2(void* s, int mode) { capturing = 1; recorded = 0; return 0; }
int cuStreamEndCapture(void* s, void** g) { capturing = 0; *g = (void*)0x6; return 0; }
int cuGraphInstantiateWithFlags(void** e, void* g, u64 f) { *e = (void*)0x7; return 0; }
int cuGraphLaunch(void* e, void* s) { graph_launches++; executed += recorded; return 0; }
int cuGraphExecDestroy(void* e) { return 0; }
int cuGraphDestroy(void* g) { return 0; }
int cuGetErrorName(int code, const char** s) { *s = "CUDA_ERROR_FAKE"; return 0; }
int cuGetErrorString(int code, const char** s) { *s = "fake error"; return 0; }
void fake_state(int* out) { out[0] = allocated; out[1] = modules; out[2] = executed; out[3] = recorded; out[4] = graph_launches; out[5] = copies; }
`;

// NVRTC whose "cubin" is the source, so cuModuleGetFunction can check that each kernel is in its unit.
const FAKE_NVRTC = String.raw`
#include <stdlib.h>
#include <string.h>
typedef struct { char* src; } program;
int compiles = 0;
int nvrtcVersion(int* a, int* b) { *a = 13; *b = 0; return 0; }
const char* nvrtcGetErrorString(int c) { return "NVRTC_ERROR"; }
int nvrtcCreateProgram(program** p, const char* src, const char* name, int n, const char* const* h, const char* const* i) { *p = calloc(1, sizeof(program)); (*p)->src = strdup(src); return 0; }
int nvrtcCompileProgram(program* p, int n, const char* const* o) { compiles++; return 0; }
int nvrtcGetProgramLogSize(program* p, size_t* n) { *n = 1; return 0; }
int nvrtcGetProgramLog(program* p, char* out) { out[0] = 0; return 0; }
int nvrtcGetCUBINSize(program* p, size_t* n) { *n = strlen(p->src) + 1; return 0; }
int nvrtcGetCUBIN(program* p, char* out) { strcpy(out, p->src); return 0; }
int nvrtcGetPTXSize(program* p, size_t* n) { *n = 0; return 0; }
int nvrtcGetPTX(program* p, char* out) { return 0; }
int nvrtcDestroyProgram(program** p) { free((*p)->src); free(*p); *p = NULL; return 0; }
int fake_compiles(void) { return compiles; }
`;

const gcc = (() => {
  try {
    execFileSync("gcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!gcc)("compileCuda on a fake driver (no gcc: skipped)", () => {
  let dir = "";
  let cudaPath = "";
  let nvrtcPath = "";
  const previousCache = process.env.KILN_CACHE_DIR;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-fake-step-"));
    [cudaPath, nvrtcPath] = [join(dir, "libcuda.so.1"), join(dir, "libnvrtc.so.13")];
    writeFileSync(join(dir, "cuda.c"), FAKE_CUDA);
    writeFileSync(join(dir, "nvrtc.c"), FAKE_NVRTC);
    execFileSync("gcc", ["-shared", "-fPIC", "-O1", "-o", cudaPath, join(dir, "cuda.c")]);
    execFileSync("gcc", ["-shared", "-fPIC", "-O1", "-o", nvrtcPath, join(dir, "nvrtc.c")]);
    process.env.KILN_CACHE_DIR = join(dir, "cache");
  });
  afterAll(() => {
    if (previousCache === undefined) delete process.env.KILN_CACHE_DIR;
    else process.env.KILN_CACHE_DIR = previousCache;
    rmSync(dir, { recursive: true, force: true });
  });
  const state = () => {
    const out = new Int32Array(6);
    koffi.load(cudaPath).func("fake_state", "void", ["void *"])(out);
    const [allocated, modules, executed, recorded, graphLaunches, copies] = out;
    return { allocated, modules, executed, recorded, graphLaunches, copies };
  };

  test("a bf16 block with templates loads in units, replays one graph per run, and frees its memory", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    const before = state();
    // A bf16 attention block with a residual, and a new value of a donated weight that cannot be written
    // in place (it reads the weight transposed), so a copy into the weight ends the graph.
    const fn = (t: unknown) => {
      const { x, w } = t as { x: Tensor; w: Tensor };
      const h = nn.linear(x, w);
      const y = ops.add(x, nn.attention(h, h, h, { heads: 2 }));
      return { loss: ops.sum(ops.cast(y, "f32")), w: ops.mul(ops.transpose(w), 0.5) };
    };
    const step = compileCuda(fn, { x: { shape: [2, 32, 32], dtype: "bf16" }, w: { shape: [32, 32], dtype: "bf16" } }, { device, donate: ["w"] });
    const loaded = state();
    expect(loaded.modules - before.modules).toBe(Math.ceil(step.backend.cuda.kernels.length / KERNELS_PER_UNIT));
    expect(
      step.backend.cuda.launches.some((l) => l.template?.kind === "gemm") && step.backend.cuda.launches.some((l) => l.template?.kind === "attention"),
    ).toBe(true);
    const x = Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => Math.sin(i));
    step.run({ x, w: new Float32Array(32 * 32).fill(0.5) });
    step.run();
    const after = state();
    expect(after.graphLaunches - loaded.graphLaunches, "one graph launch per run").toBe(2);
    expect(step.donationCopies).toBe(1);
    expect(after.recorded, "the graph holds every launch and the donation copy").toBe(step.backend.cuda.launches.length + 1);
    expect(after.executed - loaded.executed).toBe(2 * after.recorded);
    step.dispose();
    device.close();
    expect(state().allocated).toBe(before.allocated);
    expect(state().modules).toBe(before.modules);
  });

  test("autotune times the GEMM tiles on the device once, compiles the fastest, and reads the cache after", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    const before = state();
    const fn = (t: unknown) => {
      const { x, w } = t as { x: Tensor; w: Tensor };
      return { y: nn.linear(x, w) };
    };
    const example = { x: { shape: [2048, 64], dtype: "bf16" }, w: { shape: [2304, 64], dtype: "bf16" } } as const;
    const first = compileCuda(fn, example, { device, autotune: true });
    const timed = state();
    expect(timed.executed - before.executed, "the tuner's timing launches").toBeGreaterThan(0);
    // The fake times a launch by its shared memory, so the smallest tile wins.
    const small = tileName(MMA_TILES.small);
    expect(first.backend.cuda.kernels.some((k) => k.name.includes(`_${MMA_TILES.small.bm}x${MMA_TILES.small.bn}x${MMA_TILES.small.bk}_`))).toBe(true);
    const cache = new TuneCache(`${device.info.name} ${device.info.arch}`);
    expect(cache.size).toBe(1);
    expect(Object.values(JSON.parse(readFileSync(cache.file, "utf8")).entries).map((e) => tileName((e as { tile: GemmTile }).tile))).toEqual([small]);
    first.dispose();
    expect(state().allocated, "the tuner freed its buffers and the step its own").toBe(before.allocated);
    const again = compileCuda(fn, example, { device, autotune: true });
    expect(state().executed, "no timing the second time").toBe(timed.executed);
    expect(again.backend.cuda.kernels.map((k) => k.name)).toEqual(first.backend.cuda.kernels.map((k) => k.name));
    again.dispose();
    const untuned = compileCuda(fn, example, { device, autotune: false });
    expect(
      untuned.backend.cuda.kernels.some((k) => k.name.includes(`_${MMA_TILES.small.bm}x${MMA_TILES.small.bn}x${MMA_TILES.small.bk}_`)),
      "the table picks the large tile for a 16×9-tile grid",
    ).toBe(false);
    untuned.dispose();
    device.close();
  });
});
