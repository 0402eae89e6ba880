import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A private redis-server for tests and benchmarks: a free port on 127.0.0.1, no persistence. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /**
   * Kills the server (SIGKILL: nothing saved) and starts an empty one on the same port: `down` ms later, or once
   * `down` (what the test waits for while Redis is away) has settled.
   */
  restart(down?: number | Promise<unknown>): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Starts `redis-server` (Debian's package; `.ci/run` installs it), with `extra` arguments, and resolves once it
 * accepts connections. With `tls` (PEM files), it serves TLS only, on the port (`url` is then `rediss://`).
 */
export async function startRedis(extra: string[] = [], tls?: { cert: string; key: string }): Promise<RedisServer> {
  const port = await freePort();
  if (tls !== undefined) extra = ["--tls-port", String(port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.cert, "--tls-auth-clients", "no", ...extra];
  let child = await serve(tls === undefined ? port : 0, extra);
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return {
    host: "127.0.0.1",
    port,
    url: `${tls === undefined ? "redis" : "rediss"}://127.0.0.1:${port}`,
    stop,
    async restart(down = 0) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      if (typeof down !== "number") await Promise.allSettled([down]);
      else if (down > 0) await new Promise((r) => setTimeout(r, down));
      child = await serve(tls === undefined ? port : 0, extra);
    },
  };
}

async function serve(port: number, extra: string[]): Promise<ChildProcess> {
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (apt-get install -y redis-server): ${e.message}`));
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
  child.stdout!.resume();
  return child;
}
