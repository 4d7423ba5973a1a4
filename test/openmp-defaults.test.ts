// kiln's OpenMP waiting policy: libgomp's default spinning wastes the cores on a busy machine, so
// kiln sets a short spin (GOMP_SPINCOUNT=3000) before libgomp loads, unless the user chose a policy or spin count.
// Checked in a fresh process, through what libgomp itself reports (OMP_DISPLAY_ENV=verbose).

import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { applyOpenMpDefaults } from "../runtime/cpu/openmp.ts";

const root = path.resolve(import.meta.dirname, "..");

/** libgomp's spin count in a fresh Node process that compiles and runs one kiln kernel with `env`. */
function spinCountSeenByLibgomp(env: Record<string, string>): string {
  const script = `import { compile } from "./runtime/compile.ts"; import { ops } from "./compiler/index.ts";
const step = compile((t) => ops.add(t.x, 1), { x: { shape: [4] } }); step.run({ x: new Float32Array(4) });`;
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMP_|GOMP_)/.test(k))) as Record<string, string>;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    env: { ...base, ...env, OMP_DISPLAY_ENV: "verbose" },
    timeout: 120_000,
  });
  expect(result.status, result.stderr).toBe(0);
  const spin = /GOMP_SPINCOUNT = '(\d+)'/.exec(result.stderr)?.[1];
  if (spin === undefined) throw new Error(`libgomp printed no GOMP_SPINCOUNT:\n${result.stderr}`);
  return spin;
}

describe("OpenMP defaults", () => {
  test("kiln's kernels spin briefly (3 000, not libgomp's 300 000) unless the user set a policy or spin count", () => {
    expect(spinCountSeenByLibgomp({})).toBe("3000");
    expect(spinCountSeenByLibgomp({ OMP_WAIT_POLICY: "passive" })).toBe("0");
    expect(spinCountSeenByLibgomp({ OMP_WAIT_POLICY: "active" })).not.toBe("0");
    expect(spinCountSeenByLibgomp({ GOMP_SPINCOUNT: "1234" })).toBe("1234");
  }, 240_000);

  test("applyOpenMpDefaults fills in only what is unset", () => {
    const empty: NodeJS.ProcessEnv = {};
    applyOpenMpDefaults(empty);
    expect(empty).toEqual({ GOMP_SPINCOUNT: "3000" });
    const chosen: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: "active" };
    applyOpenMpDefaults(chosen);
    expect(chosen.OMP_WAIT_POLICY).toBe("active");
    const spin: NodeJS.ProcessEnv = { GOMP_SPINCOUNT: "10000" };
    applyOpenMpDefaults(spin);
    expect(spin).toEqual({ GOMP_SPINCOUNT: "10000" });
  });
});
