// `kiln doctor`: what this machine offers kiln — Node, then each registered device's state (the C
// compiler; the CUDA driver, NVRTC and GPU with every place searched when missing; the caches), then
// the collective engines for data-parallel training (MPI, NCCL). Never fails for a missing GPU or MPI.
import type { Command } from "../command.ts";
import { parseArgs } from "../command.ts";
import { registeredDevices } from "../../runtime/index.ts";
import { collectiveStatus } from "../../runtime/collective/status.ts";

const doctor: Command = {
  summary: "show what kiln found on this machine (each device: compilers, CUDA libraries, GPU, cache)",
  usage: "kiln doctor [--verbose]",
  async run(argv) {
    const { flags } = parseArgs(argv, ["verbose"]);
    const verbose = flags.has("verbose");
    const lines: string[] = [];
    lines.push(`node       ${process.version} (${process.platform}-${process.arch})`);
    for (const device of registeredDevices()) {
      const status = await device.status({ verbose });
      lines.push("", `device ${device.name}: ${status.available ? "available" : "not available"} — ${device.summary}`, ...status.lines.map((line) => `  ${line}`));
    }
    // Data parallelism (kiln train --nproc N / mpirun -n N kiln train): MPI between processes, NCCL between GPUs.
    lines.push("", "data parallel:", ...(await collectiveStatus({ verbose })).map((line) => `  ${line}`));
    console.log(lines.join("\n"));
    return 0;
  },
};

export default doctor;
