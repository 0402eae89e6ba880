/**
 * W3C trace context as it travels with a run (`traceparent`, and
 * `tracestate` when set), and how either side reaches OpenTelemetry without
 * loading it when it is not in use: `@opentelemetry/api` (an optional peer
 * dependency) registers itself on a global symbol when a tracer provider is
 * set, so a process or thread where that symbol holds no tracer pays a
 * property read and never imports the package.
 */
import type * as OTel from "@opentelemetry/api";

export type OTelApi = typeof OTel;

const GLOBAL = Symbol.for("opentelemetry.js.api.1");

/** Whether a tracer provider has been registered in this thread (without loading the api). */
export function tracerRegistered(): boolean {
  const g = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[GLOBAL];
  return g?.trace !== undefined;
}

let api: Promise<OTelApi | null> | null = null;

/** The api when a tracer provider is registered and the package can be loaded; else null. */
export async function openTelemetry(): Promise<OTelApi | null> {
  if (!tracerRegistered()) return null;
  return (api ??= import("@opentelemetry/api").then(
    (m) => m,
    () => null,
  ));
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The carrier for `ctx`: the registered propagator's fields, and `traceparent` always. */
export function inject(otel: OTelApi, ctx: OTel.Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  otel.propagation.inject(ctx, carrier);
  const sc = otel.trace.getSpanContext(ctx);
  if (carrier.traceparent === undefined && sc !== undefined) {
    carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
    const state = sc.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  return carrier;
}

/** The context a carrier names, through the registered propagator or, without one, read by hand. */
export function extract(otel: OTelApi, carrier: Record<string, string>): OTel.Context {
  const ctx = otel.propagation.extract(otel.ROOT_CONTEXT, carrier);
  if (otel.trace.getSpanContext(ctx) !== undefined) return ctx;
  const m = TRACEPARENT.exec(carrier.traceparent ?? "");
  if (m === null) return ctx;
  return otel.trace.setSpanContext(ctx, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true });
}

/**
 * The carrier as a child process's environment (`TRACEPARENT`, `TRACESTATE`):
 * the names OpenTelemetry gives trace context carried by environment variables.
 */
export function carrierEnv(carrier: Readonly<Record<string, string>>): Record<string, string> {
  // Only these two: a carrier that crossed Redis must not set any other variable (PATH, LD_PRELOAD).
  const env: Record<string, string> = {};
  if (typeof carrier.traceparent === "string") env.TRACEPARENT = carrier.traceparent;
  if (typeof carrier.tracestate === "string") env.TRACESTATE = carrier.tracestate;
  return env;
}

/** Runs `fn` with the carrier's span as the active parent when this thread traces; else just runs it. */
export async function withTraceContext<R>(carrier: Record<string, string> | undefined, fn: () => Promise<R>): Promise<R> {
  if (carrier === undefined || !tracerRegistered()) return fn();
  const otel = await openTelemetry();
  return otel === null ? fn() : otel.context.with(extract(otel, carrier), fn);
}
