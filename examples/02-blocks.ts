/**
 * 02: blocks. A block is a composite task: its body runs in the engine with
 * its arguments resolved and composes other tasks. Its result can feed other
 * tasks like any future.
 * Run: npx tsx examples/02-blocks.ts
 */
import { WorkflowEngine } from "../lib/index.js";

const flow = await WorkflowEngine.create();
try {
  const wc = flow.executableTask(function wc(text: string) {
    return ["sh", "-c", 'printf "%s" "$1" | wc -w', "sh", text];
  });
  const parse = flow.functionTask(function parse(out: string) {
    return Number(out.trim());
  });
  const countWords = flow.block(async function countWords(text: string) {
    return await parse(wc(text));
  });
  const total = flow.functionTask(function total(counts: number[]) {
    return counts.reduce((a, b) => a + b, 0);
  });

  const texts = ["the quick brown fox", "jumps over", "the lazy dog"];
  const root = total(texts.map((t) => countWords(t)));
  console.log(`words = ${await root}`); // 4 + 2 + 3 = 9
} finally {
  await flow.shutdown();
}
