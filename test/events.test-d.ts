// The event types of #11 as a listener uses them: narrowing on `type` gives each event's own fields.
import { describe, expectTypeOf, it } from "vitest";
import type { EventOf, FlowEvent, FlowEventType, FlowListener, TaskEvent, TaskFailed, TaskState, TaskKind } from "../lib/index.js";

describe("FlowEvent", () => {
  it("narrows on type to each event's fields", () => {
    const listener: FlowListener = (e) => {
      if (e.type === "TaskFailed") {
        expectTypeOf(e.error).toEqualTypeOf<{ name: string; message: string; stack?: string }>();
        expectTypeOf(e.rootCause).toEqualTypeOf<{ uid: string; name: string } | undefined>();
        expectTypeOf(e.durationMs).toBeNumber();
      }
      if (e.type === "TaskCreated") expectTypeOf(e.dependsOn).toEqualTypeOf<string[]>();
      if (e.type === "BackendNotice") {
        expectTypeOf(e.level).toEqualTypeOf<"debug" | "info" | "warn" | "error">();
        // @ts-expect-error a flow event without a task has no taskId
        void e.taskId;
      }
    };
    expectTypeOf(listener).parameter(0).toEqualTypeOf<FlowEvent>();
  });

  it("shares states and kinds with the engine, and names every type", () => {
    expectTypeOf<TaskEvent["kind"]>().toEqualTypeOf<TaskKind>();
    expectTypeOf<EventOf<"FlowStalled">["tasks"][number]["state"]>().toEqualTypeOf<"PENDING" | "RUNNING">();
    expectTypeOf<"PENDING" | "RUNNING">().toExtend<TaskState>();
    expectTypeOf<EventOf<"TaskFailed">>().toEqualTypeOf<TaskFailed>();
    expectTypeOf<"TaskCanceled">().toExtend<FlowEventType>();
    // @ts-expect-error the event is TaskCanceled (one l), as #11 spells it
    expectTypeOf<"TaskCancelled">().toExtend<FlowEventType>();
  });
});
