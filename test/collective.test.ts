// The collective layer's pieces that need no MPI job: where libmpi and libnccl are looked for (temp
// folders standing in for the root), the launcher's environment, the mpirun command line of --nproc,
// how Open MPI's failure messages are turned into the failed rank, and the watchdog that ends a rank
// stuck in a collective call.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { findLibrary, requireLibrary } from "../runtime/cuda/find.ts";
import { cudaOrdinal, launcherRank } from "../runtime/collective/world.ts";
import { failedRank, mpirunPlan } from "../runtime/collective/launch.ts";

let root = "";
const touch = (path: string) => {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "");
};
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: join(root, "home"), PATH: "", ...extra });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "kiln-collective-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("MPI and NCCL library discovery", () => {
  test("libmpi in Debian's Open MPI folder, and KILN_MPI_PATH or MPI_HOME before it", () => {
    touch(join(root, "usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so.40"));
    expect(findLibrary("mpi", { root, env: env() }).path).toBe(join(root, "usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so.40"));
    const home = join(root, "opt/mpi-5");
    touch(join(home, "lib/libmpi.so"));
    expect(findLibrary("mpi", { root, env: env({ MPI_HOME: home }) }).path).toBe(join(home, "lib/libmpi.so"));
    const chosen = join(root, "elsewhere/libmpi.so.40");
    touch(chosen);
    expect(findLibrary("mpi", { root, env: env({ KILN_MPI_PATH: chosen, MPI_HOME: home }) }).path).toBe(chosen);
  });

  test("from the loader cache, the versioned libmpi.so.40 is preferred to the unversioned dev symlink", () => {
    const dir = "/usr/lib/x86_64-linux-gnu";
    touch(join(root, dir, "libmpi.so"));
    touch(join(root, dir, "libmpi.so.40"));
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(
      join(root, "etc/ld.so.cache"),
      Buffer.from(`glibc-ld.so.cache1.1\0libmpi.so\0${dir}/libmpi.so\0libmpi.so.40\0${dir}/libmpi.so.40\0`),
    );
    expect(findLibrary("mpi", { root, env: env() }).path).toBe(join(root, dir, "libmpi.so.40"));
  });

  test("libnccl inside NVIDIA's wheel in a virtualenv", () => {
    const venv = join(root, "venv");
    touch(join(venv, "lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2"));
    expect(findLibrary("nccl", { root, env: env({ VIRTUAL_ENV: venv }) }).path).toBe(
      join(venv, "lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2"),
    );
  });

  test("a missing libmpi is an error listing every place tried and how to install it", () => {
    let message = "";
    try {
      requireLibrary("mpi", { root, env: env({ LD_LIBRARY_PATH: join(root, "ld") }) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(
      /libmpi\.so\.40 not found \(expected Open MPI's libmpi; on Debian\/Ubuntu: apt-get install openmpi-bin libopenmpi-dev\); set KILN_MPI_PATH/,
    );
    for (const place of [
      join(root, "ld/libmpi.so.40"),
      `${root}/etc/ld.so.cache`,
      `${root}/usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so.40`,
      `${root}/opt/openmpi/lib/libmpi.so`,
    ])
      expect(message).toContain(place);
  });
});

describe("launching ranks", () => {
  test("rank and world size come from Open MPI's or PMI's variables; nonsense is an error", () => {
    expect(launcherRank({})).toBeUndefined();
    expect(launcherRank({ OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_SIZE: "4" })).toMatchObject({ rank: 1, size: 4 });
    expect(launcherRank({ PMI_RANK: "0", PMI_SIZE: "2" })).toMatchObject({ rank: 0, size: 2 });
    expect(() => launcherRank({ OMPI_COMM_WORLD_RANK: "4", OMPI_COMM_WORLD_SIZE: "4" })).toThrow(
      /OMPI_COMM_WORLD_RANK=4 and OMPI_COMM_WORLD_SIZE=4 are not a rank within a world size/,
    );
  });

  test("each rank takes the GPU of its local rank unless KILN_CUDA_DEVICE says otherwise", () => {
    expect(cudaOrdinal({})).toBe(0);
    expect(cudaOrdinal({ OMPI_COMM_WORLD_LOCAL_RANK: "3" })).toBe(3);
    expect(cudaOrdinal({ KILN_CUDA_DEVICE: "1", OMPI_COMM_WORLD_LOCAL_RANK: "3" })).toBe(1);
    expect(() => cudaOrdinal({ KILN_CUDA_DEVICE: "gpu1" })).toThrow(/KILN_CUDA_DEVICE=gpu1 is not a GPU index/);
  });

  test("--nproc: mpirun runs this kiln once per rank, with the cores shared out as OpenMP threads", () => {
    const mpirun = join(root, "bin/mpirun");
    touch(mpirun);
    const plan = mpirunPlan(2, ["train", "--steps", "3"], { env: env({ PATH: join(root, "bin") }), root: true, cores: 8 });
    expect(plan.command).toBe(mpirun);
    expect(plan.args.slice(0, 6)).toEqual(["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n", "2"]);
    expect(plan.args.slice(-4)).toEqual([expect.stringMatching(/bin\/kiln$/), "train", "--steps", "3"]);
    expect(plan.env.OMP_NUM_THREADS).toBe("4");
    expect(mpirunPlan(3, [], { env: env({ PATH: join(root, "bin"), OMP_NUM_THREADS: "1" }), root: false, cores: 8 }).env.OMP_NUM_THREADS).toBe("1");
    expect(() => mpirunPlan(2, [], { env: env({ PATH: join(root, "nothing") }) })).toThrow(
      /mpirun not found on PATH \(tried .*nothing\); install Open MPI/,
    );
    expect(() => mpirunPlan(0, [], { env: env({ PATH: join(root, "bin") }) })).toThrow(/--nproc 0: expected a positive whole number/);
  });

  test("Open MPI's reports of a failed job name the rank", () => {
    expect(failedRank("--------\nmpirun noticed that process rank 1 with PID 4242 on node box exited on signal 9 (Killed).\n----")).toBe(
      "rank 1 (pid 4242 on box) died of signal 9 (Killed)",
    );
    expect(failedRank("MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD with errorcode 1.")).toMatch(
      /^rank 0 stopped the job \(error code 1/,
    );
    expect(failedRank("The first process to do so was:\n\n  Process name: [[52101,1],1]\n  Exit code:    3\n")).toMatch(/^rank 1 exited with code 3/);
    expect(failedRank("nothing to see")).toBeUndefined();
    // A rank stopped by the watchdog was waiting on another: that is what the report says, not "rank 0 was killed".
    const hung =
      "kiln: rank 0 of 2 (pid 7): waited 5 s in the gradient allreduce of step 8 without the other ranks answering: …\nmpirun noticed that process rank 0 with PID 0 on node vm exited on signal 9 (Killed).";
    expect(failedRank(hung)).toBe("rank 0 waited 5 s in the gradient allreduce of step 8 without an answer: another rank hung or died");
  });
});

describe("the collective watchdog", () => {
  const run = (code: string) =>
    spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: join(import.meta.dirname, ".."),
      encoding: "utf8",
      timeout: 60_000,
    });

  test("a call blocked past the timeout ends the process with a message naming what it waited for", () => {
    const result = run(
      `import { startWatchdog } from "./runtime/collective/watchdog.ts";
       const dog = startWatchdog(0.5, "kiln: rank 0 of 2");
       dog.guard("the gradient allreduce of step 7", () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000));
       console.log("not reached");`,
    );
    expect(result.signal).toBe("SIGKILL");
    expect(result.stdout).not.toContain("not reached");
    expect(result.stderr).toContain("kiln: rank 0 of 2: waited 0.5 s in the gradient allreduce of step 7 without the other ranks answering");
  });

  test("calls that finish in time are left alone, and the watchdog does not keep the process alive", () => {
    const result = run(
      `import { startWatchdog } from "./runtime/collective/watchdog.ts";
       const dog = startWatchdog(0.5, "kiln: rank 0 of 2");
       for (let i = 0; i < 5; i++) dog.guard("a quick call", () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200));
       console.log("finished");`,
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("finished");
  });
});
