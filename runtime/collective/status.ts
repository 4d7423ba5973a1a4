// What this machine offers data-parallel training, for `kiln doctor`: Open MPI's mpirun and libmpi
// between processes, NCCL (with its version) between GPUs. Never fails for a missing engine.
import { execFileSync } from "node:child_process";
import { libraryLines } from "../cuda/status.ts";

const firstLine = (program: string, args: string[]): string | null => {
  try {
    return execFileSync(program, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 })
      .split("\n")[0]!
      .trim();
  } catch {
    return null;
  }
};

export async function collectiveStatus(options: { verbose?: boolean } = {}): Promise<string[]> {
  const verbose = options.verbose ?? false;
  const mpirun = firstLine("mpirun", ["--version"]);
  const lines = [
    `mpirun     ${mpirun ?? "not found on PATH (kiln train --nproc needs Open MPI: apt-get install openmpi-bin libopenmpi-dev)"}`,
    ...libraryLines("mpi", verbose).lines,
  ];
  const nccl = libraryLines("nccl", verbose);
  if (nccl.path) {
    try {
      const { loadNccl, ncclVersionText } = await import("./nccl.ts");
      nccl.lines[0] += ` (NCCL ${ncclVersionText(loadNccl(nccl.path).version)})`;
    } catch (error) {
      nccl.lines[0] += ` (could not be loaded: ${(error as Error).message})`;
    }
  }
  return [...lines, ...nccl.lines];
}
