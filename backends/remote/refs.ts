import type { TaskRun } from "../../lib/contract/run.js";
import { checkModuleExists, moduleHref, type FunctionRef, type RemoteTask, type ShippedFunction } from "./protocol.js";

/** Turns a function into its shippable form, checked (`source.ts`). @throws InvalidTaskError */
type ShipFunction = (fn: Function, taskName: string) => ShippedFunction;

/**
 * How a backend names a task's function to its workers, worked out once per
 * task definition (keyed by its options object), not once per run, and
 * checked when the task is defined.
 */
export class FunctionRefs {
  readonly #ship: ShipFunction;
  readonly #refs = new WeakMap<object, { readonly fn: FunctionRef; readonly key: string | number }>();

  constructor(ship: ShipFunction) {
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
    return { uid: run.uid, name: run.name, attempt: run.attempt, fn: this.of(run).fn, args, transfer: run.options.transfer === true, trace: run.trace };
  }
}

/** A FunctionRefs over the source shipper, loaded on demand (it brings acorn). */
export async function functionRefs(): Promise<FunctionRefs> {
  return new FunctionRefs((await import("./source.js")).shipFunction);
}
