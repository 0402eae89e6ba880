import { linkSync, readFileSync, readlinkSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CheckpointLockedError } from "../contract/errors.js";

/**
 * An exclusive claim on a file between processes (and engines of one
 * process): `<path>.lock` holding the owner's pid, made with O_EXCL. A lock
 * left by a process that died (SIGKILL) is taken over; one held by a live
 * process is refused with {@link CheckpointLockedError}. The lock sits by the
 * file's real path, so every path to one file (a symlink) finds the same lock. The pid is written
 * to a private file first and linked into place, so nobody ever reads a lock
 * without its pid. The lock is also
 * dropped when the process exits without shutting the engine down.
 * @returns the release function.
 */
export function lockFile(path: string): () => void {
  const lock = `${realPath(path)}.lock`;
  const mine = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(mine, String(process.pid));
  try {
    if (!claim(mine, lock)) takeOver(path, lock, mine);
  } finally {
    unlinkQuietly(mine);
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off("exit", release);
    unlinkQuietly(lock);
  };
  process.on("exit", release);
  return release;
}

/** Where `path` leads through symlinks; for a file not made yet, that name in its directory's real path (opening it makes it there). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  let target: string;
  try {
    target = resolve(dirname(path), readlinkSync(path)); // a symlink to a file not made yet: opening it makes its target
  } catch {
    return join(realpathSync(dirname(path)), basename(path));
  }
  return realPath(target);
}

/** Links `mine` in as `file`: false if `file` exists. */
function claim(mine: string, file: string): boolean {
  try {
    linkSync(mine, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  }
}

/**
 * Takes over a lock whose owner died, or refuses. Only under a guard
 * (`<lock>.takeover`, made as the lock is): two processes that both read the
 * dead owner's pid would otherwise both unlink and claim, the second removing
 * the first's fresh lock, and both would hold it. Under the guard the lock
 * can change only by its owner's release (dead) or a claim of an absent lock
 * (which the guard holder then sees and refuses).
 */
function takeOver(path: string, lock: string, mine: string): void {
  refuseIfHeld(path, lock);
  const guard = `${lock}.takeover`;
  if (!claim(mine, guard)) {
    const taker = Number(readText(guard));
    if (!(taker > 0)) {
      // The guard went while this process looked: that takeover is over, and the lock it left decides.
      if (claim(mine, lock)) return;
      return refuseIfHeld(path, lock, true);
    }
    if (live(taker)) throw new CheckpointLockedError(path, taker, undefined, lock); // it takes the lock over now
    throw new CheckpointLockedError(path, taker, `a takeover of its stale lock by process ${taker} was interrupted: remove ${guard} if no process uses the checkpoint`);
  }
  try {
    refuseIfHeld(path, lock);
    unlinkQuietly(lock); // its owner died: the file is ours to take
    if (!claim(mine, lock)) refuseIfHeld(path, lock, true);
  } finally {
    unlinkQuietly(guard);
  }
}

/** Throws if a live process holds the lock (or, when `anyOwner`, whoever holds it). */
function refuseIfHeld(path: string, lock: string, anyOwner = false): void {
  const pid = Number(readText(lock));
  if (anyOwner || live(pid)) throw new CheckpointLockedError(path, pid, undefined, lock);
}

function live(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && alive(pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
