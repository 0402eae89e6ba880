/** What the bench cases share: the engine they time, sizes for full and quick runs, the signature of a case. */
import { WorkflowEngine } from "../../lib/index.js";
import type { Row, Settings } from "../harness.js";

/** A named case: its rows, each our figure beside a baseline measured in the same run. */
export type Case = (s: Settings) => Promise<Row[]>;

export const engine = (): Promise<WorkflowEngine> => WorkflowEngine.create({ handleSignals: false, history: 0 });

/** The size of a case: `full`, or `quick` in the smoke test's runs. */
export const n = (s: Settings, full: number, quick: number): number => (s.quick ? quick : full);

export const fmtUs = (us: number): string => `${us.toFixed(2)} us`;
