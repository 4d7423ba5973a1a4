// Checks on the files a command will write, made before it does any work: an image is written as
// PNG only under a .png name, into a folder that exists and can be written (so sampling for minutes
// and then failing to save is never the outcome).

import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { usageError } from "./flags.ts";

/** Throws a usage error unless `file` can be written as a PNG image. `flag` names where it came from ("--out"). */
export function requireWritablePng(flag: string, file: string): void {
  if (path.extname(file).toLowerCase() !== ".png") throw usageError(`${flag} ${file}: kiln writes PNG images; give a name ending in .png`);
  const existing = statSync(file, { throwIfNoEntry: false });
  if (existing && !existing.isFile())
    throw usageError(`${flag} ${file}: a ${existing.isDirectory() ? "folder" : "special file"} of that name is in the way`);
  const dir = path.dirname(path.resolve(file));
  const folder = statSync(dir, { throwIfNoEntry: false });
  if (!folder?.isDirectory()) throw usageError(`${flag} ${file}: the folder ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw usageError(`${flag} ${file}: the folder ${dir} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
