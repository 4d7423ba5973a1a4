// libnvrtc for GPU-less tests: the usual search (KILN_NVRTC_PATH, toolkits, wheels), else the NVRTC 13
// wheel this machine image keeps on disk, unpacked once into the temp folder.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findLibrary } from "../../runtime/cuda/find.ts";

const WHEEL_FOLDER = "/opt/pypi-more/files";

export function locateNvrtc(): string | null {
  const found = findLibrary("nvrtc").path;
  if (found) return found;
  const wheel = existsSync(WHEEL_FOLDER) ? readdirSync(WHEEL_FOLDER).find((name) => /^nvidia_cuda_nvrtc-13.*\.whl$/.test(name)) : undefined;
  if (!wheel) return null;
  const dest = join(tmpdir(), `kiln-${wheel.replace(/\.whl$/, "")}`);
  const library = join(dest, "nvidia/cu13/lib/libnvrtc.so.13");
  if (!existsSync(library)) {
    try {
      execFileSync(
        "unzip",
        ["-o", "-q", join(WHEEL_FOLDER, wheel), "nvidia/cu13/lib/libnvrtc.so.13", "nvidia/cu13/lib/libnvrtc-builtins.so.13.*", "-d", dest],
        { stdio: "ignore" },
      );
    } catch {
      return null;
    }
  }
  return existsSync(library) ? library : null;
}
