// What a shipped task body calls in a worker (thread or queue worker process),
// where it is a global. Test files declare it rather than import it: vitest
// rewrites an imported name, and the rewritten name does not exist in a worker.
declare function taskContext(): { uid: string; name: string; attempt: number; delivery?: number; signal: AbortSignal };
