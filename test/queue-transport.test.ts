/**
 * Reaching Redis as deployments do: TLS against a redis-server started with a
 * self-signed certificate made here (openssl), an ACL user confined to a key
 * prefix, credentials from a file, and passwords absent from every message.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { QueueBackend, WorkflowEngine } from "../lib/index.js";
import * as tasks from "./fixtures/tasks.js";
import { captureStderr, engine, running } from "./helpers.js";
import { startRedis } from "./redis.js";
import { TASKS_MODULE, TEST_SECRET, TEST_SECRET_FILE, startAsyncflowWorker, stopWorkerProcess } from "./worker-process.js";

describe("QueueBackend transport", () => {
  it("TLS: rediss:// with the server's CA, engine and a CLI worker (--tls-ca); a plain connection to it fails naming the address", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-tls-"));
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const redis = await startRedis([], { cert, key });
    try {
      const w = await startAsyncflowWorker(["--connection", redis.url, "--tls-ca", cert, "--queue", "tls", "--module", TASKS_MODULE, "--secret-file", TEST_SECRET_FILE]);
      expect(w.serving, w.output).toBe(true);
      try {
        const flow = await engine({ backend: new QueueBackend({ connection: redis.url, tls: { ca: readFileSync(cert) }, queue: "tls", secret: TEST_SECRET }) });
        expect(await flow.functionTask(tasks.double, { name: "double" })(21)).toBe(42);
      } finally {
        await stopWorkerProcess(w.child);
      }
      const plain = await WorkflowEngine.create({
        backend: new QueueBackend({ connection: redis.url.replace("rediss:", "redis:"), connectTimeout: 1000 }),
        handleSignals: false,
      }).catch((e: unknown) => e as Error);
      expect((plain as Error).message).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
      // the server's certificate is checked: with another CA, or the system's CAs only, neither side connects
      const other = join(dir, "other.pem");
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "other-key.pem"), "-out", other, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
      const unchecked = await WorkflowEngine.create({ backend: new QueueBackend({ connection: redis.url, tls: { ca: readFileSync(other) }, connectTimeout: 1000 }), handleSignals: false }).catch((e: unknown) => e as Error);
      expect((unchecked as Error).message).toMatch(/cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+: self-signed certificate/);
      const noCa = await startAsyncflowWorker(["--connection", redis.url, "--queue", "tls", "--module", TASKS_MODULE, "--connect-timeout", "1000"]);
      expect([noCa.serving, noCa.code]).toEqual([false, 2]);
      expect(noCa.output).toMatch(/cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+: self-signed certificate/);
    } finally {
      await redis.stop();
    }
  });

  it("an ACL user confined to ~app:* and &app:*, its percent-encoded password from a file: every key and channel under the prefix; a wrong password says WRONGPASS; no password in any message", async () => {
    const redis = await startRedis();
    const admin = new Redis(redis.port, "127.0.0.1");
    const password = "p@ss:w/rd%1";
    try {
      await admin.call("ACL", "SETUSER", "flow", "on", `>${password}`, "~app:*", "&app:*", "+@all");
      await admin.call("ACL", "SETUSER", "default", "off");
      const url = `redis://flow:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`;
      const file = join(mkdtempSync(join(tmpdir(), "af-acl-")), "url");
      writeFileSync(file, `${url}\n`, { mode: 0o600 });
      const err = captureStderr();
      const w = await startAsyncflowWorker(["--connection-file", file, "--prefix", "app", "--queue", "acl", "--module", TASKS_MODULE, "--secret-file", TEST_SECRET_FILE]);
      expect(w.serving, w.output).toBe(true);
      try {
        const flow = await engine({ backend: new QueueBackend({ connection: url, prefix: "app", queue: "acl", secret: TEST_SECRET }) });
        expect(await flow.functionTask(tasks.double, { name: "double" })(4)).toBe(8);
        const f = flow.functionTask(tasks.untilAborted, { name: "untilAborted" })();
        await running(f);
        f.cancel(); // the cancel keys are under the prefix too, or the ACL would refuse them (NOPERM, logged)
        await expect(f).rejects.toThrow(/cancelled/);
        const wrong = await WorkflowEngine.create({
          backend: new QueueBackend({ connection: `redis://flow:not-${encodeURIComponent(password)}@127.0.0.1:${redis.port}`, connectTimeout: 2000 }),
          handleSignals: false,
        }).catch((e: unknown) => e as Error);
        expect((wrong as Error).message).toMatch(/Redis at redis:\/\/flow@127\.0\.0\.1:\d+ refused the login: WRONGPASS/);
        expect(`${(wrong as Error).message}${(wrong as Error).stack}`).not.toContain("not-");
      } finally {
        await stopWorkerProcess(w.child);
      }
      const keys = await admin.keys("*");
      expect(keys.filter((k) => !k.startsWith("app:"))).toEqual([]);
      const said = err.text() + w.output;
      expect(said).not.toMatch(/NOPERM|cancels not recorded/);
      for (const secret of [password, encodeURIComponent(password), TEST_SECRET]) expect(said).not.toContain(secret);
    } finally {
      admin.disconnect();
      await redis.stop();
    }
  });
});
