/**
 * How the engine names a function task to queue workers: by its name (what a
 * worker runs by default, from the modules it was started with), plus its
 * module (for workers started with `--allow-modules`) and its source when
 * it is self-contained (for workers started with `--allow-source`). Worked
 * out once per task definition (keyed by its options object), not per run.
 */
import type { AnyTaskOptions } from "../../lib/contract/task.js";
import { checkModuleExists, moduleHref } from "../remote/protocol.js";
import type { shipFunction } from "../remote/source.js";
import type { FunctionPayload } from "./protocol.js";

type Ref = Pick<FunctionPayload, "module" | "source">;

export class QueueRefs {
  readonly #ship: typeof shipFunction;
  readonly #refs = new WeakMap<object, Ref>();

  constructor(ship: typeof shipFunction) {
    this.#ship = ship;
  }

  /** A function that uses imports or closures is fine: workers resolve it by name. Only a `module` that does not exist here is refused. */
  validate(fn: Function, name: string, options: AnyTaskOptions): void {
    if (options.module !== undefined) checkModuleExists(moduleHref(options.module), name, options.name ?? fn.name);
  }

  of(fn: Function, name: string, options: AnyTaskOptions): Ref {
    let ref = this.#refs.get(options);
    if (ref === undefined) {
      ref = options.module === undefined ? this.#source(fn, name) : { module: { href: moduleHref(options.module), export: options.name ?? fn.name } };
      this.#refs.set(options, ref);
    }
    return ref;
  }

  #source(fn: Function, name: string): Ref {
    try {
      const { expression, context } = this.#ship(fn, name);
      return { source: { expression, context } };
    } catch {
      return {}; // not self-contained: only a worker that registered it by name can run it
    }
  }
}

export async function queueRefs(): Promise<QueueRefs> {
  return new QueueRefs((await import("../remote/source.js")).shipFunction);
}
