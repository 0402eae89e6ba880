/**
 * A tiny levelled logger. The level comes from `ASYNCFLOW_LOG_LEVEL`
 * (`debug|info|warn|error`, default `warn`), read when a logger is made, so
 * hot paths test a boolean (`log.debugOn`) before building any message.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export type LogSink = (line: string) => void;

export class Logger {
  readonly level: LogLevel;
  readonly debugOn: boolean;
  readonly #threshold: number;
  readonly #sink: LogSink;

  constructor(level: LogLevel = levelFromEnv(), sink: LogSink = (line) => process.stderr.write(line + "\n")) {
    this.level = level;
    this.#threshold = LEVELS[level];
    this.debugOn = this.#threshold <= LEVELS.debug;
    this.#sink = sink;
  }

  /** `uid` names the task the line is about (or the session). */
  log(level: LogLevel, uid: string, message: string): void {
    if (LEVELS[level] < this.#threshold) return;
    this.#sink(`${new Date().toISOString()} asyncflow ${level.toUpperCase()} ${uid} ${message}`);
  }
  debug(uid: string, message: string): void {
    if (this.debugOn) this.log("debug", uid, message);
  }
  info(uid: string, message: string): void {
    this.log("info", uid, message);
  }
  warn(uid: string, message: string): void {
    this.log("warn", uid, message);
  }
  error(uid: string, message: string): void {
    this.log("error", uid, message);
  }
}

function levelFromEnv(): LogLevel {
  const raw = process.env.ASYNCFLOW_LOG_LEVEL?.toLowerCase();
  if (raw === undefined || raw === "") return "warn";
  if (raw in LEVELS) return raw as LogLevel;
  process.stderr.write(`asyncflow WARN ignoring ASYNCFLOW_LOG_LEVEL=${raw}: expected debug|info|warn|error\n`);
  return "warn";
}
