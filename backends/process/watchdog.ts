/**
 * Commands die with the process that runs them. A command runs in a process
 * group of its own (so that cancelling kills a whole pipeline), which a
 * process that dies (`process.exit`, a crash, SIGKILL) would leave running
 * under PID 1, while a queue worker runs the job again or a rerun resumes
 * from a checkpoint. A small shell watches the process through its stdin: the
 * process names each command's group as it starts and ends, and when stdin
 * closes (the process is gone, however it died) the shell kills the groups
 * still named.
 */
import { spawn, type ChildProcess } from "node:child_process";

const SCRIPT = `trap '' INT TERM HUP
groups=" "
while read -r op pid; do
  case "$op" in
    +) groups="$groups$pid " ;;
    -) groups=$(printf '%s' "$groups" | sed "s/ $pid / /") ;;
  esac
done
for pid in $groups; do kill -9 "-$pid" 2>/dev/null; done`;

/** A Set of running command processes that tells the watchdog about each one it holds. */
export class WatchedChildren extends Set<ChildProcess> {
  #watchdog: ChildProcess | null = null;

  override add(child: ChildProcess): this {
    super.add(child);
    if (child.pid !== undefined) this.#tell(`+ ${child.pid}\n`);
    return this;
  }

  override delete(child: ChildProcess): boolean {
    if (child.pid !== undefined && this.has(child)) this.#tell(`- ${child.pid}\n`);
    return super.delete(child);
  }

  /** Stops the watchdog (the process is closing, with no command left running). */
  close(): void {
    this.#watchdog?.stdin?.end();
    this.#watchdog = null;
  }

  #tell(line: string): void {
    if (this.#watchdog === null) {
      // Its own group, so that a Ctrl-C sent to the process's group does not reach it; unref'd, so that it never holds the process.
      const w = spawn("/bin/sh", ["-c", SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
      w.on("error", () => undefined);
      w.stdin.on("error", () => undefined);
      w.unref();
      (w.stdin as unknown as { unref?: () => void }).unref?.();
      this.#watchdog = w;
    }
    this.#watchdog.stdin!.write(line);
  }
}
