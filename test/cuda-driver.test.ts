// The koffi bindings of runtime/cuda against a fake libcuda and libnvrtc built here with gcc: device
// memory is host memory and one fake kernel runs on the CPU, so argument marshalling, out-parameters,
// packed launch buffers, error messages, the cubin cache and the device lifecycle are checked without a GPU.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import koffi from "koffi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CudaDevice } from "../runtime/cuda/device.ts";
import { packKernelArgs } from "../runtime/cuda/launch-args.ts";
import { pointer, scalar, type CudaKernel } from "../kernels/cuda/kernel.ts";

const FAKE_CUDA = String.raw`
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
typedef unsigned long long u64;
static unsigned char last_params[4096];
static size_t last_params_size;
static unsigned last_grid[3], last_block[3], last_smem;
static int last_attr_value = -1, allocated = 0, graphs_launched = 0;
int cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
int cuDeviceGetName(char* name, int len, int dev) { snprintf(name, len, "Fake GPU %d", dev); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int dev) {
  switch (attr) { case 75: *v = 9; break; case 76: *v = 0; break; case 16: *v = 132; break; case 97: *v = 232448; break; default: *v = 0; }
  return 0;
}
int cuDeviceTotalMem_v2(size_t* bytes, int dev) { *bytes = (size_t)80 << 30; return 0; }
int cuDevicePrimaryCtxRetain(void** ctx, int dev) { *ctx = (void*)0x1234; return 0; }
int cuDevicePrimaryCtxRelease_v2(int dev) { return 0; }
int cuCtxSetCurrent(void* ctx) { return ctx == (void*)0x1234 ? 0 : 201; }
int cuCtxSynchronize(void) { return 0; }
int cuMemGetInfo_v2(size_t* f, size_t* t) { *f = 1; *t = 2; return 0; }
int cuMemAlloc_v2(u64* p, size_t bytes) { if (bytes > ((size_t)1 << 40)) return 2; *p = (u64)(uintptr_t)malloc(bytes); allocated++; return 0; }
int cuMemFree_v2(u64 p) { free((void*)(uintptr_t)p); allocated--; return 0; }
int cuMemcpyHtoD_v2(u64 dst, const void* src, size_t n) { memcpy((void*)(uintptr_t)dst, src, n); return 0; }
int cuMemcpyDtoH_v2(void* dst, u64 src, size_t n) { memcpy(dst, (void*)(uintptr_t)src, n); return 0; }
int cuMemcpyDtoD_v2(u64 dst, u64 src, size_t n) { memcpy((void*)(uintptr_t)dst, (void*)(uintptr_t)src, n); return 0; }
int cuMemsetD8_v2(u64 dst, unsigned char v, size_t n) { memset((void*)(uintptr_t)dst, v, n); return 0; }
int cuMemsetD8Async(u64 dst, unsigned char v, size_t n, void* s) { memset((void*)(uintptr_t)dst, v, n); return 0; }
int cuModuleLoadData(void** m, const void* image) { *m = strdup((const char*)image); return 0; }
int cuModuleGetFunction(void** f, void* m, const char* name) { if (!strstr((const char*)m, name)) return 500; *f = strdup(name); return 0; }
int cuModuleUnload(void* m) { free(m); return 0; }
int cuFuncSetAttribute(void* f, int attr, int value) { if (attr == 8) last_attr_value = value; return 0; }
int cuFuncGetAttribute(int* v, int attr, void* f) { *v = attr == 4 ? 42 : 0; return 0; }
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem, void* stream, void** params, void** extra) {
  if (params != NULL || extra == NULL) return 1;
  void* buffer = NULL; size_t size = 0;
  for (int i = 0; extra[i] != NULL; i += 2) {
    if (extra[i] == (void*)1) buffer = extra[i + 1];
    else if (extra[i] == (void*)2) size = *(size_t*)extra[i + 1];
    else return 1;
  }
  memcpy(last_params, buffer, size); last_params_size = size;
  last_grid[0] = gx; last_grid[1] = gy; last_grid[2] = gz; last_block[0] = bx; last_block[1] = by; last_block[2] = bz; last_smem = smem;
  if (strcmp((const char*)f, "fake_add") == 0) {  // (float* data, float amount, int n)
    float* data; float amount; int n;
    memcpy(&data, last_params, 8); memcpy(&amount, last_params + 8, 4); memcpy(&n, last_params + 12, 4);
    for (int i = 0; i < n; i++) data[i] += amount;
  }
  return 0;
}
size_t fake_last_params(void* out) { memcpy(out, last_params, last_params_size); return last_params_size; }
void fake_last_launch(unsigned* out) { for (int i = 0; i < 3; i++) { out[i] = last_grid[i]; out[3 + i] = last_block[i]; } out[6] = last_smem; out[7] = (unsigned)last_attr_value; out[8] = (unsigned)allocated; out[9] = (unsigned)graphs_launched; }
int cuStreamCreate(void** s, unsigned flags) { *s = (void*)0x5; return 0; }
int cuStreamSynchronize(void* s) { return 0; }
int cuStreamDestroy_v2(void* s) { return 0; }
int cuEventCreate(void** e, unsigned flags) { static uintptr_t next = 0x100; *e = (void*)next++; return 0; }
int cuEventRecord(void* e, void* s) { return 0; }
int cuEventSynchronize(void* e) { return 0; }
int cuEventElapsedTime_v2(float* ms, void* a, void* b) { *ms = 2.5f; return 0; }
int cuEventDestroy_v2(void* e) { return 0; }
int cuStreamBeginCapture_v2(void* s, int mode) { return mode == 2 ? 0 : 1; }
int cuStreamEndCapture(void* s, void** g) { *g = (void*)0x6; return 0; }
int cuGraphInstantiateWithFlags(void** e, void* g, u64 flags) { *e = (void*)0x7; return g == (void*)0x6 ? 0 : 1; }
int cuGraphLaunch(void* e, void* s) { graphs_launched++; return e == (void*)0x7 ? 0 : 1; }
int cuGraphExecDestroy(void* e) { return 0; }
int cuGraphDestroy(void* g) { return 0; }
int cuGetErrorName(int code, const char** s) { *s = code == 2 ? "CUDA_ERROR_OUT_OF_MEMORY" : code == 500 ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_UNKNOWN"; return 0; }
int cuGetErrorString(int code, const char** s) { *s = code == 2 ? "out of memory" : "fake error"; return 0; }
`;

// NVRTC whose "cubin" is the source text (so cuModuleLoadData/GetFunction can check names) and which rejects #error.
const FAKE_NVRTC = String.raw`
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
typedef struct { char* src; char log[256]; int compiled; } program;
int compiles = 0;
int nvrtcVersion(int* major, int* minor) { *major = 13; *minor = 0; return 0; }
const char* nvrtcGetErrorString(int code) { return code == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR"; }
int nvrtcCreateProgram(program** p, const char* src, const char* name, int n, const char* const* h, const char* const* i) {
  *p = calloc(1, sizeof(program)); (*p)->src = strdup(src); return 0;
}
int nvrtcCompileProgram(program* p, int n, const char* const* options) {
  compiles++;
  int has_arch = 0; for (int i = 0; i < n; i++) if (strcmp(options[i], "--gpu-architecture=sm_90a") == 0) has_arch = 1;
  if (!has_arch) { snprintf(p->log, sizeof p->log, "missing sm_90a"); return 5; }
  if (strstr(p->src, "#error")) { snprintf(p->log, sizeof p->log, "kernel.cu(1): error: deliberate failure"); return 6; }
  p->compiled = 1; return 0;
}
int nvrtcGetProgramLogSize(program* p, size_t* n) { *n = strlen(p->log) + 1; return 0; }
int nvrtcGetProgramLog(program* p, char* out) { strcpy(out, p->log); return 0; }
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

const fakeKernel = (name: string, smemBytes = 0): CudaKernel => ({
  name,
  source: `// fake source of ${name}\nextern "C" __global__ void ${name}(float* data, float amount, int n) {}\n`,
  grid: [3, 2, 1],
  block: [128, 1, 1],
  smemBytes,
  params: [pointer("data", "float*"), scalar("amount", "f32"), scalar("n", "i32")],
});

describe.skipIf(!gcc)("cuda runtime against a fake driver (no gcc: skipped)", () => {
  let dir = "";
  let cudaPath = "";
  let nvrtcPath = "";
  const previousCache = process.env.KILN_CACHE_DIR;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-fake-cuda-"));
    cudaPath = join(dir, "libcuda.so.1");
    nvrtcPath = join(dir, "libnvrtc.so.13");
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

  const probe = () => {
    const lib = koffi.load(cudaPath);
    const launch = new Uint32Array(10);
    lib.func("fake_last_launch", "void", ["void *"])(launch);
    const params = new Uint8Array(4096);
    const size = Number(lib.func("fake_last_params", "size_t", ["void *"])(params));
    return { launch, params: params.subarray(0, size) };
  };

  test("device info comes through the out-parameters and Hopper compiles for sm_90a", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    expect(device.info).toMatchObject({
      name: "Fake GPU 0",
      computeCapability: { major: 9, minor: 0 },
      arch: "sm_90a",
      multiprocessors: 132,
      driverVersion: 13000,
    });
    expect(device.info.totalMemoryBytes).toBe(80 * 2 ** 30);
    device.close();
  });

  test("memory round-trips through u64 device pointers and memset", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    const pointerValue = device.alloc(64);
    expect(typeof pointerValue).toBe("bigint");
    const data = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    device.upload(pointerValue, data.subarray(2, 6));
    const back = new Float32Array(4);
    device.download(pointerValue, back);
    expect([...back]).toEqual([3, 4, 5, 6]);
    device.memset(pointerValue, 0, 16);
    device.download(pointerValue, back);
    expect([...back]).toEqual([0, 0, 0, 0]);
    device.free(pointerValue);
    expect(() => device.free(pointerValue)).toThrow(/did not allocate/);
    device.close();
  });

  test("a launch passes the packed argument buffer, grid, block and shared memory", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    const data = device.alloc(16);
    device.upload(data, new Float32Array([1, 2, 3, 4]));
    const kernel = fakeKernel("fake_add", 64 * 1024);
    device.launch(kernel, { data, amount: 0.5, n: 3 });
    const result = new Float32Array(4);
    device.download(data, result);
    expect([...result]).toEqual([1.5, 2.5, 3.5, 4]);
    const { launch, params } = probe();
    expect([...launch.subarray(0, 7)]).toEqual([3, 2, 1, 128, 1, 1, 64 * 1024]);
    expect(launch[7]).toBe(64 * 1024); // above 48 KiB the function's dynamic shared memory limit was raised
    expect([...params]).toEqual([...packKernelArgs("fake_add", kernel.params, { data, amount: 0.5, n: 3 })]);
    expect(params.length).toBe(16);
    device.close();
    expect(probe().launch[8]).toBe(0); // close freed what was left
  });

  test("a driver error names the call, its arguments and CUDA's error name", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    expect(() => device.alloc(2 ** 41)).toThrow(/cuMemAlloc\(2199023255552 bytes\) failed: CUDA_ERROR_OUT_OF_MEMORY \(out of memory\)/);
    device.close();
  });

  test("compiled kernels are cached on disk and a corrupt entry is rebuilt", () => {
    const compiles = () => Number(koffi.load(nvrtcPath).func("fake_compiles", "int", [])());
    const first = CudaDevice.open({ cudaPath, nvrtcPath });
    const before = compiles();
    expect(first.load(fakeKernel("fake_cached")).cached).toBe(false);
    first.close();
    const second = CudaDevice.open({ cudaPath, nvrtcPath });
    expect(second.load(fakeKernel("fake_cached")).cached).toBe(true);
    second.close();
    expect(compiles()).toBe(before + 1);
    const folder = join(process.env.KILN_CACHE_DIR!, "cuda");
    for (const file of readdirSync(folder)) writeFileSync(join(folder, file), "garbage");
    const third = CudaDevice.open({ cudaPath, nvrtcPath });
    expect(third.load(fakeKernel("fake_cached")).cached).toBe(false);
    third.close();
  });

  test("an NVRTC failure carries the compiler log", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    const broken = { ...fakeKernel("fake_broken"), source: "#error broken\n" };
    expect(() => device.load(broken)).toThrow(/nvrtcCompileProgram failed for fake_broken\.cu .*NVRTC_ERROR_COMPILATION[\s\S]*deliberate failure/);
    device.close();
  });

  test("graph capture, replay and event timing go through the driver", () => {
    const device = CudaDevice.open({ cudaPath, nvrtcPath });
    const data = device.alloc(16);
    const kernel = device.load(fakeKernel("fake_add"));
    const graph = device.capture(() => device.launch(kernel, { data, amount: 1, n: 4 }));
    graph.launch();
    graph.launch();
    graph.destroy();
    expect(probe().launch[9]).toBe(2);
    expect(device.time(() => device.launch(kernel, { data, amount: 1, n: 4 }), 5)).toBeCloseTo(0.5);
    device.close();
  });

  test("packing rejects missing, unknown and non-integer arguments", () => {
    const { params } = fakeKernel("fake_add");
    expect(() => packKernelArgs("k", params, { data: 1n, amount: 1 })).toThrow(/no argument for parameter n/);
    expect(() => packKernelArgs("k", params, { data: 1n, amount: 1, n: 1, extra: 2 })).toThrow(/unknown argument\(s\) extra/);
    expect(() => packKernelArgs("k", params, { data: 1n, amount: 1, n: 1.5 })).toThrow(/parameter n is int/);
  });
});
