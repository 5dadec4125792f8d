// The graph both trace.test.js and descent.test.js play: its description and its trace's frames.
import { columnar } from './columnar.js';

// y = x*x + sin(x): x fans out three times (twice into *, once into sin).
// Wire ids: 0 x; 1 x*x; 2 sin(x); 3 y = (x*x) + sin(x).
export const X = 0.7;
export const description = columnar({
  nodes: [
    { id: 0, op: 'input', name: 'x', group: null, children: [], depth: 0 },
    { id: 1, op: '*', name: null, group: null, children: [0, 0], depth: 1 },
    { id: 2, op: 'sin', name: null, group: null, children: [0], depth: 1 },
    { id: 3, op: '+', name: 'y', group: null, children: [1, 2], depth: 2, output: true },
  ],
  inputs: [0], consts: [], outputs: [3], groups: [], operators: {},
});
export const bytes = (Type, values) => new Type(values).buffer;

export function frames() {
  const values = [X, X * X, Math.sin(X), X * X + Math.sin(X)];
  return [
    { trace: 'r', phase: 'forward', level: 0, start: 0, count: 1, values: bytes(Float64Array, [values[0]]) },
    { trace: 'r', phase: 'forward', level: 1, start: 1, count: 2, values: bytes(Float64Array, values.slice(1, 3)) },
    { trace: 'r', phase: 'forward', level: 2, start: 3, count: 1, values: bytes(Float64Array, [values[3]]) },
    { trace: 'r', phase: 'seed', ids: [3], values: [1] },
    { trace: 'r', phase: 'backward', level: 2, start: 3, count: 1, grads: bytes(Float64Array, [1]),
      edges: { count: 2, parent: bytes(Int32Array, [3, 3]), child: bytes(Int32Array, [1, 2]),
        local: bytes(Float64Array, [1, 1]), contribution: bytes(Float64Array, [1, 1]) } },
    { trace: 'r', phase: 'backward', level: 1, start: 1, count: 2, grads: bytes(Float64Array, [1, 1]),
      edges: { count: 3, parent: bytes(Int32Array, [1, 1, 2]), child: bytes(Int32Array, [0, 0, 0]),
        local: bytes(Float64Array, [X, X, Math.cos(X)]),
        contribution: bytes(Float64Array, [X, X, Math.cos(X)]) } },
    { trace: 'r', phase: 'backward', level: 0, start: 0, count: 1,
      grads: bytes(Float64Array, [X + X + Math.cos(X)]),
      edges: { count: 0, parent: new ArrayBuffer(0), child: new ArrayBuffer(0),
        local: new ArrayBuffer(0), contribution: new ArrayBuffer(0) } },
  ];
}
