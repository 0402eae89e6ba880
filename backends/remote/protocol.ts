import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidTaskError } from "../../lib/contract/errors.js";

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
  /** W3C trace context of the task's span, when OpenTelemetry is active in the engine. */
  readonly trace?: Record<string, string>;
  /** Threads: how many times the run was handed over, when more than once (its result was lost with a thread that died). */
  readonly delivery?: number;
}

/** What a worker compiles: an expression that evaluates to the function (made by `source.ts`). */
export interface ShippedFunction {
  /** Unique per function in this process (run-time statistics key it); workers key their compile cache by `expression`, as ids repeat across processes. */
  readonly id: number;
  readonly expression: string;
  /** Whether the body can reach `taskContext()`: only then does a worker run it under AsyncLocalStorage (whose promise hooks slow every promise in the process on Node 20). */
  readonly context: boolean;
}

/** A shipped function (compiled once per worker, keyed by `id`) or a module export (always run in a task context). */
export type FunctionRef = ShippedFunction | { readonly module: string; readonly export: string };

/**
 * What a worker imports for a task's `module` option: a file: URL for a URL or
 * a path (relative to the cwd), or a package name or `node:` builtin as given
 * (the worker resolves it from where asyncflow is installed).
 */
export function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith("file:")) return new URL(module).href;
  if (isBareSpecifier(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

function isBareSpecifier(module: string): boolean {
  return module.startsWith("node:") || !(module.startsWith(".") || isAbsolute(module) || /^[a-z][a-z0-9+.-]*:/i.test(module));
}

/** @throws InvalidTaskError naming the module and the task, when the file does not exist or the package cannot be resolved. */
export function checkModuleExists(href: string, taskName: string, exportName: string): void {
  if (href.startsWith("file:")) {
    if (moduleFile(href) === undefined) {
      const source = typescriptSource(href);
      const nor = source === undefined ? "" : ` (nor does ${source})`;
      throw new InvalidTaskError(taskName, `module ${href} (for export \`${exportName}\`) does not exist${nor}`);
    }
    return;
  }
  try {
    import.meta.resolve(href);
  } catch (error) {
    throw new InvalidTaskError(taskName, `module "${href}" (for export \`${exportName}\`) cannot be resolved: ${(error as Error).message}`, { cause: error });
  }
}

export const TYPESCRIPT_FILE = /\.[cm]?ts$/;

/** `tasks.js` -> `tasks.ts`, `.mjs` -> `.mts`, `.cjs` -> `.cts`: the source TypeScript compiles to that file. */
function typescriptSource(href: string): string | undefined {
  const url = new URL(href);
  const ts = url.pathname.replace(/\.([cm]?)js$/, ".$1ts");
  if (ts === url.pathname) return undefined;
  url.pathname = ts;
  return url.href;
}

/**
 * The file to import for a file: URL, resolved as TypeScript resolves `import "./tasks.js"`:
 * the file itself, or when it is absent its TypeScript source (`tasks.ts`), which loads under
 * tsx; undefined when neither exists. The engine checks with it when a task is defined, and
 * each worker imports what it gives on its own file system.
 */
export function moduleFile(href: string): string | undefined {
  if (existsSync(fileURLToPath(href))) return href;
  const source = typescriptSource(href);
  return source !== undefined && existsSync(fileURLToPath(source)) ? source : undefined;
}

/** The error for a shipped function that uses names the worker lacks; also made from a ReferenceError at run time. */
export function freeVariableError(taskName: string, names: readonly string[]): InvalidTaskError {
  const list = names.map((n) => `\`${n}\``).join(", ");
  return new InvalidTaskError(
    taskName,
    `the function must be self-contained or given a \`module\` to run in a worker: it uses ${list}, which ${names.length > 1 ? "are" : "is"} not defined there`,
  );
}
