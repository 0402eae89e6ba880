/** What `flow.inspect()` returns (issue #12): declared once, with the events of #11 that carry it (`FlowStalled`). */
export type { InspectReason, InspectRow } from "./events.js";
