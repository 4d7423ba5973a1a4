// Library discovery of runtime/cuda/find.ts in temp folders standing in for the file system root.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { findCudaInclude, findLibrary, requireLibrary } from "../runtime/cuda/find.ts";

let root = "";
const touch = (path: string) => {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "");
};
/** An environment with nothing of the real machine in it. */
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: join(root, "home"), ...extra });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "kiln-find-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("CUDA library discovery", () => {
  test("KILN_CUDA_PATH naming a file wins over system folders", () => {
    touch(join(root, "usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    const chosen = join(root, "custom/libcuda.so.1");
    touch(chosen);
    expect(findLibrary("cuda", { root, env: env({ KILN_CUDA_PATH: chosen }) }).path).toBe(chosen);
  });

  test("KILN_NVRTC_PATH naming a folder is searched for every NVRTC file name", () => {
    const folder = join(root, "toolkit/lib");
    touch(join(folder, "libnvrtc.so.12"));
    const result = findLibrary("nvrtc", { root, env: env({ KILN_NVRTC_PATH: folder }) });
    expect(result.path).toBe(join(folder, "libnvrtc.so.12"));
    expect(result.tried[0]).toBe(join(folder, "libnvrtc.so.13"));
  });

  test("a KILN_*_PATH that does not exist falls through to the usual places", () => {
    touch(join(root, "usr/local/cuda/lib64/libnvrtc.so.13"));
    const result = findLibrary("nvrtc", { root, env: env({ KILN_NVRTC_PATH: join(root, "missing.so") }) });
    expect(result.path).toBe(join(root, "usr/local/cuda/lib64/libnvrtc.so.13"));
    expect(result.tried[0]).toBe(join(root, "missing.so"));
  });

  test("system folders are searched in order, versioned CUDA toolkits by glob", () => {
    touch(join(root, "usr/local/cuda-12.8/targets/x86_64-linux/lib/libnvrtc.so.12"));
    expect(findLibrary("nvrtc", { root, env: env() }).path).toBe(join(root, "usr/local/cuda-12.8/targets/x86_64-linux/lib/libnvrtc.so.12"));
    touch(join(root, "usr/lib/x86_64-linux-gnu/libnvrtc.so.13"));
    expect(findLibrary("nvrtc", { root, env: env() }).path).toBe(join(root, "usr/lib/x86_64-linux-gnu/libnvrtc.so.13"));
  });

  test("NVRTC inside a Python wheel is found in site-packages and in a virtualenv", () => {
    touch(join(root, "usr/local/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"));
    expect(findLibrary("nvrtc", { root, env: env() }).path).toBe(
      join(root, "usr/local/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"),
    );
    const venv = join(root, "venv");
    touch(join(venv, "lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13"));
    expect(findLibrary("nvrtc", { root, env: env({ VIRTUAL_ENV: venv }) }).path).toBe(
      join(venv, "lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13"),
    );
  });

  test("a library named in the loader cache is found there", () => {
    const lib = "/opt/driver/lib/libcuda.so.1";
    touch(join(root, lib));
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/ld.so.cache"), Buffer.concat([Buffer.from("glibc-ld.so.cache1.1\0\0libcuda.so.1\0"), Buffer.from(`${lib}\0`)]));
    expect(findLibrary("cuda", { root, env: env() }).path).toBe(join(root, lib));
  });

  test("when nothing is found the error lists every place tried and the variable to set", () => {
    const ldPath = join(root, "ld-path");
    mkdirSync(ldPath);
    const result = findLibrary("cuda", { root, env: env({ LD_LIBRARY_PATH: ldPath }) });
    expect(result.path).toBeNull();
    for (const place of [
      join(ldPath, "libcuda.so.1"),
      `${root}/etc/ld.so.cache`,
      `${root}/usr/lib/x86_64-linux-gnu/libcuda.so.1`,
      `${root}/usr/lib/wsl/lib/libcuda.so`,
    ])
      expect(result.tried).toContain(place);
    let message = "";
    try {
      requireLibrary("cuda", { root, env: env({ LD_LIBRARY_PATH: ldPath }) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/libcuda\.so\.1 not found/);
    expect(message).toMatch(/KILN_CUDA_PATH/);
    for (const place of result.tried) expect(message).toContain(place);
  });

  test("the cuda_bf16.h include folder is found in a toolkit or a wheel", () => {
    expect(findCudaInclude({ root, env: env() })).toBeNull();
    touch(join(root, "usr/lib/python3/dist-packages/nvidia/cuda_runtime/include/cuda_bf16.h"));
    expect(findCudaInclude({ root, env: env() })).toBe(join(root, "usr/lib/python3/dist-packages/nvidia/cuda_runtime/include"));
    touch(join(root, "usr/local/cuda/include/cuda_bf16.h"));
    expect(findCudaInclude({ root, env: env() })).toBe(join(root, "usr/local/cuda/include"));
  });
});
