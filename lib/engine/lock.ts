import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { CheckpointLockedError } from "../contract/errors.js";

/**
 * An exclusive claim on a file between processes (and engines of one
 * process): `<path>.lock` holding the owner's pid, made with O_EXCL. A lock
 * left by a process that died (SIGKILL) is taken over; one held by a live
 * process is refused with {@link CheckpointLockedError}. The pid is written
 * to a private file first and linked into place, so nobody ever reads a lock
 * without its pid. The lock is also
 * dropped when the process exits without shutting the engine down.
 * @returns the release function.
 */
export function lockFile(path: string): () => void {
  const lock = `${path}.lock`;
  const mine = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = Number(readText(lock));
        if (attempt > 0 || (Number.isInteger(pid) && pid > 0 && alive(pid))) throw new CheckpointLockedError(path, pid);
        unlinkQuietly(lock); // its owner died: the file is ours to take
      }
    }
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
