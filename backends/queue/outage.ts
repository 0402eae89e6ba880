/**
 * The engine's side of an outage: once Redis has been unreachable for
 * `unreachableTimeout` (counted from the earliest first error of the
 * connections still down, each since it was last ready), the runs it holds
 * fail, naming the address, instead of waiting for Redis forever; and again
 * each `unreachableTimeout` while the outage lasts.
 */
import { ErrorReport } from "./redis.js";

export class OutageWatch {
  readonly #timeoutMs: number;
  /** Fails the runs out, saying why. */
  readonly #fail: (why: string) => void;
  readonly #address: string;
  readonly #reports: ErrorReport[] = [];
  #armed = false;
  #closed = false;

  constructor(timeoutMs: number, address: string, fail: (why: string) => void) {
    this.#timeoutMs = timeoutMs;
    this.#address = address;
    this.#fail = fail;
  }

  /** A report of a connection's errors (said once each while it lasts, through `say`), counted in the outage. */
  report(say: (line: string, recovered: boolean) => void): ErrorReport {
    const r = new ErrorReport((line, recovered) => {
      say(line, recovered);
      if (!recovered) this.#arm();
    });
    this.#reports.push(r);
    return r;
  }

  close(): void {
    this.#closed = true;
  }

  #downSince(): number | null {
    let since: number | null = null;
    for (const r of this.#reports) if (r.downSince !== null && (since === null || r.downSince < since)) since = r.downSince;
    return since;
  }

  #arm(): void {
    if (this.#closed || this.#armed) return;
    this.#armed = true;
    const check = (): void => {
      const since = this.#downSince();
      if (since === null || this.#closed) return void (this.#armed = false);
      const left = since + this.#timeoutMs - performance.now();
      if (left > 0) return void setTimeout(check, left).unref();
      this.#fail(`Redis at ${this.#address} unreachable for ${((performance.now() - since) / 1000).toFixed(1)} s`);
      setTimeout(check, this.#timeoutMs).unref();
    };
    setTimeout(check, this.#timeoutMs).unref();
  }
}
