import { linkSync, readFileSync, readlinkSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CheckpointLockedError } from "../contract/errors.js";

/**
 * An exclusive claim on a file between processes (and engines of one
 * process): `<path>.lock` holding the owner's pid, boot id and start time
 * (lines; the last two empty where /proc is not), made with O_EXCL. A lock
 * left by a process that died (SIGKILL) is taken over, and so is one whose
 * pid now names another process (another boot, or another start time: the
 * pid was recycled); one held by a live process is refused with
 * {@link CheckpointLockedError}. A lock holding only a pid (the earlier
 * format) is judged by the pid alone. The lock sits by the
 * file's real path, so every path to one file (a symlink) finds the same lock. The pid is written
 * to a private file first and linked into place, so nobody ever reads a lock
 * without its pid. The lock is also
 * dropped when the process exits without shutting the engine down.
 * @returns the release function.
 */
export function lockFile(path: string): () => void {
  const lock = `${realPath(path)}.lock`;
  const mine = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(mine, `${process.pid}\n${bootId() ?? ""}\n${startTime(process.pid) ?? ""}\n`);
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
    const taker = owner(readText(guard));
    if (holds(taker)) throw new CheckpointLockedError(path, taker.pid); // it takes the lock over now
    throw new CheckpointLockedError(path, taker.pid, `a takeover of its stale lock by process ${taker.pid} was interrupted: remove ${guard} if no process uses the checkpoint`);
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
  const o = owner(readText(lock));
  if (anyOwner || holds(o)) throw new CheckpointLockedError(path, o.pid);
}

interface Owner {
  readonly pid: number;
  /** Absent in a lock of a pid alone, or written where /proc was not. */
  readonly boot?: string;
  readonly start?: string;
}

function owner(text: string): Owner {
  const [pid, boot, start] = text.split("\n");
  return { pid: Number(pid), ...(boot ? { boot } : {}), ...(start ? { start } : {}) };
}

/** Whether the lock's owner still runs: its pid is live and, where both sides can tell, in this boot and started when the owner did. */
function holds(o: Owner): boolean {
  if (!live(o.pid)) return false;
  const boot = o.boot === undefined ? undefined : bootId();
  if (boot !== undefined && boot !== o.boot) return false;
  const start = o.start === undefined ? undefined : startTime(o.pid);
  return start === undefined || start === o.start;
}

function bootId(): string | undefined {
  return readText("/proc/sys/kernel/random/boot_id").trim() || undefined;
}

/** Field 22 of /proc/<pid>/stat, in clock ticks since boot; counted after the command name, which may hold spaces and parentheses. */
function startTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3] || undefined;
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
