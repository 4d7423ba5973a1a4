// `kiln cache`: where the compile cache is and how big, whether its entries match the hashes
// recorded when they were built (`verify`), and `clear` to remove it.

import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { CACHE_KINDS, cacheRoot, damagedLibraries } from "../../runtime/index.ts";
import { cacheSize, damagedCudaEntries } from "../../runtime/cuda/index.ts";
import type { Command } from "../command.ts";
import { parseFlags, usageError } from "../flags.ts";

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const command: Command = {
  summary: "show, verify or clear the compile cache (cache [info|verify|clear])",
  usage: "kiln cache [info|verify|clear]",
  async run(argv) {
    const { positional } = parseFlags("cache", argv, {}, { max: 1, name: "action" });
    const action = positional[0] ?? "info";
    const root = cacheRoot();
    const folders = CACHE_KINDS.map((kind) => path.join(root, kind));
    switch (action) {
      case "info": {
        const size = cacheSize(root);
        console.log(`${root}: ${size.files} files, ${mib(size.bytes)}`);
        return 0;
      }
      case "verify": {
        const damaged = [
          ...damagedLibraries(path.join(root, "cpu")).map((d) => `${d.library}: ${d.problem}`),
          ...damagedCudaEntries(root).map((f) => `${f}: checksum mismatch`),
        ];
        for (const line of damaged) console.log(line);
        console.log(
          damaged.length
            ? `${damaged.length} damaged entries; they are rebuilt on next use, or run 'kiln cache clear'`
            : `${root}: every entry matches its recorded hash`,
        );
        return damaged.length ? 1 : 0;
      }
      case "clear": {
        // Only kiln's own folders: KILN_CACHE_DIR may point somewhere that holds other things too.
        const before = cacheSize(root);
        for (const folder of folders) if (existsSync(folder)) rmSync(folder, { recursive: true, force: true });
        const after = cacheSize(root);
        console.log(`${root}: removed ${before.files - after.files} files (${mib(before.bytes - after.bytes)})`);
        return 0;
      }
      default:
        throw usageError(`unknown action '${action}': expected info, verify or clear`);
    }
  },
};

export default command;
