/**
 * Signing what crosses Redis with a secret the engine and its workers share:
 * HMAC-SHA256 over a job's id, session and payload, and over a result's job
 * id and value. Anyone who can write to Redis can add jobs and events; only
 * holders of the secret can make ones that are accepted. The secret itself
 * never leaves this process.
 */
import { hash, timingSafeEqual } from "node:crypto";

export type Secret = string | Uint8Array;

/** The shortest secret either side accepts (characters of a string, bytes of a Uint8Array). */
export const MIN_SECRET_LENGTH = 16;

/** SHA-256's block size in bytes. */
const BLOCK = 64;
/** The largest message whose buffer a signer keeps for the next (a larger one gets a buffer for itself). */
const KEPT = 64 * 1024;
/** Characters of a signature: 32 bytes in base64url. */
const SIGNATURE_CHARS = 43;

/** The key padded to a block and XORed with `pad`, in a buffer with `room` bytes after it. */
function keyBlock(key: Buffer, pad: number, room: number): Buffer {
  const block = Buffer.alloc(BLOCK + room);
  for (let i = 0; i < BLOCK; i++) block[i] = (key[i] ?? 0) ^ pad;
  return block;
}

export class Signer {
  // HMAC as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || m)), with two one-shot hashes into
  // buffers that hold the padded key blocks from the start. createHmac sets up an OpenSSL HMAC, a native
  // handle and a stream object at every call: 8-10 us a call after a millisecond idle (a chain's hop, four
  // calls on its critical path), against 2.4-2.8 for a one-shot hash; a signed hop cost 0.09-0.1 ms more
  // than an unsigned one with it, 0.04-0.05 with this (bench/FINDINGS.md). The bytes signed and the
  // signature are createHmac's (queue-sign.test.ts compares them, and checks RFC 4231's vectors).
  #inner: Buffer;
  readonly #outer: Buffer;
  // What verify compares, written in place instead of two Buffers made per check (pool churn in a busy worker).
  readonly #want = Buffer.alloc(SIGNATURE_CHARS);
  readonly #got = Buffer.alloc(SIGNATURE_CHARS);

  constructor(secret: Secret) {
    const bytes = Buffer.from(secret);
    const key = bytes.length > BLOCK ? hash("sha256", bytes, "buffer") : bytes;
    this.#inner = keyBlock(key, 0x36, 1024);
    this.#outer = keyBlock(key, 0x5c, 32);
    bytes.fill(0);
    key.fill(0);
  }

  /** base64url HMAC of the parts, separated by a byte no id or session holds. */
  sign(...parts: string[]): string {
    const message = parts.join("\0");
    const size = BLOCK + Buffer.byteLength(message);
    const inner = size <= this.#inner.length ? this.#inner : this.#larger(size);
    // What is hashed is what was written, whatever is left after it from a longer message.
    const end = BLOCK + inner.write(message, BLOCK);
    // The inner digest as a "binary" (latin1) string, one character a byte: a string from C++ is cheaper than a Buffer.
    this.#outer.write(hash("sha256", inner.subarray(0, end), "binary"), BLOCK, "binary");
    if (inner !== this.#inner) inner.fill(0, 0, BLOCK);
    return hash("sha256", this.#outer, "base64url");
  }

  /** A buffer of at least `size` bytes starting with the inner key block: kept for the next messages up to KEPT. */
  #larger(size: number): Buffer {
    const buffer = Buffer.alloc(size <= KEPT ? Math.min(KEPT, Math.max(size, this.#inner.length * 2)) : size);
    this.#inner.copy(buffer, 0, 0, BLOCK);
    if (buffer.length > KEPT) return buffer;
    this.#inner.fill(0);
    return (this.#inner = buffer);
  }

  /** Whether `signature` is the HMAC of the parts (in constant time). */
  verify(signature: unknown, ...parts: string[]): boolean {
    // A signature is 43 ASCII characters: a string of another length in UTF-8 is none, and one of that length with a
    // character outside ASCII cannot equal the one made here.
    if (typeof signature !== "string" || signature.length !== SIGNATURE_CHARS || this.#got.write(signature) !== SIGNATURE_CHARS) return false;
    this.#want.write(this.sign(...parts));
    return timingSafeEqual(this.#got, this.#want);
  }

  // Never printed, never serialized: inspecting or logging a Signer shows no key.
  toJSON(): string {
    return "[Signer]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[Signer]";
  }
}
