// A training run's folder belongs to one process at a time: `kiln.lock` holds the owner's pid, and a
// lock whose process is gone (killed, crashed) is taken over. A folder that already holds a run is
// continued only with --resume and replaced only with --overwrite; it is never silently mixed.

import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { describeWriteError } from "../runtime/index.ts";

export interface RunFolderIntent {
  resume?: boolean;
  overwrite?: boolean;
}

export interface RunLock {
  file: string;
  release(): void;
}

const LOCK = "kiln.lock";

/** kiln's own files in a run folder: checkpoints (with their moving-average weights), the pointer, the log and the plot. */
const RUN_FILE =
  /^(step-\d+\.(json|safetensors|train\.safetensors|text_encoder\.safetensors|ema\.safetensors|ema\.text_encoder\.safetensors)|latest\.json|train-log\.jsonl|loss\.png)$/;
/** Temporary files of an interrupted save (runtime/safetensors.ts and runtime/cache.ts name them so). */
const TEMPORARY = /^\..+\.tmp$|\.tmp-\d+-[a-z0-9]+$|^kiln\.lock\.stale-\d+$/;

/** Whether `dir` holds (part of) a training run. */
export function holdsRun(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((name) => RUN_FILE.test(name) && !(name === "train-log.jsonl" && statSync(path.join(dir, name)).size === 0));
}

interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as Partial<LockOwner>;
    return typeof owner.pid === "number" ? { pid: owner.pid, host: String(owner.host), started: String(owner.started) } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock's owner still runs. Another host's process cannot be checked, so it counts as alive. */
function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Throws, naming the cause, unless `dir` exists as a writable folder or could be created as one. */
function requireWritableFolder(dir: string): void {
  let existing = path.resolve(dir);
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    if (!statSync(existing).isDirectory()) throw Object.assign(new Error("not a folder"), { code: "ENOTDIR" });
    accessSync(existing, constants.W_OK);
  } catch (error) {
    throw new Error(`--out ${describeWriteError(dir, error)}`);
  }
}

/** Checks, without changing anything, that this process may train into `dir`; throws if not. */
export function checkRunFolder(dir: string, intent: RunFolderIntent): void {
  if (intent.resume && intent.overwrite)
    throw new Error(`--resume and --overwrite contradict each other: continue the run in ${dir} or replace it, not both`);
  requireWritableFolder(dir);
  const lock = path.join(dir, LOCK);
  if (existsSync(lock)) {
    const owner = readOwner(lock);
    const fresh = Date.now() - statSync(lock).mtimeMs < 10_000;
    // An unreadable lock is one being written right now (fresh), or the wreck of a crash.
    if (owner ? ownerAlive(owner) : fresh)
      throw new Error(
        `${dir} is in use by another training (${owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.started}` : "its lock is being written"}); wait for it to finish, stop it, or choose another --out`,
      );
  }
  if (!intent.resume && !intent.overwrite && holdsRun(dir))
    throw new Error(
      `${dir} already holds a training run; pass --resume to continue it, --overwrite to delete its checkpoints, log and plot and start over, or choose another --out`,
    );
}

function writeLock(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Makes `dir` this process's run folder: creates it, takes the lock (taking over one whose process is
 * gone), removes the temporary files of an interrupted save, and with `overwrite` deletes the old run's
 * files. The lock goes when `release()` is called or the process exits.
 */
export function claimRunFolder(dir: string, intent: RunFolderIntent): RunLock {
  checkRunFolder(dir, intent);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new Error(`--out ${describeWriteError(dir, error)}`);
  }
  const file = path.join(dir, LOCK);
  let taken = false;
  try {
    taken = writeLock(file);
    if (!taken) {
      // The check above found the owner gone. Move its lock aside (only one process can), then make sure
      // what was moved is that dead lock and not one a racing process wrote in between.
      const aside = `${file}.stale-${process.pid}`;
      const seen = readOwner(file);
      renameSync(file, aside);
      const moved = readOwner(aside);
      if (moved && seen && moved.pid !== seen.pid) throw new Error(`${dir} was claimed by pid ${moved.pid} at the same moment; choose another --out`);
      rmSync(aside, { force: true });
      taken = writeLock(file);
      if (!taken) throw new Error(`${dir} was claimed by another training at the same moment; choose another --out`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw new Error(`--out ${describeWriteError(dir, error)}`);
    throw error;
  }
  const release = (): void => {
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
    process.removeListener("exit", release);
  };
  process.on("exit", release);
  for (const name of readdirSync(dir)) {
    if (TEMPORARY.test(name) || (intent.overwrite && RUN_FILE.test(name))) rmSync(path.join(dir, name), { force: true });
  }
  return { file, release };
}
