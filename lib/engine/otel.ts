import type { Attributes, Context, Span, Tracer } from "@opentelemetry/api";
import type { FlowEvent, TaskCreated, TaskEventBase } from "../contract/events.js";
import { inject, type OTelApi } from "../contract/tracecontext.js";

interface Workflow {
  readonly span: Span;
  readonly context: Context;
  live: number;
  /** When its last live task ended (its span's end, unless another comes). */
  lastEnd: number;
}

/** Workflows with no live task whose spans stay open for more: beyond this many, the longest idle is ended. */
const IDLE_WORKFLOWS = 1_000;

/**
 * OpenTelemetry spans from lifecycle events, made only when a tracer provider
 * is registered (see `openTelemetry()`): a session span; under it a span per
 * named workflow (one for all its tasks, however far apart: `await a(); await
 * b()` has no live task between the two, so a workflow with none left is
 * ended, at its last task's end, only at the session's end or once 1,000
 * others are idle too); and a span per task, from
 * creation to its terminal event, under its block's span, else its
 * workflow's, else the session's. Steps are span events, a failure the
 * span's error status with the exception recorded. `carrier(uid)` is the
 * W3C trace context a run takes to a thread or a queue worker.
 */
export class SpanBridge {
  readonly #otel: OTelApi;
  readonly #tracer: Tracer;
  readonly #session: Span;
  readonly #sessionContext: Context;
  readonly #tasks = new Map<string, { readonly span: Span; readonly context: Context; readonly workflow: Workflow | null }>();
  readonly #workflows = new Map<string, Workflow>();
  /** Workflows with no live task, longest idle first. */
  readonly #idle = new Map<string, Workflow>();

  constructor(otel: OTelApi, sessionId: string, backends: string[]) {
    this.#otel = otel;
    this.#tracer = otel.trace.getTracer("asyncflow");
    const active = otel.context.active();
    this.#session = this.#tracer.startSpan("asyncflow session", { attributes: { "asyncflow.session.id": sessionId, "asyncflow.backends": backends } }, active);
    this.#sessionContext = otel.trace.setSpan(active, this.#session);
  }

  /** The context whose active span is the task's, while the task lives. */
  context(uid: string): Context | undefined {
    return this.#tasks.get(uid)?.context;
  }

  carrier(uid: string): Record<string, string> | undefined {
    const ctx = this.context(uid);
    return ctx === undefined ? undefined : inject(this.#otel, ctx);
  }

  /** Runs `fn` with the task's span active (so a body run here, on this loop, starts its spans under it). */
  within<R>(uid: string, fn: () => R): R {
    const ctx = this.context(uid);
    return ctx === undefined ? fn() : this.#otel.context.with(ctx, fn);
  }

  readonly listen = (e: FlowEvent): void => {
    switch (e.type) {
      case "TaskCreated":
        return this.#created(e);
      case "TaskResolved":
      case "TaskSubmitted":
        return void this.#tasks.get(e.taskId)?.span.addEvent(e.type === "TaskResolved" ? "resolved" : "submitted", e.time);
      case "TaskStarted": {
        const span = this.#tasks.get(e.taskId)?.span;
        if (e.where !== undefined) span?.setAttribute("asyncflow.task.where", e.where);
        return void span?.addEvent("started", e.where === undefined ? {} : { "asyncflow.task.where": e.where }, e.time);
      }
      case "TaskRetry":
        return void this.#tasks.get(e.taskId)?.span.addEvent("retry", { "asyncflow.task.attempt": e.attempt, "asyncflow.retry.delay_ms": e.delayMs, "exception.message": e.error.message }, e.time);
      case "TaskRedelivered":
        return void this.#tasks.get(e.taskId)?.span.addEvent("redelivered", e.where === undefined ? {} : { "asyncflow.task.where": e.where }, e.time);
      case "TaskCompleted":
      case "TaskFailed":
      case "TaskCanceled":
        return this.#ended(e);
      case "SessionEnded":
        for (const w of this.#workflows.values()) w.span.end(w.live === 0 ? w.lastEnd : e.time);
        this.#workflows.clear();
        this.#idle.clear();
        return this.#session.end(e.time);
      default:
        return;
    }
  };

  #created(e: TaskCreated): void {
    const block = e.parent === undefined ? undefined : this.#tasks.get(e.parent);
    // A workflow named by a block's uid is that block's span; a named one gets a span of its own, unless the task
    // is a live block's (named inside its body): the block's span is its parent, and a workflow span would stay empty.
    const workflow = e.workflowId === undefined || block !== undefined || e.workflowId === e.taskId || e.workflowId === e.parent || this.#tasks.has(e.workflowId) ? null : this.#workflow(e);
    const parent = block?.context ?? workflow?.context ?? this.#sessionContext;
    const attributes: Attributes = { ...attributesOf(e), "asyncflow.task.depends_on": e.dependsOn };
    if (e.parent !== undefined) attributes["asyncflow.task.parent"] = e.parent;
    const span = this.#tracer.startSpan(e.name, { startTime: e.time, attributes }, parent);
    this.#tasks.set(e.taskId, { span, context: this.#otel.trace.setSpan(parent, span), workflow });
  }

  #workflow(e: TaskCreated): Workflow {
    const id = e.workflowId!;
    let w = this.#workflows.get(id);
    if (w === undefined) {
      const span = this.#tracer.startSpan(`workflow ${id}`, { startTime: e.time, attributes: { "asyncflow.workflow.id": id, "asyncflow.session.id": e.sessionId } }, this.#sessionContext);
      w = { span, context: this.#otel.trace.setSpan(this.#sessionContext, span), live: 0, lastEnd: e.time };
      this.#workflows.set(id, w);
    }
    if (w.live++ === 0) this.#idle.delete(id);
    return w;
  }

  #ended(e: Extract<FlowEvent, { type: "TaskCompleted" | "TaskFailed" | "TaskCanceled" }>): void {
    const task = this.#tasks.get(e.taskId);
    if (task === undefined) return;
    this.#tasks.delete(e.taskId);
    const { span } = task;
    span.setAttributes({ "asyncflow.task.duration_ms": e.durationMs, "asyncflow.task.wait_ms": e.waitMs, "asyncflow.task.attempt": e.attempt });
    const { SpanStatusCode } = this.#otel;
    if (e.type === "TaskCompleted") {
      span.setAttribute("asyncflow.task.state", "DONE");
      span.setStatus({ code: SpanStatusCode.OK });
    } else if (e.type === "TaskFailed") {
      span.setAttribute("asyncflow.task.state", "FAILED");
      if (e.rootCause !== undefined) span.setAttributes({ "asyncflow.task.root_cause.uid": e.rootCause.uid, "asyncflow.task.root_cause.name": e.rootCause.name });
      span.recordException({ name: e.error.name, message: e.error.message, stack: e.error.stack }, e.time);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${e.error.name}: ${e.error.message}` });
    } else {
      span.setAttribute("asyncflow.task.state", "CANCELLED");
      if (e.reason !== undefined) span.setAttribute("asyncflow.task.cancel_reason", e.reason);
    }
    span.end(e.time);
    const w = task.workflow;
    if (w !== null && --w.live === 0) {
      w.lastEnd = e.time;
      this.#idle.set(e.workflowId!, w);
      if (this.#idle.size > IDLE_WORKFLOWS) {
        const [id, oldest] = this.#idle.entries().next().value!;
        oldest.span.end(oldest.lastEnd);
        this.#idle.delete(id);
        this.#workflows.delete(id);
      }
    }
  }
}

function attributesOf(e: TaskEventBase): Attributes {
  const a: Attributes = {
    "asyncflow.session.id": e.sessionId,
    "asyncflow.task.uid": e.taskId,
    "asyncflow.task.name": e.name,
    "asyncflow.task.kind": e.kind,
    "asyncflow.task.backend": e.backend,
    "asyncflow.task.attempt": e.attempt,
  };
  if (e.workflowId !== undefined) a["asyncflow.workflow.id"] = e.workflowId;
  return a;
}
