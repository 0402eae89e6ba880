import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidTaskError } from "../../lib/contract/errors.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { ShippedFunction, shipFunction } from "./source.js";

/**
 * What crosses to a worker (a thread of ThreadBackend, a process of
 * QueueBackend) for one run: the function, as shipped source or as a module
 * export, with its arguments and context.
 */
export interface RemoteTask {
  readonly uid: string;
  readonly name: string;
  readonly attempt: number;
  readonly fn: FunctionRef;
  readonly args: unknown[];
  /** Threads only: move the result's top-level ArrayBuffer or typed array back instead of copying it. */
  readonly transfer: boolean;
}

/** A shipped function (compiled once per worker, keyed by `id`) or a module export (always run in a task context). */
export type FunctionRef = ShippedFunction | { readonly module: string; readonly export: string };

/**
 * What a worker imports for a task's `module` option: a file: URL for a URL or
 * a path (relative to the cwd), or a package name or `node:` builtin as given
 * (the worker resolves it from where asyncflow is installed).
 */
function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith("file:")) return new URL(module).href;
  if (isBareSpecifier(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

function isBareSpecifier(module: string): boolean {
  return module.startsWith("node:") || !(module.startsWith(".") || isAbsolute(module) || /^[a-z][a-z0-9+.-]*:/i.test(module));
}

/** @throws InvalidTaskError naming the module and the task, when the file does not exist or the package cannot be resolved. */
function checkModuleExists(href: string, taskName: string, exportName: string): void {
  if (href.startsWith("file:")) {
    if (!existsSync(fileURLToPath(href))) throw new InvalidTaskError(taskName, `module ${href} (for export \`${exportName}\`) does not exist`);
    return;
  }
  try {
    import.meta.resolve(href);
  } catch (error) {
    throw new InvalidTaskError(taskName, `module "${href}" (for export \`${exportName}\`) cannot be resolved: ${(error as Error).message}`, { cause: error });
  }
}

export const TYPESCRIPT_FILE = /\.[cm]?ts$/;

/** The error for a shipped function that uses names the worker lacks; also made from a ReferenceError at run time. */
export function freeVariableError(taskName: string, names: readonly string[]): InvalidTaskError {
  const list = names.map((n) => `\`${n}\``).join(", ");
  return new InvalidTaskError(
    taskName,
    `the function must be self-contained or given a \`module\` to run in a worker: it uses ${list}, which ${names.length > 1 ? "are" : "is"} not defined there`,
  );
}

/**
 * How a backend names a task's function to its workers, worked out once per
 * task definition (keyed by its options object), not once per run, and
 * checked when the task is defined.
 */
export class FunctionRefs {
  readonly #ship: typeof shipFunction;
  readonly #refs = new WeakMap<object, { readonly fn: FunctionRef; readonly key: string | number }>();

  constructor(ship: typeof shipFunction) {
    this.#ship = ship;
  }

  /** @throws InvalidTaskError: a shipped function that is not self-contained, or a module that does not exist. */
  validate(fn: Function, name: string, options: { module?: string | URL; name?: string }): void {
    if (options.module === undefined) this.#ship(fn, name);
    else checkModuleExists(moduleHref(options.module), name, options.name ?? fn.name);
  }

  /** The run's function reference, and a key that names the function (for run-time statistics). */
  of(run: TaskRun): { readonly fn: FunctionRef; readonly key: string | number } {
    const opts = run.options;
    let ref = this.#refs.get(opts);
    if (ref === undefined) {
      const fn: FunctionRef =
        opts.module === undefined ? this.#ship(run.fn, run.name) : { module: moduleHref(opts.module), export: opts.name ?? run.fn.name };
      ref = { fn, key: "id" in fn ? fn.id : `${fn.module}#${fn.export}` };
      this.#refs.set(opts, ref);
    }
    return ref;
  }

  /** The run as it crosses to a worker, with its arguments as given (or as the channel needs them). */
  task(run: TaskRun, args: unknown[] = run.args): RemoteTask {
    return { uid: run.uid, name: run.name, attempt: run.attempt, fn: this.of(run).fn, args, transfer: run.options.transfer === true };
  }
}

/** A FunctionRefs over the source shipper, loaded on demand (it brings acorn). */
export async function functionRefs(): Promise<FunctionRefs> {
  return new FunctionRefs((await import("./source.js")).shipFunction);
}
