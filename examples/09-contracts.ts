/**
 * 09: tasks as contracts. `inputs` and `output` validate with zod (defaults
 * filled before the body runs); an expected failure is a declared exit code;
 * a flaky call is retried with backoff; a hung attempt times out and is
 * retried; `deadline` bounds all attempts together.
 * Run: npx tsx examples/09-contracts.ts
 */
import { z } from "zod";
import { ExitCodeError, InputValidationError, NonRetryableError, TaskTimeoutError, WorkflowEngine, taskContext } from "../lib/index.js";

const flow = await WorkflowEngine.create();
try {
  const add = flow.functionTask(
    async (x: number, y: number) => {
      if (x + y < 0) taskContext().exit("ERROR_NEGATIVE");
      return x + y;
    },
    {
      name: "add",
      inputs: z.tuple([z.number().int(), z.number().int().default(1)]), // validated before the body runs
      output: z.number().nonnegative(), // validated on the result
      exitCodes: { ERROR_NEGATIVE: { status: 418, message: "the sum came out negative" } },
      label: "adder",
      description: "adds two integers",
    },
  );
  console.log(`add(2) = ${await add(2)}`); // y defaults to 1

  try {
    add(1.5, 2); // no future among the arguments: checked at this line, no task made
  } catch (error) {
    if (error instanceof InputValidationError) console.log(`refused at the call: argument ${error.position}: ${error.issues[0]?.message}`);
  }

  const negative = await add(-5, 1).catch((e: unknown) => e);
  if (negative instanceof ExitCodeError) console.log(`exit code ${negative.exitStatus} ${negative.label}: ${negative.exitMessage}`);

  // A call that fails twice, then succeeds: each attempt is a fresh run with its own taskContext().
  let calls = 0;
  const flaky = flow.functionTask(
    () => {
      calls++;
      if (taskContext().attempt < 3) throw new Error("503 Service Unavailable");
      return `ok on attempt ${taskContext().attempt}`;
    },
    { name: "flaky", retries: 4, retryDelay: 20, retryJitter: 0.2 },
  );
  console.log(`${await flaky()} (${calls} calls)`);

  // Retrying cannot fix this one: it fails at once.
  const parse = flow.functionTask(
    () => {
      throw new NonRetryableError("the input file is corrupt");
    },
    { name: "parse", retries: 4, retryDelay: 20 },
  );
  console.log(`parse: ${String(await parse().catch((e: unknown) => (e as Error).message))}`);

  // The first attempt hangs (ignoring its signal); its timeout ends it and the second attempt answers.
  const fetchOnce = flow.functionTask(
    async () => {
      if (taskContext().attempt === 1) await new Promise(() => undefined);
      return `answered on attempt ${taskContext().attempt}`;
    },
    { name: "fetchOnce", timeout: 100, retries: 2, retryDelay: 10 },
  );
  console.log(await fetchOnce());

  // Every attempt hangs: the deadline ends them all.
  const hopeless = flow.functionTask(() => new Promise<never>(() => undefined), { name: "hopeless", timeout: 100, retries: 100, retryDelay: 10, deadline: 350 });
  const late = await hopeless().catch((e: unknown) => e);
  if (late instanceof TaskTimeoutError) console.log(`hopeless: ${late.what} of ${late.ms} ms passed`);

  const node = flow.graph().node(flow.graph().nodes()[0]!);
  console.log(`graph: ${node.name} "${node.label}" (${node.description})`);
} finally {
  await flow.shutdown();
}
