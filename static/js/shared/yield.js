// Give the event loop a turn between chunks of a long piece of work, so that no task holds the
// main thread for long (issue 18: none over 50 ms). Chromium's scheduler.yield() resumes ahead
// of other queued tasks; elsewhere a MessageChannel message, which (unlike setTimeout(0)) is not
// clamped to 4 ms when nested.
export function nextTask() {
  if (globalThis.scheduler && typeof globalThis.scheduler.yield === 'function') {
    return globalThis.scheduler.yield();
  }
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** A clock for chunked loops: `due()` is true once `budgetMs` have passed since the last yield. */
export function sliceTimer(budgetMs = 12) {
  let start = performance.now();
  return {
    due: () => performance.now() - start >= budgetMs,
    async yield() {
      await nextTask();
      start = performance.now();
    },
  };
}
