// The page's connection (shared/socket.js: request + on), carried by the widget's comm instead of
// Socket.IO: requests go to the kernel as custom messages and come back as replies; the kernel's
// pushed events (a trace's frames) reach the handlers registered with on(). Binary parts travel
// as the comm's buffers, each marked in the JSON by {$buffer: k} (engine/notebook/messages.py).

export function kernelConnection(model, { timeoutMs = 120000 } = {}) {
  const handlers = new Map(); // event → [handler]
  const waiting = new Map(); // request id → {resolve, reject, timer}
  let nextId = 1;

  const onMessage = (message, buffers) => {
    if (!message || typeof message !== 'object') return;
    const data = unpack(message, buffers || []);
    if (data.reply != null) {
      const job = waiting.get(data.reply);
      if (!job) return;
      waiting.delete(data.reply);
      clearTimeout(job.timer);
      job.resolve(data.ack);
    } else if (data.event) {
      for (const handler of handlers.get(data.event) || []) handler(data.data);
    }
  };
  model.on('msg:custom', onMessage);

  function request(event, payload, ms = timeoutMs) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${event}: no answer from the kernel in ${Math.round(ms / 1000)} s (is it busy or stopped?)`));
      }, ms);
      waiting.set(id, { resolve, reject, timer });
      model.send({ request: id, event, payload });
    });
  }

  return {
    request,
    on: (event, handler) => handlers.set(event, [...(handlers.get(event) || []), handler]),
    close: () => {
      model.off('msg:custom', onMessage);
      for (const job of waiting.values()) clearTimeout(job.timer);
      waiting.clear();
    },
  };
}

/** The message with each {$buffer: k} replaced by that buffer as an ArrayBuffer of its own. */
export function unpack(value, buffers) {
  if (Array.isArray(value)) return value.map((v) => unpack(v, buffers));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$buffer') return arrayBuffer(buffers[value.$buffer]);
    const out = {};
    for (const k of keys) out[k] = unpack(value[k], buffers);
    return out;
  }
  return value;
}

function arrayBuffer(view) {
  if (view instanceof ArrayBuffer) return view;
  // A DataView (or typed array) over part of a larger buffer: copy out exactly its bytes, so
  // that `new Float64Array(x)` sees those and is aligned.
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}
