/** The longest delay `setTimeout` takes: longer ones fire after 1 ms (with a TimeoutOverflowWarning). */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms`, however long (limits are validated as any finite
 * number): past MAX_DELAY, through a chain of timers.
 * @returns what cancels it.
 */
export function after(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer = setTimeout(() => (left > MAX_DELAY ? arm(left - MAX_DELAY) : fn()), Math.min(left, MAX_DELAY));
  };
  arm(ms);
  return () => clearTimeout(timer);
}
