/**
 * `--node 24` (or `--node 20,24`): runs the bench again under each named Node
 * major, installing it first through `.ci/node` (the npm registry's `node`
 * package, cached outside the repository).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";

/** The versions asked for with `--node`, and the other arguments; null versions when there is no `--node`. */
export function parseNodeFlag(argv: readonly string[]): { versions: string[] | null; rest: string[] } {
  const i = argv.findIndex((a) => a === "--node" || a.startsWith("--node="));
  if (i < 0) return { versions: null, rest: [...argv] };
  const inline = argv[i]!.startsWith("--node=");
  const value = inline ? argv[i]!.slice("--node=".length) : argv[i + 1];
  if (value === undefined || !/^\d+(,\d+)*$/.test(value)) throw new Error(`--node expects majors such as 24 or 20,24, got ${value ?? "nothing"}`);
  return { versions: value.split(","), rest: argv.filter((_, j) => j !== i && (inline || j !== i + 1)) };
}

/** The node binary of a major: this one when it matches, else the cached one (installed on first use). */
export function nodeBinary(major: string): string {
  if (process.versions.node.split(".")[0] === major) return process.execPath;
  const root = new URL("../", import.meta.url).pathname;
  const bin = execFileSync(join(root, ".ci/node"), [major], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  return join(bin, "node");
}

/** Runs bench/run.ts with `rest` under each version in turn; the worst exit status. */
export function runUnder(versions: readonly string[], rest: readonly string[]): number {
  let status = 0;
  for (const v of versions) {
    const r = spawnSync(nodeBinary(v), ["--expose-gc", "--import", "tsx", new URL("./run.ts", import.meta.url).pathname, ...rest], { stdio: "inherit" });
    status = Math.max(status, r.status ?? 1);
  }
  return status;
}
