// `kiln doctor`: what this machine offers kiln — Node, then each registered device's state (the C
// compiler; the CUDA driver, NVRTC and GPU with every place searched when missing; the caches), then
// the collective engines for data-parallel training (MPI, NCCL), then whether every cached compiled
// module still matches the hash recorded when it was built. Never fails for a missing GPU or MPI.
import path from "node:path";
import type { Command } from "../command.ts";
import { parseFlags } from "../flags.ts";
import { registeredDevices, collectiveStatus, cacheRoot, damagedLibraries } from "../../runtime/index.ts";
import { damagedCudaEntries } from "../../runtime/cuda/index.ts";

const doctor: Command = {
  summary: "show what kiln found on this machine (each device: compilers, CUDA libraries, GPU, cache)",
  usage: "kiln doctor [--verbose]",
  async run(argv) {
    const { flags } = parseFlags("doctor", argv, { verbose: { kind: "switch" } });
    const verbose = flags.verbose;
    const lines: string[] = [];
    lines.push(`node       ${process.version} (${process.platform}-${process.arch})`);
    for (const device of registeredDevices()) {
      const status = await device.status({ verbose });
      lines.push(
        "",
        `device ${device.name}: ${status.available ? "available" : "not available"} — ${device.summary}`,
        ...status.lines.map((line) => `  ${line}`),
      );
    }
    // Data parallelism (kiln train --nproc N / mpirun -n N kiln train): MPI between processes, NCCL between GPUs.
    lines.push("", "data parallel:", ...(await collectiveStatus({ verbose })).map((line) => `  ${line}`));
    // Every cached library is checked against the hash recorded when it was built (a damaged one can crash kiln if loaded).
    const dir = cacheRoot();
    const damaged = [
      ...damagedLibraries(path.join(dir, "cpu")).map((d) => `${d.library}: ${d.problem}`),
      ...damagedCudaEntries(dir).map((f) => `${f}: checksum mismatch`),
    ];
    lines.push(
      "",
      `cache ${dir}: ${damaged.length ? `${damaged.length} damaged entries (rebuilt on next use; 'kiln cache clear' removes all):` : "every entry matches its recorded hash"}`,
    );
    for (const entry of verbose ? damaged : damaged.slice(0, 5)) lines.push(`  ${entry}`);
    if (!verbose && damaged.length > 5) lines.push(`  … and ${damaged.length - 5} more (kiln doctor --verbose)`);
    console.log(lines.join("\n"));
    return 0;
  },
};

export default doctor;
