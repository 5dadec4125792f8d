// One redraw per animation frame, however many messages or steps arrived in between:
// modules register a task with onFrame(); anything that changes state calls invalidate().

const tasks = [];
let scheduled = false;
// How long the page's own work takes per frame (read by bench/browser.py).
export const frameStats = { frames: 0, totalMs: 0, maxMs: 0, perTask: [] };
if (typeof window !== 'undefined') window.__frameStats = frameStats;

export function onFrame(task) {
  tasks.push(task);
}

export function invalidate() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(drawFrame);
}

function drawFrame(now) {
  scheduled = false;
  const start = performance.now();
  tasks.forEach((task, k) => {
    const t0 = performance.now();
    try {
      task(now);
    } catch (error) {
      console.error(error);
    }
    frameStats.perTask[k] = (frameStats.perTask[k] || 0) + performance.now() - t0;
  });
  const spent = performance.now() - start;
  frameStats.frames++;
  frameStats.totalMs += spent;
  if (spent > frameStats.maxMs) frameStats.maxMs = spent;
}
