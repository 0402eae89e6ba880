/**
 * What a queue worker may run. By default only the functions exported by the
 * modules it was started with, looked up by the task's name: a job names
 * work, it does not bring code. Each other source of code is an opt-in of
 * the worker: shipped source (`allowSource`), a module the job names under
 * allowed prefixes (`allowModules`), commands (`allowExec`). `data:` modules
 * are never imported.
 */
import { isAbsolute, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { closestName } from "../../lib/contract/suggest.js";
import { InvalidTaskError, InvalidOptionsError } from "../../lib/contract/errors.js";
import { compile, exported, importModule, type AnyFunction } from "../remote/execute.js";
import type { CommandPayload, FunctionPayload } from "./protocol.js";

export interface TrustPolicy {
  readonly allowSource: boolean;
  readonly allowModules: readonly string[];
  readonly allowExec: boolean;
}

/** A function this worker will run, and whether its body may reach `taskContext()`. */
export interface Runnable {
  readonly fn: AnyFunction;
  readonly context: boolean;
  /** Compiled from the job's source: a ReferenceError there means it used a name the worker lacks. */
  readonly shipped: boolean;
}

/** The registered functions of `modules` (paths relative to the cwd, or package names), by export name. @throws InvalidOptionsError for a module that cannot be loaded, or a name two modules export. */
export async function registry(modules: readonly string[]): Promise<Map<string, AnyFunction>> {
  const names = new Map<string, AnyFunction>();
  const from = new Map<string, string>();
  for (const m of modules) {
    const href = isPackage(m) ? m : pathToFileURL(resolve(m)).href;
    let ns: Record<string, unknown>;
    try {
      ns = await importModule(href);
    } catch (error) {
      throw new InvalidOptionsError(`--module ${m}: cannot be loaded: ${(error as Error).message}`, { cause: error });
    }
    for (const [key, value] of Object.entries(ns)) {
      if (typeof value !== "function") continue;
      const name = key === "default" ? value.name : key;
      if (name === "" || name === "default") continue;
      const other = from.get(name);
      if (other !== undefined && names.get(name) !== value) throw new InvalidOptionsError(`--module: \`${name}\` is exported by both ${other} and ${m}: task names must be unique on a worker`);
      names.set(name, value as AnyFunction);
      from.set(name, m);
    }
  }
  return names;
}

function isPackage(m: string): boolean {
  return m.startsWith("node:") || !(m.startsWith(".") || isAbsolute(m) || /^[a-z][a-z0-9+.-]*:/i.test(m));
}

/** Decides, before anything of a job is evaluated or imported, what runs it. */
export class Trust {
  readonly #registered: ReadonlyMap<string, AnyFunction>;
  readonly #policy: TrustPolicy;
  readonly #worker: string;
  readonly #prefixes: string[];
  readonly #packages: Set<string>;

  constructor(registered: ReadonlyMap<string, AnyFunction>, policy: TrustPolicy, worker: string) {
    this.#registered = registered;
    this.#policy = policy;
    this.#worker = worker;
    this.#prefixes = policy.allowModules.filter((m) => !isPackage(m)).map((m) => resolve(m.startsWith("file:") ? fileURLToPath(m) : m));
    this.#packages = new Set(policy.allowModules.filter(isPackage));
  }

  /** Whether this worker runs code from anywhere but its own modules: it then warns at start when it has no secret. */
  get opensCode(): boolean {
    return this.#policy.allowSource || this.#policy.allowModules.length > 0 || this.#policy.allowExec;
  }

  /** @throws InvalidTaskError naming the task, this worker, what it knows and how to register the task. */
  async function(job: FunctionPayload): Promise<Runnable> {
    const fn = this.#registered.get(job.name);
    if (fn !== undefined) return { fn, context: true, shipped: false };
    if (job.module !== undefined && this.#moduleAllowed(job.module.href)) return { fn: await exported(job.module.href, job.module.export, job.name), context: true, shipped: false };
    if (job.source !== undefined && this.#policy.allowSource) return { fn: compile(job.source), context: job.source.context, shipped: true };
    const known = [...this.#registered.keys()];
    const likely = closestName(job.name, known);
    const could =
      job.module !== undefined
        ? `; the job names module ${job.module.href}, which this worker imports only under --allow-modules (it allows ${this.#policy.allowModules.join(", ") || "none"})`
        : job.source !== undefined
          ? "; the job carries the function's source, which this worker runs only with --allow-source"
          : "";
    throw new InvalidTaskError(
      job.name,
      `${job.uid}: worker ${this.#worker} has no function registered as "${job.name}" (${likely === null ? "" : `did you mean "${likely}"? `}it knows ${known.length === 0 ? "none" : known.map((k) => `"${k}"`).join(", ")})${could}. ` +
        `Register it: export it under that name from a module the worker is started with (asyncflow worker --module ./tasks.js)`,
    );
  }

  /** @throws InvalidTaskError unless this worker runs commands. */
  command(job: CommandPayload): void {
    if (!this.#policy.allowExec) throw new InvalidTaskError(job.name, `${job.uid}: worker ${this.#worker} does not run commands: start it with --allow-exec to run executable tasks`);
  }

  #moduleAllowed(href: string): boolean {
    if (href.startsWith("data:")) return false;
    if (href.startsWith("file:")) {
      const path = resolve(fileURLToPath(href));
      return this.#prefixes.some((p) => path === p || path.startsWith(p.endsWith(sep) ? p : p + sep));
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) && !href.startsWith("node:")) return false; // http:, blob:, ...
    if (href.startsWith("node:")) return this.#packages.has(href);
    const pkg = href.startsWith("@") ? href.split("/").slice(0, 2).join("/") : href.split("/")[0]!;
    return this.#packages.has(pkg);
  }
}
