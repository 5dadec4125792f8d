// The one Socket.IO connection to the server (same origin). request() sends a client → server
// event and resolves with its acknowledgement ({ok: true, …} or {ok: false, error}); it rejects
// only when no acknowledgement came (timeout, connection lost).
import { io } from 'socket.io-client';
import { serverPath } from './base.js';

export function connect({ onStatus = () => {} } = {}) {
  // WebSocket first (no long-polling handshake, big messages in one frame), polling as fallback.
  const socket = io({ path: serverPath('socket.io'), autoConnect: true, reconnection: true, transports: ['websocket', 'polling'] });
  socket.on('connect', () => {
    performance.mark('socket:connected');
    onStatus('connected');
  });
  socket.on('disconnect', () => onStatus('disconnected'));
  socket.io.on('reconnect_attempt', () => onStatus('reconnecting'));
  socket.on('connect_error', () => onStatus('disconnected'));

  function request(event, payload, timeoutMs = 120000) {
    return new Promise((resolve, reject) => {
      socket.timeout(timeoutMs).emit(event, payload, (error, ack) => {
        if (error) reject(new Error(`${event}: no answer from the server (${error.message || error})`));
        else resolve(ack);
      });
    });
  }

  return { socket, request, on: (event, handler) => socket.on(event, handler) };
}

/** An Error for an {ok: false} acknowledgement, keeping its problems and limit. */
export class ServerError extends Error {
  constructor(error) {
    super((error && error.message) || 'the server refused');
    this.problems = (error && error.problems) || [];
    this.limit = error && error.limit;
    this.node = error && Number.isInteger(error.node) ? error.node : null; // a DomainError's node
  }
}

/** The acknowledgement itself when ok, else throw a ServerError. */
export function ok(ack) {
  if (ack && ack.ok) return ack;
  throw new ServerError(ack && ack.error);
}
