import { describe, expect, it } from "vitest";
import { LocalBackend, NoopBackend, type TaskRun } from "../lib/index.js";
import { backendConformance } from "./conformance.js";
import { contractConformance } from "./contract-conformance.js";
import { engine } from "./helpers.js";

backendConformance("local", { make: () => new LocalBackend(), runsBodies: true });
backendConformance("local (concurrency 2)", { make: () => new LocalBackend({ concurrency: 2 }), runsBodies: true });
backendConformance("noop", { make: () => new NoopBackend(), runsBodies: false });
contractConformance("local", { make: () => new LocalBackend() });

describe("a backend of the user's own", () => {
  it("may write into a run's arguments, also of calls without any (each run has its own array)", async () => {
    // Calls without arguments wait with one shared empty array: a run must not hand it to a backend.
    class Tenant extends LocalBackend {
      override submit(run: TaskRun): void {
        run.args.push("tenant-42");
        super.submit(run);
      }
    }
    const flow = await engine({ backend: new Tenant() });
    const who = flow.functionTask((tenant?: string) => `for ${tenant}`);
    expect([await who(), await who()]).toEqual(["for tenant-42", "for tenant-42"]);
  });
});
