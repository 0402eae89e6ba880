/**
 * The queue's signatures are HMAC-SHA256 as OpenSSL computes it (sign.ts
 * computes it from two plain hashes): compared with `createHmac` for secrets
 * shorter and longer than a block, messages that outgrow the signer's buffer,
 * with RFC 4231's values, and a job as the engine leaves it in a real Redis.
 */
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { QueueBackend } from "../lib/index.js";
import { Signer } from "../backends/queue/sign.js";
import { engine, useRedis } from "./helpers.js";
import { TEST_SECRET } from "./worker-process.js";

const hmac = (secret: string | Uint8Array, ...parts: string[]): string => createHmac("sha256", Buffer.from(secret)).update(parts.join("\0")).digest("base64url");

describe("Signer", () => {
  const secrets: (string | Uint8Array)[] = ["s".repeat(16), "k".repeat(64), "long".repeat(17), randomBytes(32), new Uint8Array(randomBytes(200)), "clé secrète ünïcödé 🔑"];
  // short, exactly the signer's first buffer, past it (it grows), past what it keeps, then short again
  const messages = [["job.1", "session.a", '{"kind":"function"}'], ["j", "s", "x".repeat(1024 - 4)], ["job.2", "session.b", "é".repeat(5000)], ["j", "s", "y".repeat(100_000)], ["job.3", "s", ""]];

  it("signs as createHmac does, and accepts exactly its own signatures", () => {
    for (const secret of secrets) {
      const signer = new Signer(secret);
      for (const parts of messages) {
        const want = hmac(secret, ...parts);
        expect(signer.sign(...parts)).toBe(want);
        expect(signer.verify(want, ...parts)).toBe(true);
        expect(signer.verify(hmac(`${String(secret)}!`, ...parts), ...parts)).toBe(false);
        expect(signer.verify(want, ...parts.slice(0, -1), `${parts.at(-1)!} `)).toBe(false);
        // the same length, one character changed; a non-ASCII character in place of the last; too short; not a string
        expect(signer.verify(`${want.slice(0, -1)}${want.endsWith("A") ? "B" : "A"}`, ...parts)).toBe(false);
        // (right after a good one: what a short write leaves in the signer's buffer is the good signature's last byte)
        expect(signer.verify(want, ...parts)).toBe(true);
        expect(signer.verify(`${want.slice(0, -1)}é`, ...parts)).toBe(false);
        expect(signer.verify(want.slice(0, -1), ...parts)).toBe(false);
        expect(signer.verify(undefined, ...parts)).toBe(false);
      }
    }
  });

  // RFC 4231's HMAC-SHA256 test cases whose data is text (1, 2, 6, 7): a key shorter than a block, and longer (hashed first).
  it("gives RFC 4231's HMAC-SHA256 values", () => {
    const cases: [string | Uint8Array, string, string][] = [
      [new Uint8Array(20).fill(0x0b), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
      ["Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
      [new Uint8Array(131).fill(0xaa), "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
      [
        new Uint8Array(131).fill(0xaa),
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
      ],
    ];
    for (const [key, data, hex] of cases) expect(Buffer.from(new Signer(key).sign(data), "base64url").toString("hex"), data).toBe(hex);
  });
});

describe("a signed job in Redis", () => {
  const used = useRedis();

  it("carries the HMAC-SHA256 of its id, session and payload, with no trace of the secret", async () => {
    const flow = await engine({ backend: new QueueBackend({ connection: used.server.url, queue: "signed", secret: TEST_SECRET, noWorkerWarning: 0 }) });
    try {
      flow.functionTask((n: number) => n, { name: "noop" })(1).catch(() => undefined);
      for (const end = performance.now() + 10_000; performance.now() < end && (await used.client.llen("bull:signed:wait")) === 0; ) await new Promise((r) => setTimeout(r, 10));
      const [id] = await used.client.lrange("bull:signed:wait", 0, 0);
      expect(id).toBeDefined();
      const data = JSON.parse((await used.client.hget(`bull:signed:${id!}`, "data"))!) as { s: string; p: string; sig: string };
      expect(data.sig).toBe(hmac(TEST_SECRET, id!, data.s, data.p));
      expect(JSON.stringify(await used.client.hgetall(`bull:signed:${id!}`))).not.toContain(TEST_SECRET);
    } finally {
      await flow.shutdown();
    }
  });
});
