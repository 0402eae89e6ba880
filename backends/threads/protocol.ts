import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SerializedError } from "../../lib/codec.js";
import { InvalidTaskError } from "../../lib/errors.js";

/** What crosses to a worker for one run: the function (as source, or as a module export), arguments, context. */
export interface ThreadTask {
  readonly uid: string;
  readonly name: string;
  readonly attempt: number;
  readonly fn: { readonly id: number; readonly expression: string } | { readonly module: string; readonly export: string };
  readonly args: unknown[];
  /** Move the result's top-level ArrayBuffer or typed array back instead of copying it. */
  readonly transfer: boolean;
}

/** Small tasks grouped into one pool task; the worker runs them in order. */
export interface ThreadBatch {
  readonly batch: readonly ThreadTask[];
}

/** One batch member's result. */
export type ThreadOutcome = { readonly value: unknown } | { readonly error: SerializedError };

/** What a worker throws when a run fails: plain data, so that every field survives the crossing. */
export interface ThreadFailure {
  readonly asyncflowFailure: SerializedError;
}

export function isThreadFailure(x: unknown): x is ThreadFailure {
  return typeof x === "object" && x !== null && "asyncflowFailure" in x;
}

/** The file: URL of a task's `module` option (a URL, a file: URL string, or a path, relative to the cwd). */
export function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith("file:")) return new URL(module).href;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/** @throws InvalidTaskError naming the module and the task, when the file does not exist. */
export function checkModuleExists(href: string, taskName: string, exportName: string): void {
  if (!existsSync(fileURLToPath(href))) {
    throw new InvalidTaskError(taskName, `module ${href} (for export \`${exportName}\`) does not exist`);
  }
}

export const TYPESCRIPT_FILE = /\.[cm]?ts$/;

/** The error for a shipped function that uses names the worker lacks; also made from a ReferenceError at run time. */
export function freeVariableError(taskName: string, names: readonly string[]): InvalidTaskError {
  const list = names.map((n) => `\`${n}\``).join(", ");
  return new InvalidTaskError(
    taskName,
    `the function must be self-contained or given a \`module\` to run on worker threads: it uses ${list}, which ${names.length > 1 ? "are" : "is"} not defined there`,
  );
}
