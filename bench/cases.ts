/** The named benchmark cases, in the order a full run prints them. Each returns rows: our figure, the baseline measured in the same run, the ratio, the target. */
import { backendCases } from "./cases/backends.js";
import type { Case } from "./cases/common.js";
import { checkpointCases } from "./cases/checkpoint.js";
import { eventsCase } from "./cases/events.js";
import { contractCases } from "./cases/contracts.js";
import { explainCases } from "./cases/explain.js";
import { graphCases } from "./cases/graph.js";
import { memoryCases } from "./cases/memory.js";
import { queueCase } from "./cases/queue.js";
import { reportCase } from "./cases/report.js";
import { userCases } from "./cases/user.js";

export const cases: Record<string, Case> = { ...userCases, ...graphCases, events: eventsCase, ...memoryCases, ...backendCases, queue: queueCase, ...explainCases, ...contractCases, report: reportCase, ...checkpointCases };
