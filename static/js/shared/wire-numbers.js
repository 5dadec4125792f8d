// Numbers as the protocol carries them: JSON numbers, except the non-finite ones, sent as the
// strings "NaN", "Infinity" and "-Infinity"; and a trace's bulk arrays, as little-endian binary
// attachments or JSON arrays. How numbers are shown to a person is numbers.js.

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** One wire number (a JSON number or one of the three strings) as a JS number. */
export function num(x) {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x in NON_FINITE) return NON_FINITE[x];
  return Number(x);
}

/** An array of wire numbers as a Float64Array. */
export function nums(array) {
  const out = new Float64Array(array.length);
  for (let i = 0; i < array.length; i++) out[i] = num(array[i]);
  return out;
}

/**
 * A trace's bulk array as a typed array: binary attachments (ArrayBuffer, little-endian, the
 * protocol's `values`, `grads`, `edges.*`), or a JSON array of wire numbers.
 */
export function f64(x) {
  if (x instanceof ArrayBuffer) return new Float64Array(x);
  if (ArrayBuffer.isView(x)) return new Float64Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  return nums(x || []);
}

export function i32(x) {
  if (x instanceof ArrayBuffer) return new Int32Array(x);
  if (ArrayBuffer.isView(x)) return new Int32Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  return Int32Array.from(x || []);
}

/** A number for the wire: finite numbers as they are, the others as their strings. */
export function toWire(x) {
  return Number.isFinite(x) ? x : String(x);
}
