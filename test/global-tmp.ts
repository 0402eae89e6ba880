/**
 * The whole run's scratch space: every temporary file a test, a worker process
 * or a fixture makes (they all ask `os.tmpdir()`) lands in one directory made
 * here and removed when the run ends, so a run leaves nothing in /tmp.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "asyncflow-test-"));
  // Set before the test processes start, so they and the processes they spawn inherit it.
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
