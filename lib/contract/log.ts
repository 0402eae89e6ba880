/**
 * A tiny levelled logger whose every line names the session, the task and
 * the workflow it is about. The level comes from `ASYNCFLOW_LOG_LEVEL`
 * (`debug|info|warn|error`, default `warn`), read when a logger is made, so
 * hot paths test a boolean (`log.debugOn`) before building any message.
 * Lines go to stderr as text, or as one JSON object per line with
 * `ASYNCFLOW_LOG_FORMAT=json`, or to a logger of the user's (pino, winston,
 * console: anything with `debug/info/warn/error`), called pino's way:
 * `logger.warn({ sessionId, taskId, workflowId }, message)`.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export type LogSink = (line: string) => void;

/** Any logger with the four levels: pino, winston, bunyan, console. */
export interface LoggerLike {
  debug(...args: never[]): unknown;
  info(...args: never[]): unknown;
  warn(...args: never[]): unknown;
  error(...args: never[]): unknown;
}

/** The correlation fields of a line, as a user's logger and the JSON format receive them. */
export interface LogFields {
  sessionId?: string;
  taskId?: string;
  workflowId?: string;
}

/** Told of every info, warn and error line, whatever the level: how backend notices become events. */
export type LogTap = (level: LogLevel, uid: string, message: string) => void;

export interface LoggerSetup {
  /** The session every line names. */
  sessionId?: string;
  /** Where lines go instead of stderr. */
  logger?: LoggerLike;
  /** @default ASYNCFLOW_LOG_FORMAT, else "text" */
  format?: "text" | "json";
  tap?: LogTap;
}

export class Logger {
  readonly level: LogLevel;
  readonly debugOn: boolean;
  readonly #threshold: number;
  readonly #sink: LogSink;
  readonly #setup: LoggerSetup;
  readonly #json: boolean;

  constructor(level?: LogLevel, sink: LogSink = (line) => process.stderr.write(line + "\n"), setup: LoggerSetup = {}) {
    this.level = level ?? levelFromEnv(setup.logger);
    this.#threshold = LEVELS[this.level];
    this.debugOn = this.#threshold <= LEVELS.debug;
    this.#sink = sink;
    this.#setup = setup;
    this.#json = (setup.format ?? formatFromEnv()) === "json";
  }

  /** A logger that writes where this one does and also tells `tap` of its info, warn and error lines. */
  tapped(tap: LogTap): Logger {
    return new Logger(this.level, this.#sink, { ...this.#setup, tap });
  }

  /** `uid` names the task the line is about (or the session); `workflowId` the task's workflow. */
  log(level: LogLevel, uid: string, message: string, workflowId?: string): void {
    const rank = LEVELS[level];
    if (rank >= LEVELS.info) this.#setup.tap?.(level, uid, message);
    if (rank < this.#threshold) return;
    const sessionId = this.#setup.sessionId;
    const user = this.#setup.logger;
    if (user !== undefined || this.#json) {
      const fields: LogFields = {};
      if (sessionId !== undefined) fields.sessionId = sessionId;
      if (uid !== sessionId) fields.taskId = uid;
      if (workflowId !== undefined) fields.workflowId = workflowId;
      if (user !== undefined) return void (user[level] as (f: LogFields, m: string) => unknown)(fields, message);
      return this.#sink(JSON.stringify({ level, time: Date.now(), msg: message, ...fields }));
    }
    const where = sessionId === undefined || sessionId === uid ? "" : ` [${sessionId}${workflowId === undefined ? "" : ` ${workflowId}`}]`;
    this.#sink(`${new Date().toISOString()} asyncflow ${level.toUpperCase()} ${uid} ${message}${where}`);
  }
  debug(uid: string, message: string, workflowId?: string): void {
    if (this.debugOn) this.log("debug", uid, message, workflowId);
  }
  info(uid: string, message: string, workflowId?: string): void {
    this.log("info", uid, message, workflowId);
  }
  warn(uid: string, message: string, workflowId?: string): void {
    this.log("warn", uid, message, workflowId);
  }
  error(uid: string, message: string, workflowId?: string): void {
    this.log("error", uid, message, workflowId);
  }
}

// With a logger of the user's and no ASYNCFLOW_LOG_LEVEL, that logger's own
// level (pino's and winston's `level`) decides which lines are worth building.
function levelFromEnv(user?: LoggerLike): LogLevel {
  const raw = process.env.ASYNCFLOW_LOG_LEVEL?.toLowerCase();
  if (raw === undefined || raw === "") {
    const own = (user as { level?: unknown } | undefined)?.level;
    return typeof own === "string" && own in LEVELS ? (own as LogLevel) : "warn";
  }
  if (raw in LEVELS) return raw as LogLevel;
  process.stderr.write(`asyncflow WARN ignoring ASYNCFLOW_LOG_LEVEL=${raw}: expected debug|info|warn|error\n`);
  return "warn";
}

function formatFromEnv(): "text" | "json" {
  const raw = process.env.ASYNCFLOW_LOG_FORMAT?.toLowerCase();
  if (raw === undefined || raw === "" || raw === "text") return "text";
  if (raw === "json") return "json";
  process.stderr.write(`asyncflow WARN ignoring ASYNCFLOW_LOG_FORMAT=${raw}: expected text|json\n`);
  return "text";
}
